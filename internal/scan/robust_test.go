package scan

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
)

// Robustness of the pipeline against bad input: every problem is a warning
// naming the file and line, counted, and the records around it are still
// scanned; nothing panics and memory stays bounded.

var robustNow = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

type scanResult struct {
	alerts []*alert.Alert
	warns  []string
	stats  *Stats
	err    error
}

// lines returns the source lines of the alerts.
func (r scanResult) lines() []int64 {
	var out []int64
	for _, a := range r.alerts {
		out = append(out, a.Source.Line)
	}
	return out
}

func robustScan(t *testing.T, cfg Config) scanResult {
	t.Helper()
	eng, err := detect.NewEngine(detect.Options{Now: robustNow})
	if err != nil {
		t.Fatal(err)
	}
	var res scanResult
	// A reader that loops on a failing input would hang the test or fill
	// memory with warnings: bound both.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg.Engine = eng
	cfg.Alert = func(a *alert.Alert) error { res.alerts = append(res.alerts, a); return nil }
	cfg.Warn = func(m string) {
		if len(res.warns) == 100000 {
			cancel()
			return
		}
		res.warns = append(res.warns, m)
	}
	res.stats, res.err = Run(ctx, cfg)
	if res.err != nil {
		first := res.warns[:min(len(res.warns), 5)]
		t.Fatalf("scan: %v (%d warnings, the first %q)", res.err, len(res.warns), first)
	}
	return res
}

// drsSignIn is a Graph sign-in that raises device-registration-without-mfa.
func drsSignIn(n int) string {
	return fmt.Sprintf(`{"id":"%d","createdDateTime":"2026-01-05T10:00:00Z","userPrincipalName":"user%d@contoso.com","resourceDisplayName":"Device Registration Service","status":{"errorCode":0},"conditionalAccessStatus":"success","authenticationRequirement":"singleFactorAuthentication","ipAddress":"203.0.113.7"}`, n, n)
}

// drsLines returns n JSON lines, each raising one alert.
func drsLines(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString(drsSignIn(i))
		b.WriteByte('\n')
	}
	return b.String()
}

