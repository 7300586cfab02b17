// Package ruletest runs rule unit tests: YAML files that give input records
// and the alerts the detections must raise on them, in the spirit of
// "promtool test rules". Each test writes its inline records to temporary
// files and scans them with the real pipeline (scan.Run) and a fresh
// engine, so that a test sees exactly what "entrawatch scan" would.
//
// The format is documented in docs/rule-tests.md.
package ruletest

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/allowlist"
	_ "github.com/entrawatch/entrawatch/internal/catalog" // the built-in Sigma detections, as scan has them
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/format"
	"github.com/entrawatch/entrawatch/internal/rule"
	"github.com/entrawatch/entrawatch/internal/sigma"
	"github.com/entrawatch/entrawatch/internal/yamltree"
)

// Error is a problem in a test file (or in a rule file it loads), at a
// position when one is known.
type Error struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors are every problem found in one test file.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// File is a loaded test file.
type File struct {
	// Path is the file as given to Load.
	Path string
	// RuleFiles are the Sigma rule files and folders, resolved against
	// the test file's folder.
	RuleFiles []string
	// Builtin tells whether the built-in detections run.
	Builtin bool
	// Placeholders are the values of Sigma expand placeholders.
	Placeholders map[string][]string
	Tests        []*Test

	rules []*sigma.Rule
}

// Settings tune the detections of a test; a test's own settings replace
// the file's.
type Settings struct {
	// Now is the reference time; zero means the current time.
	Now time.Time
	// StaleAfter is the inactivity of a stale device; zero means the default.
	StaleAfter time.Duration
	// Year is the year of classic syslog timestamps; zero means Now's year
	// when Now is set, else the file's modification time (as scan does).
	Year int
	// Disable lists built-in detections to turn off.
	Disable []string
	// Allow lists approved local VM accounts ([HOST:]ACCOUNT).
	Allow []allowlist.Entry
}

// Test is one test case.
type Test struct {
	Name string
	// Line and Col are where the test begins in its file.
	Line, Col int
	// ExpectLine is the line of the test's expect key.
	ExpectLine int
	Settings   Settings
	Inputs     []*Input
	Expect     []*Expectation
	file       *File
}

// File returns the test file the test belongs to.
func (t *Test) File() *File { return t.file }

// Input is one input of a test: inline records or a file.
type Input struct {
	Line, Col int
	// Format forces a reader (as --input-format does); empty sniffs.
	Format string
	// Path is a file or folder (resolved against the test file's folder),
	// for a file input.
	Path string
	// Rel is Path as written in the test file.
	Rel string
	// Data holds inline records: JSON lines for a list of mappings, the
	// string as written otherwise.
	Data []byte
	// Mapped is true when Data holds one JSON line per YAML mapping.
	Mapped bool
	// RecordLines are the test-file lines of the inline records: of each
	// mapping, or of the first line of the string (Data line k is then at
	// RecordLines[0]+k-1).
	RecordLines []int
}

// Expectation is one expected alert. Empty fields are not compared.
type Expectation struct {
	Line, Col int
	Rule      string
	Title     string
	Severity  alert.Severity
	// HasTime is set when time is given; a zero Time then means the alert
	// must carry no time.
	HasTime         bool
	Time            time.Time
	Summary         *string
	SummaryContains []string
	// Entities and Details map names to the exact values expected.
	Entities map[string]string
	Details  map[string]string
	// Input is the 1-based input the alert's record comes from;
	// SourceLine its line (or record number) as scan reports it.
	Input      int
	SourceLine int64
}

// entityNames are the keys of an expectation's entities.
var entityNames = []string{"user", "device_id", "device_name", "ip", "host"}

func entityValue(e alert.Entities, name string) string {
	switch name {
	case "user":
		return e.User
	case "device_id":
		return e.DeviceID
	case "device_name":
		return e.DeviceName
	case "ip":
		return e.IP
	case "host":
		return e.Host
	}
	return ""
}

