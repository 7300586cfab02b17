package graphsim

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	_ "github.com/entrawatch/entrawatch/internal/catalog" // registers the Sigma built-ins
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/scan"
)

// writeGraphPage writes records as a Graph collection page.
func writeGraphPage(t *testing.T, path string, records []json.RawMessage) {
	t.Helper()
	if records == nil {
		records = []json.RawMessage{}
	}
	b, err := json.MarshalIndent(map[string]any{"value": records}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// scanDir runs the built-in detections over dir at now and returns the
// alerts as "rule record-id" strings, sorted, and the summaries.
func scanDir(t *testing.T, dir string, now time.Time) ([]string, []string) {
	t.Helper()
	eng, err := detect.NewEngine(detect.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var got, summaries []string
	_, err = scan.Run(context.Background(), scan.Config{
		Paths: []string{dir}, Engine: eng,
		Alert: func(a *alert.Alert) error {
			var rec struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(a.Record, &rec); err != nil {
				t.Errorf("alert %s: record %s: %v", a.Rule, a.Record, err)
			}
			got = append(got, a.Rule+" "+rec.ID)
			summaries = append(summaries, a.Rule+": "+a.Summary)
			return nil
		},
		Warn: func(msg string) { t.Errorf("scan warning: %s", msg) },
	})
	if err != nil {
		t.Fatalf("scan %s: %v", dir, err)
	}
	sort.Strings(got)
	return got, summaries
}

// TestThreatsFireBuiltins fetches one threat cycle and the ordinary
// traffic around it over HTTP, splits the records by the threats Events
// reports, and scans each part with the built-in detections: the threat
// records raise exactly the alerts Events announces, one per threat, and
// the rest raises none.
func TestThreatsFireBuiltins(t *testing.T) {
	h := newHarness(t, Options{History: 30 * time.Minute, LateFraction: 0.3, LateBy: 20 * time.Second})
	_, requiredPolicy := h.get(PathRegistrationPolicy)
	_, caPolicies := h.get("/v1.0/identity/conditionalAccess/policies")

	h.at(FirstThreatAfter + 40*time.Second + 20*time.Second) // the first cycle is visible; MFA still off
	now := h.clock.Now()
	events := h.ten.Events()
	want := map[string]bool{}
	var wantList []string
	rules := map[string]bool{}
	for _, e := range events {
		want[e.RecordID] = true
		wantList = append(wantList, e.Rule+" "+e.RecordID)
		rules[e.Rule] = true
		if e.VisibleAt.After(now) {
			t.Errorf("threat %s %s is not visible yet at %s", e.Rule, e.RecordID, now)
		}
	}
	sort.Strings(wantList)
	for _, r := range []string{RuleRegistrationWithoutMFA, RuleRegistrationMFAOff, RuleNoncompliantSignIn, RuleUnknownDeviceSignIn,
		RuleBitLockerKeyRead, RulePrivilegedRoleAdded, RuleStaleDevice} {
		if !rules[r] {
			t.Errorf("no %s threat in the first cycle", r)
		}
	}

	from := start.Add(-time.Hour).Format(time.RFC3339)
	signIns := h.all(PathSignIns, "$filter", "createdDateTime ge "+from+" and signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')")
	audits := h.all(PathDirectoryAudits, "$filter", "activityDateTime ge "+from)
	devices := h.all(PathDevices)
	_, offPolicy := h.get(PathRegistrationPolicy)
	if !bytes.Contains(offPolicy, []byte(`"multiFactorAuthConfiguration":"notRequired"`)) || !bytes.Contains(requiredPolicy, []byte(`"multiFactorAuthConfiguration":"required"`)) {
		t.Fatalf("policy before the cycle %s, during it %s", requiredPolicy, offPolicy)
	}

	threatDir, ordinaryDir := t.TempDir(), t.TempDir()
	split := func(name string, recs []json.RawMessage) {
		var th, ord []json.RawMessage
		for _, r := range recs {
			if want[field(t, r, "id")] {
				th = append(th, r)
			} else {
				ord = append(ord, r)
			}
		}
		if len(ord) == 0 {
			t.Fatalf("%s: no ordinary records", name)
		}
		writeGraphPage(t, filepath.Join(threatDir, name), th)
		writeGraphPage(t, filepath.Join(ordinaryDir, name), ord)
	}
	split("graph-beta-signins.json", signIns)
	split("graph-directoryaudits.json", audits)
	split("graph-v1-devices.json", devices)
	for dir, policy := range map[string][]byte{threatDir: offPolicy, ordinaryDir: requiredPolicy} {
		if err := os.WriteFile(filepath.Join(dir, "deviceRegistrationPolicy.json"), policy, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "conditionalAccessPolicies.json"), caPolicies, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	got, summaries := scanDir(t, threatDir, now)
	t.Logf("%d alerts: %q", len(got), summaries)
	if !equalStrings(got, wantList) {
		t.Errorf("alerts on the threat records:\n got %q\nwant %q\nsummaries:\n%q", got, wantList, summaries)
	}
	got, summaries = scanDir(t, ordinaryDir, now)
	if len(got) > 0 {
		t.Errorf("alerts on ordinary traffic (%d sign-ins, %d audits, %d devices): %q", len(signIns), len(audits), len(devices), summaries)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
