package ruletest

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/entrawatch/entrawatch/internal/alert"
)

// mismatches lists how alert a differs from expectation e; none means it
// matches.
func mismatches(e *Expectation, a *alert.Alert, o *origins) []string {
	var out []string
	if a.Rule != e.Rule {
		out = append(out, fmt.Sprintf("rule: want %s, got %s", e.Rule, a.Rule))
	}
	if e.Severity != 0 && a.Severity != e.Severity {
		out = append(out, fmt.Sprintf("severity: want %s, got %s", e.Severity, a.Severity))
	}
	if e.HasTime && !a.Time.Equal(e.Time) {
		out = append(out, fmt.Sprintf("time: want %s, got %s", formatTime(e.Time), formatTime(a.Time)))
	}
	if e.Title != "" && a.Title != e.Title {
		out = append(out, fmt.Sprintf("title: want %q, got %q", e.Title, a.Title))
	}
	if e.Summary != nil && a.Summary != *e.Summary {
		out = append(out, fmt.Sprintf("summary: want %q, got %q", *e.Summary, a.Summary))
	}
	for _, s := range e.SummaryContains {
		if !strings.Contains(a.Summary, s) {
			out = append(out, fmt.Sprintf("summary_contains: %q is not in summary %q", s, a.Summary))
		}
	}
	for _, name := range entityNames {
		want, ok := e.Entities[name]
		if got := entityValue(a.Entities, name); ok && got != want {
			out = append(out, fmt.Sprintf("entities.%s: want %q, got %q", name, want, got))
		}
	}
	for _, name := range sortedKeys(e.Details) {
		want := e.Details[name]
		var got []string
		found := false
		for _, d := range a.Details {
			if d.Name == name {
				got = append(got, strconv.Quote(d.Value))
				found = found || d.Value == want
			}
		}
		switch {
		case found:
		case len(got) == 0:
			out = append(out, fmt.Sprintf("details.%s: want %q, the alert has no such detail", name, want))
		default:
			out = append(out, fmt.Sprintf("details.%s: want %q, got %s", name, want, strings.Join(got, " and ")))
		}
	}
	if e.Input != 0 {
		if got := o.input(a.Source.File); got != e.Input {
			out = append(out, fmt.Sprintf("input: want %d, got %d", e.Input, got))
		}
	}
	if e.SourceLine != 0 && a.Source.Line != e.SourceLine {
		out = append(out, fmt.Sprintf("line: want %d, got %d", e.SourceLine, a.Source.Line))
	}
	return out
}

// compare matches the alerts with the expectations, in any order, one
// alert per expectation, and describes every difference.
func compare(t *Test, o *origins, alerts []*alert.Alert) []string {
	ne, na := len(t.Expect), len(alerts)
	ok := make([][]bool, ne)
	for i, e := range t.Expect {
		ok[i] = make([]bool, na)
		for j, a := range alerts {
			ok[i][j] = len(mismatches(e, a, o)) == 0
		}
	}
	// Maximum bipartite matching (augmenting paths): expectations that
	// leave some fields open could otherwise take an alert another one
	// needs.
	alertOf := make([]int, ne)
	expOf := make([]int, na)
	for i := range alertOf {
		alertOf[i] = -1
	}
	for j := range expOf {
		expOf[j] = -1
	}
	var augment func(i int, seen []bool) bool
	augment = func(i int, seen []bool) bool {
		for j := 0; j < na; j++ {
			if !ok[i][j] || seen[j] {
				continue
			}
			seen[j] = true
			if expOf[j] < 0 || augment(expOf[j], seen) {
				alertOf[i], expOf[j] = j, i
				return true
			}
		}
		return false
	}
	for i := 0; i < ne; i++ {
		augment(i, make([]bool, na))
	}

	var out []string
	path := t.file.Path
	// An unmatched expectation is compared with the closest unmatched
	// alert of its rule; with none left, the alert is missing.
	for i, e := range t.Expect {
		if alertOf[i] >= 0 {
			continue
		}
		best, bestN := -1, 0
		var bestDiff []string
		for j, a := range alerts {
			if expOf[j] >= 0 || a.Rule != e.Rule {
				continue
			}
			d := mismatches(e, a, o)
			if best < 0 || len(d) < bestN {
				best, bestN, bestDiff = j, len(d), d
			}
		}
		if best < 0 {
			out = append(out, fmt.Sprintf("%s:%d: expected alert not raised: %s", path, e.Line, describeExpectation(e)))
			continue
		}
		expOf[best] = i
		a := alerts[best]
		out = append(out, fmt.Sprintf("%s:%d: alert %s from %s differs:\n    %s", path, e.Line, a.Rule, o.describe(a.Source.File, a.Source.Line), strings.Join(bestDiff, "\n    ")))
	}
	for j, a := range alerts {
		if expOf[j] >= 0 {
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d: unexpected alert %s from %s; to expect it, add to expect:\n%s",
			path, t.ExpectLine, a.Rule, o.describe(a.Source.File, a.Source.Line), indent(AlertYAML(a), "    ")))
	}
	return out
}

