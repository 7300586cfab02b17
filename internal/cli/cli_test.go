package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Exit statuses, messages and output escaping of "entrawatch scan", run
// through Main with in-memory streams.

const cliNow = "--now=2026-11-27T00:00:00Z"

// Records for the tests: one raising a medium alert
// (device-registration-without-mfa), one raising a high alert
// (noncompliant-device-signin), one raising none.
const (
	medium = `{"id":"m","createdDateTime":"2026-01-05T10:00:00Z","userPrincipalName":"alice@contoso.com","resourceDisplayName":"Device Registration Service","status":{"errorCode":0},"conditionalAccessStatus":"success","authenticationRequirement":"singleFactorAuthentication","ipAddress":"203.0.113.7"}`
	high   = `{"id":"h","createdDateTime":"2026-01-05T11:00:00Z","userPrincipalName":"bob@contoso.com","appDisplayName":"Office","status":{"errorCode":0},"conditionalAccessStatus":"success","ipAddress":"203.0.113.8","deviceDetail":{"deviceId":"d1","displayName":"PC-1","isCompliant":false}}`
	quiet  = `{"id":"q","createdDateTime":"2026-01-05T12:00:00Z","userPrincipalName":"carol@contoso.com","appDisplayName":"Office","status":{"errorCode":50126},"conditionalAccessStatus":"failure"}`
)

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func tempFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestScanExitStatus(t *testing.T) {
	mediumFile := tempFile(t, "medium.json", []byte(medium+"\n"+quiet+"\n"))
	highFile := tempFile(t, "high.json", []byte(medium+"\n"+high+"\n"))
	quietFile := tempFile(t, "quiet.json", []byte(quiet+"\n"))
	brokenFile := tempFile(t, "broken.json", []byte(medium+"\n{\"id\":\"x\",\n"+quiet+"\n"))
	missing := filepath.Join(t.TempDir(), "missing.json")

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string // a part of standard error
		alerts int    // lines on standard output (JSON lines), -1 to skip
	}{
		{"alerts found", []string{mediumFile}, 0, "", 1},
		{"no alerts", []string{quietFile}, 0, "", 0},
		{"fail-on at the level", []string{"--fail-on", "medium", mediumFile}, 1, "", 1},
		{"fail-on above an alert", []string{"--fail-on", "low", mediumFile}, 1, "", 1},
		{"fail-on below the level", []string{"--fail-on", "high", mediumFile}, 0, "", 1},
		{"fail-on high", []string{"--fail-on=HIGH", highFile}, 1, "", 2},
		{"fail-on without alerts", []string{"--fail-on", "low", quietFile}, 0, "", 0},
		{"malformed record", []string{brokenFile}, 0, "warning: " + brokenFile + ":2: ", 1},
		{"strict", []string{"--strict", brokenFile}, 2, "1 malformed records (--strict)", 1},
		{"strict before fail-on", []string{"--strict", "--fail-on", "low", brokenFile}, 2, "(--strict)", 1},
		{"strict on good input", []string{"--strict", mediumFile}, 0, "", 1},
		{"missing path", []string{missing}, 2, "warning: " + missing + ": no such file or directory", 0},
		{"missing path beside a good one", []string{missing, mediumFile}, 2, "1 input could not be read", 1},
		{"unknown output", []string{"--output", "xml", mediumFile}, 2, `--output: unknown output format "xml" (want table, json or csv)`, 0},
		{"unknown input format", []string{"--input-format", "yaml", mediumFile}, 2, `--input-format: unknown input format "yaml" (known: `, 0},
		{"unknown fail-on", []string{"--fail-on", "critical", mediumFile}, 2, `--fail-on: unknown severity "critical" (want low, medium or high)`, 0},
		{"stale-after under 21 days", []string{"--stale-after", "10d", mediumFile}, 2, "--stale-after 10d is under 21 days: Entra updates a device's activity time only every 14±5 days", 0},
		{"stale-after 0", []string{"--stale-after", "0", mediumFile}, 2, "under 21 days", 0},
		{"stale-after negative", []string{"--stale-after=-30d", mediumFile}, 2, "--stale-after", 0},
		{"stale-after overflowing", []string{"--stale-after", "99999999999d", mediumFile}, 2, "out of range", 0},
		{"stale-after in hours", []string{"--stale-after", "480h", mediumFile}, 2, "under 21 days", 0},
		{"stale-after not a duration", []string{"--stale-after", "soon", mediumFile}, 2, `invalid duration "soon"`, 0},
		{"stale-after 21 days", []string{"--stale-after", "21d", mediumFile}, 0, "", 1},
		{"bad now", []string{"--now", "yesterday", mediumFile}, 2, `--now "yesterday" is not an RFC 3339 time`, 0},
		{"no path", nil, 2, "requires at least 1 arg", 0},
		{"unknown flag", []string{"--frobnicate", mediumFile}, 2, "unknown flag: --frobnicate", 0},
		{"unknown detection", []string{"--disable", "no-such-rule", mediumFile}, 2, `unknown detection "no-such-rule"`, 0},
		{"bad max-record-size", []string{"--max-record-size", "lots", mediumFile}, 2, "invalid argument", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"scan", cliNow}, tc.args...)
			code, stdout, stderr := runCLI(t, "", args...)
			if code != tc.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tc.code, stderr)
			}
			if tc.stderr != "" && !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stderr does not say %q:\n%s", tc.stderr, stderr)
			}
			if tc.stderr == "" && stderr != "" {
				t.Errorf("unexpected stderr:\n%s", stderr)
			}
			if tc.code == 2 && tc.alerts == 0 && stdout != "" {
				t.Errorf("output on a usage error:\n%s", stdout)
			}
			if n := strings.Count(stdout, "\n"); tc.alerts >= 0 && n != tc.alerts {
				t.Errorf("%d alerts, want %d:\n%s", n, tc.alerts, stdout)
			}
		})
	}
}

