package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
)

// now is the reference time of the tests' warnings.
var now = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// problemsOf parses src and returns its problems as "LINE:COL: message".
func problemsOf(t *testing.T, src string) []string {
	t.Helper()
	_, err := parse("c.yaml", []byte(src), now)
	if err == nil {
		return nil
	}
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %T is not *Errors: %v", err, err)
	}
	var out []string
	for _, p := range errs.List {
		out = append(out, strings.TrimPrefix(p.At("c.yaml"), "c.yaml:"))
	}
	return out
}

// A file with one mistake of each kind reports every one, at its line
// and column, sorted by position.
func TestParseReportsEveryProblem(t *testing.T) {
	src := `server:
  listen: 0.0.0.0:8080
tenants:
  - name: contoso
    auth:
      method: client_secret
      client_id: 11111111-2222-3333-4444-555555555555
      client_secret: hunter2-inline
    signins: {interval: 5 minutes}
  - name: contoso
    tenant_id: fabrikam.com
    tenant_region: eu
    auth: {method: workload_identity, client_id: 11111111-2222-3333-4444-555555555555}
files:
  - name: logs
    paths: [/var/log/auth.log]
    poll: yes
sinks:
  - name: soc
    type: pagerduty
  - name: soc
    type: stdout
`
	want := []string{
		"2:11: server.token is required when server.listen (\"0.0.0.0:8080\") is not a loopback address: add token: {env: ENTRAWATCH_API_TOKEN}",
		"4:5: tenants[0].tenant_id is required",
		"8:22: tenants[0].auth.client_secret: secrets must come from an environment variable or a file: use {env: NAME} or {file: PATH}",
		"9:25: tenants[0].signins.interval: \"5 minutes\" is not a duration (use a Go duration such as 5m or 2h30m, or days such as 7d)",
		"10:11: duplicate tenant name \"contoso\" (first at 4:11)",
		"12:5: unknown key `tenant_region` in tenants[1]",
		"17:11: files[0].poll: \"yes\" is not a duration (use a Go duration such as 5m or 2h30m, or days such as 7d)",
		"20:11: sinks[0].type: \"pagerduty\" is not one of stdout, file, webhook, slack, teams, syslog, splunk",
		"21:11: duplicate sink name \"soc\" (first at 19:11)",
	}
	got := problemsOf(t, src)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	_, err := parse("c.yaml", []byte(src), now)
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the error shows the inline secret:\n%v", err)
	}
	if first := strings.SplitN(err.Error(), "\n", 2)[0]; !strings.HasPrefix(first, "c.yaml:2:11: ") {
		t.Errorf("Error() first line = %q, want FILE:LINE:COL: first", first)
	}
}

