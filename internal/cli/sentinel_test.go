package cli

import (
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// Microsoft Sentinel analytic rules through "entrawatch scan --rules" and
// "entrawatch rules", beside Sigma rules and the built-in detections.

func sentinelPath(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "testdata", "sentinel"}, parts...)...)
}

func detectionsPath(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "testdata", "detections"}, parts...)...)
}

const (
	bitlockerRule = "sentinel:5e471f1a-0001-4000-8000-000000000001"
	sshRule       = "sentinel:5e471f1a-0003-4000-8000-000000000003"
)

func TestScanSentinelRules(t *testing.T) {
	args := []string{cliNow, "--year", "2026",
		"--rules", sentinelPath("bitlocker-key-read", "rules"), "--rules", sentinelPath("linux-ssh-local-account", "rules", "ssh-local-account.yaml"),
		detectionsPath("bitlocker-key-read", "positive"), detectionsPath("linux-vm-non-entra-ssh", "positive")}
	olderWarning := "ssh-local-account.yaml:1:1: rule " + sshRule + ": 3 records older than its 14d queryPeriod were not evaluated (at or before 2026-11-13T00:00:00Z)"

	code, out, errs := runCLI(t, "", append([]string{"scan", "-o", "json", "--summary"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	perRule := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var a struct {
			Rule, Title, Severity, Summary string
			Entities                       map[string]string
			Source                         struct{ File string }
			Record                         map[string]any
		}
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		perRule[a.Rule]++
		if a.Rule == bitlockerRule {
			if !strings.HasPrefix(a.Title, "BitLocker key read by ") || a.Severity != "medium" || a.Entities["user"] == "" ||
				!strings.Contains(a.Summary, "read BitLocker recovery key") || !strings.HasPrefix(filepath.ToSlash(a.Source.File), "../../testdata/detections/bitlocker-key-read/positive/") || a.Record["KeyId"] == nil {
				t.Errorf("Sentinel alert: %s", line)
			}
		}
	}
	// The Sentinel rules raise theirs beside the built-in detections.
	for rule, n := range map[string]int{bitlockerRule: 9, sshRule: 4, "bitlocker-key-read": 9, "linux-vm-non-entra-ssh": 7} {
		if perRule[rule] != n {
			t.Errorf("%d alerts of %s, want %d (all: %v)", perRule[rule], rule, n, perRule)
		}
	}
	for _, want := range []string{"warning: " + filepath.Join("..", "..", "testdata", "sentinel", "linux-ssh-local-account", "rules") + string(filepath.Separator) + olderWarning,
		bitlockerRule + " 9\n", sshRule + " 4\n"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}

	code, out, errs = runCLI(t, "", append([]string{"scan", "-o", "csv", "--no-builtin"}, args...)...)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(recs) != 1+9+4 {
		t.Fatalf("csv: exit %d, %v, %d rows: %s %s", code, err, len(recs), out, errs)
	}
	if got := strings.Join(recs[1][:6], "|"); !strings.HasPrefix(got, "2026-11-22T13:31:07Z|medium|"+bitlockerRule+"|BitLocker key read by pradeep.gupta@contoso.com|") {
		t.Errorf("first CSV row: %s", got)
	}

	code, out, _ = runCLI(t, "", append([]string{"scan", "-o", "table", "--no-builtin"}, args...)...)
	if code != 0 || !strings.Contains(out, sshRule) || !strings.Contains(out, "journal.json:3") || !strings.Contains(out, "SSH login by a local account: HostName=vm-lnx-api03, Account=backup") {
		t.Errorf("table: exit %d:\n%s", code, out)
	}
}

func TestScanSentinelReplay(t *testing.T) {
	records := sentinelPath("records", "month-of-signins.jsonl")
	rules := sentinelPath("replay", "rules")
	count := func(out string) map[string]int {
		n := map[string]int{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			var a struct{ Rule string }
			if line != "" && json.Unmarshal([]byte(line), &a) == nil {
				n[a.Rule]++
			}
		}
		return n
	}
	// Once at the newest record, over each rule's queryPeriod.
	code, out, errs := runCLI(t, "", "scan", "--no-builtin", "-o", "json", "--rules", rules, records)
	got := count(out)
	if code != 0 || got["sentinel:5e471f1a-0015-4000-8000-000000000015"] != 3 || got["sentinel:5e471f1a-0017-4000-8000-000000000017"] != 0 ||
		!strings.Contains(errs, "3 records older than its 2d queryPeriod were not evaluated") || !strings.Contains(errs, "6 records older than its 5m queryPeriod") {
		t.Errorf("exit %d, alerts %v:\n%s", code, got, errs)
	}
	// Every run of the schedules back to the oldest record.
	code, out, errs = runCLI(t, "", "scan", "--no-builtin", "-o", "json", "--sentinel-replay", "--rules", rules, records)
	got = count(out)
	want := map[string]int{"sentinel:5e471f1a-0015-4000-8000-000000000015": 6, "sentinel:5e471f1a-0016-4000-8000-000000000016": 1, "sentinel:5e471f1a-0017-4000-8000-000000000017": 6}
	for r, n := range want {
		if got[r] != n {
			t.Errorf("replay: %d alerts of %s, want %d", got[r], r, n)
		}
	}
	if code != 0 || strings.Contains(errs, "not evaluated") {
		t.Errorf("replay: exit %d: %s", code, errs)
	}
}

func TestScanSentinelRuleFails(t *testing.T) {
	code, _, errs := runCLI(t, "", "scan", "--no-builtin", cliNow, "--rules", sentinelPath("refused", "rules", "type-error.yaml"), sentinelPath("records", "failed-signins.jsonl"))
	if code != 2 || !strings.Contains(errs, "type-error.yaml:9:22: rule sentinel:5e471f1a-0025-4000-8000-000000000025: query failed when run at 2026-11-27T00:00:00Z: KQL 2:20: cannot compare a string with a long") ||
		!strings.Contains(errs, "1 Sentinel rule could not be evaluated") {
		t.Errorf("exit %d: %s", code, errs)
	}
}

func TestRulesMixedSigmaAndSentinel(t *testing.T) {
	mixed := sentinelPath("mixed-rules")
	code, out, errs := runCLI(t, "", "rules", "lint", mixed)
	if code != 0 || out != "" || !strings.Contains(errs, "2 rules usable, 0 problems, 0 warnings") {
		t.Errorf("lint of a mixed folder: exit %d: %s%s", code, out, errs)
	}

	code, out, errs = runCLI(t, "", "rules", "lint", mixed, sentinelPath("refused", "rules"))
	for _, want := range []string{
		"replace-regex.yaml:11:21: rule sentinel:5e471f1a-0019-4000-8000-000000000019: query: KQL 3:19: function replace_regex() is not supported by entrawatch",
		`security-alert.yaml:9:16: rule sentinel:5e471f1a-0020-4000-8000-000000000020: query: KQL 1:14: unknown table "SecurityAlert"`,
		"fusion.yaml:5:7: rule sentinel:5e471f1a-0021-4000-8000-000000000021: kind Fusion is not supported",
		"hunting-query.yaml:1:1: a Microsoft Sentinel hunting query",
		"duplicate-b.yaml:1:1: rule sentinel:5e471f1a-0024-4000-8000-000000000024: duplicate rule id",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lint output lacks %q:\n%s", want, out)
		}
	}
	if code != 1 || !strings.Contains(errs, "4 rules usable, 11 problems") {
		t.Errorf("lint: exit %d: %s", code, errs)
	}

	code, out, errs = runCLI(t, "", "scan", "--no-builtin", "-o", "json", cliNow, "--rules", mixed, sentinelPath("records", "failed-signins.jsonl"))
	n := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var a struct{ Rule string }
		json.Unmarshal([]byte(line), &a)
		n[a.Rule]++
	}
	if code != 0 || n["6d1c1c2e-5b0e-4d8e-9a55-3e1f7a2b9c40"] != 8 || n["sentinel:5e471f1a-0030-4000-8000-000000000030"] != 2 {
		t.Errorf("scan of a mixed folder: exit %d, alerts %v: %s", code, n, errs)
	}

	code, out, _ = runCLI(t, "", "rules", "list", "--rules", mixed)
	if code != 0 || !strings.Contains(out, "sentinel:5e471f1a-0030-4000-8000-000000000030") || !strings.Contains(out, "Sentinel Scheduled rule: SigninLogs") || !strings.Contains(out, "6d1c1c2e-5b0e-4d8e-9a55-3e1f7a2b9c40") {
		t.Errorf("rules list --rules: exit %d:\n%s", code, out)
	}
	code, out, _ = runCLI(t, "", "rules", "show", "--rules", mixed, "sentinel:5e471f1a-0030-4000-8000-000000000030")
	if code != 0 || !strings.Contains(out, "Microsoft Sentinel Scheduled rule") || !strings.Contains(out, "summarize Failures = count()") {
		t.Errorf("rules show: exit %d:\n%s", code, out)
	}
}
