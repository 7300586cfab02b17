package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// Sigma correlation rules through "entrawatch scan --rules": their alerts
// come out once every record is read, and what they could not count is
// reported on stderr.
func TestScanCorrelationRules(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "sigma", "correlation")
	code, out, errs := runCLI(t, "", "scan", "--no-builtin", "-o", "json",
		"--rules", filepath.Join(dir, "base", "signin.yml"), "--rules", filepath.Join(dir, "event_count"),
		filepath.Join(dir, "records", "signins.jsonl"), filepath.Join(dir, "records", "problems.jsonl"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rules []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var a struct {
			Rule    string `json:"rule"`
			Summary string `json:"summary"`
		}
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		rules = append(rules, a.Rule)
	}
	// The base rules feed the correlation (no generate): only the
	// correlation and the unreferenced successful-sign-in rule alert.
	n := 0
	for _, r := range rules {
		switch r {
		case "0b6e1f52-3d4a-4c1e-9f7a-2a1c00000101":
			n++
		case "0b6e1f52-3d4a-4c1e-9f7a-2a1c00000002":
		default:
			t.Errorf("alert of rule %s", r)
		}
	}
	if n != 1 {
		t.Errorf("%d correlation alerts, want 1", n)
	}
	for _, want := range []string{"brute_force.yml:2:1: rule 0b6e1f52-3d4a-4c1e-9f7a-2a1c00000101: 2 matching records have no usable event time",
		"1 matching record lacks a group-by field (UserPrincipalName)"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr %q lacks %q", errs, want)
		}
	}

	code, out, _ = runCLI(t, "", "rules", "lint", filepath.Join(dir, "base"), filepath.Join(dir, "bad"))
	if code != 1 || !strings.Contains(out, "refused.yml:7:11: rule bad-unknown-ref: no rule has the id or name no_such_rule") {
		t.Errorf("lint exit %d:\n%s", code, out)
	}
}