// loader collects the problems of one file.
type loader struct {
	path string
	dir  string
	src  []byte
	errs Errors
}

func (l *loader) errorf(n *yamltree.Node, format string, args ...any) {
	e := &Error{File: l.path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Col
	}
	l.errs = append(l.errs, e)
}

// describe names a node for messages, telling an empty list apart.
func describe(n *yamltree.Node) string {
	if n.Kind == yamltree.Seq && len(n.Items) == 0 {
		return "an empty list"
	}
	return n.Describe()
}

// keyOf returns the key node of name in a mapping.
func keyOf(m *yamltree.Node, name string) *yamltree.Node {
	for _, k := range m.Keys {
		if k.Str == name {
			return k
		}
	}
	return nil
}

// checkKeys reports keys of m that are not allowed, and duplicate keys.
func (l *loader) checkKeys(m *yamltree.Node, what string, allowed []string) {
	ok := map[string]bool{}
	for _, a := range allowed {
		ok[a] = true
	}
	seen := map[string]bool{}
	for _, k := range m.Keys {
		switch {
		case !ok[k.Str]:
			l.errorf(k, "unknown key %q in %s (want one of %s)", k.Str, what, strings.Join(allowed, ", "))
		case seen[k.Str]:
			l.errorf(k, "duplicate key %q in %s", k.Str, what)
		}
		seen[k.Str] = true
	}
}

func (l *loader) str(n *yamltree.Node, what string) (string, bool) {
	if n.Kind != yamltree.Scalar {
		l.errorf(n, "%s must be a string, found %s", what, n.Describe())
		return "", false
	}
	return n.Str, true
}

// strList reads a scalar or a list of scalars.
func (l *loader) strList(n *yamltree.Node, what string) ([]string, []*yamltree.Node) {
	switch n.Kind {
	case yamltree.Null:
		return nil, nil
	case yamltree.Scalar:
		return []string{n.Str}, []*yamltree.Node{n}
	case yamltree.Seq:
		var out []string
		var nodes []*yamltree.Node
		for _, it := range n.Items {
			if it.Kind != yamltree.Scalar {
				l.errorf(it, "each of %s must be a string, found %s", what, it.Describe())
				continue
			}
			out = append(out, it.Str)
			nodes = append(nodes, it)
		}
		return out, nodes
	}
	l.errorf(n, "%s must be a string or a list of strings, found %s", what, n.Describe())
	return nil, nil
}

func (l *loader) boolean(n *yamltree.Node, what string) (bool, bool) {
	if n.Kind != yamltree.Scalar || n.Type != yamltree.Bool {
		l.errorf(n, "%s must be true or false, found %s", what, n.Describe())
		return false, false
	}
	return n.Str == "true", true
}

func (l *loader) integer(n *yamltree.Node, what string, min, max int64) (int64, bool) {
	if n.Kind == yamltree.Scalar {
		if v, err := strconv.ParseInt(n.Str, 10, 64); err == nil {
			if v < min || v > max {
				l.errorf(n, "%s %d is out of range (%d to %d)", what, v, min, max)
				return 0, false
			}
			return v, true
		}
	}
	l.errorf(n, "%s must be a whole number, found %s", what, n.Describe())
	return 0, false
}

func (l *loader) timeValue(n *yamltree.Node, what string) (time.Time, bool) {
	if n.Kind == yamltree.Scalar {
		if t, err := time.Parse(time.RFC3339Nano, n.Str); err == nil {
			return t.UTC(), true
		}
	}
	l.errorf(n, "%s must be an RFC 3339 time such as 2026-11-27T00:00:00Z, found %s", what, n.Describe())
	return time.Time{}, false
}

var settingKeys = []string{"now", "stale_after", "year", "disable", "allow"}

