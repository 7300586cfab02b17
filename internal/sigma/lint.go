package sigma

// The field check of "rules lint" (and the warnings of scan --rules): a
// field that no record kind of the rule's logsource carries, in any format
// entrawatch reads, makes the rule match nothing (or, under "not", match
// everything). It is a warning, not a refusal: a tenant may add fields, and
// the rule still loads and runs.
//
// Field names are resolved as the field view (record.CompileField)
// resolves them: in any letter case, with or without the properties.
// prefix of diagnostic-settings records, through the Crosswalk's aliases,
// and along dotted paths into the objects the catalogue (fieldset.go)
// knows; paths under fields whose content is open (additionalDetails,
// modifiedProperties values, Azure Activity's Properties_d, the EventData of
// events the catalogue does not list…) are accepted whatever they are.

import (
	"fmt"
	"sort"
	"strings"

	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/rule"
	"github.com/entrawatch/entrawatch/internal/suggest"
	"github.com/entrawatch/entrawatch/internal/yamltree"
)

// Warning formats a field-check warning as "file:line:col: warning: rule
// ID: message".
func (p Problem) Warning() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
	if p.RuleID != "" {
		return fmt.Sprintf("%s: warning: rule %s: %s", loc, p.RuleID, p.Msg)
	}
	return fmt.Sprintf("%s: warning: %s", loc, p.Msg)
}

// CheckFields returns a warning for each field of the detection and filter
// rules that no record kind of the rule's logsource carries, and for each
// value compared as text with a field that holds an object (Status:
// 'Success' where Status is {errorCode, failureReason…}), which can never
// match. Rules whose logsource entrawatch does not read are left to
// Compile, which refuses them.
func CheckFields(rules []*Rule) []Problem {
	var out []Problem
	var ix *ruleIndex
	for _, r := range rules {
		var sec *yamltree.Node
		var kinds []record.Kind
		skip := map[string]bool{"condition": true, "timeframe": true}
		switch r.Type {
		case "":
			sec = r.doc.Get("detection")
			kinds, _ = r.Logsource.Kinds()
		case "filter":
			sec = r.doc.Get("filter")
			skip = filterKeys
			if ix == nil {
				ix = indexRules(rules)
			}
			kinds = filterKinds(r, ix)
		default:
			continue
		}
		if sec == nil || sec.Kind != yamltree.Map || len(kinds) == 0 {
			continue
		}
		c := &fieldChecker{rule: r, kinds: kinds}
		for _, k := range kinds {
			if k == record.KindWindowsEvent {
				c.events = eventIDs(sec, skip)
				c.windows = windowsTree(c.events)
			}
		}
		for i, k := range sec.Keys {
			if !skip[k.Str] {
				c.search(sec.Values[i])
			}
		}
		out = append(out, c.out...)
	}
	return out
}

// filterKinds returns the record kinds of the rules a filter applies to,
// or of its own logsource.
func filterKinds(f *Rule, ix *ruleIndex) []record.Kind {
	var kinds []record.Kind
	if ts, err := filterTargets(f, ix); err == nil {
		for _, t := range ts {
			ks, _ := t.Logsource.Kinds()
			for _, k := range ks {
				if !containsKind(kinds, k) {
					kinds = append(kinds, k)
				}
			}
		}
	}
	if len(kinds) == 0 {
		kinds, _ = f.Logsource.Kinds()
	}
	return kinds
}

