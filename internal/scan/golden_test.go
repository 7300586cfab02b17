package scan_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/scan"
)

// The golden tests run the whole scan pipeline over the fixture folders of
// testdata/detections (see testdata/README.md) and compare the alerts with
// each folder's expected.jsonl exactly: every expected alert must be
// raised, and nothing else.

// goldenNow is the --now of every golden scan, and goldenYear its --year
// (the year of classic syslog timestamps, which carry none).
var goldenNow = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

const goldenYear = 2026

// repoRoot is the repository root, relative to this package.
const repoRoot = "../.."

// expectedAlert is one line of an expected.jsonl.
type expectedAlert struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Time     string `json:"time"`
	File     string `json:"file"`
	Line     int64  `json:"line"`
	// SummaryContains holds one substring or a list of substrings that
	// the alert's summary must contain.
	SummaryContains substrings `json:"summary_contains,omitempty"`
}

type substrings []string

func (s *substrings) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = substrings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("summary_contains must be a string or a list of strings: %w", err)
	}
	*s = many
	return nil
}

func (e expectedAlert) key() string {
	return fmt.Sprintf("%s:%d %s %s %s", e.File, e.Line, e.Rule, e.Severity, e.Time)
}

// gotAlert is an alert reduced to the compared fields.
type gotAlert struct {
	expectedAlert
	Summary string
}

type scanOutput struct {
	alerts []gotAlert
	warns  []string
	stats  *scan.Stats
}

// runScan scans dir with the built-in detections at now and returns the
// alerts with their files relative to dir.
func runScan(t *testing.T, dir string, now time.Time) scanOutput {
	t.Helper()
	eng, err := detect.NewEngine(detect.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	var out scanOutput
	stats, err := scan.Run(context.Background(), scan.Config{
		Paths:  []string{dir},
		Year:   goldenYear,
		Engine: eng,
		Alert: func(a *alert.Alert) error {
			rel, err := filepath.Rel(dir, a.Source.File)
			if err != nil {
				rel = a.Source.File
			}
			tm := ""
			if !a.Time.IsZero() {
				tm = a.Time.UTC().Format(time.RFC3339Nano)
			}
			out.alerts = append(out.alerts, gotAlert{
				expectedAlert: expectedAlert{Rule: a.Rule, Severity: a.Severity.String(), Time: tm, File: filepath.ToSlash(rel), Line: a.Source.Line},
				Summary:       a.Summary,
			})
			return nil
		},
		Warn: func(msg string) { out.warns = append(out.warns, msg) },
	})
	if err != nil {
		t.Fatalf("scan %s: %v", dir, err)
	}
	out.stats = stats
	return out
}

func readExpected(t *testing.T, path string) []expectedAlert {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []expectedAlert
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		var e expectedAlert
		if err := dec.Decode(&e); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		if e.Rule == "" || e.Severity == "" || e.File == "" || e.Line <= 0 {
			t.Fatalf("%s:%d: rule, severity, file and line are required", path, n)
		}
		out = append(out, e)
	}
	return out
}