// Each mistake, alone, gives one message at its position.
func TestParseProblems(t *testing.T) {
	tenant := "tenants:\n  - name: t\n    tenant_id: contoso.com\n    auth: {method: client_secret, client_id: 11111111-2222-3333-4444-555555555555, client_secret: {env: S}}\n"
	tests := []struct {
		name, src string
		want      string // "LINE:COL: message"; "" for none
	}{
		{"unknown top-level key, suggestion", "tenant: []\n", "1:1: unknown key `tenant` at the top level (did you mean `tenants`?)"},
		{"unknown key, no suggestion", "log: {colour: red}\n", "1:7: unknown key `colour` in log"},
		{"section of the wrong type", "server: [a]\n", "1:9: server: want a mapping, got a list"},
		{"document not a mapping", "- a\n", "1:1: the configuration must be a mapping of sections (server, store, tenants, files, detections, alerts, sinks, log), got a list"},
		{"two documents", "log: {}\n---\nlog: {}\n", "3:1: a configuration file holds one YAML document; this is another"},
		{"lost document", "---\n---\nlog: {}\n", "3:1: YAML: this content was not read as part of a document (check the --- separators)"},
		{"YAML syntax", "log: [a,\n", "1:6: YAML syntax: sequence end token ']' not found"},
		{"loopback listen needs no token", "server: {listen: 'localhost:9000'}\n", ""},
		{"IPv6 loopback", "server: {listen: '[::1]:9000'}\n", ""},
		{"listen disabled", "server: {listen: ''}\n", ""},
		{"all interfaces need a token", "server: {listen: ':8080'}\n", "1:18: server.token is required when server.listen (\":8080\") is not a loopback address: add token: {env: ENTRAWATCH_API_TOKEN}"},
		{"null token is no token", "server: {listen: '10.0.0.1:80', token: }\n", "1:18: server.token is required when server.listen (\"10.0.0.1:80\") is not a loopback address: add token: {env: ENTRAWATCH_API_TOKEN}"},
		{"bad listen", "server: {listen: localhost}\n", "1:18: server.listen: \"localhost\" is not a host:port address"},
		{"bad port", "server: {listen: 'localhost:99999'}\n", "1:18: server.listen: \"localhost:99999\": bad port \"99999\""},
		{"inline secret", "server: {token: abc}\n", "1:17: server.token: secrets must come from an environment variable or a file: use {env: NAME} or {file: PATH}"},
		{"secret both", "server: {token: {env: A, file: /b}}\n", "1:18: server.token: give either env or file, not both"},
		{"secret neither", "server: {token: {path: /b}}\n", "1:18: server.token: `path` is neither env nor file: want {env: NAME} or {file: PATH}"},
		{"secret bad env name", "server: {token: {env: 'A B'}}\n", "1:23: server.token: \"A B\" is not an environment variable name (letters, digits and _, not starting with a digit)"},
		{"postgres needs dsn", "store: {driver: postgres}\n", "1:9: store.dsn is required for the postgres driver: add dsn: {env: DATABASE_URL}"},
		{"dsn is postgres only", "store: {dsn: {env: D}}\n", "1:9: `dsn` is not a key of the sqlite store (it belongs to the postgres driver)"},
		{"bad driver", "store: {driver: mysql}\n", "1:17: store.driver: \"mysql\" is not one of sqlite, postgres"},
		{"retention without unit", "store: {retention: 7}\n", "1:20: store.retention: \"7\" has no unit (use a Go duration such as 5m or 2h30m, or days such as 7d)"},
		{"tenant name charset", strings.Replace(tenant, "name: t", "name: Contoso Ltd", 1), "2:11: tenants[0].name: \"Contoso Ltd\" may hold only a-z, 0-9, - and _ (at most 64)"},
		{"tenant id", strings.Replace(tenant, "contoso.com", "contoso", 1), "3:16: tenants[0].tenant_id: \"contoso\" is neither a GUID nor a domain name"},
		{"tenant GUID", strings.Replace(tenant, "contoso.com", "00000000-0000-0000-0000-000000000000", 1), ""},
		{"cloud lists names", tenant + "    cloud: usgovt\n", "5:12: tenants[0].cloud: \"usgovt\" is not one of public, usgov, china (did you mean `usgov`?)"},
		{"endpoint URL", tenant + "    endpoints: {graph: 'graph.example.com'}\n", "5:24: tenants[0].endpoints.graph: \"graph.example.com\" is not an http or https URL"},
		{"endpoint with credentials", tenant + "    endpoints: {login: 'https://u:p@login.example.com'}\n", "5:24: tenants[0].endpoints.login: \"https://u:p@login.example.com\" must not hold a user name or password"},
		{"auth method lists names", strings.Replace(tenant, "method: client_secret", "method: secret", 1), "4:20: tenants[0].auth.method: \"secret\" is not one of client_secret, certificate, workload_identity"},
		{"auth missing", "tenants:\n  - {name: t, tenant_id: contoso.com}\n", "2:6: tenants[0].auth is required (method and client_id)"},
		{"key of another auth method", strings.Replace(tenant, "method: client_secret", "method: certificate, certificate: {file: c.pem}", 1), "4:110: `client_secret` is not a key of certificate auth (it belongs to method client_secret)"},
		{"certificate required", strings.Replace(tenant, "method: client_secret, client_id: 11111111-2222-3333-4444-555555555555, client_secret: {env: S}", "method: certificate, client_id: 11111111-2222-3333-4444-555555555555", 1), "4:12: tenants[0].auth.certificate is required for method certificate: add certificate: {file: PATH}"},
		{"client id not a GUID", strings.Replace(tenant, "11111111-2222-3333-4444-555555555555", "my-app", 1), "4:46: tenants[0].auth.client_id: \"my-app\" is not a GUID (the application's client id)"},
		{"poller key of another poller", tenant + "    devices: {overlap: 1h}\n", "5:15: unknown key `overlap` in tenants[0].devices"},
		{"event type", tenant + "    signins: {event_types: [interactiveuser]}\n", "5:29: tenants[0].signins.event_types: \"interactiveuser\" is not one of interactiveUser, nonInteractiveUser, servicePrincipal, managedIdentity (did you mean `interactiveUser`?)"},
		{"enabled not boolean", tenant + "    roles: {enabled: 'no'}\n", "5:22: tenants[0].roles.enabled: want true or false, got the string \"no\""},
		{"file paths required", "files:\n  - name: f\n", "2:5: files[0].paths is required (a list of files and folders)"},
		{"file format", "files:\n  - {name: f, paths: [a], format: xml}\n", "2:35: files[0].format: \"xml\" is not one of csv, evtx, journald, json, syslog, winxml"},
		{"file year type", "files:\n  - {name: f, paths: [a], year: '2026'}\n", "2:33: files[0].year: want a whole number, got the string \"2026\""},
		{"stale_after minimum", "detections: {stale_after: 14d}\n", "1:27: detections.stale_after: \"14d\" is under 21d: Entra updates a device's activity time only every 14±5 days, so shorter periods flag active devices"},
		{"unknown detection", "detections: {disable: [stale-devices]}\n", "1:24: detections.disable[0]: \"stale-devices\" is not a built-in detection (did you mean `stale-device`?); see entrawatch rules list"},
		{"allow entry", "detections: {allow: ['web-01:']}\n", "1:22: detections.allow[0]: \"web-01:\": empty account name (want [HOST:]ACCOUNT)"},
		{"suppression needs reason", "alerts:\n  suppressions:\n    - {rule: stale-device}\n", "3:8: alerts.suppressions[0].reason is required"},
		{"suppression tenant", tenant + "alerts:\n  suppressions:\n    - {rule: stale-device, reason: r, tenant: x}\n", "7:47: alerts.suppressions[0].tenant: \"x\" is not the name of a configured tenant"},
		{"suppression until", "alerts:\n  suppressions:\n    - {rule: stale-device, reason: r, until: tomorrow}\n", "3:46: alerts.suppressions[0].until: \"tomorrow\" is not an RFC 3339 time such as 2027-01-01T00:00:00Z"},
		{"group window zero", "alerts: {group_window: 0}\n", ""},
		{"negative window", "alerts: {group_window: -1h}\n", "1:24: alerts.group_window: \"-1h\" must not be negative"},
		{"key of another sink type", "sinks:\n  - {name: s, type: webhook, url: 'https://x.example', token: {env: T}}\n", "2:56: `token` is not a key of a webhook sink (it is a key of splunk sinks)"},
		{"key of no sink type", "sinks:\n  - {name: s, type: stdout, colour: red}\n", "2:29: unknown key `colour` in sinks[0]"},
		{"sink type missing", "sinks:\n  - {name: s}\n", "2:6: sinks[0].type is required (stdout, file, webhook, slack, teams, syslog, splunk)"},
		{"file sink path", "sinks:\n  - {name: s, type: file}\n", "2:6: sinks[0].path is required"},
		{"slack url must be a secret", "sinks:\n  - {name: s, type: slack, url: 'https://hooks.slack.com/services/T/B/X'}\n", "2:33: sinks[0].url: secrets must come from an environment variable or a file: use {env: NAME} or {file: PATH}"},
		{"teams url required", "sinks:\n  - {name: s, type: teams}\n", "2:6: sinks[0].url is required for a teams sink: its webhook URL is a credential, so add url: {env: NAME}"},
		{"webhook URL", "sinks:\n  - {name: s, type: webhook, url: 'ftp://x'}\n", "2:35: sinks[0].url: \"ftp://x\" is not an http or https URL"},
		{"webhook credential header", "sinks:\n  - {name: s, type: webhook, url: 'https://x.example', headers: {X-Api-Key: abc}}\n", "2:77: sinks[0].headers.X-Api-Key: the header looks like a credential; secrets must come from an environment variable or a file: use {env: NAME} or {file: PATH}"},
		{"webhook header from env", "sinks:\n  - {name: s, type: webhook, url: 'https://x.example', headers: {Authorization: {env: A}}}\n", ""},
		{"syslog address", "sinks:\n  - {name: s, type: syslog, address: ':514'}\n", "2:38: sinks[0].address: \":514\" has no host"},
		{"syslog network", "sinks:\n  - {name: s, type: syslog, address: 'h:514', network: quic}\n", "2:56: sinks[0].network: \"quic\" is not one of udp, tcp, tls"},
		{"splunk token", "sinks:\n  - {name: s, type: splunk, url: 'https://splunk.example:8088/services/collector'}\n", "2:6: sinks[0].token is required for a splunk sink: add token: {env: NAME}"},
		{"max attempts range", "sinks:\n  - {name: s, type: stdout, max_attempts: 0}\n", "2:43: sinks[0].max_attempts: \"0\" is out of range (1 to 1000)"},
		{"min severity", "sinks:\n  - {name: s, type: stdout, min_severity: critical}\n", "2:43: sinks[0].min_severity: \"critical\" is not one of low, medium, high"},
		{"log level", "log: {level: warning}\n", "1:14: log.level: \"warning\" is not one of debug, info, warn, error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problemsOf(t, tt.src)
			switch {
			case tt.want == "" && len(got) > 0:
				t.Errorf("unexpected problems:\n%s", strings.Join(got, "\n"))
			case tt.want != "" && (len(got) != 1 || got[0] != tt.want):
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), tt.want)
			}
		})
	}
}

