package ruletest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/allowlist"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/rule"
	"github.com/entrawatch/entrawatch/internal/scan"
	"github.com/entrawatch/entrawatch/internal/sigma"
)

// Result is the outcome of one test.
type Result struct {
	Test *Test
	// Problems say why the test failed, one paragraph each (the first
	// line names the place in the test file); none means it passed.
	Problems []string
	// Notes are warnings that do not fail the test, such as what a Sigma
	// correlation rule could not count.
	Notes []string
	// Alerts are the alerts raised, in the order scan printed them.
	Alerts []*alert.Alert
}

// Passed reports whether the test passed.
func (r *Result) Passed() bool { return len(r.Problems) == 0 }

// Run runs the test: it writes the inline records to a temporary folder,
// scans every input with a fresh engine and compares the alerts with the
// expected ones.
func (t *Test) Run(ctx context.Context) *Result {
	res := &Result{Test: t}
	fail := func(format string, args ...any) *Result {
		res.Problems = append(res.Problems, fmt.Sprintf(format, args...))
		return res
	}
	dir, err := os.MkdirTemp("", "entrawatch-ruletest-")
	if err != nil {
		return fail("%s: cannot run: %v", t.Pos(), err)
	}
	defer os.RemoveAll(dir)

	o := &origins{test: t, dir: filepath.Dir(t.file.Path)}
	for i, in := range t.Inputs {
		p := in.Path
		if in.Data != nil {
			ext := formatExt[in.Format]
			if in.Mapped {
				ext = ".jsonl"
			}
			p = filepath.Join(dir, fmt.Sprintf("input-%d%s", i+1, ext))
			if err := os.WriteFile(p, in.Data, 0o600); err != nil {
				return fail("%s: cannot run: %v", t.Pos(), err)
			}
		}
		o.paths = append(o.paths, p)
	}

	eng, sigmaDets, notes, err := t.newEngine()
	if err != nil {
		return fail("%s: cannot run: %v", t.Pos(), err)
	}
	res.Notes = append(res.Notes, notes...)

	var warns []string
	collect := func(a *alert.Alert) error {
		res.Alerts = append(res.Alerts, a)
		return nil
	}
	year := t.Settings.Year
	if year == 0 && !t.Settings.Now.IsZero() {
		year = t.Settings.Now.Year()
	}
	cfg := scan.Config{
		Year:  year,
		Alert: collect,
		Warn:  func(msg string) { warns = append(warns, msg) },
	}

	// Inputs that force a format are scanned apart from the others, since
	// a scan forces one format for all its inputs; records still meet in
	// one engine, whose stateful detections finish once, after all of them.
	groups := groupByFormat(t.Inputs, o.paths)
	var records int64
	if len(groups) == 1 {
		cfg.Paths, cfg.InputFormat, cfg.Engine = groups[0].paths, groups[0].format, eng
		stats, err := scan.Run(ctx, cfg)
		if err != nil {
			return fail("%s: scan failed: %s", t.Pos(), o.relabel(err.Error()))
		}
		records = stats.Records
	} else {
		feed := new(detect.Engine)
		for _, d := range eng.Detectors() {
			feed.Add(feedOnly{d})
		}
		for _, g := range groups {
			cfg.Paths, cfg.InputFormat, cfg.Engine = g.paths, g.format, feed
			stats, err := scan.Run(ctx, cfg)
			if err != nil {
				return fail("%s: scan failed: %s", t.Pos(), o.relabel(err.Error()))
			}
			records += stats.Records
		}
		var fin []*alert.Alert
		eng.Finish(func(a *alert.Alert) { fin = append(fin, a) })
		res.Alerts = append(res.Alerts, fin...)
	}
	for _, d := range sigmaDets {
		for _, p := range d.Warnings() {
			res.Notes = append(res.Notes, o.relabel(p.Error()))
		}
	}
	if len(warns) > 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "%s: the inputs did not read cleanly (a test's records must all be usable):", t.Pos())
		for _, w := range warns {
			b.WriteString("\n    " + o.relabel(w))
		}
		res.Problems = append(res.Problems, b.String())
	}
	if records == 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("%s: the inputs hold no records", t.Pos()))
	}
	res.Problems = append(res.Problems, compare(t, o, res.Alerts)...)
	return res
}

// Pos returns the test's file and line, "rules.yml:12".
func (t *Test) Pos() string { return fmt.Sprintf("%s:%d", t.file.Path, t.Line) }

