package sentinel

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/input"
	"github.com/entrawatch/entrawatch/internal/scan"
	"github.com/entrawatch/entrawatch/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the expected files of testdata/sentinel")

// goldenCase is a case folder's case.json.
type goldenCase struct {
	// Inputs are scanned, relative to the repository root.
	Inputs []string `json:"inputs"`
	// Now is --now (RFC 3339); empty: the newest record.
	Now      string `json:"now"`
	Replay   bool   `json:"replay"`
	MaxTicks int    `json:"max_ticks"`
}

// goldenAlert is what a user checks in an alert (its record aside).
type goldenAlert struct {
	Rule     string         `json:"rule"`
	Title    string         `json:"title"`
	Severity string         `json:"severity"`
	Time     string         `json:"time"`
	Summary  string         `json:"summary"`
	Entities alert.Entities `json:"entities"`
	Details  [][2]string    `json:"details,omitempty"`
	Source   string         `json:"source"`
}

// rel makes a path relative to the repository root, /-separated.
func rel(p string) string {
	if r, err := filepath.Rel(testenv.RepoRoot, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return filepath.ToSlash(p)
}

// runCase loads the rules of a case folder and scans its inputs with
// them alone, returning the alerts as JSON lines and the problems,
// warnings and errors as text lines.
func runCase(t *testing.T, dir string) (alerts, problems string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c goldenCase
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s/case.json: %v", dir, err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "rules", "*.yaml"))
	sort.Strings(files)
	var rules []*Rule
	var probs []string
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rs, ps := Parse(f, src)
		rules = append(rules, rs...)
		for _, p := range ps {
			p.File = rel(p.File)
			probs = append(probs, "problem: "+p.Error())
		}
	}
	rules, dups := Unique(rules)
	for _, p := range dups {
		p.File = rel(p.File)
		probs = append(probs, "problem: "+p.Error())
	}
	var out bytes.Buffer
	if len(rules) > 0 {
		var paths []string
		for _, in := range c.Inputs {
			paths = append(paths, filepath.Join(testenv.RepoRoot, filepath.FromSlash(in)))
		}
		ins, _ := input.Expand(paths, nil)
		opts := Options{Replay: c.Replay, MaxTicks: c.MaxTicks, WallClock: func() time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) }}
		for _, in := range ins {
			opts.FileOrder = append(opts.FileOrder, in.Name)
		}
		if c.Now != "" {
			if opts.Now, err = time.Parse(time.RFC3339, c.Now); err != nil {
				t.Fatal(err)
			}
		}
		set := NewSet(rules, opts)
		eng, err := detect.NewEngine(detect.Options{NoBuiltin: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range set.Detectors() {
			eng.Add(d)
		}
		enc := json.NewEncoder(&out)
		enc.SetEscapeHTML(false)
		_, err = scan.Run(context.Background(), scan.Config{Paths: paths, Year: 2026, Workers: 4, Engine: eng,
			Warn: func(m string) { t.Errorf("scan warning: %s", m) },
			Alert: func(a *alert.Alert) error {
				g := goldenAlert{Rule: a.Rule, Title: a.Title, Severity: a.Severity.String(), Summary: a.Summary, Entities: a.Entities,
					Source: rel(a.Source.File) + ":" + strconv.FormatInt(a.Source.Line, 10)}
				if !a.Time.IsZero() {
					g.Time = a.Time.UTC().Format(time.RFC3339Nano)
				}
				for _, d := range a.Details {
					g.Details = append(g.Details, [2]string{d.Name, d.Value})
				}
				if len(a.Record) > 0 && !json.Valid(a.Record) {
					t.Errorf("alert of %s: record is not JSON: %s", a.Rule, a.Record)
				}
				return enc.Encode(g)
			}})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range set.Warnings() {
			p.File = rel(p.File)
			probs = append(probs, "warning: "+p.Error())
		}
		for _, p := range set.Errors() {
			p.File = rel(p.File)
			probs = append(probs, "error: "+p.Error())
		}
	}
	text := strings.Join(probs, "\n")
	if text != "" {
		text += "\n"
	}
	return out.String(), strings.ReplaceAll(text, testenv.RepoRoot+string(filepath.Separator), "")
}

// TestGolden scans each case folder of testdata/sentinel with its rules
// (see testdata/sentinel/README.md) and compares the alerts with
// expected.jsonl and the problems, warnings and errors with
// problems.txt; -update rewrites both (review the difference).
func TestGolden(t *testing.T) {
	root := filepath.Join(testenv.RepoRoot, "testdata", "sentinel")
	cases, _ := filepath.Glob(filepath.Join(root, "*", "case.json"))
	if len(cases) < 8 {
		t.Fatalf("found %d cases in %s", len(cases), root)
	}
	for _, c := range cases {
		dir := filepath.Dir(c)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			alerts, probs := runCase(t, dir)
			check := func(name, got string) {
				path := filepath.Join(dir, name)
				if *update {
					if got == "" {
						os.Remove(path)
						return
					}
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, _ := os.ReadFile(path)
				if got != string(want) {
					t.Errorf("%s differs (go test ./internal/sentinel -run TestGolden -update rewrites it):\ngot:\n%s\nwant:\n%s", rel(path), got, want)
				}
			}
			check("expected.jsonl", alerts)
			check("problems.txt", probs)
		})
	}
}