// bitlockerCSV is a Log Analytics CSV export header and a row that raises
// bitlocker-key-read.
const (
	bitlockerHeader = "TimeGenerated [UTC],OperationName,Result,InitiatedBy,TargetResources,Type"
	bitlockerRow    = `"1/5/2026, 10:00:00.000 AM",Read BitLocker key,success,"{""user"":{""userPrincipalName"":""admin@contoso.com""}}","[{""displayName"":""key-1"",""type"":""Other""}]",AuditLogs`
)

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gzipBytes(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := io.WriteString(zw, s); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func hasWarning(warns []string, parts ...string) bool {
	for _, w := range warns {
		ok := true
		for _, p := range parts {
			if !strings.Contains(w, p) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// TestTruncatedGzip: a gzip file cut short is a read error naming the file
// and saying what happened; the records before the cut are scanned; a CSV
// reader does not loop on the failing stream.
func TestTruncatedGzip(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, content string
	}{
		{"signins.json.gz", drsLines(3000)},
		{"audit.csv.gz", bitlockerHeader + "\n" + strings.Repeat(bitlockerRow+"\n", 3000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z := gzipBytes(t, tc.content)
			cut := z[:len(z)*2/3]
			p := writeFile(t, dir, tc.name, cut)
			res := robustScan(t, Config{Paths: []string{p}})
			if res.stats.ReadErrors != 1 {
				t.Errorf("read errors: %d, want 1", res.stats.ReadErrors)
			}
			if !hasWarning(res.warns, p+": line ", "truncated gzip file") {
				t.Errorf("no message naming the file and the truncation: %q", res.warns)
			}
			if len(res.warns) > 2 {
				t.Errorf("%d warnings, want the read error and at most the cut record: %q", len(res.warns), res.warns)
			}
			if res.stats.Records < 100 || int64(len(res.alerts)) != res.stats.Records {
				t.Errorf("%d records, %d alerts: the records before the cut were not all scanned", res.stats.Records, len(res.alerts))
			}
		})
	}
	t.Run("cut in the header", func(t *testing.T) {
		p := writeFile(t, dir, "short.json.gz", gzipBytes(t, drsLines(10))[:6])
		res := robustScan(t, Config{Paths: []string{p}})
		if res.stats.ReadErrors != 1 || !hasWarning(res.warns, p+": ", "gzip") {
			t.Errorf("read errors %d, warnings %q", res.stats.ReadErrors, res.warns)
		}
	})
}

// garbage returns n bytes of deterministic noise.
func garbage(n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(1)).Read(b)
	return b
}

// TestBinaryGarbage: a binary file named on the command line is reported
// and counted as unreadable; forced to a format, each bad line is a
// warning with its line, counted as a bad record; nothing panics.
func TestBinaryGarbage(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "blob.bin", garbage(64<<10))
	res := robustScan(t, Config{Paths: []string{p}})
	if res.stats.ReadErrors != 1 || !hasWarning(res.warns, p+": skipped: not a log format") {
		t.Errorf("read errors %d, warnings %q", res.stats.ReadErrors, res.warns)
	}

	for _, f := range []string{"json", "csv"} {
		t.Run("forced "+f, func(t *testing.T) {
			res := robustScan(t, Config{Paths: []string{p}, InputFormat: f})
			// Every bad record is counted; past MaxWarningsPerFile the
			// warnings stop, with one line saying so.
			want := min(res.stats.Bad, MaxWarningsPerFile+1)
			if res.stats.Bad == 0 || int64(len(res.warns)) != want {
				t.Errorf("bad records %d, warnings %d, want %d", res.stats.Bad, len(res.warns), want)
			}
			if res.stats.Bad > MaxWarningsPerFile && !hasWarning(res.warns, "further warnings for this file are not shown") {
				t.Errorf("no notice that warnings were cut: %q", res.warns[len(res.warns)-1])
			}
			for _, w := range res.warns {
				if !strings.HasPrefix(w, p+":") {
					t.Errorf("warning does not name the file: %q", w)
				}
			}
		})
	}

	t.Run("gzip magic then garbage", func(t *testing.T) {
		p := writeFile(t, dir, "fake.gz", append([]byte{0x1f, 0x8b}, garbage(1000)...))
		res := robustScan(t, Config{Paths: []string{p}})
		if res.stats.ReadErrors != 1 || !hasWarning(res.warns, p+": ", "gzip") {
			t.Errorf("read errors %d, warnings %q", res.stats.ReadErrors, res.warns)
		}
	})

	t.Run("garbage between records", func(t *testing.T) {
		in := drsSignIn(1) + "\n" + strings.ReplaceAll(string(garbage(3000)), "\n", "") + "\n" + drsSignIn(3) + "\n"
		p := writeFile(t, dir, "mixed.json", []byte(in))
		res := robustScan(t, Config{Paths: []string{p}})
		if fmt.Sprint(res.lines()) != "[1 3]" || len(res.warns) != 1 || !strings.HasPrefix(res.warns[0], p+":2: ") || res.stats.Bad != 1 {
			t.Errorf("alerts on lines %v, bad %d, warnings %q", res.lines(), res.stats.Bad, res.warns)
		}
	})
}

// repeatReader yields its pattern over and over.
type repeatReader struct {
	pat []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.pat[r.off]
		if r.off++; r.off == len(r.pat) {
			r.off = 0
		}
	}
	return len(p), nil
}

// huge streams prefix, n bytes of pattern, and suffix, without holding
// them in memory.
func huge(prefix string, pat string, n int64, suffix string) io.Reader {
	return io.MultiReader(strings.NewReader(prefix), io.LimitReader(&repeatReader{pat: []byte(pat)}, n), strings.NewReader(suffix))
}

