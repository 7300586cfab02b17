package detect

import (
	"fmt"
	"strings"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/allowlist"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/rule"
	"github.com/entrawatch/entrawatch/internal/sshlog"
	"github.com/valyala/fastjson"
)

const allowHowTo = "To approve a local account (break-glass, automation), list it in an allow-list file given with --allow-list (lines of \"HOST ACCOUNT\", \"*\" for every host) or pass --allow [HOST:]ACCOUNT; an allowed login raises no alert."

// linuxSSH flags accepted SSH logins by accounts that are not Entra
// identities.
type linuxSSH struct {
	base
	allow                                   *allowlist.List
	msg, prog, host, hostName, check, table *record.Field
}

func newLinuxSSH(c *rule.Compiler, opts Options) *linuxSSH {
	return &linuxSSH{
		allow: opts.Allow,
		msg:   c.Field("SyslogMessage"), prog: c.Field("ProcessName"), host: c.Field("Computer"), hostName: c.Field("HostName"),
		check: c.Field("EntraLoginCheck"),
		base: base{info: Info{
			ID: "linux-vm-non-entra-ssh", Title: "Non-Entra account signed in to a Linux VM over SSH", Severity: alert.High,
			Source: "Linux auth.log / secure / journald (sshd)", Technique: "T1078.003 Valid Accounts: Local Accounts", Kinds: kinds(record.KindSyslog),
			Description: "An accepted SSH login (sshd or sshd-session: publickey, password, keyboard-interactive) by an account that is not a Microsoft Entra identity: the Entra login module (aad_certhandler, aadsshlogin) said so for that user on the same host shortly before (\"is not a Microsoft Entra user\", formerly \"is not an AAD user\"), or the user name is neither a user principal name (with @) nor an object id. Such a login bypasses Conditional Access and MFA.",
			Next:        "Find out who owns the local account and why it can still log in; check its authorized_keys and the source IP. Remove or lock accounts that are not needed and require Entra login (AADSSHLoginForLinux) for people. " + allowHowTo,
		}},
	}
}

func (d *linuxSSH) Detect(r *record.Record, emit func(*alert.Alert)) {
	prog := record.Text(r.Get(d.prog))
	msg := record.Text(r.Get(d.msg))
	if prog == "" {
		// A Syslog row without a program column: read the tag from the message.
		if i := strings.Index(msg, ": "); i > 0 && !strings.Contains(msg[:i], " ") {
			prog = msg[:i]
			if j := strings.IndexByte(prog, '['); j > 0 {
				prog = prog[:j]
			}
			msg = msg[i+2:]
		}
	}
	if !sshlog.IsSSHD(prog) {
		return
	}
	l, ok := sshlog.ParseAccepted(msg)
	if !ok {
		return
	}
	check := record.Text(r.Get(d.check))
	if check == "" && sshlog.IsEntraName(l.User) {
		return
	}
	host := record.Text(r.Get(d.host))
	if host == "" {
		host = record.Text(r.Get(d.hostName))
	}
	if d.allow.Allowed(host, "", l.User) {
		return
	}
	a := d.newAlert(r, "")
	a.Entities = alert.Entities{User: l.User, IP: l.IP, Host: host}
	a.Details = append(a.Details, alert.Detail{Name: "method", Value: l.Method}, alert.Detail{Name: "port", Value: l.Port})
	if l.Key != "" {
		a.Details = append(a.Details, alert.Detail{Name: "key", Value: l.Key})
	}
	why := "the user name is not an Entra identity (no user principal name or object id)"
	if check != "" {
		a.Details = append(a.Details, alert.Detail{Name: "entra_login_module", Value: check})
		why = "the Entra login module said: " + moduleVerdict(check)
	}
	a.Summary = fmt.Sprintf("non-Entra account %s logged in to %s over SSH (%s) from %s; %s", l.User, orUnknown(host), l.Method, orUnknown(l.IP), why)
	emit(a)
}

// moduleVerdict trims a module line to its message.
func moduleVerdict(line string) string {
	if i := strings.Index(line, "]: "); i >= 0 {
		return line[i+3:]
	}
	return line
}

// windowsRDP flags successful remote-interactive logons (RDP) by accounts
// that are not Entra accounts.
type windowsRDP struct {
	base
	allow                                                     *allowlist.List
	eventID, logonType, user, domain, sid, ip, ws, host, proc *field3
}

// field3 tries the modern (4624) name of a field, then legacy (528) names.
type field3 struct{ fs []*record.Field }

func (f *field3) get(r *record.Record) *fastjson.Value {
	for _, x := range f.fs {
		if v := r.Get(x); v != nil && v.Type() != fastjson.TypeNull {
			return v
		}
	}
	return nil
}

func fieldsOf(c *rule.Compiler, names ...string) *field3 {
	f := &field3{}
	for _, n := range names {
		f.fs = append(f.fs, c.Field(n))
	}
	return f
}

