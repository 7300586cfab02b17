package sigma

// Sigma filter rules (Sigma filters specification v2.0.0/v2.1.0): a
// document with a logsource and a filter section that names the rules it
// tunes, its own search identifiers and a condition.
//
//	title: Leave out the help-desk account
//	logsource: {product: azure, service: auditlogs}
//	filter:
//	    rules: [bitlocker-key-read]       # ids or names; or "any"
//	    selection:
//	        InitiatedBy.user.userPrincipalName: helpdesk@contoso.com
//	    condition: not selection
//
// The filter's condition is ANDed into the condition of each rule it names,
// as pySigma applies filters: "(rule condition) and (filter condition)", so
// "not selection" removes the matches the selection describes. A rule
// referenced by a correlation is filtered before the correlation counts its
// events.
//
// The specification makes logsource mandatory and defines the filter's
// selections over that logsource. pySigma applies a filter only to rules
// whose logsource lies within the filter's (each of the filter's category,
// product and service, when given, equals the rule's), and silently leaves
// the others unfiltered; entrawatch refuses a filter that names such a rule,
// so that a filter is either applied to every rule it names or not at all,
// never dropped silently. rules: any (or all), as pySigma reads it, applies
// the filter to every detection rule within its logsource.

import (
	"fmt"
	"strings"

	"github.com/entrawatch/entrawatch/internal/rule"
	"github.com/entrawatch/entrawatch/internal/yamltree"
)

// filterKeys are the attributes of a filter section that are not search
// identifiers.
var filterKeys = map[string]bool{"rules": true, "condition": true}

// ruleIndex finds rules by id and by name.
type ruleIndex struct {
	byID, byName map[string][]*Rule
	all          []*Rule
}

func indexRules(rules []*Rule) *ruleIndex {
	ix := &ruleIndex{byID: map[string][]*Rule{}, byName: map[string][]*Rule{}, all: rules}
	for _, r := range rules {
		if r.ID != "" {
			ix.byID[r.ID] = append(ix.byID[r.ID], r)
		}
		if n := ruleNameAttr(r); n != "" {
			ix.byName[n] = append(ix.byName[n], r)
		}
	}
	return ix
}

// resolve finds the rules a reference names: by id, else by name.
func (ix *ruleIndex) resolve(ref string) ([]*Rule, string) {
	if rs := ix.byID[ref]; len(rs) > 0 {
		return rs, "id"
	}
	return ix.byName[ref], "name"
}

// within reports whether logsource l lies within f: every attribute f sets
// (category, product, service) is the same in l.
func (l Logsource) within(f Logsource) bool {
	return (f.Category == "" || f.Category == l.Category) &&
		(f.Product == "" || f.Product == l.Product) &&
		(f.Service == "" || f.Service == l.Service)
}

// filterTargets resolves the rules a filter applies to, refusing a
// malformed rules attribute, a reference that names no rule or several, a
// rule that is not a detection rule, and a rule outside the filter's
// logsource.
func filterTargets(f *Rule, ix *ruleIndex) ([]*Rule, error) {
	sec := f.doc.Get("filter")
	if sec.Kind != yamltree.Map {
		return nil, errAt(sec, "filter must be a mapping of rules, search identifiers and a condition, found %s", sec.Describe())
	}
	ls := f.doc.Get("logsource")
	switch {
	case ls == nil:
		return nil, errAt(docStart(f), "the filter has no logsource (the Sigma filters specification requires one: the filter applies to rules of that logsource)")
	case ls.Kind != yamltree.Map:
		return nil, errAt(ls, "logsource must be a mapping, found %s", ls.Describe())
	case f.Logsource.Category == "" && f.Logsource.Product == "" && f.Logsource.Service == "":
		return nil, errAt(keyOf(f.doc, "logsource"), "the filter's logsource names no category, product or service")
	}
	n := sec.Get("rules")
	if n == nil {
		return nil, errAt(keyOf(f.doc, "filter"), "the filter names no rules (filter.rules: a list of rule ids or names, or any for every rule of its logsource)")
	}
	if n.Kind == yamltree.Scalar && (strings.EqualFold(n.Str, "any") || strings.EqualFold(n.Str, "all")) {
		var out []*Rule
		for _, r := range ix.all {
			if r.Type == "" && r.Logsource.within(f.Logsource) {
				out = append(out, r)
			}
		}
		return out, nil
	}
	_, nodes, err := scalarList(n, "filter rules")
	if err != nil {
		return nil, err
	}
	if len(nodes) == 0 {
		return nil, errAt(n, "the filter's rules list is empty (name rules by id or name, or write rules: any for every rule of its logsource)")
	}
	seen := map[string]bool{}
	var out []*Rule
	for _, it := range nodes {
		if seen[it.Str] {
			return nil, errAt(it, "rule %s is listed twice", it.Str)
		}
		seen[it.Str] = true
		found, by := ix.resolve(it.Str)
		switch {
		case len(found) == 0:
			return nil, errAt(it, "no rule has the id or name %s (rules are looked up among every file given to --rules)", it.Str)
		case len(found) > 1:
			var where []string
			for _, x := range found {
				where = append(where, fmt.Sprintf("%s:%d", x.File, x.Line))
			}
			return nil, errAt(it, "%d rules have the %s %s (%s)", len(found), by, it.Str, strings.Join(where, ", "))
		}
		t := found[0]
		switch t.Type {
		case "":
		case "correlation":
			return nil, errAt(it, "rule %s (%s:%d) is a correlation rule; a filter applies to detection rules (filter the rules the correlation references: it then counts only what the filter keeps)", it.Str, t.File, t.Line)
		default:
			return nil, errAt(it, "rule %s (%s:%d) is a %s rule; a filter applies to detection rules", it.Str, t.File, t.Line, t.Type)
		}
		if !t.Logsource.within(f.Logsource) {
			return nil, errAt(it, "rule %s (%s:%d) reads logsource %s, outside the filter's logsource %s: a filter applies only to rules of its logsource (its selections name that logsource's fields)", it.Str, t.File, t.Line, t.Logsource, f.Logsource)
		}
		out = append(out, t)
	}
	return out, nil
}

