package sigma

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/entrawatch/entrawatch/internal/rule"
)

const filterDir = "../../testdata/sigma/filters"

func filterPath(parts ...string) string {
	return filepath.Join(append([]string{filterDir}, parts...)...)
}

// compileFilterSet loads and compiles the given fixture folders (and inline
// documents) and returns the detectors and every problem.
func compileFilterSet(t *testing.T, paths []string, inline ...string) ([]*Detector, []Problem) {
	t.Helper()
	rules, probs := LoadPaths(paths)
	for i, src := range inline {
		rs, ps := Parse(fmt.Sprintf("inline%d.yml", i), []byte(src))
		rules, probs = append(rules, rs...), append(probs, ps...)
	}
	dets, cprobs := Compile(rules, rule.NewCompiler(), Config{})
	return dets, append(probs, cprobs...)
}

// alertKeys runs the detectors over the fixture records and returns each
// alert as "rule-suffix file:line", sorted.
func alertKeys(t *testing.T, dets []*Detector) []string {
	t.Helper()
	var out []string
	for _, a := range scanAll(t, dets, filterPath("records", "signins.jsonl"), filterPath("records", "audits.jsonl")) {
		out = append(out, fmt.Sprintf("%s %s:%d", a.Rule[len(a.Rule)-4:], filepath.Base(a.Source.File), a.Source.Line))
	}
	slices.Sort(out)
	return out
}

