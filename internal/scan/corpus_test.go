package scan_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/entrawatch/entrawatch/internal/testenv"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/scan"
)

// The conformance test reads the public Entra samples of the corpus kept
// beside the repository (never inside it): every record must be read
// without a warning and classified into the kind it is. It runs when
// ENTRAWATCH_CORPUS names the corpus folder (relative paths are taken from
// the repository root; CI sets ../shared/corpus).

// corpusSamples returns $ENTRAWATCH_CORPUS/samples, or skips; with
// ENTRAWATCH_REQUIRE_INTEGRATION=1 the skip is a failure.
func corpusSamples(t *testing.T) string {
	t.Helper()
	samples := filepath.Join(testenv.Corpus(t), "samples")
	if st, err := os.Stat(samples); err != nil || !st.IsDir() {
		t.Fatalf("ENTRAWATCH_CORPUS=%s: no samples folder at %s", os.Getenv("ENTRAWATCH_CORPUS"), samples)
	}
	return samples
}

const (
	kSignIn  = "signin"
	kAudit   = "audit"
	kDevice  = "device"
	kRegPol  = "registration-policy"
	kUnknown = "unknown" // read fine, but not a log entrawatch detects on
)

func times(kind string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = kind
	}
	return out
}

// corpusFiles are the Entra samples and the kind of each of their records,
// in file order.
var corpusFiles = map[string][]string{
	"elastic-integrations/test-audit-logs-sample.log":                                      times(kAudit, 3),
	"elastic-integrations/test-auditlogs-raw.log":                                          times(kAudit, 3),
	"elastic-integrations/test-signinlogs-raw.log":                                         times(kSignIn, 5), // five sign-in categories
	"otrf-security-datasets/GoldenSAMLADFSMailAccess_AADAuditEvents.json":                  times(kAudit, 4),
	"msgraph-docs/device-list.example-response.json":                                       {kDevice},
	"kql-blog-csv/SigninLogs_LogAnalytics_portal_export_2rows.csv":                         times(kSignIn, 2),
	"reference-examples/diag-export-audit-mslearn-2018.json":                               {kAudit},
	"reference-examples/diag-export-signin-mslearn.json":                                   {kSignIn},
	"reference-examples/elastic-auditlogs-sample.ndjson":                                   {kAudit},
	"reference-examples/elastic-auditlogs-update-device.ndjson":                            {kAudit},
	"reference-examples/elastic-noninteractive-signin-sample.ndjson":                       {kSignIn},
	"reference-examples/elastic-signinlogs-raw.ndjson":                                     {kSignIn},
	"reference-examples/graph-deviceRegistrationPolicy-beta-legacy-shape-pre-2023-09.json": {kRegPol},
	"reference-examples/graph-deviceRegistrationPolicy-v1-current-shape.json":              {kRegPol},
	"reference-examples/graph-directoryaudit-remove-member-from-role-thirdparty.json":      times(kAudit, 2),
	"reference-examples/graph-directoryaudits-list-response-v1.json":                       {kAudit},
	"reference-examples/graph-roleAssignments-globaladmin-v1.json":                         {kUnknown}, // a role assignment, not a log
	"reference-examples/graph-roleEligibilityScheduleInstances-thirdparty.json":            {kUnknown}, // a PIM eligibility, not a log
	"reference-examples/graph-signins-list-response-v1.json":                               {kSignIn},
}

// trailingCommaFile is the Graph docs example with a trailing comma after
// the last appliedConditionalAccessPolicies element; the ']' that follows it
// stands on line 64. It must give exactly one warning naming that line.
const trailingCommaFile = "msgraph-docs/signin-list.example1-response.json.txt"

// corpusEntraFiles lists the sample files the test must cover, so that a
// new sample does not go unnoticed.
func corpusEntraFiles(t *testing.T, samples string) []string {
	t.Helper()
	var out []string
	add := func(pattern string) {
		m, err := filepath.Glob(filepath.Join(samples, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m {
			rel, _ := filepath.Rel(samples, p)
			out = append(out, filepath.ToSlash(rel))
		}
	}
	for _, p := range []string{"elastic-integrations/*", "panther-analysis/*", "otrf-security-datasets/*AADAudit*",
		"msgraph-docs/*", "kql-blog-csv/*", "reference-examples/*.json", "reference-examples/*.ndjson"} {
		add(p)
	}
	sort.Strings(out)
	return out
}

// kindRecorder is a detector that records the kind of every record.
type kindRecorder struct {
	info detect.Info
	mu   sync.Mutex
	seen map[string][]recordSeen // by file
}

type recordSeen struct {
	line int64
	kind string
}

func newKindRecorder() *kindRecorder {
	k := &kindRecorder{info: detect.Info{ID: "test-kind-recorder"}, seen: map[string][]recordSeen{}}
	for i := 0; i < 16; i++ {
		k.info.Kinds = append(k.info.Kinds, record.Kind(i))
	}
	return k
}

func (k *kindRecorder) Info() *detect.Info { return &k.info }

func (k *kindRecorder) Detect(r *record.Record, _ func(*alert.Alert)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.seen[r.Source.File] = append(k.seen[r.Source.File], recordSeen{r.Source.Line, r.Kind.String()})
}

// scanKinds scans paths and returns the kinds of the records per file (in
// input order) and the warnings.
func scanKinds(t *testing.T, paths ...string) (map[string][]string, []string, *scan.Stats) {
	t.Helper()
	eng, err := detect.NewEngine(detect.Options{Now: goldenNow})
	if err != nil {
		t.Fatal(err)
	}
	rec := newKindRecorder()
	eng.Add(rec)
	var warns []string
	stats, err := scan.Run(context.Background(), scan.Config{
		Paths: paths, Engine: eng,
		Alert: func(*alert.Alert) error { return nil },
		Warn:  func(m string) { warns = append(warns, m) },
	})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string][]string{}
	for f, rs := range rec.seen {
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].line < rs[j].line })
		for _, r := range rs {
			kinds[f] = append(kinds[f], r.kind)
		}
	}
	return kinds, warns, stats
}