// settings reads the settings keys of m into s.
func (l *loader) settings(m *yamltree.Node, s *Settings) {
	if n := m.Get("now"); n != nil {
		if t, ok := l.timeValue(n, "now"); ok {
			s.Now = t
		}
	}
	if n := m.Get("stale_after"); n != nil {
		if v, ok := l.str(n, "stale_after"); ok {
			d, err := detect.ParseDays(v)
			switch {
			case err != nil:
				l.errorf(n, "stale_after: %v", err)
			case d < detect.MinStaleAfter:
				l.errorf(n, "stale_after %s is under 21 days, which scan refuses (Entra updates a device's activity time only every 14±5 days)", v)
			default:
				s.StaleAfter = d
			}
		}
	}
	if n := m.Get("year"); n != nil {
		if y, ok := l.integer(n, "year", 1, 9999); ok {
			s.Year = int(y)
		}
	}
	if n := m.Get("disable"); n != nil {
		known := map[string]bool{}
		for _, info := range detect.Catalogue() {
			known[info.ID] = true
		}
		ids, nodes := l.strList(n, "disable")
		s.Disable = nil
		for i, id := range ids {
			if !known[id] {
				l.errorf(nodes[i], "disable: unknown built-in detection %q (see entrawatch rules list)", id)
				continue
			}
			s.Disable = append(s.Disable, id)
		}
	}
	if n := m.Get("allow"); n != nil {
		specs, nodes := l.strList(n, "allow")
		s.Allow = nil
		for i, spec := range specs {
			e, err := allowlist.ParseEntry(spec)
			if err != nil {
				l.errorf(nodes[i], "allow %q: %v", spec, err)
				continue
			}
			s.Allow = append(s.Allow, e)
		}
	}
}

// Load reads and checks a test file, and loads and compiles the Sigma
// rules it names. The error is an Errors listing every problem.
func Load(path string) (*File, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, Errors{{File: path, Msg: err.Error()}}
	}
	return parse(path, src)
}