// TestHugeLine: a 200 MB line is skipped with a message naming its line,
// and no reader buffers it: what the scan allocates stays far below the
// line's size.
func TestHugeLine(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 200 MB per case")
	}
	const size = 200 << 20
	const maxRecord = 1 << 20
	for _, tc := range []struct {
		name   string
		in     func() io.Reader
		warn   string
		alerts string
		read   int // read errors
	}{
		{"json first line", func() io.Reader {
			return huge(`{"a":"`, "x", size, "\"}\n"+drsSignIn(2)+"\n")
		}, "-:1: record too large: over 1048576 bytes", "[2]", 0},
		{"json lines", func() io.Reader {
			return huge(drsSignIn(1)+"\n"+`{"a":"`, "x", size, "\"}\n"+drsSignIn(3)+"\n")
		}, "-:2: record too large: over 1048576 bytes", "[1 3]", 0},
		{"json array element", func() io.Reader {
			return huge("[\n"+drsSignIn(1)+",\n"+`{"a":"`, "x", size, "\"},\n"+drsSignIn(3)+"\n]\n")
		}, "-:3: record too large: over 1048576 bytes", "[1 3]", 0},
		{"csv line", func() io.Reader {
			return huge(bitlockerHeader+"\n"+bitlockerRow+"\n\"", "x", size, "\",x,x,x,x,x\n"+bitlockerRow+"\n")
		}, "-: line 3: line too long (over 1048576 bytes)", "[2]", 1},
		{"csv quoted field over many lines", func() io.Reader {
			return huge(bitlockerHeader+"\n"+bitlockerRow+"\n\"", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", size, "\",x,x,x,x,x\n"+bitlockerRow+"\n")
		}, "-: line 3: line too long (a quoted field runs on to line", "[2]", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res := robustScan(t, Config{Paths: []string{"-"}, Stdin: tc.in(), MaxRecord: maxRecord, Workers: 2})
			runtime.ReadMemStats(&after)
			if !hasWarning(res.warns, tc.warn) {
				t.Errorf("no warning %q in %q", tc.warn, res.warns)
			}
			if got := fmt.Sprint(res.lines()); got != tc.alerts {
				t.Errorf("alerts on lines %s, want %s", got, tc.alerts)
			}
			if res.stats.ReadErrors != tc.read {
				t.Errorf("read errors %d, want %d", res.stats.ReadErrors, tc.read)
			}
			// Buffering the line whole would allocate at least its 200 MB;
			// a bounded reader allocates a few times --max-record-size.
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("allocated %.1f MiB", float64(alloc)/(1<<20))
			if alloc > 48*maxRecord {
				t.Errorf("the scan allocated %d MiB for a %d MiB line with a %d MiB record limit", alloc>>20, size>>20, maxRecord>>20)
			}
		})
	}
}

// TestDeepNesting: JSON nested 10,000 deep (and deeper) is one clear
// warning on its line; the records after it are scanned.
func TestDeepNesting(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, tc := range []struct {
		name, in, warn string
		alerts         string
	}{
		{"first line", `{"a":` + deep(10000) + "}\n" + drsSignIn(2) + "\n", ":1: invalid JSON record: nested deeper than", "[2]"},
		{"json lines", drsSignIn(1) + "\n{\"a\":" + deep(10000) + "}\n" + drsSignIn(3) + "\n", ":2: invalid JSON record: nested deeper than", "[1 3]"},
		{"past the splitter's limit", `{"a":` + deep(10001) + "}\n" + drsSignIn(2) + "\n", ":1: nesting deeper than 10000 levels", "[2]"},
		{"bare array", deep(10000) + "\n", ":1: invalid JSON record: nested deeper than", "[]"},
		{"in a string column", drsSignIn(1) + "\n" + `{"TimeGenerated":"2026-01-05T10:00:00Z","Type":"AuditLogs","OperationName":"Read BitLocker key","TargetResources":"` + deep(10000) + `"}` + "\n", "", "[1 2]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "deep.json", []byte(tc.in))
			res := robustScan(t, Config{Paths: []string{p}})
			if got := fmt.Sprint(res.lines()); got != tc.alerts {
				t.Errorf("alerts on lines %s, want %s", got, tc.alerts)
			}
			if tc.warn == "" {
				if len(res.warns) != 0 {
					t.Errorf("warnings %q", res.warns)
				}
				return
			}
			if len(res.warns) != 1 || !strings.HasPrefix(res.warns[0], p+tc.warn) || res.stats.Bad != 1 {
				t.Errorf("bad %d, warnings %q, want one %q", res.stats.Bad, res.warns, p+tc.warn)
			}
		})
	}
}