func TestScanBadInputs(t *testing.T) {
	t.Run("truncated gzip", func(t *testing.T) {
		var in strings.Builder
		for i := 0; i < 2000; i++ {
			in.WriteString(medium + "\n")
		}
		z := gz(t, in.String())
		p := tempFile(t, "signins.json.gz", z[:len(z)/2])
		code, stdout, stderr := runCLI(t, "", "scan", cliNow, p)
		if code != 2 || !strings.Contains(stderr, p+": line ") || !strings.Contains(stderr, "truncated gzip file") {
			t.Errorf("exit status %d, stderr:\n%s", code, stderr)
		}
		if n := strings.Count(stdout, "\n"); n < 100 {
			t.Errorf("%d alerts from the records before the cut", n)
		}
	})
	t.Run("binary garbage", func(t *testing.T) {
		b := make([]byte, 4096)
		for i := range b {
			b[i] = byte(i*7 + i/13)
		}
		p := tempFile(t, "blob.json", b)
		code, stdout, stderr := runCLI(t, "", "scan", cliNow, "--summary", p)
		if code != 2 || !strings.Contains(stderr, "warning: "+p+": skipped: not a log format") || !strings.Contains(stderr, "0 bad records, 1 unreadable inputs") || stdout != "" {
			t.Errorf("exit status %d, stdout %q, stderr:\n%s", code, stdout, stderr)
		}
	})
	t.Run("directory with an unrelated file", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "signins.json"), []byte(medium+"\n"), 0o644)
		os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("exported on Monday\n"), 0o644)
		// A file name is not trusted either: it reaches the terminal escaped.
		os.WriteFile(filepath.Join(dir, "x\x1b[2Jy.txt"), []byte("\x00\x01"), 0o644)
		code, stdout, stderr := runCLI(t, "", "scan", cliNow, dir)
		if code != 0 || strings.Count(stdout, "\n") != 1 || !strings.Contains(stderr, "notes.txt: skipped") || strings.Contains(stderr, "\x1b") {
			t.Errorf("exit status %d, stdout %q, stderr:\n%q", code, stdout, stderr)
		}
	})
	t.Run("empty file", func(t *testing.T) {
		p := tempFile(t, "empty.json", nil)
		code, stdout, stderr := runCLI(t, "", "scan", cliNow, "--strict", p)
		if code != 0 || stdout != "" || stderr != "" {
			t.Errorf("exit status %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		code, stdout, _ = runCLI(t, "", "scan", cliNow, "--output", "table", p)
		if code != 0 || stdout != "no alerts\n" {
			t.Errorf("table: exit status %d, stdout %q", code, stdout)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "\xef\xbb\xbf"+medium+"\r\n"+high+"\r\n", "scan", cliNow, "--fail-on", "high", "-")
		if code != 1 || strings.Count(stdout, "\n") != 2 || stderr != "" || !strings.Contains(stdout, `"source":{"file":"-","line":2`) {
			t.Errorf("exit status %d, stderr %q, stdout:\n%s", code, stderr, stdout)
		}
	})
	t.Run("gzip on stdin", func(t *testing.T) {
		code, stdout, _ := runCLI(t, string(gz(t, medium+"\n")), "scan", cliNow, "-")
		if code != 0 || strings.Count(stdout, "\n") != 1 {
			t.Errorf("exit status %d, stdout:\n%s", code, stdout)
		}
	})
	t.Run("warnings escaped", func(t *testing.T) {
		code, _, stderr := runCLI(t, medium+"\n{\"a\":\x1b[31m}\n", "scan", cliNow, "-")
		if code != 0 || !strings.Contains(stderr, "warning: -:2: ") || strings.Contains(stderr, "\x1b") {
			t.Errorf("exit status %d, stderr %q", code, stderr)
		}
	})
}

// hostile is a sign-in raising noncompliant-device-signin whose user
// principal name starts a spreadsheet formula and whose device name holds
// an ANSI escape sequence and a line break (the sequence clears the screen
// and the line forges a second alert), with fields a lenient parser lets
// through and strict JSON does not: a raw control character in a string
// and a number such as 1-2.
const hostile = `{"id":"e","createdDateTime":"2026-01-05T11:00:00Z","userPrincipalName":"=HYPERLINK(\"http://evil.example/\",\"open\")","appDisplayName":"Office","status":{"errorCode":0},"conditionalAccessStatus":"success","ipAddress":"203.0.113.9","deviceDetail":{"deviceId":"d2","displayName":"PC\u001b[2J\u001b[31m\n2026-01-05T11:00:00Z  high    forged-alert","isCompliant":false,"operatingSystem":"Windows` + "\x07\x1b" + `"},"riskLevel":1-2}`

func TestScanOutputEscaping(t *testing.T) {
	// The same record as a line of its own, and inside an Event Hubs
	// envelope held on one line (whose records the workers re-encode).
	in := hostile + "\n" + `{"records":[` + strings.Replace(hostile, `"id":"e"`, `"id":"f"`, 1) + `]}` + "\n"
	p := tempFile(t, "hostile.json", []byte(in))

	t.Run("table", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "", "scan", cliNow, "--output", "table", p)
		if code != 0 || stderr != "" {
			t.Fatalf("exit status %d, stderr %q", code, stderr)
		}
		if strings.ContainsAny(stdout, "\x1b\x07\r") {
			t.Errorf("control characters reached the terminal:\n%q", stdout)
		}
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if len(lines) != 3 { // the header and one line per alert
			t.Fatalf("%d lines, want a header and 2 alerts:\n%s", len(lines), stdout)
		}
		for _, l := range lines[1:] {
			if !strings.Contains(l, `PC\u001b[2J\u001b[31m\u000a2026-01-05T11:00:00Z  high    forged-alert`) {
				t.Errorf("device name not shown escaped:\n%s", l)
			}
		}
	})

	t.Run("csv", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "", "scan", cliNow, "--output", "csv", p)
		if code != 0 || stderr != "" {
			t.Fatalf("exit status %d, stderr %q", code, stderr)
		}
		rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
		if err != nil || len(rows) != 3 {
			t.Fatalf("%d rows, %v:\n%s", len(rows), err, stdout)
		}
		for _, row := range rows[1:] {
			for i, cell := range row {
				if cell != "" && strings.ContainsRune("=+-@\t\r|%", rune(cell[0])) {
					t.Errorf("column %s starts a formula: %q", rows[0][i], cell)
				}
			}
			if summary := row[4]; !strings.HasPrefix(summary, `'=HYPERLINK(`) {
				t.Errorf("summary not neutralised: %q", summary)
			}
			if user := row[5]; user != `'=HYPERLINK("http://evil.example/","open")` {
				t.Errorf("user not neutralised: %q", user)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		code, stdout, stderr := runCLI(t, "", "scan", cliNow, "--output", "json", p)
		if code != 0 || stderr != "" {
			t.Fatalf("exit status %d, stderr %q", code, stderr)
		}
		lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("%d lines, want 2:\n%s", len(lines), stdout)
		}
		for i, l := range lines {
			var a struct {
				Entities struct {
					User       string `json:"user"`
					DeviceName string `json:"device_name"`
				} `json:"entities"`
				Source struct {
					Line int64 `json:"line"`
				} `json:"source"`
				Record json.RawMessage `json:"record"`
			}
			if !json.Valid([]byte(l)) {
				t.Fatalf("line %d is not valid JSON:\n%q", i+1, l)
			}
			if err := json.Unmarshal([]byte(l), &a); err != nil {
				t.Fatalf("line %d: %v", i+1, err)
			}
			if a.Entities.User != `=HYPERLINK("http://evil.example/","open")` || a.Entities.DeviceName != "PC\x1b[2J\x1b[31m\n2026-01-05T11:00:00Z  high    forged-alert" {
				t.Errorf("line %d: entities not kept exactly: %+v", i+1, a.Entities)
			}
			if a.Source.Line != int64(i+1) || len(a.Record) == 0 {
				t.Errorf("line %d: source line %d, record %q", i+1, a.Source.Line, a.Record)
			}
		}
	})
}