// The records: alice signs in with one factor from outside (signins:1) and
// from the corporate network 10/8 (signins:2); carol uses IMAP from the
// corporate network (3) and from outside (4); svc-test-01 (5-7) and bob
// (8-10) fail three times each; dave signs in with one factor from outside
// (11, a Graph record). The help desk (audits:1) and mallory (audits:2)
// read BitLocker keys.
func TestFilterRules(t *testing.T) {
	unfiltered := []string{
		"0001 signins.jsonl:1", "0001 signins.jsonl:11", "0001 signins.jsonl:2",
		"0003 signins.jsonl:3", "0003 signins.jsonl:4",
		"0004 audits.jsonl:1", "0004 audits.jsonl:2",
		"0101 signins.jsonl:10", "0101 signins.jsonl:7", // the correlation, for bob and svc-test-01
	}
	cases := []struct {
		name  string
		paths []string
		want  []string
	}{
		{"no filter", []string{filterPath("rules")}, unfiltered},
		{
			// mf_trusted_network: one filter for two rules, by id and by
			// name, removes the corporate-network sign-ins (2, 3);
			// mf_test_accounts removes svc-test-01's failures before the
			// correlation counts them; mf_helpdesk_bitlocker (logsource
			// product azure only) removes the help desk's key read.
			"filters", []string{filterPath("rules"), filterPath("filters")},
			[]string{"0001 signins.jsonl:1", "0001 signins.jsonl:11", "0003 signins.jsonl:4", "0004 audits.jsonl:2", "0101 signins.jsonl:10"},
		},
		{
			// rules: any applies to every sign-in rule: alice's sign-ins
			// go, the audit rule is untouched.
			"any", []string{filterPath("rules"), filterPath("any")},
			[]string{"0001 signins.jsonl:11", "0003 signins.jsonl:3", "0003 signins.jsonl:4", "0004 audits.jsonl:1", "0004 audits.jsonl:2",
				"0101 signins.jsonl:10", "0101 signins.jsonl:7"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dets, probs := compileFilterSet(t, c.paths)
			for _, p := range probs {
				t.Errorf("unexpected problem: %v", p)
			}
			// Filters are not detectors of their own.
			if len(dets) != 5 {
				t.Errorf("%d detectors, want 5", len(dets))
			}
			if got := alertKeys(t, dets); !slices.Equal(got, c.want) {
				t.Errorf("alerts\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// Several filters on one rule all apply; the filter's condition is ANDed
// as written (a positive condition keeps only what it selects, as in the
// specification's example).
func TestFilterCombination(t *testing.T) {
	dets, probs := compileFilterSet(t, []string{filterPath("rules"), filterPath("filters")}, `
title: Keep only alice and carol
logsource: {product: azure, service: signinlogs}
filter:
    rules: [single_factor_signin, legacy_client]
    selection:
        UserPrincipalName|endswith:
            - alice@contoso.com
            - carol@contoso.com
    condition: selection
`)
	for _, p := range probs {
		t.Errorf("unexpected problem: %v", p)
	}
	want := []string{"0001 signins.jsonl:1", "0003 signins.jsonl:4", "0004 audits.jsonl:2", "0101 signins.jsonl:10"}
	if got := alertKeys(t, dets); !slices.Equal(got, want) {
		t.Errorf("alerts\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestFilterRefused(t *testing.T) {
	file := filterPath("bad", "refused.yml")
	want := []struct {
		id        string
		line, col int
		msg       string
	}{
		{"bad-unknown-ref", 9, 11, "no rule has the id or name no_such_rule"},
		{"bad-logsource", 18, 13, "rule single_factor_signin (" + filterPath("rules", "signin.yml") + ":1) reads logsource product azure, service signinlogs, outside the filter's logsource product azure, service auditlogs"},
		{"bad-correlation-target", 27, 13, "is a correlation rule; a filter applies to detection rules"},
		{"bad-filter-target", 36, 13, "rule bad-unknown-ref (" + file + ":3) is a filter rule"},
		{"bad-no-rules", 44, 1, "the filter names no rules"},
		{"bad-empty-rules", 53, 12, "the filter's rules list is empty"},
		{"bad-rules-map", 62, 12, "filter rules must be a string or a list of strings, found a mapping"},
		{"bad-twice", 71, 28, "rule failed_signin is listed twice"},
		{"bad-ambiguous", 80, 13, "2 rules have the name dup_name"},
		{"bad-no-condition", 88, 1, "the filter has no condition"},
		{"bad-condition-list", 100, 16, "a filter's condition must be one string"},
		{"bad-condition-ref", 109, 16, `condition "not selectoin": column 5: no search identifier "selectoin" in the filter`},
		{"bad-no-selection", 114, 1, "the filter has no search identifier"},
		{"bad-modifier", 124, 9, `unknown modifier "begins"`},
		{"bad-detection", 132, 1, "a filter has no detection section"},
		{"bad-no-logsource", 137, 1, "the filter has no logsource"},
		{"bad-no-title", 145, 1, "the filter has no title"},
		{"bad-not-map", 156, 9, "filter must be a mapping"},
	}
	dets, probs := compileFilterSet(t, []string{filterPath("rules"), file})
	got := map[string]Problem{}
	for _, p := range probs {
		if _, dup := got[p.RuleID]; dup {
			t.Errorf("two problems for %s: %v", p.RuleID, p)
		}
		got[p.RuleID] = p
	}
	for _, w := range want {
		p, ok := got[w.id]
		switch {
		case !ok:
			t.Errorf("%s was not refused", w.id)
		case p.File != file || p.Line != w.line || p.Col != w.col || !strings.Contains(p.Msg, w.msg):
			t.Errorf("%s refused as\n%v\nwant %s:%d:%d: …%s…", w.id, p, file, w.line, w.col, w.msg)
		}
		delete(got, w.id)
	}
	for _, p := range got {
		t.Errorf("unexpected problem: %v", p)
	}
	// A refused filter is not applied: every rule runs unfiltered (the
	// two dup_name rules match none of the records).
	want0 := []string{
		"0001 signins.jsonl:1", "0001 signins.jsonl:11", "0001 signins.jsonl:2",
		"0003 signins.jsonl:3", "0003 signins.jsonl:4",
		"0004 audits.jsonl:1", "0004 audits.jsonl:2",
		"0101 signins.jsonl:10", "0101 signins.jsonl:7",
	}
	if got := alertKeys(t, dets); !slices.Equal(got, want0) {
		t.Errorf("alerts\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want0, "\n"))
	}
}

// A correlation cannot reference a filter.
func TestCorrelationReferencingFilter(t *testing.T) {
	_, probs := compileFilterSet(t, []string{filterPath("rules"), filterPath("filters")}, `
title: Counting a filter
id: corr-of-filter
correlation:
    type: event_count
    rules: [7c1d2e3f-0a4b-4c5d-8e6f-0f1a7e000202]
    timespan: 5m
    condition: {gte: 2}
level: low
`)
	if len(probs) != 1 || !strings.Contains(probs[0].Msg, "is a filter rule; a correlation references detection or correlation rules") {
		t.Errorf("problems %v", probs)
	}
}