// newEngine builds the test's detections: the built-ins (unless turned
// off) and freshly compiled Sigma rules, so that no state is shared
// between tests.
func (t *Test) newEngine() (eng *detect.Engine, dets []*sigma.Detector, notes []string, err error) {
	f := t.file
	allow := &allowlist.List{}
	for _, e := range t.Settings.Allow {
		allow.Add(e)
	}
	eng, err = detect.NewEngine(detect.Options{
		Now:        t.Settings.Now,
		StaleAfter: t.Settings.StaleAfter,
		Disable:    t.Settings.Disable,
		Allow:      allow,
		NoBuiltin:  !f.Builtin,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	if len(f.rules) > 0 {
		var probs []sigma.Problem
		dets, probs = sigma.Compile(f.rules, rule.NewCompiler(), sigma.Config{Placeholders: f.Placeholders})
		if len(probs) > 0 {
			return nil, nil, nil, probs[0]
		}
		for _, d := range dets {
			eng.Add(d)
		}
	}
	for _, id := range eng.Replaced() {
		notes = append(notes, fmt.Sprintf("the Sigma rule %s replaces the built-in detection of that id, as with scan --rules", id))
	}
	if len(eng.Detectors()) == 0 {
		return nil, nil, nil, fmt.Errorf("no detections to run (every built-in detection is disabled and there are no Sigma rules)")
	}
	return eng, dets, notes, nil
}

// feedOnly passes records to a detector without letting the scan that
// feeds it finish it.
type feedOnly struct{ d detect.Detector }

func (f feedOnly) Info() *detect.Info                               { return f.d.Info() }
func (f feedOnly) Detect(r *record.Record, emit func(*alert.Alert)) { f.d.Detect(r, emit) }

type formatGroup struct {
	format string
	paths  []string
}

// groupByFormat groups the inputs by forced format, in order.
func groupByFormat(inputs []*Input, paths []string) []formatGroup {
	var out []formatGroup
	idx := map[string]int{}
	for i, in := range inputs {
		j, ok := idx[in.Format]
		if !ok {
			j = len(out)
			idx[in.Format] = j
			out = append(out, formatGroup{format: in.Format})
		}
		out[j].paths = append(out[j].paths, paths[i])
	}
	return out
}

// origins names where an alert's record came from in terms of the test
// file.
type origins struct {
	test  *Test
	dir   string
	paths []string
}

// input returns the 1-based input a scanned file belongs to, or 0.
func (o *origins) input(file string) int {
	for i, p := range o.paths {
		if file == p || strings.HasPrefix(file, p+string(filepath.Separator)) {
			return i + 1
		}
	}
	return 0
}

// describe names an alert's record: "input 1, record 2 (rules.yml:23)".
func (o *origins) describe(file string, line int64) string {
	i := o.input(file)
	if i == 0 {
		if file == "" {
			return "no source record"
		}
		return fmt.Sprintf("%s:%d", file, line)
	}
	in := o.test.Inputs[i-1]
	switch {
	case in.Mapped:
		s := fmt.Sprintf("input %d, record %d", i, line)
		if line >= 1 && int(line) <= len(in.RecordLines) {
			s += fmt.Sprintf(" (%s:%d)", o.test.file.Path, in.RecordLines[line-1])
		}
		return s
	case in.Data != nil:
		s := fmt.Sprintf("input %d, line %d", i, line)
		if lineBased(in.Data) && len(in.RecordLines) > 0 {
			s = fmt.Sprintf("input %d, record on line %d (%s:%d)", i, line, o.test.file.Path, in.RecordLines[0]+int(line)-1)
		}
		return s
	}
	rel := file
	if r, err := filepath.Rel(o.dir, file); err == nil {
		rel = filepath.ToSlash(r)
	}
	return fmt.Sprintf("input %d, %s:%d", i, rel, line)
}

// relabel replaces the temporary files' names in a message ("…/input-2:5:
// reason") by the inputs they hold ("input 2, line 5 (rules.yml:31): reason").
func (o *origins) relabel(msg string) string {
	for i, p := range o.paths {
		in := o.test.Inputs[i]
		if in.Data == nil {
			continue
		}
		re := regexp.MustCompile(regexp.QuoteMeta(p) + `(?::(\d+))?`)
		msg = re.ReplaceAllStringFunc(msg, func(m string) string {
			sub := re.FindStringSubmatch(m)
			if sub[1] == "" {
				return fmt.Sprintf("input %d (%s:%d)", i+1, o.test.file.Path, in.Line)
			}
			n, _ := strconv.ParseInt(sub[1], 10, 64)
			return o.describe(p, n)
		})
	}
	return msg
}

// lineBased tells whether inline text holds one record per line (JSON
// lines, CSV, syslog), so that a record's line is a line of the text.
func lineBased(data []byte) bool {
	for _, l := range bytes.Split(data, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		switch l[0] {
		case '[', '<':
			return false
		case '{':
			return json.Valid(l)
		}
		return true
	}
	return false
}

// formatTime prints an alert time as scan does.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format(time.RFC3339Nano)
}