func parse(path string, src []byte) (*File, error) {
	l := &loader{path: path, dir: filepath.Dir(path), src: src}
	docs, err := yamltree.Parse(src)
	if err != nil {
		e := &Error{File: path, Msg: err.Error()}
		if ye, ok := err.(*yamltree.Error); ok {
			e.Line, e.Col, e.Msg = ye.Line, ye.Col, ye.Msg
		}
		return nil, Errors{e}
	}
	switch {
	case len(docs) == 0:
		return nil, Errors{{File: path, Line: 1, Col: 1, Msg: "empty test file (want a mapping with tests)"}}
	case len(docs) > 1:
		return nil, Errors{{File: path, Line: docs[1].Line, Col: docs[1].Col, Msg: "a test file holds one YAML document; found another here"}}
	}
	doc := docs[0]
	if doc.Kind != yamltree.Map {
		return nil, Errors{{File: path, Line: doc.Line, Col: doc.Col, Msg: "a test file must be a mapping with tests, found " + doc.Describe()}}
	}
	f := &File{Path: path}
	l.checkKeys(doc, "the test file", append([]string{"rule_files", "builtin", "placeholders", "tests"}, settingKeys...))

	ruleNode := doc.Get("rule_files")
	named := 0
	if n := ruleNode; n != nil {
		files, nodes := l.strList(n, "rule_files")
		named = len(files)
		for i, rf := range files {
			p := rf
			if !filepath.IsAbs(p) {
				p = filepath.Join(l.dir, filepath.FromSlash(rf))
			}
			if strings.ContainsAny(rf, "*?[") {
				m, err := filepath.Glob(p)
				if err != nil {
					l.errorf(nodes[i], "rule_files %q: %v", rf, err)
				} else if len(m) == 0 {
					l.errorf(nodes[i], "rule_files %q matches no file (paths are relative to the test file)", rf)
				}
				f.RuleFiles = append(f.RuleFiles, m...)
				continue
			}
			if _, err := os.Stat(p); err != nil {
				l.errorf(nodes[i], "rule_files %q: no such file or folder (paths are relative to the test file)", rf)
				continue
			}
			f.RuleFiles = append(f.RuleFiles, p)
		}
	}
	f.Builtin = named == 0
	if n := doc.Get("builtin"); n != nil {
		if b, ok := l.boolean(n, "builtin"); ok {
			f.Builtin = b
		}
	}
	if n := doc.Get("placeholders"); n != nil {
		f.Placeholders = map[string][]string{}
		if n.Kind != yamltree.Map {
			l.errorf(n, "placeholders must be a mapping of names to a value or a list of values, found %s", n.Describe())
		} else {
			for i, k := range n.Keys {
				vals, _ := l.strList(n.Values[i], "placeholder "+k.Str)
				f.Placeholders[k.Str] = vals
			}
		}
	}
	var defaults Settings
	l.settings(doc, &defaults)
	if !f.Builtin && named == 0 {
		l.errorf(doc.Get("builtin"), "nothing to test: builtin is false and there are no rule_files")
	}

	tests := doc.Get("tests")
	switch {
	case tests == nil:
		l.errorf(doc, "the test file has no tests")
	case tests.Kind != yamltree.Seq || len(tests.Items) == 0:
		l.errorf(tests, "tests must be a non-empty list of tests, found %s", describe(tests))
	default:
		names := map[string]*yamltree.Node{}
		for _, tn := range tests.Items {
			t := l.test(tn, defaults)
			if t == nil {
				continue
			}
			t.file = f
			nameNode := tn.Get("name")
			if prev, dup := names[t.Name]; dup {
				l.errorf(nameNode, "duplicate test name %q (also at line %d)", t.Name, prev.Line)
			}
			names[t.Name] = nameNode
			f.Tests = append(f.Tests, t)
		}
	}
	if len(l.errs) > 0 {
		sort.SliceStable(l.errs, func(i, j int) bool {
			a, b := l.errs[i], l.errs[j]
			return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
		})
		return nil, l.errs
	}

	// The rules are compiled once here, for their problems; each test
	// compiles them again into fresh detectors.
	if len(f.RuleFiles) > 0 {
		rules, probs := sigma.LoadPaths(f.RuleFiles)
		_, cprobs := sigma.Compile(rules, rule.NewCompiler(), sigma.Config{Placeholders: f.Placeholders})
		for _, p := range append(probs, cprobs...) {
			msg := p.Msg
			if p.RuleID != "" {
				msg = "rule " + p.RuleID + ": " + msg
			}
			l.errs = append(l.errs, &Error{File: p.File, Line: p.Line, Col: p.Col,
				Msg: fmt.Sprintf("%s (loaded by rule_files of %s:%s)", msg, path, ruleNode.Pos())})
		}
		if len(l.errs) > 0 {
			return nil, l.errs
		}
		f.rules = rules
	}
	return f, nil
}

var testKeys = append([]string{"name", "input", "expect"}, settingKeys...)

