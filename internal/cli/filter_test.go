package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Sigma filter rules through "entrawatch scan --no-builtin --rules": the
// filters remove matches of the rules they name, before a correlation
// counts them, and are not detections of their own.
func TestScanFilterRules(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "sigma", "filters")
	records := filepath.Join(dir, "records")
	run := func(rules ...string) []string {
		t.Helper()
		args := []string{"scan", "--no-builtin", "-o", "json"}
		for _, r := range rules {
			args = append(args, "--rules", filepath.Join(dir, r))
		}
		code, out, errs := runCLI(t, "", append(args, filepath.Join(records, "signins.jsonl"), filepath.Join(records, "audits.jsonl"))...)
		if code != 0 || errs != "" {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var a struct {
				Rule   string `json:"rule"`
				Source struct {
					File string `json:"file"`
					Line int    `json:"line"`
				} `json:"source"`
			}
			if err := json.Unmarshal([]byte(line), &a); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			got = append(got, fmt.Sprintf("%s %s:%d", a.Rule[len(a.Rule)-4:], filepath.Base(a.Source.File), a.Source.Line))
		}
		slices.Sort(got)
		return got
	}
	all := run("rules")
	if len(all) != 9 {
		t.Errorf("without filters, %d alerts: %v", len(all), all)
	}
	want := []string{"0001 signins.jsonl:1", "0001 signins.jsonl:11", "0003 signins.jsonl:4", "0004 audits.jsonl:2", "0101 signins.jsonl:10"}
	if got := run("rules", "filters"); !slices.Equal(got, want) {
		t.Errorf("with filters:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A refused filter is a warning of scan and a problem of rules lint.
	code, _, errs := runCLI(t, "", "scan", "--no-builtin", "-o", "json", "--rules", filepath.Join(dir, "rules"),
		"--rules", filepath.Join(dir, "bad"), filepath.Join(records, "signins.jsonl"))
	if code != 0 || !strings.Contains(errs, "warning: "+filepath.Join(dir, "bad", "refused.yml")+":9:11: rule bad-unknown-ref: no rule has the id or name no_such_rule") {
		t.Errorf("exit %d, stderr:\n%s", code, errs)
	}
	code, out, errs := runCLI(t, "", "rules", "lint", filepath.Join(dir, "rules"), filepath.Join(dir, "filters"))
	if code != 0 || out != "" || !strings.Contains(errs, "5 rules usable, 0 problems, 0 warnings") {
		t.Errorf("lint of the filters: exit %d\n%s%s", code, out, errs)
	}
}

// rules lint warns about fields no record carries and exits 1;
// --no-field-check leaves the check out. scan --rules prints the same
// warnings and runs the rules.
func TestLintFieldCheck(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "sigma", "lint")
	code, out, errs := runCLI(t, "", "rules", "lint", dir)
	want := filepath.Join(dir, "signin.yml") + ":48:9: warning: rule lint-signin-bad: field DeviceDetail.trustTyp is not carried by sign-in records (did you mean DeviceDetail.trustType?)"
	if code != 1 || !strings.Contains(out, want+"\n") || !strings.Contains(errs, "0 problems, 22 warnings") {
		t.Errorf("lint: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = runCLI(t, "", "rules", "lint", "--no-field-check", dir)
	if code != 0 || out != "" || !strings.Contains(errs, "0 problems, 0 warnings") {
		t.Errorf("lint --no-field-check: exit %d\n%s%s", code, out, errs)
	}

	rules := tempFile(t, "r.yml", []byte(`title: Wrong field
id: wrong-field
logsource: {product: azure, service: signinlogs}
detection:
    ok:
        ResultType: 0
    wrong:
        ClientApp: Browser
    condition: ok or wrong
level: low
`))
	records := tempFile(t, "s.jsonl", []byte(`{"TimeGenerated":"2026-11-20T10:00:00Z","Type":"SigninLogs","ResultType":"0","UserPrincipalName":"a@contoso.com"}`+"\n"))
	code, out, errs = runCLI(t, "", "scan", "--no-builtin", "-o", "json", "--rules", rules, records)
	if code != 0 || !strings.Contains(out, `"rule":"wrong-field"`) ||
		!strings.Contains(errs, "warning: "+rules+":8:9: rule wrong-field: field ClientApp is not carried by sign-in records (did you mean ClientAppUsed?)") {
		t.Errorf("scan: exit %d\n%s%s", code, out, errs)
	}
}
