// Package sshlog understands the Linux authentication messages entrawatch
// watches: OpenSSH's accepted logins (sshd and, from OpenSSH 9.8, sshd-session)
// and the Microsoft Entra login module's verdicts (aad_certhandler,
// aadsshlogin, pam_aad), and pairs a login with the module's verdict on it.
package sshlog

import (
	"regexp"
	"strings"
	"sync"
	"time"
)

// Login is an accepted SSH login.
type Login struct {
	Method string // publickey, password, keyboard-interactive/pam, hostbased, gssapi-with-mic
	User   string
	IP     string
	Port   string
	// Key is what follows "ssh2: " (key type and fingerprint, certificate id).
	Key string
}

// IsSSHD reports whether a syslog program name is OpenSSH's daemon.
func IsSSHD(prog string) bool {
	return prog == "sshd" || prog == "sshd-session" || strings.HasPrefix(prog, "sshd@") || strings.HasSuffix(prog, "/sshd")
}

// ParseAccepted reads "Accepted METHOD for USER from IP port N ssh2[: KEY]".
// Microsoft's documentation prints the method "publickey" as "publicly";
// that typo is read as publickey.
func ParseAccepted(msg string) (Login, bool) {
	rest, ok := strings.CutPrefix(msg, "Accepted ")
	if !ok {
		return Login{}, false
	}
	method, rest, ok := strings.Cut(rest, " for ")
	if !ok || method == "" || strings.ContainsRune(method, ' ') {
		return Login{}, false
	}
	if method == "publicly" {
		method = "publickey"
	}
	i := strings.LastIndex(rest, " from ")
	if i <= 0 {
		return Login{}, false
	}
	l := Login{Method: method, User: rest[:i]}
	rest = rest[i+len(" from "):]
	ip, rest, ok := strings.Cut(rest, " port ")
	if !ok {
		return Login{}, false
	}
	l.IP = ip
	port, rest, _ := strings.Cut(rest, " ")
	l.Port = port
	if _, key, ok := strings.Cut(rest, ": "); ok {
		l.Key = key
	}
	return l, true
}

var notEntraRE = regexp.MustCompile(`(?i)user '([^']*)' is not (?:a microsoft entra|an aad|an azure ad) user`)

// ParseNotEntra reads the Entra login module's verdict that a user is not
// an Entra account, in the current wording ("is not a Microsoft Entra
// user") and the older one ("is not an AAD user").
func ParseNotEntra(prog, msg string) (user string, ok bool) {
	p := strings.ToLower(prog)
	if !strings.Contains(p, "aad") && !strings.Contains(strings.ToLower(msg), "aad") && !IsSSHD(prog) {
		return "", false
	}
	m := notEntraRE.FindStringSubmatch(msg)
	if m == nil {
		return "", false
	}
	return m[1], true
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsEntraName reports whether a Linux user name has the form of an Entra
// identity: a user principal name (with "@") or an object id, the two forms
// the aadsshlogin sshd_config block routes to the Entra login module.
func IsEntraName(user string) bool {
	return strings.Contains(user, "@") || guidRE.MatchString(user)
}

// Window is how long a module verdict stays paired with a later login.
const Window = 5 * time.Minute

// Pairer remembers the module's "not an Entra user" verdicts per host and
// user and hands the verdict to the login that follows. It is safe for
// concurrent use; readers feed it lines in file order.
type Pairer struct {
	mu   sync.Mutex
	seen map[string]verdict
}

type verdict struct {
	at   time.Time
	line string
}

// Observe takes one syslog line. For an accepted SSH login it returns the
// module line that declared the user not an Entra account on the same host
// within Window before, if any.
func (p *Pairer) Observe(host, prog, msg string, at time.Time, raw []byte) string {
	if user, ok := ParseNotEntra(prog, msg); ok {
		p.mu.Lock()
		if p.seen == nil {
			p.seen = map[string]verdict{}
		}
		if len(p.seen) > 100000 { // bound memory on hostile input
			clear(p.seen)
		}
		if len(raw) > 1024 {
			raw = raw[:1024]
		}
		p.seen[strings.ToLower(host)+"\x00"+user] = verdict{at: at, line: string(raw)}
		p.mu.Unlock()
		return ""
	}
	if !IsSSHD(prog) {
		return ""
	}
	l, ok := ParseAccepted(msg)
	if !ok {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	k := strings.ToLower(host) + "\x00" + l.User
	v, ok := p.seen[k]
	if !ok {
		return ""
	}
	if d := at.Sub(v.at); d < -time.Minute || d > Window {
		return ""
	}
	return v.line
}