func TestCorpusConformance(t *testing.T) {
	samples := corpusSamples(t)
	files := corpusEntraFiles(t, samples)
	if len(files) == 0 {
		t.Fatalf("no Entra sample files under %s", samples)
	}
	for _, rel := range files {
		switch _, known := corpusFiles[rel]; {
		case strings.HasPrefix(rel, "panther-analysis/"), rel == trailingCommaFile, known:
		default:
			t.Errorf("sample %s is not covered by this test: add the kinds of its records to corpusFiles", rel)
		}
	}
	for rel := range corpusFiles {
		if _, err := os.Stat(filepath.Join(samples, filepath.FromSlash(rel))); err != nil {
			t.Errorf("sample %s: %v", rel, err)
		}
	}

	for _, rel := range files {
		if strings.HasPrefix(rel, "panther-analysis/") || rel == trailingCommaFile {
			continue
		}
		want := corpusFiles[rel]
		t.Run(rel, func(t *testing.T) {
			path := filepath.Join(samples, filepath.FromSlash(rel))
			kinds, warns, stats := scanKinds(t, path)
			if len(warns) > 0 {
				t.Errorf("warnings:\n  %s", strings.Join(warns, "\n  "))
			}
			if stats.Bad > 0 || stats.ReadErrors > 0 {
				t.Errorf("%d bad records, %d unreadable inputs", stats.Bad, stats.ReadErrors)
			}
			if got := kinds[path]; strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("record kinds %q, want %q", got, want)
			}
		})
	}

	t.Run(trailingCommaFile, func(t *testing.T) {
		path := filepath.Join(samples, filepath.FromSlash(trailingCommaFile))
		kinds, warns, stats := scanKinds(t, path)
		if len(warns) != 1 {
			t.Fatalf("%d warnings, want exactly one about the trailing comma: %q", len(warns), warns)
		}
		w := warns[0]
		if !strings.Contains(w, path) || !strings.Contains(w, "trailing comma") || !regexp.MustCompile(`\bline 64\b|:64:`).MatchString(w) {
			t.Errorf("warning %q should name the file, the trailing comma and line 64", w)
		}
		if stats.ReadErrors > 0 {
			t.Errorf("the file counted as unreadable; only its broken record should be skipped")
		}
		if stats.Bad != 1 {
			t.Errorf("%d bad records, want 1", stats.Bad)
		}
		if len(kinds[path]) != 0 {
			t.Errorf("records read from the broken list: %q", kinds[path])
		}
	})

	t.Run("panther-analysis", func(t *testing.T) {
		// Each line is a Panther test case {"rule","test","expected",
		// "logTypes","log"}; the record is its "log".
		dir := t.TempDir()
		var paths []string
		want := map[string][]string{}
		for _, rel := range files {
			if !strings.HasPrefix(rel, "panther-analysis/") {
				continue
			}
			out := filepath.Join(dir, filepath.Base(rel))
			want[out] = pantherLogs(t, filepath.Join(samples, filepath.FromSlash(rel)), out)
			paths = append(paths, out)
		}
		if len(paths) == 0 {
			t.Fatal("no panther-analysis samples")
		}
		kinds, warns, stats := scanKinds(t, paths...)
		if len(warns) > 0 {
			t.Errorf("warnings:\n  %s", strings.Join(warns, "\n  "))
		}
		if stats.Bad > 0 || stats.ReadErrors > 0 {
			t.Errorf("%d bad records, %d unreadable inputs", stats.Bad, stats.ReadErrors)
		}
		for _, p := range paths {
			if got := kinds[p]; strings.Join(got, ",") != strings.Join(want[p], ",") {
				t.Errorf("%s: record kinds %q, want %q", filepath.Base(p), got, want[p])
			}
		}
	})
}

// pantherLogs writes the "log" of every test case in src to dst, one per
// line, and returns the kind each log is. The logs are diagnostic-settings
// records: the category names the log (…SignInLogs, AuditLogs), except in a
// few cases that put the audit category (Policy, DirectoryManagement…) in
// the envelope, whose properties are a directory audit.
func pantherLogs(t *testing.T, src, dst string) []string {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	var kinds []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var tc struct {
			Rule string          `json:"rule"`
			Log  json.RawMessage `json:"log"`
		}
		if err := json.Unmarshal([]byte(line), &tc); err != nil || len(tc.Log) == 0 {
			t.Fatalf("%s:%d: not a Panther test case with a log: %v", src, n, err)
		}
		var log struct {
			Category   string                     `json:"category"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(tc.Log, &log); err != nil {
			t.Fatalf("%s:%d: %v", src, n, err)
		}
		cat := strings.ToLower(log.Category)
		switch {
		case strings.HasSuffix(cat, "signinlogs"):
			kinds = append(kinds, kSignIn)
		case cat == "auditlogs", log.Properties["activityDisplayName"] != nil:
			kinds = append(kinds, kAudit)
		default:
			t.Fatalf("%s:%d: cannot tell the kind of the log (category %q)", src, n, log.Category)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, tc.Log); err != nil {
			t.Fatalf("%s:%d: %v", src, n, err)
		}
		fmt.Fprintf(&b, "%s\n", compact.Bytes())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return kinds
}
