package scan_test

import (
	"context"
	"fmt"
	"github.com/entrawatch/entrawatch/internal/testenv"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/rule"
	"github.com/entrawatch/entrawatch/internal/scan"
	"github.com/entrawatch/entrawatch/internal/sigma"
)

// The parity test: SigmaHQ has rules for six of the guide's items. Run
// alone, with the built-ins turned off (as `entrawatch scan --no-builtin
// --rules FILE`), each must raise the same alerts as its built-in on the
// built-in's fixtures (every file under testdata/detections/ID, positive
// and negative), except where the SigmaHQ rule itself differs from the
// guide. Those records are listed below, each with the clause that makes
// the difference; docs/rules.md ("SigmaHQ's device rules and the
// built-ins", generated from sigmaHQDifferences in internal/cli/rules.go)
// must state every clause cited. The test fails on a difference not
// listed and on a listed difference that no longer occurs. The rules are
// read from $ENTRAWATCH_CORPUS/sigma, never copied into the project.

// parityDiff is one fixture record that only one side alerts on.
type parityDiff struct {
	// record is file:line under testdata/detections/<built-in>/, as the
	// scan reports the record.
	record string
	// only is who alerts: "sigmahq" or "builtin".
	only string
	// reason is the clause of the SigmaHQ rule that differs from the
	// guide, for this record.
	reason string
	// doc is the words of the built-in's row in docs/rules.md that state
	// the clause.
	doc string
}

type parityCase struct {
	rule    string // under $ENTRAWATCH_CORPUS/sigma
	builtin string
	diffs   []parityDiff
}

var sigmaHQParity = []parityCase{
	{"signin_logs/azure_ad_device_registration_or_join_without_mfa.yml", "device-registration-without-mfa", []parityDiff{
		{"negative/graph-beta-signins.json:4", "sigmahq",
			"selection has no ResultType: 0, so a registration that failed (error 50140, 'Keep me signed in' interrupt) fires",
			"does not require a successful sign-in (ResultType 0)"},
		{"negative/graph-v1-signins.json:1", "sigmahq",
			"filter_mfa only leaves out AuthenticationRequirement multiFactorAuthentication: a Graph v1.0 sign-in, which has no authenticationRequirement, fires",
			"on Graph v1.0 records, which carry no authenticationRequirement"},
		{"positive/InteractiveSignIns_2026-11-20_2026-11-21.csv:2", "builtin",
			"selection names the service (ResourceDisplayName 'Device Registration Service'): the portal CSV row leaves Resource empty and gives only the Resource ID, the service's app id",
			"nor does it recognise the Device Registration Service by its app id when the name is missing"},
	}},
	{"audit_logs/azure_ad_device_registration_policy_changes.yml", "device-registration-policy-changed", nil},
	{"signin_logs/azure_ad_sign_ins_from_noncompliant_devices.yml", "noncompliant-device-signin", []parityDiff{
		{"negative/graph-beta-signins.json:2", "sigmahq",
			"selection is DeviceDetail.isCompliant 'false' alone: Conditional Access notApplied fires",
			"it does not require Conditional Access success"},
		{"negative/graph-beta-signins.json:3", "sigmahq",
			"selection is DeviceDetail.isCompliant 'false' alone: Conditional Access failure (error 53000) fires",
			"it does not require Conditional Access success"},
		{"negative/la-noninteractive-signinlogs.jsonl:1", "sigmahq",
			"selection is DeviceDetail.isCompliant 'false' alone: Conditional Access failure (error 53000) fires",
			"it does not require Conditional Access success"},
		{"negative/graph-beta-signins.json:4", "sigmahq",
			"selection does not test DeviceDetail.deviceId: an unknown device (no device id, isCompliant false) fires",
			"fires on unknown devices (no device id)"},
	}},
	{"signin_logs/azure_ad_sign_ins_from_unknown_devices.yml", "unknown-device-signin", []parityDiff{
		{"positive/NonInteractiveSignIns_2026-11-21_2026-11-22.csv:2", "builtin",
			"selection requires NetworkLocationDetails '[]' as a value: the portal CSV has no network location column",
			"records where they are absent (portal CSV"},
	}},
	{"audit_logs/azure_ad_bitlocker_key_retrieval.yml", "bitlocker-key-read", nil},
	{"audit_logs/azure_ad_users_added_to_device_admin_roles.yml", "privileged-device-role-added", []parityDiff{
		{"positive/eventhub-auditlogs.json:1", "builtin",
			"TargetResources|contains lists Cloud Device Administrator and Global Administrator only: Microsoft Entra Joined Device Local Administrator (9f06204d) is missed",
			"not the Microsoft Entra Joined Device Local Administrator role the guide names"},
		{"positive/graph-directoryaudits.json:2", "builtin",
			"TargetResources|contains lists Cloud Device Administrator and Global Administrator only: Microsoft Entra Joined Device Local Administrator (here by name) is missed",
			"not the Microsoft Entra Joined Device Local Administrator role the guide names"},
		{"positive/portal-auditlogs.json:1", "builtin",
			"TargetResources|contains lists Cloud Device Administrator and Global Administrator only: Microsoft Entra Joined Device Local Administrator (9f06204d, PIM outside PIM) is missed",
			"not the Microsoft Entra Joined Device Local Administrator role the guide names"},
		{"positive/la-auditlogs-string-columns.jsonl:1", "builtin",
			"TargetResources|contains lists Cloud Device Administrator and Global Administrator only: Azure AD Joined Device Local Administrator (9f06204d) is missed",
			"not the Microsoft Entra Joined Device Local Administrator role the guide names"},
		{"positive/AuditLogs_2026-11-23_2026-11-24.csv:3", "builtin",
			"TargetResources|contains looks for template ids: the portal CSV row names Global Administrator without its template id",
			"it matches role template ids anywhere in TargetResources (not display names)"},
		{"positive/siem-forwarded-auditlogs.jsonl:1", "builtin",
			"TargetResources|contains looks for template ids: the PIM record's Role target is Cloud Device Administrator by name, with the tenant's role object id (the template id is only in additionalDetails)",
			"it matches role template ids anywhere in TargetResources (not display names)"},
		{"negative/AuditLogs_2026-11-23_2026-11-24.csv:2", "sigmahq",
			"selection has no result test: a failed Global Administrator assignment fires",
			"does not leave out failed or PIM \"requested\" records"},
		{"negative/graph-directoryaudits.json:3", "sigmahq",
			"selection has no result test: a failed Global Administrator assignment fires",
			"does not leave out failed or PIM \"requested\" records"},
	}},
}