func (l *loader) test(n *yamltree.Node, defaults Settings) *Test {
	if n.Kind != yamltree.Map {
		l.errorf(n, "a test must be a mapping with name, input and expect, found %s", n.Describe())
		return nil
	}
	before := len(l.errs)
	l.checkKeys(n, "a test", testKeys)
	t := &Test{Line: n.Line, Col: n.Col, Settings: defaults}
	if len(n.Keys) > 0 {
		t.Line, t.Col = n.Keys[0].Line, n.Keys[0].Col
	}
	if nn := n.Get("name"); nn == nil {
		l.errorf(n, "the test has no name")
	} else if s, ok := l.str(nn, "name"); ok {
		if strings.TrimSpace(s) == "" {
			l.errorf(nn, "the test name is empty")
		}
		t.Name = s
	}
	l.settings(n, &t.Settings)

	in := n.Get("input")
	switch {
	case in == nil:
		l.errorf(n, "test %q has no input", t.Name)
	case in.Kind != yamltree.Seq || len(in.Items) == 0:
		l.errorf(in, "input must be a non-empty list of inputs (records: or file:), found %s", describe(in))
	default:
		for _, it := range in.Items {
			if x := l.input(it); x != nil {
				t.Inputs = append(t.Inputs, x)
			}
		}
	}

	ex := n.Get("expect")
	switch {
	case ex == nil:
		l.errorf(n, "test %q has no expect (write expect: [] for a test that must raise nothing)", t.Name)
	case ex.Kind != yamltree.Seq:
		l.errorf(ex, "expect must be a list of alerts (expect: [] for none), found %s", ex.Describe())
	default:
		t.ExpectLine = keyOf(n, "expect").Line
		for _, it := range ex.Items {
			if e := l.expectation(it, len(t.Inputs)); e != nil {
				t.Expect = append(t.Expect, e)
			}
		}
	}
	if len(l.errs) > before {
		return nil
	}
	return t
}

var formatExt = map[string]string{"json": ".json", "csv": ".csv", "syslog": ".log", "journald": ".json", "winxml": ".xml", "evtx": ".evtx"}

func (l *loader) input(n *yamltree.Node) *Input {
	if n.Kind != yamltree.Map {
		l.errorf(n, "an input must be a mapping with records: or file:, found %s", n.Describe())
		return nil
	}
	l.checkKeys(n, "an input", []string{"format", "records", "file"})
	x := &Input{Line: n.Line, Col: n.Col}
	if len(n.Keys) > 0 {
		x.Line, x.Col = n.Keys[0].Line, n.Keys[0].Col
	}
	if fn := n.Get("format"); fn != nil {
		if s, ok := l.str(fn, "format"); ok {
			if _, err := format.Lookup(s); err != nil {
				l.errorf(fn, "format: %v", err)
			}
			x.Format = s
		}
	}
	recs, file := n.Get("records"), n.Get("file")
	switch {
	case recs != nil && file != nil:
		l.errorf(keyOf(n, "file"), "an input has records: or file:, not both")
	case recs != nil:
		l.records(recs, x)
	case file != nil:
		if s, ok := l.str(file, "file"); ok {
			x.Rel = s
			x.Path = s
			if !filepath.IsAbs(s) {
				x.Path = filepath.Join(l.dir, filepath.FromSlash(s))
			}
			if _, err := os.Stat(x.Path); err != nil {
				l.errorf(file, "file %q: no such file or folder (paths are relative to the test file)", s)
			}
		}
	default:
		l.errorf(n, "an input needs records: (inline records) or file: (a file relative to the test file)")
	}
	return x
}

// records reads inline records: a list of mappings (one JSON line each) or
// a string written as is.
func (l *loader) records(n *yamltree.Node, x *Input) {
	switch n.Kind {
	case yamltree.Seq:
		if len(n.Items) == 0 {
			l.errorf(n, "records is an empty list")
			return
		}
		x.Mapped = true
		var b []byte
		for _, it := range n.Items {
			if it.Kind != yamltree.Map {
				l.errorf(it, "each record in a records list must be a mapping (one JSON record), found %s; write other formats as a block string (records: |)", it.Describe())
				continue
			}
			b = appendJSON(b, it)
			b = append(b, '\n')
			line := it.Line
			if len(it.Keys) > 0 {
				line = it.Keys[0].Line
			}
			x.RecordLines = append(x.RecordLines, line)
		}
		x.Data = b
	case yamltree.Scalar:
		if strings.TrimSpace(n.Str) == "" {
			l.errorf(n, "records is an empty string")
			return
		}
		x.Data = []byte(n.Str)
		// A block scalar (| or >) starts on the line after its indicator.
		first := n.Line
		if c := l.charAt(n.Line, n.Col); c == '|' || c == '>' {
			first++
		}
		x.RecordLines = []int{first}
	default:
		l.errorf(n, "records must be a list of mappings or a string of records (JSON lines, CSV, syslog…), found %s", n.Describe())
	}
}