// Doubtful settings are accepted with a warning.
func TestParseWarnings(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"expired suppression", "files: [{name: f, paths: [a]}]\nalerts:\n  suppressions:\n    - {rule: stale-device, reason: r, until: 2020-01-01T00:00:00Z}\n",
			"4:46: alerts.suppressions[0].until: 2020-01-01T00:00:00Z has passed: the suppression no longer applies"},
		{"rule id of a loaded rule", "files: [{name: f, paths: [a]}]\ndetections: {rules: [./rules], disable: [my-rule]}\n",
			"2:42: detections.disable[0]: \"my-rule\" is not a built-in detection; it must be the id of a rule in detections.rules"},
		{"nothing to watch", "log: {level: info}\n", "no tenants and no file sources: entrawatch serve will watch nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parse("c.yaml", []byte(tt.src), now)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Warnings) != 1 || strings.TrimPrefix(c.Warnings[0].At("c.yaml"), "c.yaml:") != tt.want &&
				strings.TrimPrefix(c.Warnings[0].At("c.yaml"), "c.yaml: ") != tt.want {
				t.Errorf("warnings = %v, want %q", c.Warnings, tt.want)
			}
		})
	}
}

// A minimal file gets every default; a file giving every key keeps every
// value.
func TestParseDefaultsAndValues(t *testing.T) {
	minimal := `tenants:
  - name: contoso
    tenant_id: contoso.onmicrosoft.com
    auth: {method: workload_identity, client_id: 11111111-2222-3333-4444-555555555555}
files:
  - {name: logs, paths: [/var/log/auth.log]}
sinks:
  - {name: out, type: stdout}
`
	c, err := parse("c.yaml", []byte(minimal), now)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		File:   "c.yaml",
		Server: Server{Listen: "127.0.0.1:8080"},
		Store:  Store{Driver: "sqlite", Path: "entrawatch.db", Retention: 7 * 24 * time.Hour},
		Tenants: []Tenant{{
			Name: "contoso", TenantID: "contoso.onmicrosoft.com", Cloud: CloudPublic,
			Auth:     Auth{Method: AuthWorkloadIdentity, ClientID: "11111111-2222-3333-4444-555555555555", line: 4, col: 12},
			SignIns:  Poll{Enabled: true, Interval: 5 * time.Minute, Overlap: 2 * time.Hour, EventTypes: []string{"interactiveUser", "nonInteractiveUser"}},
			Audits:   Poll{Enabled: true, Interval: 5 * time.Minute, Overlap: 2 * time.Hour},
			Devices:  Poll{Enabled: true, Interval: time.Hour},
			Policies: Poll{Enabled: true, Interval: 15 * time.Minute},
			Roles:    Poll{Enabled: true, Interval: time.Hour},
			Start:    24 * time.Hour,
		}},
		Files:      []FileSource{{Name: "logs", Paths: []string{"/var/log/auth.log"}, Poll: 2 * time.Second}},
		Detections: Detections{StaleAfter: 90 * 24 * time.Hour},
		Alerts:     Alerts{GroupWindow: time.Hour},
		Sinks:      []Sink{{Name: "out", Type: "stdout", MinSeverity: alert.Low, MaxAttempts: 10}},
		Log:        Log{Level: "info", Format: "text"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got\n%#v\nwant\n%#v", *c, *want)
	}

	full := `server: {listen: '0.0.0.0:9443', token: {file: /run/token}}
store: {driver: postgres, dsn: {env: DATABASE_URL}, retention: 1d12h}
tenants:
  - name: gov
    tenant_id: 00000000-0000-0000-0000-000000000001
    cloud: usgov
    endpoints: {login: 'http://127.0.0.1:9000/login/', graph: 'http://127.0.0.1:9000/graph'}
    ca_file: /etc/ca.pem
    auth:
      method: certificate
      client_id: 11111111-2222-3333-4444-555555555555
      certificate: {file: /etc/cert.pfx}
      certificate_password: {env: CERT_PW}
    signins: {enabled: false, interval: 1m, overlap: 0, event_types: [servicePrincipal]}
    roles: {interval: 2h}
    start: 7d
files:
  - {name: sys, paths: [a, b], format: syslog, poll: 500ms, year: 2025}
detections: {stale_after: 30d, disable: [stale-device], rules: [r/], no_builtin: true, allow_file: allow.txt, allow: ['web:root']}
alerts:
  group_window: 0
  suppressions:
    - {rule: unknown-device-signin, entity: kiosk@contoso.com, tenant: gov, until: 2030-01-01T00:00:00Z, reason: kiosks}
sinks:
  - {name: f, type: file, path: /var/log/alerts.jsonl, min_severity: high, rules: [stale-device], max_attempts: 3}
  - {name: w, type: webhook, url: {env: HOOK}, secret: {env: SIGN}, headers: {X-Source: ew}}
  - {name: sl, type: syslog, network: tls, address: 'siem:6514', ca_file: ca.pem}
  - {name: sp, type: splunk, url: 'https://splunk:8088/services/collector', token: {env: HEC}, index: sec, insecure_skip_verify: true}
log: {level: debug, format: json}
`
	c, err = parse("c.yaml", []byte(full), now)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"listen", c.Server.Listen, "0.0.0.0:9443"},
		{"token file", c.Server.Token.File(), "/run/token"},
		{"driver", c.Store.Driver, "postgres"},
		{"store path", c.Store.Path, ""},
		{"dsn env", c.Store.DSN.Env(), "DATABASE_URL"},
		{"retention", c.Store.Retention, 36 * time.Hour},
		{"cloud", c.Tenants[0].Cloud, CloudUSGov},
		{"base URLs", c.Tenants[0].BaseURLs(), Endpoints{Login: "http://127.0.0.1:9000/login", Graph: "http://127.0.0.1:9000/graph"}},
		{"ca file", c.Tenants[0].CAFile, "/etc/ca.pem"},
		{"certificate", c.Tenants[0].Auth.Certificate.File(), "/etc/cert.pfx"},
		{"certificate password", c.Tenants[0].Auth.CertificatePassword.Env(), "CERT_PW"},
		{"signins", c.Tenants[0].SignIns, Poll{Enabled: false, Interval: time.Minute, EventTypes: []string{"servicePrincipal"}}},
		{"roles", c.Tenants[0].Roles, Poll{Enabled: true, Interval: 2 * time.Hour}},
		{"start", c.Tenants[0].Start, 7 * 24 * time.Hour},
		{"file source", c.Files[0], FileSource{Name: "sys", Paths: []string{"a", "b"}, Format: "syslog", Poll: 500 * time.Millisecond, Year: 2025}},
		{"detections", c.Detections, Detections{StaleAfter: 30 * 24 * time.Hour, Disable: []string{"stale-device"}, Rules: []string{"r/"}, NoBuiltin: true, AllowFile: "allow.txt", Allow: []string{"web:root"}}},
		{"group window", c.Alerts.GroupWindow, time.Duration(0)},
		{"suppression", c.Alerts.Suppressions[0], Suppression{Rule: "unknown-device-signin", Entity: "kiosk@contoso.com", Tenant: "gov", Until: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Reason: "kiosks"}},
		{"file sink", [4]any{c.Sinks[0].Path, c.Sinks[0].MinSeverity, c.Sinks[0].Rules, c.Sinks[0].MaxAttempts}, [4]any{"/var/log/alerts.jsonl", alert.High, []string{"stale-device"}, 3}},
		{"webhook url secret", c.Sinks[1].URLSecret.Env(), "HOOK"},
		{"webhook signing key", c.Sinks[1].Secret.Env(), "SIGN"},
		{"webhook header", c.Sinks[1].Headers[0].Get(), "ew"},
		{"syslog", [4]string{c.Sinks[2].Network, c.Sinks[2].Address, c.Sinks[2].CAFile, c.Sinks[2].Format}, [4]string{"tls", "siem:6514", "ca.pem", "cef"}},
		{"splunk", [4]any{c.Sinks[3].URL, c.Sinks[3].Token.Env(), c.Sinks[3].Index, c.Sinks[3].SourceType}, [4]any{"https://splunk:8088/services/collector", "HEC", "sec", "entrawatch:alert"}},
		{"splunk tls", c.Sinks[3].InsecureSkipVerify, true},
		{"log", c.Log, Log{Level: "debug", Format: "json"}},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
}

