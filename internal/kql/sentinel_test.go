package kql

import (
	"bytes"
	"context"
	"github.com/entrawatch/entrawatch/internal/testenv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var sentinelQueryRE = regexp.MustCompile(`(?ms)^query: \|\s*\n(.*?)(?:^\S|\z)`)

// sentinelQuery extracts the query of a Sentinel rule YAML: the block
// scalar of its query key.
func sentinelQuery(yaml []byte) (string, bool) {
	m := sentinelQueryRE.FindSubmatch(yaml)
	if m == nil {
		return "", false
	}
	return string(m[1]), true
}

// sentinelTime fills the time placeholders Sentinel substitutes in hunting
// queries.
var sentinelTime = strings.NewReplacer("{{StartTimeISO}}", "2026-11-20T00:00:00Z", "{{EndTimeISO}}", "2026-11-27T00:00:00Z")

// sentinelVariants are extra runs of a query with a text substitution:
// the VIP query's "watchlist" is a string literal that no account matches,
// so it is also run with a list of names in its place.
var sentinelVariants = map[string]map[string][2]string{
	"suspicious-signin-to-privileged-account": {
		"vip-list": {`('_GetWatchlist("VIPUsers")')`, `dynamic(["megan.bowen"])`},
	},
}

// TestSentinel runs the 14 Sentinel queries of the corpus (each case folder
// of testdata/kql/sentinel names its rule in source.txt; the rules are read
// from ENTRAWATCH_CORPUS, never copied into the project) over the JSON
// fixtures beside each, with now() = 2026-11-27T00:00:00Z: a query with
// refused.txt must be refused with a message containing its text; any other
// must run and return want.jsonl (-update rewrites it).
func TestSentinel(t *testing.T) {
	corpus := testenv.Corpus(t)
	dir := filepath.Join("..", "..", "testdata", "kql", "sentinel")
	cases, _ := filepath.Glob(filepath.Join(dir, "*", "source.txt"))
	if len(cases) != 14 {
		t.Fatalf("found %d Sentinel queries, want 14", len(cases))
	}
	var ran, refused []string
	for _, source := range cases {
		cdir := filepath.Dir(source)
		name := filepath.Base(cdir)
		rel, err := os.ReadFile(source)
		if err != nil {
			t.Fatal(err)
		}
		rule := filepath.Join(corpus, strings.TrimSpace(string(rel)))
		b, err := os.ReadFile(rule)
		if err != nil {
			t.Fatal(err)
		}
		src, ok := sentinelQuery(b)
		if !ok {
			t.Fatalf("%s: no query", rule)
		}
		src = sentinelTime.Replace(src)
		if want, err := os.ReadFile(filepath.Join(cdir, "refused.txt")); err == nil {
			q, err := Parse(src)
			if err == nil {
				err = Check(q)
			}
			if err == nil || !strings.Contains(err.Error(), strings.TrimSpace(string(want))) {
				t.Errorf("%s: error %v, want a refusal containing %q", name, err, strings.TrimSpace(string(want)))
			} else {
				refused = append(refused, name+": "+err.Error())
			}
			continue
		}
		files, _ := filepath.Glob(filepath.Join(cdir, "*.json"))
		db, _, err := Load(context.Background(), LoadConfig{Paths: files, Year: 2026,
			Warn: func(m string) { t.Errorf("%s: warning: %s", name, m) }})
		if err != nil {
			t.Fatal(err)
		}
		db.Now = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
		runs := map[string]string{"": src}
		for v, sub := range sentinelVariants[name] {
			if !strings.Contains(src, sub[0]) {
				t.Fatalf("%s: %q is not in the query", name, sub[0])
			}
			runs["-"+v] = strings.Replace(src, sub[0], sub[1], 1)
		}
		ok = true
		for suffix, s := range runs {
			q, err := Parse(s)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				ok = false
				continue
			}
			res, err := Run(q, db)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				ok = false
				continue
			}
			var got bytes.Buffer
			if err := WriteJSON(&got, res); err != nil {
				t.Fatal(err)
			}
			// Exec (streaming or loading only what the query reads) gives
			// the same rows.
			var execd bytes.Buffer
			if _, err := ExecWrite(context.Background(), q, LoadConfig{Paths: files, Year: 2026, Now: db.Now}, &execd, "json"); err != nil || execd.String() != got.String() {
				t.Errorf("%s%s: ExecWrite: error %v, rows:\n%s\nwant:\n%s", name, suffix, err, execd.String(), got.String())
			}
			exp := filepath.Join(cdir, "want"+suffix+".jsonl")
			if *update {
				if err := os.WriteFile(exp, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(exp)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != string(want) {
				t.Errorf("%s%s:\ngot:\n%s\nwant:\n%s", name, suffix, got.String(), want)
				ok = false
			}
		}
		if ok {
			ran = append(ran, name)
		}
	}
	t.Logf("%d of %d Sentinel queries run: %s", len(ran), len(cases), strings.Join(ran, ", "))
	for _, r := range refused {
		t.Logf("refused: %s", r)
	}
	if len(ran) < 11 {
		t.Errorf("only %d of 14 Sentinel queries run, want at least 11", len(ran))
	}
}