// filterExpr compiles a filter section's search identifiers and condition.
func filterExpr(f *Rule, cfg Config) (rule.Expr, error) {
	sec := f.doc.Get("filter")
	searches := map[string]rule.Expr{}
	var names []string
	for i, k := range sec.Keys {
		if filterKeys[k.Str] {
			continue
		}
		if k.Str == "timeframe" {
			return nil, errAt(k, "timeframe belongs to Sigma v1 aggregations; it has no meaning in a filter")
		}
		e, err := compileSearch(sec.Values[i], cfg)
		if err != nil {
			return nil, err
		}
		searches[k.Str] = e
		names = append(names, k.Str)
	}
	if len(names) == 0 {
		return nil, errAt(keyOf(f.doc, "filter"), "the filter has no search identifier (such as selection: {field: value})")
	}
	cn := sec.Get("condition")
	switch {
	case cn == nil:
		return nil, errAt(keyOf(f.doc, "filter"), "the filter has no condition (such as condition: not selection)")
	case cn.Kind != yamltree.Scalar || cn.Str == "":
		return nil, errAt(cn, "a filter's condition must be one string (such as not selection), found %s", cn.Describe())
	}
	c, err := ParseCondition(cn.Str)
	if err != nil {
		return nil, errAt(cn, "condition %q: %v", cn.Str, err)
	}
	e, err := resolveCond(c, searches, names)
	if err != nil {
		return nil, errAt(cn, "condition %q: %s", cn.Str, strings.Replace(err.Error(), "in the detection", "in the filter", 1))
	}
	return e, nil
}

// compileFilters compiles the filter rules among rules and returns, for
// each detection rule, the filter expressions to AND into its condition,
// in the order the filters were given. A filter that cannot be used is
// refused as a whole: the rules it names run unfiltered.
func compileFilters(rules []*Rule, cfg Config) (map[*Rule][]rule.Expr, []Problem) {
	out := map[*Rule][]rule.Expr{}
	var probs []Problem
	var ix *ruleIndex
	for _, f := range rules {
		if f.Type != "filter" {
			continue
		}
		if ix == nil {
			ix = indexRules(rules)
		}
		if err := checkFilterDoc(f); err != nil {
			probs = append(probs, problemAt(f, err))
			continue
		}
		targets, err := filterTargets(f, ix)
		if err != nil {
			probs = append(probs, problemAt(f, err))
			continue
		}
		e, err := filterExpr(f, cfg)
		if err != nil {
			probs = append(probs, problemAt(f, err))
			continue
		}
		for _, t := range targets {
			out[t] = append(out[t], e)
		}
	}
	return out, probs
}

// checkFilterDoc refuses what a filter document must have or must not.
func checkFilterDoc(f *Rule) error {
	if f.Title == "" {
		return errAt(docStart(f), "the filter has no title")
	}
	if n := keyOf(f.doc, "detection"); n != nil {
		return errAt(n, "a filter has no detection section: its search identifiers and condition go under filter, beside rules")
	}
	return nil
}

// problemAt makes a problem of an error about rule r, at the error's node
// when it has one.
func problemAt(r *Rule, err error) Problem {
	p := Problem{File: r.File, Line: r.Line, Col: 1, RuleID: r.Name(), Msg: err.Error()}
	if ce, ok := err.(*compileError); ok && ce.n != nil {
		p.Line, p.Col = ce.n.Line, ce.n.Col
	}
	return p
}

// keyOf returns the key node of key in mapping n, or nil.
func keyOf(n *yamltree.Node, key string) *yamltree.Node {
	for _, k := range n.Keys {
		if k.Str == key {
			return k
		}
	}
	return nil
}

// docStart stands for the start of a rule's document.
func docStart(r *Rule) *yamltree.Node {
	return &yamltree.Node{Line: r.Line, Col: 1}
}
