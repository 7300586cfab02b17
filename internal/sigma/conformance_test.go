package sigma

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/rule"
	"github.com/entrawatch/entrawatch/internal/yamltree"
	"github.com/valyala/fastjson"
)

// conformanceDir holds the Sigma conformance suite; testdata/sigma/README.md
// describes its format.
const conformanceDir = "../../testdata/sigma/conformance"

// confCase is one rule of the suite and what it must do.
type confCase struct {
	file  string
	rule  *Rule
	cases *yamltree.Node // the document after the rule
}

// loadConformance reads every case file: a YAML stream in which each Sigma
// rule document is followed by the document of its expectations (a
// mapping with "tests" or "error").
func loadConformance(t *testing.T) []confCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(conformanceDir, "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no case files in %s", conformanceDir)
	}
	sort.Strings(files)
	var out []confCase
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs, probs := Parse(f, src)
		for _, p := range probs {
			t.Errorf("%v", p)
		}
		var cur *Rule
		for _, d := range docs {
			isCase := d.doc.Get("detection") == nil && d.doc.Get("correlation") == nil &&
				(d.doc.Get("tests") != nil || d.doc.Get("error") != nil)
			switch {
			case isCase && cur == nil:
				t.Errorf("%s:%d: expectations without a rule before them", f, d.Line)
			case isCase:
				out = append(out, confCase{file: f, rule: cur, cases: d.doc})
				cur = nil
			case cur != nil:
				t.Errorf("%s:%d: rule %q has no expectations document after it", f, cur.Line, cur.Title)
				cur = d
			default:
				cur = d
			}
		}
		if cur != nil {
			t.Errorf("%s:%d: rule %q has no expectations document after it", f, cur.Line, cur.Title)
		}
	}
	return out
}

// TestSigmaConformance runs the conformance suite: every rule compiles (or
// is refused with the expected message at a line), and every test event
// matches or not as expected.
func TestSigmaConformance(t *testing.T) {
	cases := loadConformance(t)
	if len(cases) < 100 {
		t.Errorf("only %d conformance cases in %s", len(cases), conformanceDir)
	}
	for _, cc := range cases {
		name := fmt.Sprintf("%s:%d", filepath.Base(cc.file), cc.rule.Line)
		t.Run(name, func(t *testing.T) {
			cfg := Config{Placeholders: map[string][]string{}}
			if ph := cc.cases.Get("placeholders"); ph != nil {
				for i, k := range ph.Keys {
					for _, v := range asList(ph.Values[i]).Items {
						cfg.Placeholders[k.Str] = append(cfg.Placeholders[k.Str], v.Str)
					}
				}
			}
			dets, probs := Compile([]*Rule{cc.rule}, rule.NewCompiler(), cfg)
			where := fmt.Sprintf("%s:%d (%s)", cc.file, cc.rule.Line, cc.rule.Title)
			if e := cc.cases.Get("error"); e != nil {
				checkRefused(t, where, cc, e.Str, dets, probs)
				return
			}
			if len(probs) > 0 || len(dets) != 1 {
				for _, p := range probs {
					t.Errorf("%s: unexpected problem: %v", where, p)
				}
				t.Fatalf("%s: rule did not compile", where)
			}
			d := dets[0]
			base := cc.cases.Get("base")
			tests := cc.cases.Get("tests")
			if tests == nil || tests.Kind != yamltree.Seq || len(tests.Items) == 0 {
				t.Fatalf("%s: tests must be a non-empty list", where)
			}
			var pos, neg int
			for i, tc := range tests.Items {
				label := fmt.Sprintf("%s: test %d (line %d)", where, i+1, tc.Line)
				if n := tc.Get("name"); n != nil {
					label += " " + n.Str
				}
				want := tc.Get("match")
				if want == nil || want.Type != yamltree.Bool {
					t.Errorf("%s: match must be true or false", label)
					continue
				}
				js, err := eventJSON(tc, base)
				if err != nil {
					t.Errorf("%s: %v", label, err)
					continue
				}
				got, kind, err := runEvent(d, js)
				if err != nil {
					t.Errorf("%s: %v", label, err)
					continue
				}
				if !slices.Contains(d.Info().Kinds, kind) {
					t.Errorf("%s: the event classifies as %s, the rule reads %v:\n  %s", label, kind, d.Info().Kinds, js)
					continue
				}
				if want.Str == "true" {
					pos++
				} else {
					neg++
				}
				if got != (want.Str == "true") {
					t.Errorf("%s: matched=%v, want %s\n  event: %s", label, got, want.Str, js)
				}
			}
			if pos == 0 || neg == 0 {
				t.Errorf("%s: needs at least one positive and one negative event (has %d and %d)", where, pos, neg)
			}
		})
	}
}