func containsKind(ks []record.Kind, k record.Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// eventIDs returns the Windows event ids a detection names, sorted and
// joined by commas, when the catalogue knows the data of every one; else
// "".
func eventIDs(sec *yamltree.Node, skip map[string]bool) string {
	ids := map[string]bool{}
	known := true
	var visit func(n *yamltree.Node)
	visit = func(n *yamltree.Node) {
		switch n.Kind {
		case yamltree.Map:
			for i, k := range n.Keys {
				f, _, _ := strings.Cut(k.Str, "|")
				switch strings.ToLower(f) {
				case "eventid", "event_id", "eventcode", "winlog.event_id", "event.code":
					for _, v := range asList(n.Values[i]).Items {
						if v.Kind != yamltree.Scalar {
							continue
						}
						id := strings.TrimSpace(v.Str)
						if _, ok := windowsEvents[id]; !ok {
							known = false
						}
						ids[id] = true
					}
				}
			}
		case yamltree.Seq:
			for _, it := range n.Items {
				visit(it)
			}
		}
	}
	for i, k := range sec.Keys {
		if !skip[k.Str] {
			visit(sec.Values[i])
		}
	}
	if !known || len(ids) == 0 {
		return ""
	}
	list := make([]string, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	sort.Strings(list)
	return strings.Join(list, ",")
}

// fieldChecker checks the fields of one rule.
type fieldChecker struct {
	rule    *Rule
	kinds   []record.Kind
	windows *fieldNode
	events  string // the Windows events the rule names, when all are known
	out     []Problem
}

func (c *fieldChecker) warn(n *yamltree.Node, format string, args ...any) {
	c.out = append(c.out, Problem{File: c.rule.File, Line: n.Line, Col: n.Col, RuleID: c.rule.Name(), Msg: fmt.Sprintf(format, args...)})
}

// search checks a search identifier: a mapping of fields, a list of them,
// or keywords (which name no field).
func (c *fieldChecker) search(n *yamltree.Node) {
	switch n.Kind {
	case yamltree.Map:
		for i, k := range n.Keys {
			c.field(k, n.Values[i])
		}
	case yamltree.Seq:
		for _, it := range n.Items {
			if it.Kind == yamltree.Map {
				c.search(it)
			}
		}
	}
}

// field checks "field|modifiers: values".
func (c *fieldChecker) field(key, val *yamltree.Node) {
	parts := strings.Split(key.Str, "|")
	name := parts[0]
	if name == "" {
		return // keywords
	}
	res := c.resolve(name)
	if !res.carried() {
		c.warn(key, "%s", c.notCarried(name))
		return
	}
	mods := parts[1:]
	if hasString(mods, "fieldref") {
		for _, v := range asList(val).Items {
			// A name with wildcards is refused by Compile.
			if v.Kind == yamltree.Scalar && v.Str != "" && !parsePattern(v.Str).wild() {
				if r := c.resolve(v.Str); !r.carried() {
					c.warn(v, "fieldref names %s", c.notCarried(v.Str))
				}
			}
		}
		return
	}
	if res.object() {
		c.objectValues(name, key, val, mods, res)
	}
}

func hasString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// objectValues warns about a value compared as text (equality, startswith,
// endswith, a number or an address) with a field that holds an object:
// the object's text is its JSON, so no such value ever matches it.
func (c *fieldChecker) objectValues(name string, key, val *yamltree.Node, mods []string, res resolved) {
	op := rule.Equals
	for _, m := range mods {
		switch m {
		case "contains", "re", "exists", "expand", "base64", "base64offset", "utf16le", "utf16be", "wide", "utf16", "windash":
			return // searches the JSON text, or cannot be judged here
		case "startswith":
			op = rule.Prefix
		case "endswith":
			op = rule.Suffix
		case "cidr", "gt", "gte", "lt", "lte":
			op = rule.CIDR
		}
	}
	for _, v := range asList(val).Items {
		if v.Kind != yamltree.Scalar {
			continue
		}
		vop, text := op, v.Str
		if op != rule.CIDR && v.Type == yamltree.String {
			x := parsePattern(v.Str).variant(op, false)
			vop, text = x.op, x.value
		}
		t := strings.TrimSpace(text)
		switch vop {
		case rule.Contains, rule.Regex:
			continue
		case rule.Equals:
			if t == "" || t[0] == '{' || t[0] == '[' {
				continue
			}
		case rule.Prefix:
			if t == "" || t[0] == '{' || t[0] == '[' {
				continue
			}
		case rule.Suffix:
			if t == "" || t[len(t)-1] == '}' || t[len(t)-1] == ']' {
				continue
			}
		}
		var kids []string
		for _, k := range res.nodes[0].kids {
			if len(kids) == 6 {
				kids = append(kids, "…")
				break
			}
			kids = append(kids, name+"."+k.name)
		}
		c.warn(v, "field %s holds an object in %s records (%s), so the value %s never matches it: test one of its fields",
			name, c.kindNames(), strings.Join(kids, ", "), describeScalar(v))
		return
	}
}

// resolved is what a field name reaches in the catalogue.
type resolved struct {
	nodes []*fieldNode
}

func (r resolved) carried() bool { return len(r.nodes) > 0 }

// object reports whether the field holds an object in every format that
// carries it.
func (r resolved) object() bool {
	for _, n := range r.nodes {
		if !n.object() {
			return false
		}
	}
	return len(r.nodes) > 0
}

// pathSeg is one step of a field path.
type pathSeg struct {
	key   string
	isIdx bool
}

// splitPath splits "a.b[0].c" as the field view does; ["a.b"] is one key.
func splitPath(s string) []pathSeg {
	var p []pathSeg
	for len(s) > 0 {
		switch {
		case s[0] == '.':
			s = s[1:]
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return append(p, pathSeg{key: s})
			}
			inner := s[1:end]
			s = s[end+1:]
			if len(inner) >= 2 && (inner[0] == '"' || inner[0] == '\'') {
				p = append(p, pathSeg{key: inner[1 : len(inner)-1]})
				continue
			}
			if isInt(inner) {
				p = append(p, pathSeg{isIdx: true})
			} else {
				p = append(p, pathSeg{key: inner})
			}
		default:
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			p = append(p, pathSeg{key: s[:end]})
			s = s[end:]
		}
	}
	return p
}

func isInt(s string) bool {
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

var openField = &fieldNode{name: "AdditionalProperties", open: true}

// walk follows a path in a catalogue tree and returns the field it
// reaches, or nil.
func (n *fieldNode) walk(p []pathSeg) *fieldNode {
	cur := n
	for _, s := range p {
		if cur.open {
			return cur
		}
		if s.isIdx {
			continue // an element of a list: its fields are the list's
		}
		if cur.kids == nil {
			return nil // a value has no fields
		}
		next := cur.child(s.key)
		if next == nil && strings.EqualFold(s.key, "AdditionalProperties") {
			// The Graph PowerShell SDK's bag of the properties its
			// classes lack, beside every object it writes.
			return openField
		}
		if next == nil {
			return nil
		}
		cur = next
	}
	return cur
}

var crosswalk = func() map[string]*record.Alias {
	m := map[string]*record.Alias{}
	for i := range record.Crosswalk {
		m[strings.ToLower(record.Crosswalk[i].Name)] = &record.Crosswalk[i]
	}
	return m
}()

// shapes returns the catalogue trees of the shapes a kind reaches
// entrawatch in.
func (c *fieldChecker) shapes(k record.Kind) (la, graph, env, win *fieldNode) {
	switch k {
	case record.KindSignIn:
		return signinLA, signinGraph, envelope, nil
	case record.KindAudit:
		return auditLA, auditGraph, envelope, nil
	case record.KindDevice:
		return nil, deviceGraph, nil, nil
	case record.KindRiskDetection:
		return riskLA, riskGraph, nil, nil
	case record.KindActivity:
		return activityLA, nil, nil, nil
	case record.KindSyslog:
		return syslogLA, nil, nil, nil
	case record.KindWindowsEvent:
		return nil, nil, nil, c.windows
	}
	return nil, nil, nil, nil
}

// resolve finds what a field name reaches in the kinds of the rule: the
// field view's own paths for each shape (record.Field.Paths), walked in the
// catalogue trees, so that the check cannot drift from how records resolve.
func (c *fieldChecker) resolve(name string) resolved {
	f := record.CompileField(name)
	conv := func(ps [][]record.Step) [][]pathSeg {
		out := make([][]pathSeg, len(ps))
		for i, p := range ps {
			for _, st := range p {
				out[i] = append(out[i], pathSeg{key: st.Key, isIdx: st.Index})
			}
		}
		return out
	}
	la, graph := conv(f.Paths(record.ShapeLogAnalytics)), conv(f.Paths(record.ShapeGraph))
	env := conv(f.EnvelopePaths())
	// Windows events: the catalogue holds System values and EventData names
	// flat, which is the first path the field view tries (the others are the
	// same names under each JSON form's EventData).
	win := conv(f.Paths(record.ShapeWindows))[:1]
	var res resolved
	try := func(t *fieldNode, paths [][]pathSeg) {
		if t == nil {
			return
		}
		for _, p := range paths {
			if x := t.walk(p); x != nil {
				res.nodes = append(res.nodes, x)
			}
		}
	}
	for _, k := range c.kinds {
		laT, graphT, envT, winT := c.shapes(k)
		try(laT, la)
		try(graphT, graph)
		try(envT, env)
		try(winT, win)
	}
	return res
}

func stripProps(name string) (string, bool) {
	n := strings.TrimSpace(name)
	if len(n) > 11 && strings.EqualFold(n[:11], "properties.") {
		return n[11:], true
	}
	return n, false
}

var kindLabels = map[record.Kind]string{
	record.KindSignIn: "sign-in", record.KindAudit: "audit", record.KindDevice: "device",
	record.KindRiskDetection: "risk detection", record.KindActivity: "Azure Activity", record.KindSyslog: "syslog",
	record.KindWindowsEvent: "Windows event",
}

// kindNames names the rule's record kinds for messages.
func (c *fieldChecker) kindNames() string {
	var names []string
	for _, k := range c.kinds {
		if k == record.KindWindowsEvent && c.events != "" {
			ids := strings.Split(c.events, ",")
			if len(ids) == 1 {
				names = append(names, "Windows event "+ids[0])
			} else {
				names = append(names, "Windows event "+strings.Join(ids[:len(ids)-1], ", ")+" or "+ids[len(ids)-1])
			}
			continue
		}
		if l, ok := kindLabels[k]; ok {
			names = append(names, l)
		} else {
			names = append(names, k.String())
		}
	}
	return strings.Join(names, " or ")
}

// hints are suggestions for names from other schemas that edit distance
// does not find.
var hints = map[record.Kind]map[string]string{
	record.KindSignIn: {"username": "UserPrincipalName"},
	record.KindAudit:  {"status": "Result", "activitytype": "ActivityDisplayName", "activity": "ActivityDisplayName", "username": "InitiatedBy.user.userPrincipalName"},
}

// notCarried explains a field no kind carries, with the closest known
// field.
func (c *fieldChecker) notCarried(name string) string {
	msg := fmt.Sprintf("field %s is not carried by %s records", name, c.kindNames())
	n, explicit := stripProps(name)
	if explicit && len(c.kinds) == 1 && c.kinds[0] == record.KindActivity {
		return msg + fmt.Sprintf(": the properties. prefix is read as the nesting of diagnostic-settings records and dropped, and Azure Activity rows have no column %s (the content of their Properties column is reached as Properties_d.%s)", n, n)
	}
	if a, rest, other := c.aliasTrap(n); other != "" {
		return msg + fmt.Sprintf(" (%s is read as the Crosswalk's %s, spelt %s in Graph records, and has no field %s; did you mean %s?)",
			n[:len(n)-len(rest)-1], a.Name, strings.Join(a.Graph, " or "), rest, other)
	}
	if s := c.suggest(n); s != "" {
		msg += " (did you mean " + s + "?)"
	}
	return msg
}

// aliasTrap finds a path whose first part is a Crosswalk alias that does
// not lead where the rule meant: location.city reads location as the
// alias Location (the country: location.countryOrRegion in Graph records),
// while LocationDetails is the Crosswalk name of Graph's location object.
// It returns the alias, the rest of the path and the name that reaches it.
func (c *fieldChecker) aliasTrap(n string) (*record.Alias, string, string) {
	segs := splitPath(n)
	if len(segs) < 2 || segs[0].isIdx {
		return nil, "", ""
	}
	a, ok := crosswalk[strings.ToLower(segs[0].key)]
	if !ok {
		return nil, "", ""
	}
	rest := n[len(segs[0].key):]
	rest = strings.TrimPrefix(rest, ".")
	for i := range record.Crosswalk {
		x := &record.Crosswalk[i]
		if x == a {
			continue
		}
		for _, sp := range append(append([]string{}, x.Graph...), x.LogAnalytics...) {
			if strings.EqualFold(sp, segs[0].key) {
				if name := x.Name + "." + rest; c.resolve(name).carried() {
					return a, rest, name
				}
			}
		}
	}
	return nil, "", ""
}

// suggest returns the known field closest to name by edit distance, or ""
// when none is close.
func (c *fieldChecker) suggest(name string) string {
	q := strings.ToLower(name)
	for _, k := range c.kinds {
		if h, ok := hints[k][q]; ok {
			return h
		}
	}
	cands := map[string][]string{} // lower → spellings
	var order []string
	addTree := func(t *fieldNode) {
		var visit func(n *fieldNode, prefix string, depth int)
		visit = func(n *fieldNode, prefix string, depth int) {
			for _, k := range n.kids {
				full := prefix + k.name
				low := strings.ToLower(full)
				if _, ok := cands[low]; !ok {
					order = append(order, low)
				}
				if !hasString(cands[low], full) {
					cands[low] = append(cands[low], full)
				}
				if depth < 3 && !k.open {
					visit(k, full+".", depth+1)
				}
			}
		}
		if t != nil {
			visit(t, "", 0)
		}
	}
	for _, k := range c.kinds {
		la, graph, env, win := c.shapes(k)
		for _, t := range []*fieldNode{la, graph, env, win} {
			addTree(t)
		}
	}
	best, bestScore := "", 0
	limit := max(1, len(q)/3)
	for _, low := range order {
		if strings.HasPrefix(low, "@") || strings.HasPrefix(low, "_") {
			continue
		}
		d := suggest.Distance(q, low)
		if len(q) >= 4 && strings.HasPrefix(low, q) {
			d = min(d, 2)
		}
		if d > limit {
			continue
		}
		if best == "" || d < bestScore || d == bestScore && len(low) < len(best) {
			best, bestScore = low, d
		}
	}
	if best == "" {
		return ""
	}
	// The spelling in the letter case the rule uses for its first letter.
	sp := cands[best]
	for _, s := range sp {
		if name != "" && s != "" && isUpper(s[0]) == isUpper(name[0]) {
			return s
		}
	}
	return sp[0]
}

func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }
