package sentinel

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/scan"
	"github.com/entrawatch/entrawatch/internal/testenv"
	"github.com/entrawatch/entrawatch/internal/yamltree"
)

// acceptedRefusal matches the refusals the corpus may cause: tables
// entrawatch cannot have (SecurityAlert, IdentityInfo, BehaviorAnalytics…)
// and functions over data or models it does not have (watchlists,
// series_decompose_anomalies). Any other refusal is a regression.
var acceptedRefusal = regexp.MustCompile(`query: KQL \d+:\d+: (unknown table "\w+"|function (series_decompose_anomalies|_GetWatchlist)\(\) is not supported)`)

// TestCorpusRules loads every YAML file of the Sentinel corpus
// ($ENTRAWATCH_CORPUS/sentinel, read in place): each analytic rule must
// load or be refused for a table or function entrawatch cannot have,
// with its file and position, and each other document must be a hunting
// query.
func TestCorpusRules(t *testing.T) {
	dir := filepath.Join(testenv.Corpus(t), "sentinel")
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	if len(files) < 14 {
		t.Fatalf("%d YAML files in %s, want the corpus's 14", len(files), dir)
	}
	var loaded, refused, hunting []string
	for _, f := range files {
		name, _ := filepath.Rel(dir, f)
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := yamltree.Parse(src)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, d := range docs {
			switch {
			case IsRule(d):
				r, probs := Load(f, src, d)
				if r != nil {
					loaded = append(loaded, name)
					if len(r.Tables) == 0 {
						t.Errorf("%s: the query reads no table", name)
					}
					continue
				}
				for _, p := range probs {
					if !acceptedRefusal.MatchString(p.Msg) || p.File != f || p.Line <= 0 || p.Col <= 0 {
						t.Errorf("%s: refused for a reason the corpus must not cause: %v", name, p)
					}
				}
				refused = append(refused, name+": "+probs[0].Msg)
			case IsHuntingQuery(d):
				hunting = append(hunting, name)
			default:
				t.Errorf("%s: neither a Sentinel analytic rule nor a hunting query", name)
			}
		}
	}
	t.Logf("%d analytic rules load: %s", len(loaded), strings.Join(loaded, ", "))
	t.Logf("%d refused: %s", len(refused), strings.Join(refused, "; "))
	t.Logf("%d hunting queries (run with entrawatch query)", len(hunting))
	if len(loaded) < 7 {
		t.Errorf("%d analytic rules load, want at least 7", len(loaded))
	}
}

// TestCorpusRulesOnFixtures runs each analytic rule of the corpus that
// loads over the fixtures internal/kql's Sentinel test made for its query
// (testdata/kql/sentinel/<case>/, whose source.txt names the rule) with
// --now 2026-11-27T00:00:00Z and --sentinel-replay: every row the query
// returns there over all the records (want.jsonl) must be the record of
// an alert, raised by the run whose window holds its records. Replaying
// may raise more: an earlier run sees another baseline of "known"
// locations or roles, as Sentinel's earlier runs would have.
func TestCorpusRulesOnFixtures(t *testing.T) {
	corpus := testenv.Corpus(t)
	sources, _ := filepath.Glob(filepath.Join(testenv.RepoRoot, "testdata", "kql", "sentinel", "*", "source.txt"))
	ran := 0
	for _, source := range sources {
		cdir := filepath.Dir(source)
		b, err := os.ReadFile(source)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(corpus, strings.TrimSpace(string(b)))
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		rules, _ := Parse(file, src)
		want, err := os.ReadFile(filepath.Join(cdir, "want.jsonl"))
		if len(rules) != 1 || err != nil {
			continue // a hunting query, or refused
		}
		ran++
		t.Run(filepath.Base(cdir), func(t *testing.T) {
			inputs, _ := filepath.Glob(filepath.Join(cdir, "*.json"))
			set := NewSet(rules, Options{Now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), Replay: true, FileOrder: inputs})
			eng, err := detect.NewEngine(detect.Options{NoBuiltin: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range set.Detectors() {
				eng.Add(d)
			}
			records := map[string]int{}
			n := 0
			_, err = scan.Run(context.Background(), scan.Config{Paths: inputs, Year: 2026, Engine: eng,
				Alert: func(a *alert.Alert) error { n++; records[string(a.Record)]++; return nil }})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range set.Errors() {
				t.Errorf("%v", p)
			}
			rows := 0
			for _, row := range strings.Split(strings.TrimSpace(string(want)), "\n") {
				if row == "" {
					continue
				}
				rows++
				if records[row] == 0 {
					t.Errorf("no alert for the row %s", row)
				}
			}
			t.Logf("%d alerts for the %d rows of want.jsonl", n, rows)
		})
	}
	if ran < 7 {
		t.Fatalf("%d corpus rules ran on their fixtures, want 7 at least", ran)
	}
}