// checkRefused checks that a rule was refused with the expected message, at
// a line of its file.
func checkRefused(t *testing.T, where string, cc confCase, want string, dets []*Detector, probs []Problem) {
	t.Helper()
	if len(dets) > 0 {
		t.Fatalf("%s: compiled, want refused with %q", where, want)
	}
	var wantLine int
	if l := cc.cases.Get("line"); l != nil {
		fmt.Sscan(l.Str, &wantLine)
	}
	for _, p := range probs {
		if !strings.Contains(p.Msg, want) {
			continue
		}
		if p.File != cc.file {
			t.Errorf("%s: problem names file %q, want %q", where, p.File, cc.file)
		}
		if p.Line <= 0 {
			t.Errorf("%s: problem %q has no line", where, p.Msg)
		}
		if wantLine > 0 && p.Line != wantLine {
			t.Errorf("%s: problem %q at line %d, want line %d", where, p.Msg, p.Line, wantLine)
		}
		return
	}
	t.Errorf("%s: refused with %v, want a message containing %q", where, probs, want)
}

// runEvent parses one event, classifies it and runs the detector on it.
func runEvent(d *Detector, js string) (bool, record.Kind, error) {
	var p fastjson.Parser
	v, err := p.Parse(js)
	if err != nil {
		return false, 0, fmt.Errorf("event is not JSON: %v: %s", err, js)
	}
	r := &record.Record{Root: v, Raw: []byte(js), Source: record.Source{File: "conformance.json", Line: 1, Format: "json"}}
	r.Classify()
	defer r.Release()
	matched := false
	d.Detect(r, func(*alert.Alert) { matched = true })
	return matched, r.Kind, nil
}

// eventJSON returns a test's event as JSON text: "json" holds it verbatim,
// "event" as a YAML (or JSON) mapping, completed by the keys of base it
// does not have.
func eventJSON(tc, base *yamltree.Node) (string, error) {
	if j := tc.Get("json"); j != nil {
		if !json.Valid([]byte(j.Str)) {
			return "", fmt.Errorf("json is not valid JSON: %s", j.Str)
		}
		return j.Str, nil
	}
	ev := tc.Get("event")
	if ev == nil || ev.Kind != yamltree.Map {
		return "", fmt.Errorf("a test needs an event mapping or a json string")
	}
	if base != nil && base.Kind == yamltree.Map {
		merged := &yamltree.Node{Kind: yamltree.Map, Line: ev.Line, Col: ev.Col}
		merged.Keys = append(merged.Keys, ev.Keys...)
		merged.Values = append(merged.Values, ev.Values...)
		for i, k := range base.Keys {
			if ev.Get(k.Str) == nil {
				merged.Keys = append(merged.Keys, k)
				merged.Values = append(merged.Values, base.Values[i])
			}
		}
		ev = merged
	}
	var b strings.Builder
	if err := writeJSON(&b, ev); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writeJSON(b *strings.Builder, n *yamltree.Node) error {
	quote := func(s string) {
		q, _ := json.Marshal(s)
		b.Write(q)
	}
	switch n.Kind {
	case yamltree.Null:
		b.WriteString("null")
	case yamltree.Map:
		b.WriteByte('{')
		for i, k := range n.Keys {
			if i > 0 {
				b.WriteByte(',')
			}
			quote(k.Str)
			b.WriteByte(':')
			if err := writeJSON(b, n.Values[i]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yamltree.Seq:
		b.WriteByte('[')
		for i, it := range n.Items {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, it); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yamltree.Scalar:
		switch n.Type {
		case yamltree.String:
			quote(n.Str)
		case yamltree.Bool:
			b.WriteString(n.Str)
		default:
			if !json.Valid([]byte(n.Str)) {
				return fmt.Errorf("line %d: %s is not a JSON number (quote it or use json:)", n.Line, n.Str)
			}
			b.WriteString(n.Str)
		}
	}
	return nil
}
