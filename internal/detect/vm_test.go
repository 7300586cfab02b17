package detect

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/allowlist"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/valyala/fastjson"
)

// detectJSON runs the built-in detections on one JSON record.
func detectJSON(t *testing.T, eng *Engine, js string) []*alert.Alert {
	t.Helper()
	var p fastjson.Parser
	v, err := p.Parse(js)
	if err != nil {
		t.Fatalf("bad test record %s: %v", js, err)
	}
	r := &record.Record{Root: v, Raw: []byte(js)}
	r.Classify()
	var out []*alert.Alert
	eng.Detect(r, func(a *alert.Alert) { out = append(out, a) })
	eng.Finish(func(a *alert.Alert) { out = append(out, a) })
	return out
}

func rules(as []*alert.Alert) string {
	var ids []string
	for _, a := range as {
		ids = append(ids, a.Rule)
	}
	sort.Strings(ids)
	return strings.Join(ids, ",")
}

func TestWindowsRDPForms(t *testing.T) {
	allow := &allowlist.List{}
	e, _ := allowlist.ParseEntry(`vm-win-02:VM-WIN-02\breakglass`)
	allow.Add(e)
	eng, err := NewEngine(Options{Now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), Allow: allow})
	if err != nil {
		t.Fatal(err)
	}
	const rdp = "windows-vm-non-entra-rdp"
	tests := []struct {
		name, js, want string
	}{
		{"SecurityEvent local", `{"TimeGenerated":"2026-11-20T11:20:31Z","Type":"SecurityEvent","Computer":"vm-win-01","EventID":4624,"LogonType":10,"TargetUserName":"labadmin","TargetDomainName":"VM-WIN-01","TargetUserSid":"S-1-5-21-1-2-3-1013","IpAddress":"203.0.113.99","WorkstationName":"X","LogonProcessName":"User32 "}`, rdp},
		{"SecurityEvent Entra", `{"TimeGenerated":"2026-11-20T11:20:31Z","Type":"SecurityEvent","Computer":"vm-win-01","EventID":4624,"LogonType":10,"TargetUserName":"AliceExample","TargetDomainName":"AzureAD","TargetUserSid":"S-1-12-1-1-2-3-4"}`, ""},
		{"Entra by SID only", `{"TimeGenerated":"2026-11-20T11:20:31Z","Type":"SecurityEvent","Computer":"vm-win-01","EventID":4624,"LogonType":10,"TargetUserName":"AliceExample","TargetDomainName":"X","TargetUserSid":"S-1-12-1-1-2-3-4"}`, ""},
		{"type 3", `{"TimeGenerated":"2026-11-20T11:20:31Z","Type":"SecurityEvent","Computer":"vm-win-01","EventID":4624,"LogonType":3,"TargetUserName":"labadmin","TargetDomainName":"VM-WIN-01"}`, ""},
		{"machine account", `{"TimeGenerated":"2026-11-20T11:20:31Z","Type":"SecurityEvent","Computer":"vm-win-01","EventID":4624,"LogonType":10,"TargetUserName":"VM-WIN-01$","TargetDomainName":"CONTOSO"}`, ""},
		{"system logon", `{"TimeGenerated":"2026-11-20T11:20:31Z","Type":"SecurityEvent","Computer":"vm-win-01","EventID":4624,"LogonType":"10","TargetUserName":"DWM-2","TargetDomainName":"Window Manager","TargetUserSid":"S-1-5-90-0-2"}`, ""},
		{"failed logon event", `{"TimeGenerated":"2026-11-20T11:20:31Z","Type":"SecurityEvent","Computer":"vm-win-01","EventID":4625,"LogonType":10,"TargetUserName":"labadmin","TargetDomainName":"VM-WIN-01"}`, ""},
		{"NXLog string type", `{"EventTime":"2026-11-20 11:20:31","Hostname":"vm-win-01","EventID":4624,"Channel":"Security","LogonType":"10","TargetUserName":"labadmin","TargetDomainName":"VM-WIN-01","IpAddress":"203.0.113.99"}`, rdp},
		{"evtx_dump", `{"Event":{"System":{"EventID":4624,"Computer":"vm-win-01","TimeCreated":{"SystemTime":"2026-11-20T11:20:31.5Z"}},"EventData":{"LogonType":10,"TargetUserName":"labadmin","TargetDomainName":"VM-WIN-01","IpAddress":"203.0.113.99"}}}`, rdp},
		{"Winlogbeat", `{"@timestamp":"2026-11-20T11:20:31.512Z","winlog":{"computer_name":"vm-win-01","event_id":"4624","event_data":{"LogonType":"10","TargetUserName":"labadmin","TargetDomainName":"VM-WIN-01","IpAddress":"203.0.113.99"}}}`, rdp},
		{"WindowsEvent dynamic", `{"TimeGenerated":"2026-11-20T11:20:31Z","Type":"WindowsEvent","Computer":"vm-win-01","EventID":4624,"Channel":"Security","EventData":{"LogonType":"10","TargetUserName":"labadmin","TargetDomainName":"VM-WIN-01"}}`, rdp},
		{"legacy 528", `{"TimeGenerated":"2026-11-20T11:20:31Z","Type":"SecurityEvent","Computer":"vm-win-01","EventID":528,"Logon Type":"10","User Name":"labadmin","Domain":"VM-WIN-01","Source Network Address":"203.0.113.99"}`, rdp},
		{"allow-listed", `{"TimeGenerated":"2026-11-20T11:20:31Z","Type":"SecurityEvent","Computer":"vm-win-02","EventID":4624,"LogonType":10,"TargetUserName":"breakglass","TargetDomainName":"VM-WIN-02"}`, ""},
		{"allow-list is per host", `{"TimeGenerated":"2026-11-20T11:20:31Z","Type":"SecurityEvent","Computer":"vm-win-03","EventID":4624,"LogonType":10,"TargetUserName":"breakglass","TargetDomainName":"VM-WIN-03"}`, rdp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := detectJSON(t, eng, tt.js)
			if got := rules(as); got != tt.want {
				t.Fatalf("alerts %q, want %q", got, tt.want)
			}
			if len(as) == 1 {
				a := as[0]
				if a.Entities.Host == "" || a.Entities.User == "" || a.Time.IsZero() || a.Severity != alert.High {
					t.Errorf("incomplete alert: %+v", a)
				}
			}
		})
	}
}