// The embedded example decodes without a problem or a warning, and gives
// secrets only as environment variables.
func TestExampleDecodes(t *testing.T) {
	c, err := Parse("example.yaml", []byte(Example))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) > 0 {
		t.Errorf("warnings: %v", c.Warnings)
	}
	if len(c.Tenants) == 0 || len(c.Files) == 0 || len(c.Sinks) == 0 {
		t.Errorf("the example should show tenants, files and sinks: %d, %d, %d", len(c.Tenants), len(c.Files), len(c.Sinks))
	}
	for _, s := range c.secrets() {
		if s.s.Env() == "" {
			t.Errorf("%s: the example's secrets should be environment variables, not %s", s.key, s.s.Ref())
		}
	}
	// Every commented-out block decodes too, once uncommented.
	var lines []string
	for _, l := range strings.Split(Example, "\n") {
		if t := strings.TrimLeft(l, " "); strings.HasPrefix(t, "# ") && strings.Contains(t, ":") && len(l)-len(t) > 0 {
			l = strings.Replace(l, "# ", "", 1)
		}
		lines = append(lines, l)
	}
	uncommented := strings.Join(lines, "\n")
	// The three auth methods cannot all be on: keep the certificate.
	uncommented = strings.Replace(uncommented, "      method: client_secret      # client_secret, certificate or workload_identity\n", "", 1)
	uncommented = strings.Replace(uncommented, "      client_secret: {env: CONTOSO_CLIENT_SECRET}\n", "", 1)
	uncommented = strings.Replace(uncommented, "      method: workload_identity\n", "", 1)
	uncommented = strings.Replace(uncommented, "      token_file: /var/run/secrets/azure/tokens/azure-identity-token   # default: $AZURE_FEDERATED_TOKEN_FILE\n", "", 1)
	if _, err := Parse("uncommented.yaml", []byte(uncommented)); err != nil {
		t.Errorf("the example with its comments removed:\n%v", err)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"0", 0, false},
		{"90s", 90 * time.Second, false},
		{"2h30m", 150 * time.Minute, false},
		{"7d", 7 * 24 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"-1h", -time.Hour, false},
		{"90", 0, true},
		{"d", 0, true},
		{"7days", 0, true},
		{"1d-1h", 0, true},
		{"999999d", 0, true},
		{"99999d2562047h", 0, true},
		{"5 m", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, bad %v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestBaseURLs(t *testing.T) {
	tests := []struct {
		t    Tenant
		want Endpoints
	}{
		{Tenant{}, Endpoints{"https://login.microsoftonline.com", "https://graph.microsoft.com"}},
		{Tenant{Cloud: CloudPublic}, Endpoints{"https://login.microsoftonline.com", "https://graph.microsoft.com"}},
		{Tenant{Cloud: CloudUSGov}, Endpoints{"https://login.microsoftonline.us", "https://graph.microsoft.us"}},
		{Tenant{Cloud: CloudChina}, Endpoints{"https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"}},
		{Tenant{Cloud: CloudChina, Endpoints: Endpoints{Graph: "http://localhost:8081/"}}, Endpoints{"https://login.chinacloudapi.cn", "http://localhost:8081"}},
	}
	for _, tt := range tests {
		if got := tt.t.BaseURLs(); got != tt.want {
			t.Errorf("%+v: BaseURLs() = %+v, want %+v", tt.t, got, tt.want)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("files: [{name: f, paths: [a]}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(good)
	if err != nil || c.File != good || len(c.Files) != 1 {
		t.Fatalf("Load(good) = %+v, %v", c, err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("Load(missing) error = %v, want one naming the file", err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(strings.Repeat("# padding\n", MaxFileSize/10+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(big)
	var errs *Errors
	if !errors.As(err, &errs) || !strings.Contains(err.Error(), "big.yaml: the file is larger than") {
		t.Errorf("Load(big) error = %v", err)
	}
}

// Many problems are capped, with a note saying so.
func TestTooManyProblems(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 300; i++ {
		b.WriteString("k")
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString(string(rune('a'+i%26)) + string(rune('a'+i/26)) + ": 1\n")
	}
	_, err := parse("c.yaml", []byte(b.String()), now)
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v", err)
	}
	if n := len(errs.List); n != maxProblems+1 || !strings.Contains(errs.List[n-1].Msg, "too many problems") {
		t.Errorf("%d problems, last %q", n, errs.List[len(errs.List)-1].Msg)
	}
}

func TestParseEmptyListItem(t *testing.T) {
	got := problemsOf(t, "sinks:\n  -\n  - {name: s, type: stdout}\n")
	if len(got) != 1 || !strings.HasSuffix(got[0], "sinks[0] is empty: want a mapping") {
		t.Errorf("problems = %q", got)
	}
}