// compareAlerts matches got against want by file, line, rule, severity and
// time, then checks the summaries, and returns a readable diff ("" when
// they agree).
func compareAlerts(want []expectedAlert, got []gotAlert) string {
	pending := map[string][]gotAlert{}
	for _, g := range got {
		pending[g.key()] = append(pending[g.key()], g)
	}
	var missing, summaries []string
	for _, w := range want {
		gs := pending[w.key()]
		if len(gs) == 0 {
			missing = append(missing, "  "+w.key())
			continue
		}
		g := gs[0]
		pending[w.key()] = gs[1:]
		for _, s := range w.SummaryContains {
			if !strings.Contains(g.Summary, s) {
				summaries = append(summaries, fmt.Sprintf("  %s\n      summary: %s\n      lacks:   %s", w.key(), g.Summary, s))
			}
		}
	}
	var extra []string
	for _, gs := range pending {
		for _, g := range gs {
			line, _ := json.Marshal(map[string]any{"rule": g.Rule, "severity": g.Severity, "time": g.Time, "file": g.File, "line": g.Line})
			extra = append(extra, fmt.Sprintf("  %s\n      summary: %s\n      as expected.jsonl: %s", g.key(), g.Summary, line))
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	var b strings.Builder
	if len(missing) > 0 {
		fmt.Fprintf(&b, "missing alerts (expected, not raised):\n%s\n", strings.Join(missing, "\n"))
	}
	if len(extra) > 0 {
		fmt.Fprintf(&b, "unexpected alerts (raised, not expected):\n%s\n", strings.Join(extra, "\n"))
	}
	if len(summaries) > 0 {
		fmt.Fprintf(&b, "summaries without the expected text:\n%s\n", strings.Join(summaries, "\n"))
	}
	return b.String()
}

// fixtureCases lists the folders under testdata/detections that hold an
// expected.jsonl, relative to it.
func fixtureCases(t *testing.T) (root string, cases []string) {
	t.Helper()
	root = filepath.Join(repoRoot, "testdata", "detections")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "expected.jsonl" {
			rel, _ := filepath.Rel(root, filepath.Dir(path))
			cases = append(cases, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(cases)
	for i := 1; i < len(cases); i++ {
		if strings.HasPrefix(cases[i], cases[i-1]+"/") {
			t.Fatalf("fixture case %s is nested inside case %s: a case's inputs are every file below it", cases[i], cases[i-1])
		}
	}
	if len(cases) == 0 {
		t.Fatalf("no fixture cases under %s", root)
	}
	return root, cases
}

func TestDetectionFixtures(t *testing.T) {
	root, cases := fixtureCases(t)
	for _, c := range cases {
		t.Run(c, func(t *testing.T) {
			dir := filepath.Join(root, filepath.FromSlash(c))
			want := readExpected(t, filepath.Join(dir, "expected.jsonl"))
			out := runScan(t, dir, goldenNow)
			if len(out.warns) > 0 {
				t.Errorf("fixtures must read cleanly; warnings:\n  %s", strings.Join(out.warns, "\n  "))
			}
			if out.stats.Bad > 0 || out.stats.ReadErrors > 0 {
				t.Errorf("%d bad records, %d unreadable inputs", out.stats.Bad, out.stats.ReadErrors)
			}
			if out.stats.Records == 0 {
				t.Errorf("no records read")
			}
			if diff := compareAlerts(want, out.alerts); diff != "" {
				t.Errorf("alerts of %s differ from expected.jsonl:\n%s", c, diff)
			}
		})
	}
}

// TestDetectionFixturesCoverCatalogue checks that every built-in detection
// has fixtures that raise it and fixtures that must not.
func TestDetectionFixturesCoverCatalogue(t *testing.T) {
	root, cases := fixtureCases(t)
	positive := map[string]int{}
	negative := map[string]int{}
	for _, c := range cases {
		id, _, _ := strings.Cut(c, "/")
		want := readExpected(t, filepath.Join(root, filepath.FromSlash(c), "expected.jsonl"))
		if len(want) == 0 {
			negative[id]++
		}
		for _, w := range want {
			if w.Rule == id {
				positive[id]++
			}
		}
	}
	known := map[string]bool{}
	for _, info := range detect.Catalogue() {
		known[info.ID] = true
		if positive[info.ID] == 0 {
			t.Errorf("detection %s: no fixture under testdata/detections/%s expects it", info.ID, info.ID)
		}
		if negative[info.ID] == 0 {
			t.Errorf("detection %s: no negative fixture (a case with an empty expected.jsonl)", info.ID)
		}
	}
	for _, c := range cases {
		if id, _, _ := strings.Cut(c, "/"); !known[id] {
			t.Errorf("fixture folder %s names no built-in detection", c)
		}
	}
}

// TestExamples scans examples/ as the README there does and checks that
// every built-in detection fires at least once.
func TestExamples(t *testing.T) {
	dir := filepath.Join(repoRoot, "examples")
	for _, c := range []struct {
		name string
		now  time.Time
	}{{"fixed-now", goldenNow}, {"current-time", time.Now().UTC()}} {
		t.Run(c.name, func(t *testing.T) {
			out := runScan(t, dir, c.now)
			for _, w := range out.warns {
				// The folder's README.md is skipped with a notice; anything
				// else is a broken example.
				if !strings.HasSuffix(w, "README.md: skipped: not a log format entrawatch reads (use --input-format to force one)") {
					t.Errorf("examples must read cleanly; warning: %s", w)
				}
			}
			if out.stats.Bad > 0 || out.stats.ReadErrors > 0 {
				t.Errorf("%d bad records, %d unreadable inputs", out.stats.Bad, out.stats.ReadErrors)
			}
			fired := map[string]int{}
			for _, a := range out.alerts {
				fired[a.Rule]++
			}
			for _, info := range detect.Catalogue() {
				if fired[info.ID] == 0 {
					t.Errorf("examples/ raise no %s alert", info.ID)
				}
			}
			if t.Failed() {
				for _, a := range out.alerts {
					t.Logf("raised: %s", a.key())
				}
			}
		})
	}
}