// describeExpectation prints an expectation's fields on one line.
func describeExpectation(e *Expectation) string {
	parts := []string{"rule " + e.Rule}
	if e.Severity != 0 {
		parts = append(parts, "severity "+e.Severity.String())
	}
	if e.HasTime {
		parts = append(parts, "time "+formatTime(e.Time))
	}
	if e.Title != "" {
		parts = append(parts, fmt.Sprintf("title %q", e.Title))
	}
	if e.Summary != nil {
		parts = append(parts, fmt.Sprintf("summary %q", *e.Summary))
	}
	for _, s := range e.SummaryContains {
		parts = append(parts, fmt.Sprintf("summary containing %q", s))
	}
	for _, n := range entityNames {
		if v, ok := e.Entities[n]; ok {
			parts = append(parts, fmt.Sprintf("%s %q", n, v))
		}
	}
	for _, n := range sortedKeys(e.Details) {
		parts = append(parts, fmt.Sprintf("detail %s %q", n, e.Details[n]))
	}
	if e.Input != 0 {
		parts = append(parts, fmt.Sprintf("input %d", e.Input))
	}
	if e.SourceLine != 0 {
		parts = append(parts, fmt.Sprintf("line %d", e.SourceLine))
	}
	return strings.Join(parts, ", ")
}

// AlertYAML writes an alert as an entry of a test's expect list.
func AlertYAML(a *alert.Alert) string {
	var b strings.Builder
	fmt.Fprintf(&b, "- rule: %s\n", yamlString(a.Rule))
	fmt.Fprintf(&b, "  severity: %s\n", a.Severity)
	if a.Time.IsZero() {
		b.WriteString("  time: null\n")
	} else {
		fmt.Fprintf(&b, "  time: %s\n", formatTime(a.Time))
	}
	fmt.Fprintf(&b, "  summary: %s\n", yamlString(a.Summary))
	var ents []string
	for _, n := range entityNames {
		if v := entityValue(a.Entities, n); v != "" {
			ents = append(ents, n+": "+yamlString(v))
		}
	}
	if len(ents) > 0 {
		fmt.Fprintf(&b, "  entities: {%s}\n", strings.Join(ents, ", "))
	}
	return b.String()
}

var plainRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.@/+-]*$`)

// yamlString writes s as a YAML scalar that reads back as the same string.
func yamlString(s string) string {
	if plainRE.MatchString(s) && !looksTyped(s) {
		return s
	}
	return strconv.Quote(s)
}

// looksTyped tells whether a plain scalar would read as something other
// than a string.
func looksTyped(s string) bool {
	switch strings.ToLower(s) {
	case "true", "false", "null", "yes", "no", "on", "off", "y", "n":
		return true
	}
	if _, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64); err == nil {
		return true
	}
	if _, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64); err == nil {
		return true
	}
	return false
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