func newWindowsRDP(c *rule.Compiler, opts Options) *windowsRDP {
	return &windowsRDP{
		allow:     opts.Allow,
		eventID:   fieldsOf(c, "EventID"),
		logonType: fieldsOf(c, "LogonType", "Logon Type", "winlog.logon.type"),
		user:      fieldsOf(c, "TargetUserName", "User Name", "UserName"),
		domain:    fieldsOf(c, "TargetDomainName", "Domain", "User Domain"),
		sid:       fieldsOf(c, "TargetUserSid", "TargetSid"),
		ip:        fieldsOf(c, "IpAddress", "Source Network Address", "SourceNetworkAddress"),
		ws:        fieldsOf(c, "WorkstationName", "Workstation Name"),
		host:      fieldsOf(c, "Computer"),
		proc:      fieldsOf(c, "LogonProcessName", "Logon Process"),
		base: base{info: Info{
			ID: "windows-vm-non-entra-rdp", Title: "Non-Entra account signed in to a Windows VM over RDP", Severity: alert.High,
			Source: "Windows Security log (4624 / 528)", Technique: "T1078.003 Valid Accounts: Local Accounts", Kinds: kinds(record.KindWindowsEvent),
			Description: "A successful remote-interactive logon (event 4624, or the legacy 528, with logon type 10: RDP) by an account outside Entra: Entra accounts log on in domain AzureAD with SIDs starting S-1-12-1-. Machine accounts (ending in $) and the system's own logons (SYSTEM, LOCAL SERVICE, NETWORK SERVICE, DWM-*, UMFD-*) are left out. Such a logon bypasses Conditional Access and MFA.",
			Next:        "Find out who owns the account and why RDP still accepts it; check the source IP and workstation, and what the session did (4688 process creation, 4672 special privileges). Disable local accounts that are not needed and require Entra login (AADLoginForWindows) for people. " + allowHowTo,
		}},
	}
}

var systemAccounts = map[string]bool{"system": true, "local service": true, "network service": true, "anonymous logon": true, "-": true, "": true}

func (d *windowsRDP) Detect(r *record.Record, emit func(*alert.Alert)) {
	id := d.eventID.get(r)
	if !record.EqualFold(id, "4624") && !record.EqualFold(id, "528") {
		return
	}
	lt := d.logonType.get(r)
	if !record.EqualFold(lt, "10") && !record.EqualFold(lt, "RemoteInteractive") && !record.HasPrefixFold(lt, "10 ") {
		return
	}
	user := strings.TrimSpace(record.Text(d.user.get(r)))
	domain := strings.TrimSpace(record.Text(d.domain.get(r)))
	sid := strings.TrimSpace(record.Text(d.sid.get(r)))
	if d2, u, ok := strings.Cut(user, `\`); ok && domain == "" {
		domain, user = d2, u
	}
	lu := strings.ToLower(user)
	switch {
	case strings.EqualFold(domain, "AzureAD") || strings.HasPrefix(strings.ToUpper(sid), "S-1-12-1-"):
		return // an Entra account
	case strings.HasSuffix(user, "$"):
		return // a machine account
	case systemAccounts[lu] || strings.HasPrefix(lu, "dwm-") || strings.HasPrefix(lu, "umfd-"),
		sid == "S-1-5-18" || sid == "S-1-5-19" || sid == "S-1-5-20",
		strings.EqualFold(domain, "NT AUTHORITY") || strings.EqualFold(domain, "Window Manager") || strings.EqualFold(domain, "Font Driver Host"):
		return // the system's own logons
	}
	host := record.Text(d.host.get(r))
	if d.allow.Allowed(host, domain, user) {
		return
	}
	a := d.newAlert(r, "")
	ip := strings.TrimSpace(record.Text(d.ip.get(r)))
	if ip == "-" {
		ip = ""
	}
	ws := strings.TrimSpace(record.Text(d.ws.get(r)))
	if ws == "-" {
		ws = ""
	}
	account := user
	if domain != "" {
		account = domain + `\` + user
	}
	a.Entities = alert.Entities{User: account, IP: ip, Host: host}
	a.Details = append(a.Details, alert.Detail{Name: "event_id", Value: record.Text(id)}, alert.Detail{Name: "domain", Value: domain},
		alert.Detail{Name: "sid", Value: sid}, alert.Detail{Name: "workstation", Value: ws},
		alert.Detail{Name: "logon_process", Value: strings.TrimSpace(record.Text(d.proc.get(r)))})
	a.Summary = fmt.Sprintf("non-Entra account %s logged on to %s over RDP (logon type 10) from %s, workstation %s", account, orUnknown(host), orUnknown(ip), orUnknown(ws))
	emit(a)
}

var (
	_ Detector = (*linuxSSH)(nil)
	_ Detector = (*windowsRDP)(nil)
)
