package sigma

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/rule"
)

// Detector runs one compiled Sigma rule: a detection rule, or a
// correlation rule (see correlation.go), which also implements
// detect.Finisher and raises its alerts once every record is seen.
type Detector struct {
	info   detect.Info
	rule   *Rule
	match  rule.Matcher
	fields []*record.Field
	// Describe, when set, writes the alert's summary, entities and details
	// instead of the generic description (the built-ins set it).
	Describe func(r *record.Record, a *alert.Alert)
	// corr is set for a correlation rule.
	corr *correlation
	// feeds lists the correlations without generate: true that reference
	// this detection rule: it then raises no alerts of its own (the Sigma
	// default), its matches only feed them.
	feeds []string
}

// Info implements detect.Detector.
func (d *Detector) Info() *detect.Info { return &d.info }

// Rule returns the Sigma rule the detector runs.
func (d *Detector) Rule() *Rule { return d.rule }

// IsCorrelation reports whether the detector runs a correlation rule.
func (d *Detector) IsCorrelation() bool { return d.corr != nil }

// Feeds returns the correlations that use this detection rule's matches
// without generate: true; the rule then raises no alerts of its own.
func (d *Detector) Feeds() []string { return d.feeds }

// Warnings returns, after Finish, what a correlation could not count:
// records without a usable event time or group-by value, groups over
// MaxGroupEvents, records not kept for alerts.
func (d *Detector) Warnings() []Problem {
	if d.corr == nil {
		return nil
	}
	return d.corr.warnings
}

// Detect implements detect.Detector.
func (d *Detector) Detect(r *record.Record, emit func(*alert.Alert)) {
	if d.corr != nil {
		d.corr.detect(r)
		return
	}
	if len(d.feeds) > 0 || !d.match(r) {
		return
	}
	a := detect.NewAlert(&d.info, r)
	if d.Describe != nil {
		d.Describe(r, a)
		emit(a)
		return
	}
	if d.rule.Level != "" && d.rule.Level != a.Severity.String() {
		a.Details = append(a.Details, alert.Detail{Name: "sigma_level", Value: d.rule.Level})
	}
	var parts []string
	for i, f := range d.fields {
		if v := r.Get(f); v != nil {
			t := record.Text(v)
			a.Details = append(a.Details, alert.Detail{Name: d.rule.Fields[i], Value: t})
			if len(parts) < 4 && t != "" {
				parts = append(parts, d.rule.Fields[i]+"="+t)
			}
		}
	}
	who := []string{}
	for _, x := range []string{a.Entities.User, a.Entities.Host, a.Entities.IP} {
		if x != "" {
			who = append(who, x)
		}
	}
	a.Summary = d.rule.Title
	if len(who) > 0 {
		a.Summary += " (" + strings.Join(who, ", ") + ")"
	}
	if len(parts) > 0 {
		a.Summary += ": " + strings.Join(parts, ", ")
	}
	emit(a)
}

// Finish implements detect.Finisher: a correlation raises its alerts,
// sorted by time. Detection rules raise nothing here.
func (d *Detector) Finish(emit func(*alert.Alert)) {
	if d.corr != nil {
		d.corr.finish(emit)
	}
}

var (
	_ detect.Detector = (*Detector)(nil)
	_ detect.Finisher = (*Detector)(nil)
)

// Severity maps a Sigma level to entrawatch's three risk levels:
// informational and low are low, critical is high.
func Severity(level string) (alert.Severity, error) {
	switch strings.ToLower(level) {
	case "informational", "low":
		return alert.Low, nil
	case "medium", "":
		return alert.Medium, nil
	case "high", "critical":
		return alert.High, nil
	}
	return 0, fmt.Errorf("unknown level %q (informational, low, medium, high or critical)", level)
}

var techniqueRE = regexp.MustCompile(`^attack\.(t\d{4}(?:\.\d{3})?)$`)

// Technique returns the ATT&CK techniques named in tags.
func Technique(tags []string) string {
	var out []string
	for _, t := range tags {
		if m := techniqueRE.FindStringSubmatch(strings.ToLower(t)); m != nil {
			out = append(out, strings.ToUpper(m[1]))
		}
	}
	return strings.Join(out, ", ")
}

// Compile compiles rules with the shared compiler c. Rules that cannot be
// used come back as problems, each with its file, line and reason.
func Compile(rules []*Rule, c *rule.Compiler, cfg Config) ([]*Detector, []Problem) {
	var out []*Detector
	var probs []Problem
	seen := map[string]string{}
	compiled := map[*Rule]*Detector{}
	failed := map[*Rule]string{}
	// Filter rules (filter.go) are resolved first: each detection rule
	// they name gets their conditions ANDed into its own.
	filters, fprobs := compileFilters(rules, cfg)
	probs = append(probs, fprobs...)
	for _, r := range rules {
		fail := func(line, col int, msg string) {
			if line == 0 {
				line, col = r.Line, 1
			}
			probs = append(probs, Problem{File: r.File, Line: line, Col: col, RuleID: r.Name(), Msg: msg})
			failed[r] = msg
		}
		if r.Type == "correlation" || r.Type == "filter" {
			continue // correlations are compiled below, once every detection rule is; filters above
		}
		if r.Type != "" {
			n := r.doc.Get(r.Type)
			fail(n.Line, n.Col, fmt.Sprintf("%s rules are not supported yet", r.Type))
			continue
		}
		if r.Title == "" {
			fail(r.Line, 1, "the rule has no title")
			continue
		}
		sev, err := Severity(r.Level)
		if err != nil {
			n := r.doc.Get("level")
			fail(n.Line, n.Col, err.Error())
			continue
		}
		kinds, err := r.Logsource.Kinds()
		if err != nil {
			line, col := r.Line, 1
			if n := r.doc.Get("logsource"); n != nil {
				line, col = n.Line, n.Col
			}
			fail(line, col, err.Error())
			continue
		}
		expr, err := r.Detection(cfg)
		if err != nil {
			line, col := 0, 0
			if ce, ok := err.(*compileError); ok && ce.n != nil {
				line, col = ce.n.Line, ce.n.Col
			}
			fail(line, col, err.Error())
			continue
		}
		if fs := filters[r]; len(fs) > 0 {
			expr = rule.And(append([]rule.Expr{expr}, fs...))
		}
		m, err := c.Compile(expr)
		if err != nil {
			fail(0, 0, err.Error())
			continue
		}
		if prev, dup := seen[r.Name()]; dup {
			fail(0, 0, fmt.Sprintf("duplicate rule id %s (also in %s)", r.Name(), prev))
			continue
		}
		seen[r.Name()] = r.File
		d := &Detector{rule: r, match: m, info: detect.Info{
			ID: r.Name(), Title: r.Title, Severity: sev, Source: "Sigma: " + r.Logsource.String(),
			Technique: Technique(r.Tags), Description: strings.TrimSpace(r.Description), Kinds: kinds,
			Next: strings.Join(r.FalsePositives, "; "),
		}}
		if n, ok := r.Custom["next"]; ok {
			d.info.Next = strings.TrimSpace(n)
		}
		if n, ok := r.Custom["data_source"]; ok {
			d.info.Source = n
		}
		for _, f := range r.Fields {
			d.fields = append(d.fields, c.Field(f))
		}
		out = append(out, d)
		compiled[r] = d
	}
	// Correlation rules reference the rules above, from any file of the set.
	cds, cprobs := compileCorrelations(rules, c, compiled, failed, seen)
	return append(out, cds...), append(probs, cprobs...)
}
