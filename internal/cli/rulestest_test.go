package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/ruletest"
)

// "entrawatch rules test" over the built-in detections' own rule tests
// (testdata/ruletests/builtin), the Sigma example (testdata/ruletests/sigma)
// and broken test files, run through Main with in-memory streams.

var ruleTestsDir = filepath.Join("..", "..", "testdata", "ruletests")

func globTests(t *testing.T, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(ruleTestsDir, pattern))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no test files match %s", pattern)
	}
	return files
}

var (
	summaryRE = regexp.MustCompile(`(?m)^(\d+) passed, (\d+) failed$`)
	passRE    = regexp.MustCompile(`(?m)^PASS  `)
)

// TestRuleTestsPass runs the repository's rule tests and requires every
// one to pass.
func TestRuleTestsPass(t *testing.T) {
	for _, dir := range []string{"builtin", "sigma"} {
		t.Run(dir, func(t *testing.T) {
			files := globTests(t, dir+"/*.yml")
			code, stdout, stderr := runCLI(t, "", append([]string{"rules", "test"}, files...)...)
			if code != 0 {
				t.Fatalf("rules test exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			if stderr != "" {
				t.Errorf("stderr not empty:\n%s", stderr)
			}
			m := summaryRE.FindStringSubmatch(stdout)
			if m == nil || m[2] != "0" || m[1] == "0" {
				t.Fatalf("bad summary line in:\n%s", stdout)
			}
			if n := fmt.Sprint(len(passRE.FindAllString(stdout, -1))); n != m[1] {
				t.Errorf("%s PASS lines, the summary says %s passed:\n%s", n, m[1], stdout)
			}
		})
	}
}

// TestRuleTestsCoverCatalogue checks that every built-in detection has its
// own test file, builtin/<id>.yml, with a test that expects the detection's
// alert and a test that expects none of it.
func TestRuleTestsCoverCatalogue(t *testing.T) {
	known := map[string]bool{}
	for _, info := range detect.Catalogue() {
		known[info.ID] = true
		path := filepath.Join(ruleTestsDir, "builtin", info.ID+".yml")
		f, err := ruletest.Load(path)
		if err != nil {
			t.Errorf("detection %s: %v", info.ID, err)
			continue
		}
		positive, negative := 0, 0
		for _, tc := range f.Tests {
			raises := false
			for _, e := range tc.Expect {
				raises = raises || e.Rule == info.ID
			}
			if raises {
				positive++
			} else {
				negative++
			}
		}
		if positive == 0 {
			t.Errorf("%s: no test expects a %s alert", path, info.ID)
		}
		if negative == 0 {
			t.Errorf("%s: no negative test (one whose records must raise no %s alert)", path, info.ID)
		}
	}
	for _, p := range globTests(t, "builtin/*.yml") {
		if id := strings.TrimSuffix(filepath.Base(p), ".yml"); !known[id] {
			t.Errorf("%s names no built-in detection", p)
		}
	}
}

// TestRulesTestFailure checks that a wrong expectation fails the test with
// exit status 1 and a diff that points into the test file.
func TestRulesTestFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wrong.yml")
	src := `now: 2026-11-27T00:00:00Z
tests:
  - name: passes
    input:
      - records:
          - ` + medium + `
    expect:
      - rule: device-registration-without-mfa
  - name: fails
    input:
      - records:
          - ` + medium + `
          - ` + high + `
    expect:
      - rule: device-registration-without-mfa
        severity: high
        entities: {user: alice@contoso.com}
      - rule: bitlocker-key-read
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "", "rules", "test", path)
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"PASS  " + path + ":3  passes\n",
		"FAIL  " + path + ":9  fails\n",
		// The alert of the first expectation, compared field by field.
		path + ":15: alert device-registration-without-mfa from input 1, record 1 (" + path + ":12) differs:\n" +
			"          severity: want high, got medium\n",
		// The second expectation, with no alert of its rule.
		path + ":18: expected alert not raised: rule bitlocker-key-read\n",
		// The alert nobody expected, written as an expect entry.
		path + ":14: unexpected alert noncompliant-device-signin from input 1, record 2 (" + path + ":13); to expect it, add to expect:\n" +
			"          - rule: noncompliant-device-signin\n" +
			"            severity: high\n" +
			"            time: 2026-01-05T11:00:00Z\n",
		"1 passed, 1 failed\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "entities.user") {
		t.Errorf("a field that matches is reported:\n%s", stdout)
	}

	// --run selects tests by name.
	code, stdout, _ = runCLI(t, "", "rules", "test", "--run", "^pass", path)
	if code != 0 || !strings.Contains(stdout, "1 passed, 0 failed") || strings.Contains(stdout, "FAIL") {
		t.Errorf("--run ^pass: exit %d\n%s", code, stdout)
	}
	code, _, stderr = runCLI(t, "", "rules", "test", "--run", "nothing", path)
	if code != 2 || !strings.Contains(stderr, "matches no test") {
		t.Errorf("--run matching nothing: exit %d, stderr %q", code, stderr)
	}
}

// TestRulesTestMalformed checks that a test file that cannot be used
// gives exit status 2 and its problems as file:line:col: reason, while the
// other files still run.
func TestRulesTestMalformed(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	bad := filepath.Join(dir, "bad.yml")
	syntax := filepath.Join(dir, "syntax.yml")
	badRules := filepath.Join(dir, "badrules.yml")
	files := map[string]string{
		good: "tests:\n  - name: quiet\n    input:\n      - records:\n          - " + quiet + "\n    expect: []\n",
		bad: `tests:
  - name: broken
    input:
      - records: [1]
    expect:
      - rule: x
        severity: critical
`,
		syntax: "tests:\n  - name: [\n",
		badRules: `rule_files: [rules.yml]
tests:
  - name: t
    input:
      - records: [{a: 1}]
    expect: []
`,
		filepath.Join(dir, "rules.yml"): "title: broken\nlogsource: {product: azure, service: signinlogs}\ndetection:\n  sel:\n    a|nosuchmodifier: 1\n  condition: sel\n",
	}
	for p, s := range files {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runCLI(t, "", "rules", "test", good, bad, syntax, badRules)
	if code != 2 {
		t.Fatalf("exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{
		bad + ":4:19: each record in a records list must be a mapping",
		bad + ":7:19: severity: unknown severity \"critical\"",
		syntax + ":2:11: YAML syntax:",
		filepath.Join(dir, "rules.yml") + ":5:",
		"(loaded by rule_files of " + badRules + ":1:13)",
		"entrawatch: 3 test files could not be used",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if !strings.Contains(stdout, "PASS  "+good+":2  quiet") || !strings.Contains(stdout, "1 passed, 0 failed") {
		t.Errorf("the usable file did not run:\n%s", stdout)
	}
}

// TestRuleTestsDoc runs the full example of docs/rule-tests.md — its
// files are the code blocks marked <!-- file: NAME --> — and compares the
// output with the page's, for the passing run and for the failing one.
func TestRuleTestsDoc(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "rule-tests.md"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fileRE := regexp.MustCompile("(?s)<!-- file: (\\S+) -->\n```\\w*\n(.*?)```\n")
	files := fileRE.FindAllStringSubmatch(string(doc), -1)
	if len(files) != 3 {
		t.Fatalf("%d example files in the page, want 3", len(files))
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f[1]))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f[2]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	consoleRE := regexp.MustCompile("(?s)```console\n\\$ entrawatch rules test signins.test.yml\n(.*?)```\n")
	outputs := consoleRE.FindAllStringSubmatch(string(doc), -1)
	if len(outputs) != 2 {
		t.Fatalf("%d example outputs in the page, want 2", len(outputs))
	}
	path := filepath.Join(dir, "signins.test.yml")
	check := func(wantCode int, want string) {
		t.Helper()
		code, stdout, stderr := runCLI(t, "", "rules", "test", path)
		stdout = strings.ReplaceAll(stdout, dir+string(filepath.Separator), "")
		if code != wantCode || stdout != want {
			t.Errorf("exit %d (want %d), output:\n%s\nthe page shows:\n%s\nstderr:\n%s", code, wantCode, stdout, want, stderr)
		}
	}
	check(0, outputs[0][1])

	// The failing variant the page describes.
	src, _ := os.ReadFile(path)
	s := strings.Replace(string(src), "        severity: medium\n", "        severity: high\n", 1)
	s = regexp.MustCompile(`(?m)^      - rule: unknown-device-signin.*\n.*\n.*\n`).ReplaceAllString(s, "")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	check(1, outputs[1][1])
}