func TestLinuxSSHOnSyslogRows(t *testing.T) {
	eng, err := NewEngine(Options{Now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	const ssh = "linux-vm-non-entra-ssh"
	for _, tt := range []struct{ js, want string }{
		{`{"TimeGenerated":"2026-11-20T09:15:00Z","Type":"Syslog","Computer":"vm1","ProcessName":"sshd","SyslogMessage":"Accepted password for dbadmin from 192.0.2.77 port 50514 ssh2"}`, ssh},
		{`{"TimeGenerated":"2026-11-20T09:15:00Z","Type":"Syslog","Computer":"vm1","ProcessName":"sshd-session","SyslogMessage":"Accepted publickey for alice@contoso.com from 192.0.2.77 port 50514 ssh2"}`, ""},
		{`{"TimeGenerated":"2026-11-20T09:15:00Z","Type":"Syslog","Computer":"vm1","ProcessName":"sshd","SyslogMessage":"Accepted publickey for alice@contoso.com from 192.0.2.77 port 50514 ssh2","EntraLoginCheck":"aad_certhandler[1]: User 'alice@contoso.com' is not a Microsoft Entra user"}`, ssh},
		{`{"TimeGenerated":"2026-11-20T09:15:00Z","Type":"Syslog","Computer":"vm1","ProcessName":"sshd","SyslogMessage":"Failed password for root from 192.0.2.77 port 50514 ssh2"}`, ""},
		{`{"TimeGenerated":"2026-11-20T09:15:00Z","Type":"Syslog","Computer":"vm1","ProcessName":"cron","SyslogMessage":"Accepted password for x from 192.0.2.77 port 1 ssh2"}`, ""},
		{`{"TimeGenerated":"2026-11-20T09:15:00Z","Type":"Syslog","Computer":"vm1","SyslogMessage":"sshd[77]: Accepted password for x from 192.0.2.77 port 1 ssh2"}`, ssh},
	} {
		if got := rules(detectJSON(t, eng, tt.js)); got != tt.want {
			t.Errorf("%s: alerts %q, want %q", tt.js, got, tt.want)
		}
	}
}

func TestAddReplacesByID(t *testing.T) {
	eng, err := NewEngine(Options{Now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	n := len(eng.Detectors())
	repl := &staleDevice{base: base{info: Info{ID: "stale-device", Title: "mine", Kinds: kinds(record.KindDevice)}}}
	eng.Add(repl)
	if len(eng.Detectors()) != n || len(eng.Replaced()) != 1 {
		t.Fatalf("detectors %d (was %d), replaced %v", len(eng.Detectors()), n, eng.Replaced())
	}
	for _, d := range eng.Detectors() {
		if d.Info().ID == "stale-device" && d != Detector(repl) {
			t.Fatal("the built-in stayed")
		}
	}
}
