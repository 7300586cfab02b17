// Package allowlist holds the local accounts that may log in to VMs without
// an Entra identity (break-glass, automation), per host or for all hosts.
//
// The file format is one entry per line, "#" starting a comment:
//
//	# host      account
//	*           breakglass          # every host
//	web-01      ansible             # one host (its short name or FQDN)
//	win-db-02   WIN-DB-02\svc_backup  # a Windows account in its domain
//
// A line with a single field allows the account on every host. Matching
// ignores case; a host entry matches the host's short name or FQDN; an
// account without a domain matches it in any domain.
package allowlist

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Entry allows one account on one host ("*": all hosts).
type Entry struct {
	Host    string
	Domain  string
	Account string
}

// List is a set of entries. The zero List allows nothing.
type List struct {
	entries []Entry
}

// Add adds an entry.
func (l *List) Add(e Entry) { l.entries = append(l.entries, e) }

// Len returns the number of entries.
func (l *List) Len() int {
	if l == nil {
		return 0
	}
	return len(l.entries)
}

// ParseEntry reads "[HOST:]ACCOUNT" (the --allow flag), where ACCOUNT may
// be "DOMAIN\name".
func ParseEntry(spec string) (Entry, error) {
	spec = strings.TrimSpace(spec)
	host := "*"
	if h, acct, ok := strings.Cut(spec, ":"); ok {
		host, spec = strings.TrimSpace(h), strings.TrimSpace(acct)
	}
	return newEntry(host, spec)
}

func newEntry(host, account string) (Entry, error) {
	if host == "" {
		host = "*"
	}
	e := Entry{Host: strings.ToLower(host)}
	if d, a, ok := strings.Cut(account, `\`); ok {
		e.Domain, account = strings.ToLower(d), a
	}
	e.Account = strings.ToLower(account)
	if e.Account == "" {
		return Entry{}, fmt.Errorf("empty account name")
	}
	return e, nil
}

// Read parses an allow-list; errors name the line.
func Read(r io.Reader, name string) (*List, error) {
	l := &List{}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		var e Entry
		var err error
		switch len(f) {
		case 0:
			continue
		case 1:
			e, err = newEntry("*", f[0])
		case 2:
			e, err = newEntry(f[0], f[1])
		default:
			err = fmt.Errorf("want \"HOST ACCOUNT\" or \"ACCOUNT\", found %d fields", len(f))
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, n, err)
		}
		l.Add(e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return l, nil
}

// Load reads an allow-list file.
func Load(path string) (*List, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, path)
}

// Allowed reports whether account (in domain, "" when unknown) may log in
// to host.
func (l *List) Allowed(host, domain, account string) bool {
	if l == nil || len(l.entries) == 0 {
		return false
	}
	host, domain, account = strings.ToLower(host), strings.ToLower(domain), strings.ToLower(account)
	short, _, _ := strings.Cut(host, ".")
	for _, e := range l.entries {
		if e.Account != account {
			continue
		}
		if e.Domain != "" && e.Domain != domain && !(e.Domain == "." && (domain == short || domain == host)) {
			continue
		}
		if e.Host == "*" || e.Host == host || e.Host == short {
			return true
		}
		if eShort, _, _ := strings.Cut(e.Host, "."); eShort == short && !strings.Contains(host, ".") {
			return true
		}
	}
	return false
}