// corpusRules returns $ENTRAWATCH_CORPUS/sigma, or skips; with
// ENTRAWATCH_REQUIRE_INTEGRATION=1 the skip is a failure.
func corpusRules(t *testing.T) string {
	t.Helper()
	dir := testenv.Corpus(t)
	rules := filepath.Join(dir, "sigma")
	if st, err := os.Stat(rules); err != nil || !st.IsDir() {
		t.Fatalf("ENTRAWATCH_CORPUS=%s: no sigma folder at %s", os.Getenv("ENTRAWATCH_CORPUS"), rules)
	}
	return rules
}

// alertedRecords scans dir and returns the records alerted on, as
// file:line relative to dir.
func alertedRecords(t *testing.T, eng *detect.Engine, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	var warns []string
	_, err := scan.Run(context.Background(), scan.Config{
		Paths: []string{dir}, Year: goldenYear, Engine: eng,
		Alert: func(a *alert.Alert) error {
			rel, err := filepath.Rel(dir, a.Source.File)
			if err != nil {
				rel = a.Source.File
			}
			out[fmt.Sprintf("%s:%d", filepath.ToSlash(rel), a.Source.Line)] = true
			return nil
		},
		Warn: func(m string) { warns = append(warns, m) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) > 0 {
		t.Errorf("fixtures must read cleanly; warnings:\n  %s", strings.Join(warns, "\n  "))
	}
	return out
}

// sigmaHQDocRows returns the rows of the table of docs/rules.md's section
// on SigmaHQ's device rules, by built-in id.
func sigmaHQDocRows(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "docs", "rules.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "## SigmaHQ's device rules and the built-ins")
	if !ok {
		t.Fatal(`docs/rules.md has no section "SigmaHQ's device rules and the built-ins"`)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(line, "| ") {
			continue
		}
		rows[strings.TrimSpace(cells[2])] = line
	}
	return rows
}

func TestSigmaHQParity(t *testing.T) {
	rulesDir := corpusRules(t)
	docRows := sigmaHQDocRows(t)
	var all []string
	for _, info := range detect.Catalogue() {
		all = append(all, info.ID)
	}
	for _, c := range sigmaHQParity {
		t.Run(c.builtin, func(t *testing.T) {
			fixtures := filepath.Join(repoRoot, "testdata", "detections", c.builtin)

			// The built-in alone.
			var others []string
			for _, id := range all {
				if id != c.builtin {
					others = append(others, id)
				}
			}
			eng, err := detect.NewEngine(detect.Options{Now: goldenNow, Disable: others})
			if err != nil {
				t.Fatal(err)
			}
			if n := len(eng.Detectors()); n != 1 {
				t.Fatalf("%d detectors with the others disabled, want 1", n)
			}
			builtin := alertedRecords(t, eng, fixtures)

			// The SigmaHQ rule alone, the built-ins off: --no-builtin --rules.
			rules, probs := sigma.LoadPaths([]string{filepath.Join(rulesDir, filepath.FromSlash(c.rule))})
			dets, cprobs := sigma.Compile(rules, rule.NewCompiler(), sigma.Config{})
			for _, p := range append(probs, cprobs...) {
				t.Errorf("SigmaHQ rule: %v", p)
			}
			if len(dets) != 1 {
				t.Fatalf("%s compiled to %d detectors, want 1", c.rule, len(dets))
			}
			eng, err = detect.NewEngine(detect.Options{Now: goldenNow, NoBuiltin: true})
			if err != nil {
				t.Fatal(err)
			}
			eng.Add(dets[0])
			hq := alertedRecords(t, eng, fixtures)
			if len(builtin) == 0 || len(hq) == 0 {
				t.Fatalf("alerts: %d by the built-in, %d by the SigmaHQ rule; both must fire on the positive fixtures", len(builtin), len(hq))
			}

			got := map[string]string{}
			for k := range builtin {
				if !hq[k] {
					got[k] = "builtin"
				}
			}
			for k := range hq {
				if !builtin[k] {
					got[k] = "sigmahq"
				}
			}
			listed := map[string]bool{}
			row := docRows[c.builtin]
			if row == "" {
				t.Errorf("docs/rules.md: no row for %s in the SigmaHQ section", c.builtin)
			}
			for _, d := range c.diffs {
				listed[d.record] = true
				switch who, ok := got[d.record]; {
				case !ok:
					t.Errorf("%s: listed difference no longer occurs (both sides alert the same): remove it from sigmaHQParity and check docs/rules.md (%s)", d.record, d.reason)
				case who != d.only:
					t.Errorf("%s: only %s alerts, the table says only %s", d.record, who, d.only)
				}
				if d.reason == "" || d.doc == "" {
					t.Errorf("%s: every listed difference needs its reason and the words of docs/rules.md that state it", d.record)
				} else if !strings.Contains(row, d.doc) {
					t.Errorf("%s: docs/rules.md (sigmaHQDifferences in internal/cli/rules.go) does not state %q for %s", d.record, d.doc, c.builtin)
				}
				if !strings.Contains(row, path.Base(d.record)) {
					t.Errorf("%s: docs/rules.md does not list the record in the row of %s", d.record, c.builtin)
				}
			}
			var unlisted []string
			for k, who := range got {
				if !listed[k] {
					unlisted = append(unlisted, fmt.Sprintf("%s (only %s alerts)", k, who))
				}
			}
			sort.Strings(unlisted)
			if len(unlisted) > 0 {
				t.Errorf("differences not listed in sigmaHQParity (find the clause of %s that differs from the guide, add each with its reason, and state it in sigmaHQDifferences):\n  %s",
					c.rule, strings.Join(unlisted, "\n  "))
			}
		})
	}
}
