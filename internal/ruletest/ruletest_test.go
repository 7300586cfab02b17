package ruletest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/yamltree"
)

// writeTest writes a test file (and other files, by name) into a fresh
// folder and returns the test file's path.
func writeTest(t *testing.T, src string, others map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, s := range others {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "test.yml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Records raising device-registration-without-mfa (medium), for alice and
// bob, and one raising nothing.
const (
	regAlice = `{createdDateTime: 2026-11-20T08:00:00Z, userPrincipalName: alice@contoso.com, resourceDisplayName: Device Registration Service, conditionalAccessStatus: success, authenticationRequirement: singleFactorAuthentication, status: {errorCode: 0}}`
	regBob   = `{createdDateTime: 2026-11-20T09:00:00Z, userPrincipalName: bob@contoso.com, resourceDisplayName: Device Registration Service, conditionalAccessStatus: success, authenticationRequirement: singleFactorAuthentication, status: {errorCode: 0}}`
	quiet    = `{createdDateTime: 2026-11-20T10:00:00Z, userPrincipalName: carol@contoso.com, conditionalAccessStatus: failure, status: {errorCode: 50126}}`
)

func TestLoadErrors(t *testing.T) {
	for _, c := range []struct {
		name, src string
		others    map[string]string
		want      []string // "line:col: text", in order
	}{
		{"empty", "", nil, []string{"1:1: empty test file"}},
		{"not a mapping", "- a\n- b\n", nil, []string{"1:1: a test file must be a mapping with tests, found a list"}},
		{"two documents", "tests: []\n---\ntests: []\n", nil, []string{"3:6: a test file holds one YAML document"}},
		{"syntax", "tests:\n  - name: [\n", nil, []string{"2:11: YAML syntax:"}},
		{"no tests", "now: 2026-11-27T00:00:00Z\n", nil, []string{"1:4: the test file has no tests"}},
		{"empty tests", "tests: []\n", nil, []string{"1:8: tests must be a non-empty list of tests, found an empty list"}},
		{"unknown top-level key", "rules: [x]\ntests: []\n", nil, []string{`1:1: unknown key "rules" in the test file`, "2:8: tests must be"}},
		{"bad settings", "now: tomorrow\nstale_after: 7d\nyear: 20000\ndisable: [no-such-rule]\nallow: [\"host:\"]\ntests: []\n", nil, []string{
			`1:6: now must be an RFC 3339 time`,
			`2:14: stale_after 7d is under 21 days`,
			`3:7: year 20000 is out of range`,
			`4:11: disable: unknown built-in detection "no-such-rule"`,
			`5:9: allow "host:": empty account name`,
			`6:8: tests must be`,
		}},
		{"builtin false without rules", "builtin: false\ntests:\n  - {name: a, input: [{records: [" + quiet + "]}], expect: []}\n", nil, []string{"1:10: nothing to test"}},
		{"missing rule file", "rule_files: [nope.yml, \"r/*.yml\"]\ntests:\n  - {name: a, input: [{records: [" + quiet + "]}], expect: []}\n", nil, []string{
			`1:14: rule_files "nope.yml": no such file or folder`,
			`1:24: rule_files "r/*.yml" matches no file`,
		}},
		{"test shape", `tests:
  - just a string
  - name: no input or expect
  - name: bad parts
    nmae: typo
    input:
      - records: [1]
      - records: ""
      - file: missing.json
      - {records: [{a: 1}], file: x.json}
      - format: yaml
        records: "x"
      - {}
    expect:
      - severity: low
      - rule: x
        time: yesterday
        entities: {usr: a, user: [b]}
        details: []
        input: 7
        line: 0
      - 42
`, nil, []string{
			`2:5: a test must be a mapping`,
			`3:9: test "no input or expect" has no input`,
			`3:9: test "no input or expect" has no expect (write expect: [] for a test that must raise nothing)`,
			`5:5: unknown key "nmae" in a test`,
			`7:19: each record in a records list must be a mapping`,
			`8:18: records is an empty string`,
			`9:15: file "missing.json": no such file or folder`,
			`10:29: an input has records: or file:, not both`,
			`11:17: format: unknown input format "yaml"`,
			`13:9: an input needs records:`,
			`15:17: an expected alert needs its rule`,
			`17:15: time must be an RFC 3339 time`,
			`18:20: unknown key "usr" in entities`,
			`18:34: entities user must be a string, found a list`,
			`19:18: details must be a mapping`,
			`20:16: input 7 is out of range (1 to 6)`,
			`21:15: line 0 is out of range`,
			`22:9: an expected alert must be a mapping`,
		}},
		{"duplicate names", "tests:\n  - {name: a, input: [{records: [" + quiet + "]}], expect: []}\n  - {name: a, input: [{records: [" + quiet + "]}], expect: []}\n", nil, []string{
			`3:12: duplicate test name "a" (also at line 2)`,
		}},
		{"rule problems", "rule_files: rules\ntests:\n  - {name: a, input: [{records: [" + quiet + "]}], expect: []}\n",
			map[string]string{"rules/bad.yml": "title: bad\nlogsource: {product: azure, service: nosuch}\ndetection: {sel: {a: 1}, condition: sel}\n"},
			[]string{"rules/bad.yml:2:12: rule bad: logsource product azure, service nosuch: entrawatch reads no such records"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeTest(t, c.src, c.others)
			_, err := Load(path)
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("Load: %v, want Errors", err)
			}
			if len(es) != len(c.want) {
				t.Errorf("%d errors, want %d:\n%v", len(es), len(c.want), err)
			}
			for i, w := range c.want {
				if i >= len(es) {
					break
				}
				loc, text, _ := strings.Cut(w, ": ")
				got := es[i].Error()
				if !strings.Contains(got, loc+": "+text) {
					t.Errorf("error %d = %q, want %q", i, got, w)
				}
				if c.others == nil && es[i].File != path {
					t.Errorf("error %d names file %q, want %q", i, es[i].File, path)
				}
			}
		})
	}
}

func run(t *testing.T, src string, others map[string]string) []*Result {
	t.Helper()
	f, err := Load(writeTest(t, src, others))
	if err != nil {
		t.Fatal(err)
	}
	var out []*Result
	for _, tc := range f.Tests {
		out = append(out, tc.Run(context.Background()))
	}
	return out
}

// TestMatchingAnyOrder checks that expectations are matched to alerts as a
// whole: an open expectation listed first must not take the only alert
// that a narrower one can match.
func TestMatchingAnyOrder(t *testing.T) {
	rs := run(t, `now: 2026-11-27T00:00:00Z
tests:
  - name: t
    input:
      - records: [`+regBob+`, `+regAlice+`]
    expect:
      - rule: device-registration-without-mfa
      - rule: device-registration-without-mfa
        entities: {user: bob@contoso.com}
`, nil)
	if !rs[0].Passed() {
		t.Fatalf("failed:\n%s", strings.Join(rs[0].Problems, "\n"))
	}
	if len(rs[0].Alerts) != 2 {
		t.Errorf("%d alerts, want 2", len(rs[0].Alerts))
	}
}

// TestDiff checks the failure messages: a differing alert, a missing one,
// an unexpected one, with test-file lines for records in mappings and in
// block strings.
func TestDiff(t *testing.T) {
	rs := run(t, `now: 2026-11-27T00:00:00Z
tests:
  - name: t
    input:
      - records:
          - `+quiet+`
          - `+regAlice+`
      - format: syslog
        records: |
          Nov 20 09:14:00 vm1 sshd[1]: Connection from 203.0.113.45 port 53580
          Nov 20 09:15:00 vm1 sshd[1]: Accepted publickey for deploy from 203.0.113.45 port 53582 ssh2
    expect:
      - rule: device-registration-without-mfa
        severity: high
        time: 2026-11-20T08:00:01Z
        summary_contains: [alice, mallory]
        entities: {user: alice@contoso.com, ip: 192.0.2.1}
        details: {authentication_requirement: multiFactorAuthentication, nothing: x}
        input: 2
        line: 3
      - rule: stale-device
`, nil)
	r := rs[0]
	if r.Passed() {
		t.Fatal("passed")
	}
	got := strings.Join(r.Problems, "\n")
	path := r.Test.File().Path
	for _, want := range []string{
		path + `:13: alert device-registration-without-mfa from input 1, record 2 (` + path + `:7) differs:
    severity: want high, got medium
    time: want 2026-11-20T08:00:01Z, got 2026-11-20T08:00:00Z
    summary_contains: "mallory" is not in summary "alice@contoso.com registered or joined a device with singleFactorAuthentication (Device Registration Service, from unknown, unknown)"
    entities.ip: want "192.0.2.1", got ""
    details.authentication_requirement: want "multiFactorAuthentication", got "singleFactorAuthentication"
    details.nothing: want "x", the alert has no such detail
    input: want 2, got 1
    line: want 3, got 2`,
		path + `:21: expected alert not raised: rule stale-device`,
		path + `:12: unexpected alert linux-vm-non-entra-ssh from input 2, record on line 2 (` + path + `:11); to expect it, add to expect:
    - rule: linux-vm-non-entra-ssh
      severity: high
      time: 2026-11-20T09:15:00Z
      summary: "non-Entra account deploy logged in to vm1 over SSH (publickey) from 203.0.113.45; the user name is not an Entra identity (no user principal name or object id)"
      entities: {user: deploy, ip: 203.0.113.45, host: vm1}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack\n%s\n\ngot:\n%s", want, got)
		}
	}
	if len(r.Problems) != 3 {
		t.Errorf("%d problems, want 3:\n%s", len(r.Problems), got)
	}
}

// TestInputProblems checks that records the scan cannot read fail the test.
func TestInputProblems(t *testing.T) {
	rs := run(t, `tests:
  - name: bad JSON line
    input:
      - records: |
          {"createdDateTime": "2026-11-20T08:00:00Z", "userPrincipalName": "a@contoso.com", "status": {"errorCode": 0}}
          {"broken":
    expect: []
  - name: not a log
    input:
      - records: just some words
    expect: []
  - name: no records
    input:
      - format: csv
        records: "a,b,c\n"
    expect: []
`, nil)
	for i, want := range []string{
		"did not read cleanly (a test's records must all be usable):\n    input 1, record on line 2 (",
		"did not read cleanly (a test's records must all be usable):\n    input 1 (",
		"the inputs hold no records",
	} {
		got := strings.Join(rs[i].Problems, "\n")
		if !strings.Contains(got, want) {
			t.Errorf("test %d: problems lack %q:\n%s", i+1, want, got)
		}
		if strings.Contains(got, os.TempDir()+string(filepath.Separator)+"entrawatch-ruletest-") {
			t.Errorf("test %d: a temporary file name leaks into the problems:\n%s", i+1, got)
		}
	}
}

// TestSettings checks that a test's settings replace the file's, and that
// the syslog year follows now.
func TestSettings(t *testing.T) {
	rs := run(t, `now: 2026-11-27T00:00:00Z
stale_after: 30d
tests:
  - name: file settings
    input:
      - records:
          - {deviceId: d1, displayName: PC1, accountEnabled: true, approximateLastSignInDateTime: 2026-10-01T00:00:00Z}
    expect:
      - {rule: stale-device, time: 2026-10-01T00:00:00Z, details: {days_inactive: "57"}}
  - name: test settings
    now: 2026-10-15T00:00:00Z
    input:
      - records:
          - {deviceId: d1, displayName: PC1, accountEnabled: true, approximateLastSignInDateTime: 2026-10-01T00:00:00Z}
    expect: []
  - name: year from now
    now: 2024-03-01T00:00:00Z
    input:
      - records: "Feb 29 10:00:00 vm1 sshd[1]: Accepted password for root from 192.0.2.1 port 1 ssh2\n"
    expect:
      - {rule: linux-vm-non-entra-ssh, time: 2024-02-29T10:00:00Z}
  - name: disabled
    disable: [stale-device]
    input:
      - records:
          - {deviceId: d1, displayName: PC1, accountEnabled: true, approximateLastSignInDateTime: 2026-01-01T00:00:00Z}
    expect: []
`, nil)
	for _, r := range rs {
		if !r.Passed() {
			t.Errorf("%s failed:\n%s", r.Test.Name, strings.Join(r.Problems, "\n"))
		}
	}
}

// TestMixedFormats checks that inputs forcing different formats still
// meet in one engine that finishes once.
func TestMixedFormats(t *testing.T) {
	rs := run(t, `now: 2026-11-27T00:00:00Z
tests:
  - name: covered across inputs
    input:
      - format: json
        records:
          - {id: deviceRegistrationPolicy, multiFactorAuthConfiguration: notRequired}
      - records:
          - {displayName: CA, state: enabled, conditions: {applications: {includeUserActions: ["urn:user:registerdevice"]}}, grantControls: {builtInControls: [mfa]}}
      - format: syslog
        records: "Nov 20 09:15:00 vm1 sshd[1]: Accepted password for root from 192.0.2.1 port 1 ssh2\n"
    expect:
      - {rule: linux-vm-non-entra-ssh, input: 3, line: 1}
  - name: not covered
    input:
      - format: json
        records:
          - {id: deviceRegistrationPolicy, multiFactorAuthConfiguration: notRequired}
      - records:
          - {displayName: CA, state: disabled, conditions: {applications: {includeUserActions: ["urn:user:registerdevice"]}}, grantControls: {builtInControls: [mfa]}}
    expect:
      - {rule: device-registration-mfa-not-required, summary_contains: none of the 1 Conditional Access policies, input: 1}
`, nil)
	for _, r := range rs {
		if !r.Passed() {
			t.Errorf("%s failed:\n%s", r.Test.Name, strings.Join(r.Problems, "\n"))
		}
	}
}

// TestFileInputs checks inputs read from files and folders next to the
// test file.
func TestFileInputs(t *testing.T) {
	rec := `{"createdDateTime":"2026-11-20T08:00:00Z","userPrincipalName":"alice@contoso.com","resourceDisplayName":"Device Registration Service","conditionalAccessStatus":"success","authenticationRequirement":"singleFactorAuthentication","status":{"errorCode":0}}`
	rs := run(t, `tests:
  - name: t
    input:
      - file: one.jsonl
      - file: logs
    expect:
      - {rule: device-registration-without-mfa, input: 1, line: 2}
      - {rule: device-registration-without-mfa, input: 2, line: 1}
`, map[string]string{"one.jsonl": "{}\n" + rec + "\n", "logs/sub/two.json": rec})
	if !rs[0].Passed() {
		t.Fatalf("failed:\n%s", strings.Join(rs[0].Problems, "\n"))
	}
	o := &origins{test: rs[0].Test, dir: filepath.Dir(rs[0].Test.File().Path), paths: []string{rs[0].Test.Inputs[0].Path, rs[0].Test.Inputs[1].Path}}
	if got, want := o.describe(rs[0].Alerts[1].Source.File, 1), "input 2, logs/sub/two.json:1"; got != want {
		t.Errorf("describe = %q, want %q", got, want)
	}
}

func TestAppendJSON(t *testing.T) {
	docs, err := yamltree.Parse([]byte(`{s: text, q: "0", n: 0, f: 1.50, h: 0x1F, u: 1_000, o: 0o17, b: true, z: null, e: "", l: [1, a, {k: v}], t: 2026-11-20T08:00:00Z, x: .5, neg: -3}`))
	if err != nil {
		t.Fatal(err)
	}
	got := string(appendJSON(nil, docs[0]))
	want := `{"s":"text","q":"0","n":0,"f":1.50,"h":31,"u":1000,"o":15,"b":true,"z":null,"e":"","l":[1,"a",{"k":"v"}],"t":"2026-11-20T08:00:00Z","x":0.5,"neg":-3}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestAlertYAML checks that the expect entry printed for an unexpected
// alert reads back as the same values.
func TestAlertYAML(t *testing.T) {
	for _, s := range []string{"plain", "true", "1.5", "0x10", "a: b", `C:\x`, `say "hi"`, "#x", "- x", "naïve ✓", "", " lead", "tab\there", "null", "[x]", "{x}", "*a", "&a", "!t", "%p", "@x", "`x", "a #b"} {
		a := &alert.Alert{Rule: "r", Severity: alert.High, Summary: s, Time: time.Date(2026, 11, 20, 8, 0, 0, 5e8, time.UTC),
			Entities: alert.Entities{User: s, Host: "h"}}
		src := AlertYAML(a)
		docs, err := yamltree.Parse([]byte(src))
		if err != nil {
			t.Errorf("%q: %v\n%s", s, err, src)
			continue
		}
		e := docs[0].Items[0]
		if got := e.Get("summary").Str; got != s {
			t.Errorf("summary %q reads back as %q:\n%s", s, got, src)
		}
		if s != "" {
			if got := e.Get("entities").Get("user").Str; got != s {
				t.Errorf("user %q reads back as %q:\n%s", s, got, src)
			}
		}
		if got := e.Get("time").Str; got != "2026-11-20T08:00:00.5Z" {
			t.Errorf("time reads back as %q", got)
		}
	}
}