// charAt returns the byte at a 1-based line and column of the source.
func (l *loader) charAt(line, col int) byte {
	rest := l.src
	for i := 1; i < line; i++ {
		j := strings.IndexByte(string(rest), '\n')
		if j < 0 {
			return 0
		}
		rest = rest[j+1:]
	}
	if col < 1 || col > len(rest) {
		return 0
	}
	return rest[col-1]
}

var expectKeys = []string{"rule", "severity", "time", "title", "summary", "summary_contains", "entities", "details", "input", "line"}

func (l *loader) expectation(n *yamltree.Node, inputs int) *Expectation {
	if n.Kind != yamltree.Map {
		l.errorf(n, "an expected alert must be a mapping (rule, severity, time…), found %s", n.Describe())
		return nil
	}
	l.checkKeys(n, "an expected alert", expectKeys)
	e := &Expectation{Line: n.Line, Col: n.Col}
	if len(n.Keys) > 0 {
		e.Line, e.Col = n.Keys[0].Line, n.Keys[0].Col
	}
	if rn := n.Get("rule"); rn == nil {
		l.errorf(n, "an expected alert needs its rule (a detection id, or a Sigma rule's id)")
	} else if s, ok := l.str(rn, "rule"); ok {
		e.Rule = s
	}
	if sn := n.Get("severity"); sn != nil {
		if s, ok := l.str(sn, "severity"); ok {
			sev, err := alert.ParseSeverity(s)
			if err != nil {
				l.errorf(sn, "severity: %v", err)
			}
			e.Severity = sev
		}
	}
	if tn := n.Get("time"); tn != nil {
		e.HasTime = true
		if !(tn.Kind == yamltree.Null || tn.Kind == yamltree.Scalar && tn.Str == "") {
			e.Time, _ = l.timeValue(tn, "time")
		}
	}
	if tn := n.Get("title"); tn != nil {
		e.Title, _ = l.str(tn, "title")
	}
	if sn := n.Get("summary"); sn != nil {
		if s, ok := l.str(sn, "summary"); ok {
			e.Summary = &s
		}
	}
	if sn := n.Get("summary_contains"); sn != nil {
		e.SummaryContains, _ = l.strList(sn, "summary_contains")
	}
	if en := n.Get("entities"); en != nil {
		e.Entities = l.stringMap(en, "entities", entityNames)
	}
	if dn := n.Get("details"); dn != nil {
		e.Details = l.stringMap(dn, "details", nil)
	}
	if in := n.Get("input"); in != nil {
		if v, ok := l.integer(in, "input", 1, int64(max(inputs, 1))); ok {
			e.Input = int(v)
		}
	}
	if ln := n.Get("line"); ln != nil {
		if v, ok := l.integer(ln, "line", 1, math.MaxInt64); ok {
			e.SourceLine = v
		}
	}
	return e
}

// stringMap reads a mapping of names to scalars; allowed limits the names
// when not nil.
func (l *loader) stringMap(n *yamltree.Node, what string, allowed []string) map[string]string {
	if n.Kind != yamltree.Map {
		l.errorf(n, "%s must be a mapping of names to values, found %s", what, n.Describe())
		return nil
	}
	if allowed != nil {
		l.checkKeys(n, what, allowed)
	}
	out := map[string]string{}
	for i, k := range n.Keys {
		v := n.Values[i]
		switch v.Kind {
		case yamltree.Scalar:
			out[k.Str] = v.Str
		case yamltree.Null:
			out[k.Str] = ""
		default:
			l.errorf(v, "%s %s must be a string, found %s", what, k.Str, v.Describe())
		}
	}
	return out
}