// TestRaggedCSV: rows with too few or too many fields are warnings naming
// their line; the other rows are read.
func TestRaggedCSV(t *testing.T) {
	in := bitlockerHeader + "\n" + bitlockerRow + "\n2026-01-05,x\n" + bitlockerRow + ",extra,fields\n\n" + bitlockerRow + "\n"
	p := writeFile(t, t.TempDir(), "query_data.csv", []byte(in))
	res := robustScan(t, Config{Paths: []string{p}})
	want := []string{p + ":3: row has 2 fields, the header has 6", p + ":4: row has 8 fields, the header has 6"}
	if fmt.Sprint(res.warns) != fmt.Sprint(want) {
		t.Errorf("warnings\n got %q\nwant %q", res.warns, want)
	}
	if got := fmt.Sprint(res.lines()); got != "[2 6]" || res.stats.Bad != 2 || res.stats.Records != 2 {
		t.Errorf("alerts on lines %s, %d records, %d bad", got, res.stats.Records, res.stats.Bad)
	}
}

// TestBrokenLineInMiddle: one broken JSON line is exactly one warning
// file:LINE: reason, and every line after it still raises its alert.
func TestBrokenLineInMiddle(t *testing.T) {
	for _, tc := range []struct{ name, broken string }{
		{"unclosed object", `{"id":"3","userPrincipalName":"x"`},
		{"cut string", `{"id":"3","userPrincipalName":"x`},
		{"not json", `Error: 429 Too Many Requests`},
		{"trailing comma", `{"id":"3",}`},
		{"second line of a pretty record", `  "id": "3"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := strings.Split(strings.TrimSuffix(drsLines(6), "\n"), "\n")
			lines[2] = tc.broken
			p := writeFile(t, t.TempDir(), "signins.jsonl", []byte(strings.Join(lines, "\n")+"\n"))
			res := robustScan(t, Config{Paths: []string{p}})
			if len(res.warns) != 1 || !strings.HasPrefix(res.warns[0], p+":3: ") || len(res.warns[0]) <= len(p+":3: ") {
				t.Errorf("warnings %q, want exactly one %q with a reason", res.warns, p+":3: ")
			}
			if got := fmt.Sprint(res.lines()); got != "[1 2 4 5 6]" || res.stats.Bad != 1 || res.stats.Records != 5 {
				t.Errorf("alerts on lines %s, %d records, %d bad", got, res.stats.Records, res.stats.Bad)
			}
		})
	}
	t.Run("broken first line", func(t *testing.T) {
		in := `{"id":"1",` + "\n" + drsLines(3)
		p := writeFile(t, t.TempDir(), "signins.jsonl", []byte(in))
		res := robustScan(t, Config{Paths: []string{p}})
		if len(res.warns) != 1 || !strings.HasPrefix(res.warns[0], p+":1: ") {
			t.Errorf("warnings %q", res.warns)
		}
		if got := fmt.Sprint(res.lines()); got != "[2 3 4]" {
			t.Errorf("alerts on lines %s", got)
		}
	})
}

// TestCRLFAndBOM: Windows line ends and a UTF-8 byte-order mark change
// nothing, in JSON lines, pretty JSON and CSV, plain or gzip-compressed.
func TestCRLFAndBOM(t *testing.T) {
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	jsonl := drsLines(3)
	pretty := "{\n  \"value\": [\n    " + drsSignIn(1) + ",\n    " + drsSignIn(2) + "\n  ]\n}\n"
	csvIn := bitlockerHeader + "\n" + bitlockerRow + "\n" + bitlockerRow + "\n"
	for _, tc := range []struct{ name, in, alerts string }{
		{"jsonl.json", jsonl, "[1 2 3]"},
		{"pretty.json", pretty, "[1 2]"},
		{"export.csv", csvIn, "[2 3]"},
	} {
		for _, v := range []struct {
			suffix string
			in     []byte
		}{
			{"", []byte(tc.in)},
			{"-crlf", []byte(crlf(tc.in))},
			{"-bom", []byte("\xef\xbb\xbf" + tc.in)},
			{"-bom-crlf", []byte("\xef\xbb\xbf" + crlf(tc.in))},
			{"-bom-crlf.gz", gzipBytes(t, "\xef\xbb\xbf"+crlf(tc.in))},
		} {
			t.Run(tc.name+v.suffix, func(t *testing.T) {
				p := writeFile(t, t.TempDir(), tc.name+v.suffix, v.in)
				res := robustScan(t, Config{Paths: []string{p}})
				if len(res.warns) != 0 {
					t.Errorf("warnings %q", res.warns)
				}
				if got := fmt.Sprint(res.lines()); got != tc.alerts {
					t.Errorf("alerts on lines %s, want %s", got, tc.alerts)
				}
				for _, a := range res.alerts {
					if strings.ContainsAny(a.Summary, "\r\ufeff") || bytes.ContainsAny(a.Record, "\r\ufeff") {
						t.Errorf("a CR or BOM reached the alert: %q %q", a.Summary, a.Record)
					}
				}
			})
		}
	}
}

// TestEmptyInputs: empty files (plain, blank, a lone byte-order mark, an
// empty gzip stream, an empty CSV header) are no problem and no record.
func TestEmptyInputs(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for name, data := range map[string][]byte{
		"empty.json":    nil,
		"blank.json":    []byte(" \r\n\n\t"),
		"bom.json":      []byte("\xef\xbb\xbf"),
		"empty.json.gz": gzipBytes(t, ""),
		"header.csv":    []byte(bitlockerHeader + "\r\n"),
	} {
		paths = append(paths, writeFile(t, dir, name, data))
	}
	res := robustScan(t, Config{Paths: paths})
	if len(res.warns) != 0 || res.stats.Records != 0 || res.stats.Bad != 0 || res.stats.ReadErrors != 0 || len(res.alerts) != 0 {
		t.Errorf("warnings %q, stats %+v", res.warns, res.stats)
	}
	res = robustScan(t, Config{Paths: []string{dir}})
	if len(res.warns) != 0 || res.stats.ReadErrors != 0 {
		t.Errorf("as a directory: warnings %q, stats %+v", res.warns, res.stats)
	}
}

// TestDirectoryWithUnrelatedFiles: files of no log format found in a
// directory are warnings, not failures; documents and pictures beside the
// logs (README.md, logo.png) and hidden files are passed over silently.
func TestDirectoryWithUnrelatedFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "insights-logs-signinlogs/y=2026/m=01/PT1H.json", []byte(drsLines(2)))
	writeFile(t, dir, "README.txt", []byte("Exported from the portal.\n"))
	writeFile(t, dir, "logo.png", append([]byte("\x89PNG\r\n\x1a\n"), garbage(500)...))
	writeFile(t, dir, ".DS_Store", garbage(100))
	res := robustScan(t, Config{Paths: []string{dir}})
	if res.stats.ReadErrors != 0 || res.stats.Bad != 0 {
		t.Errorf("stats %+v", res.stats)
	}
	if len(res.warns) != 1 || !hasWarning(res.warns, "README.txt: skipped") {
		t.Errorf("warnings %q", res.warns)
	}
	if len(res.alerts) != 2 {
		t.Errorf("%d alerts, want 2", len(res.alerts))
	}
}

// TestMissingPath: a path that does not exist is a read error naming it;
// the other paths are still scanned.
func TestMissingPath(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "ok.json", []byte(drsLines(1)))
	missing := filepath.Join(dir, "nope.json")
	res := robustScan(t, Config{Paths: []string{missing, p}})
	if res.stats.ReadErrors != 1 || !hasWarning(res.warns, missing+": no such file or directory") {
		t.Errorf("read errors %d, warnings %q", res.stats.ReadErrors, res.warns)
	}
	if len(res.alerts) != 1 {
		t.Errorf("%d alerts, want 1", len(res.alerts))
	}
}

// TestStdin: "-" reads standard input, sniffed like a file, gzip included.
func TestStdin(t *testing.T) {
	for name, in := range map[string][]byte{
		"plain": []byte(drsLines(2)),
		"gzip":  gzipBytes(t, drsLines(2)),
		"csv":   []byte(bitlockerHeader + "\n" + bitlockerRow + "\n"),
	} {
		t.Run(name, func(t *testing.T) {
			res := robustScan(t, Config{Paths: []string{"-"}, Stdin: bytes.NewReader(in)})
			if len(res.warns) != 0 || len(res.alerts) == 0 {
				t.Fatalf("%d alerts, warnings %q", len(res.alerts), res.warns)
			}
			for _, a := range res.alerts {
				if a.Source.File != "-" {
					t.Errorf("source %q", a.Source.File)
				}
			}
		})
	}
}
