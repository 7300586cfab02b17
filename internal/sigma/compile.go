package sigma

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf16"

	"github.com/entrawatch/entrawatch/internal/rule"
	"github.com/entrawatch/entrawatch/internal/yamltree"
)

// Config holds what rules may depend on beyond their own text.
type Config struct {
	// Placeholders are the values of the expand modifier's %name%
	// placeholders.
	Placeholders map[string][]string
}

// compileError is a problem at a YAML node.
type compileError struct {
	n   *yamltree.Node
	msg string
}

func (e *compileError) Error() string { return e.msg }

func errAt(n *yamltree.Node, format string, args ...any) error {
	return &compileError{n: n, msg: fmt.Sprintf(format, args...)}
}

// Detection compiles a rule's detection section into one expression.
func (r *Rule) Detection(cfg Config) (rule.Expr, error) {
	det := r.doc.Get("detection")
	if det == nil {
		return nil, errAt(r.doc, "the rule has no detection section")
	}
	if det.Kind != yamltree.Map {
		return nil, errAt(det, "detection must be a mapping, found %s", det.Describe())
	}
	searches := map[string]rule.Expr{}
	var names []string
	var condNode *yamltree.Node
	for i, k := range det.Keys {
		v := det.Values[i]
		switch k.Str {
		case "condition":
			condNode = v
			continue
		case "timeframe":
			return nil, errAt(k, "timeframe belongs to Sigma v1 aggregations; Sigma 2 expresses it as a correlation rule's timespan")
		}
		e, err := compileSearch(v, cfg)
		if err != nil {
			return nil, err
		}
		searches[k.Str] = e
		names = append(names, k.Str)
	}
	if condNode == nil {
		return nil, errAt(det, "detection has no condition")
	}
	var conds []string
	switch condNode.Kind {
	case yamltree.Scalar:
		conds = []string{condNode.Str}
	case yamltree.Seq:
		for _, it := range condNode.Items {
			if it.Kind != yamltree.Scalar {
				return nil, errAt(it, "a condition must be a string, found %s", it.Describe())
			}
			conds = append(conds, it.Str)
		}
	default:
		return nil, errAt(condNode, "condition must be a string or a list of strings, found %s", condNode.Describe())
	}
	var alts rule.Or
	for _, cs := range conds {
		c, err := ParseCondition(cs)
		if err != nil {
			return nil, errAt(condNode, "condition %q: %v", cs, err)
		}
		e, err := resolveCond(c, searches, names)
		if err != nil {
			return nil, errAt(condNode, "condition %q: %v", cs, err)
		}
		alts = append(alts, e)
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return alts, nil
}

func resolveCond(c Cond, searches map[string]rule.Expr, names []string) (rule.Expr, error) {
	switch c := c.(type) {
	case CondAnd:
		l, err := resolveCond(c.L, searches, names)
		if err != nil {
			return nil, err
		}
		r, err := resolveCond(c.R, searches, names)
		if err != nil {
			return nil, err
		}
		return rule.And{l, r}, nil
	case CondOr:
		l, err := resolveCond(c.L, searches, names)
		if err != nil {
			return nil, err
		}
		r, err := resolveCond(c.R, searches, names)
		if err != nil {
			return nil, err
		}
		return rule.Or{l, r}, nil
	case CondNot:
		x, err := resolveCond(c.X, searches, names)
		if err != nil {
			return nil, err
		}
		return rule.Not{X: x}, nil
	case CondRef:
		e, ok := searches[c.Name]
		if !ok {
			return nil, fmt.Errorf("column %d: no search identifier %q in the detection", c.Pos, c.Name)
		}
		return e, nil
	case CondOf:
		var matched []rule.Expr
		for _, n := range names {
			if matchPattern(c.Pattern, n) {
				matched = append(matched, searches[n])
			}
		}
		if len(matched) == 0 {
			return nil, fmt.Errorf("column %d: no search identifier matches %q", c.Pos, c.Pattern)
		}
		switch {
		case c.N == 0:
			return rule.And(matched), nil
		case c.N == 1:
			return rule.Or(matched), nil
		case c.N > len(matched):
			return rule.Const(false), nil
		}
		return atLeast(c.N, matched), nil
	}
	return nil, fmt.Errorf("unknown condition node %T", c)
}

// atLeast builds "at least n of es" as an Or of And combinations.
func atLeast(n int, es []rule.Expr) rule.Expr {
	var out rule.Or
	var pick func(start int, chosen []rule.Expr)
	pick = func(start int, chosen []rule.Expr) {
		if len(chosen) == n {
			out = append(out, rule.And(append([]rule.Expr(nil), chosen...)))
			return
		}
		for i := start; i < len(es) && len(out) < 10000; i++ {
			pick(i+1, append(chosen, es[i]))
		}
	}
	pick(0, nil)
	return out
}

// compileSearch compiles one search identifier's value.
func compileSearch(n *yamltree.Node, cfg Config) (rule.Expr, error) {
	switch n.Kind {
	case yamltree.Map:
		var and rule.And
		for i, k := range n.Keys {
			e, err := compileField(k, n.Values[i], cfg)
			if err != nil {
				return nil, err
			}
			and = append(and, e)
		}
		if len(and) == 0 {
			return nil, errAt(n, "empty selection")
		}
		if len(and) == 1 {
			return and[0], nil
		}
		return and, nil
	case yamltree.Seq:
		if len(n.Items) == 0 {
			return nil, errAt(n, "empty list")
		}
		if n.Items[0].Kind == yamltree.Map {
			var or rule.Or
			for _, it := range n.Items {
				if it.Kind != yamltree.Map {
					return nil, errAt(it, "a list of selections must hold only mappings, found %s", it.Describe())
				}
				e, err := compileSearch(it, cfg)
				if err != nil {
					return nil, err
				}
				or = append(or, e)
			}
			return or, nil
		}
		return compileKeywords(n, nil, cfg)
	case yamltree.Scalar:
		return compileKeywords(&yamltree.Node{Kind: yamltree.Seq, Items: []*yamltree.Node{n}, Line: n.Line, Col: n.Col}, nil, cfg)
	}
	return nil, errAt(n, "a search identifier must be a mapping, a list or a keyword, found %s", n.Describe())
}

// mods is a parsed modifier chain.
type mods struct {
	op                                   rule.Op
	all, cased, exists, fieldref, expand bool
	reFlags                              string
	transforms                           []string // base64, base64offset, utf16le, utf16be, wide, utf16, windash
}

var knownTransforms = map[string]bool{"base64": true, "base64offset": true, "utf16le": true, "utf16be": true, "wide": true, "utf16": true, "windash": true}

func parseMods(key *yamltree.Node, list []string) (mods, error) {
	m := mods{op: rule.Equals}
	setOp := func(op rule.Op, name string) error {
		if m.op != rule.Equals {
			return errAt(key, "modifier %q conflicts with %q", name, m.op)
		}
		m.op = op
		return nil
	}
	for i, x := range list {
		var err error
		switch x {
		case "contains":
			err = setOp(rule.Contains, x)
		case "startswith":
			err = setOp(rule.Prefix, x)
		case "endswith":
			err = setOp(rule.Suffix, x)
		case "re":
			err = setOp(rule.Regex, x)
		case "i", "m", "s":
			if m.op != rule.Regex || i == 0 {
				return m, errAt(key, "modifier %q is a flag of re and must follow it", x)
			}
			m.reFlags += x
		case "cidr":
			err = setOp(rule.CIDR, x)
		case "gt":
			err = setOp(rule.Gt, x)
		case "gte":
			err = setOp(rule.Gte, x)
		case "lt":
			err = setOp(rule.Lt, x)
		case "lte":
			err = setOp(rule.Lte, x)
		case "all":
			m.all = true
		case "cased":
			m.cased = true
		case "exists":
			m.exists = true
		case "fieldref":
			m.fieldref = true
		case "expand":
			m.expand = true
		default:
			if knownTransforms[x] {
				m.transforms = append(m.transforms, x)
				continue
			}
			return m, errAt(key, "unknown modifier %q", x)
		}
		if err != nil {
			return m, err
		}
	}
	return m, nil
}

// compileField compiles "field|mod…: value(s)".
func compileField(key, val *yamltree.Node, cfg Config) (rule.Expr, error) {
	parts := strings.Split(key.Str, "|")
	field := parts[0]
	m, err := parseMods(key, parts[1:])
	if err != nil {
		return nil, err
	}
	if field == "" {
		// Keywords with modifiers: "'|all': [a, b]".
		return compileKeywords(asList(val), &m, cfg)
	}
	if m.exists {
		if val.Kind != yamltree.Scalar || val.Type != yamltree.Bool {
			return nil, errAt(val, "exists takes true or false, found %s", val.Describe())
		}
		e := rule.Expr(rule.Match{Field: field, Op: rule.Exists})
		if val.Str == "false" {
			e = rule.Not{X: e}
		}
		return e, nil
	}
	items := asList(val).Items
	if len(items) == 0 {
		return nil, errAt(val, "field %s has an empty list of values", field)
	}
	// null among the values: the field is missing or null.
	var nulls int
	var values []*yamltree.Node
	for _, it := range items {
		switch it.Kind {
		case yamltree.Null:
			nulls++
		case yamltree.Scalar:
			values = append(values, it)
		default:
			return nil, errAt(it, "field %s: a value must be a scalar or null, found %s", field, it.Describe())
		}
	}
	var alts []rule.Expr
	if nulls > 0 {
		alts = append(alts, rule.Match{Field: field, Op: rule.Null})
	}
	if len(values) > 0 {
		if m.fieldref {
			var names []string
			for _, v := range values {
				names = append(names, v.Str)
			}
			alts = append(alts, rule.Match{Field: field, Op: rule.FieldRef, Values: names, All: m.all, Cased: m.cased})
		} else {
			e, err := compileValues(field, val, values, m, cfg)
			if err != nil {
				return nil, err
			}
			alts = append(alts, e)
		}
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	if m.all {
		return rule.And(alts), nil
	}
	return rule.Or(alts), nil
}

func asList(n *yamltree.Node) *yamltree.Node {
	if n.Kind == yamltree.Seq {
		return n
	}
	return &yamltree.Node{Kind: yamltree.Seq, Items: []*yamltree.Node{n}, Line: n.Line, Col: n.Col}
}

// compileValues turns the values of one field into matches: wildcards,
// transformations and the expand placeholders are resolved here, at load
// time, into plain operators (or regular expressions when needed).
func compileValues(field string, at *yamltree.Node, values []*yamltree.Node, m mods, cfg Config) (rule.Expr, error) {
	// groups[i] holds the alternatives of values[i]; with |all every group
	// must match, else any.
	var groups [][]variant
	for _, v := range values {
		raw := []string{v.Str}
		if m.expand {
			var err error
			if raw, err = expand(v, cfg); err != nil {
				return nil, err
			}
		}
		var g []variant
		for _, s := range raw {
			switch m.op {
			case rule.Regex:
				flags := m.reFlags
				if flags != "" {
					s = "(?" + flags + ")" + s
				}
				if _, err := regexp.Compile(s); err != nil {
					return nil, errAt(v, "field %s: invalid regular expression: %v", field, err)
				}
				g = append(g, variant{rule.Regex, s})
				continue
			case rule.CIDR, rule.Gt, rule.Gte, rule.Lt, rule.Lte:
				if len(m.transforms) > 0 {
					return nil, errAt(v, "field %s: %s cannot be combined with %s", field, m.op, strings.Join(m.transforms, ", "))
				}
				if _, err := rule.TextPredicate(m.op, s, false); err != nil {
					return nil, errAt(v, "field %s: %v", field, err)
				}
				g = append(g, variant{m.op, s})
				continue
			}
			if v.Type != yamltree.String {
				// Numbers and booleans compare as their literal text.
				g = append(g, variant{m.op, s})
				continue
			}
			for _, t := range transformValue(s, m.transforms) {
				g = append(g, globVariants(m.op, t, m.cased)...)
			}
		}
		groups = append(groups, g)
	}
	toExpr := func(g []variant) rule.Expr {
		byOp := map[rule.Op][]string{}
		var order []rule.Op
		for _, x := range g {
			if _, ok := byOp[x.op]; !ok {
				order = append(order, x.op)
			}
			byOp[x.op] = append(byOp[x.op], x.value)
		}
		var or rule.Or
		for _, op := range order {
			or = append(or, rule.Match{Field: field, Op: op, Values: byOp[op], Cased: m.cased || op == rule.Regex})
		}
		if len(or) == 1 {
			return or[0]
		}
		return or
	}
	if m.all && len(groups) > 1 {
		var and rule.And
		for _, g := range groups {
			and = append(and, toExpr(g))
		}
		return and, nil
	}
	var all []variant
	for _, g := range groups {
		all = append(all, g...)
	}
	return toExpr(all), nil
}

// expand replaces %placeholder% values from the configuration.
func expand(v *yamltree.Node, cfg Config) ([]string, error) {
	s := v.Str
	if !strings.HasPrefix(s, "%") || !strings.HasSuffix(s, "%") || len(s) < 3 {
		return []string{s}, nil
	}
	name := s[1 : len(s)-1]
	vals, ok := cfg.Placeholders[name]
	if !ok {
		return nil, errAt(v, "placeholder %%%s%% has no values (give them with --placeholder %s=VALUE)", name, name)
	}
	return vals, nil
}

// transformValue applies the encoding modifiers in order.
func transformValue(s string, ts []string) []string {
	vals := []string{s}
	for _, t := range ts {
		var next []string
		for _, v := range vals {
			switch t {
			case "base64":
				next = append(next, base64.StdEncoding.EncodeToString([]byte(v)))
			case "base64offset":
				next = append(next, base64Offsets(v)...)
			case "utf16le", "wide":
				next = append(next, utf16Bytes(v, false, false))
			case "utf16be":
				next = append(next, utf16Bytes(v, true, false))
			case "utf16":
				next = append(next, utf16Bytes(v, false, true))
			case "windash":
				next = append(next, windash(v)...)
			}
		}
		vals = next
	}
	return vals
}

// base64Offsets returns the three encodings of s at byte offsets 0, 1 and
// 2 of a base64 stream, trimmed to the characters that do not depend on
// the surrounding bytes (as the Sigma specification defines it).
func base64Offsets(s string) []string {
	start := []int{0, 2, 3}
	end := []int{0, 3, 2} // characters to trim at the end, by (len+i)%3
	var out []string
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, i), s...))
		enc = strings.TrimRight(enc, "=")
		cut := end[(len(s)+i)%3]
		lo, hi := start[i], len(enc)-cut
		if hi < lo {
			hi = lo
		}
		out = append(out, enc[lo:hi])
	}
	return out
}

func utf16Bytes(s string, bigEndian, bom bool) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u)+2)
	if bom {
		b = append(b, 0xff, 0xfe)
	}
	for _, x := range u {
		if bigEndian {
			b = append(b, byte(x>>8), byte(x))
		} else {
			b = append(b, byte(x), byte(x>>8))
		}
	}
	return string(b)
}

// windash returns s with each dash that starts a word replaced by every
// character Windows accepts there.
func windash(s string) []string {
	dashes := []string{"-", "/", "\u2013", "\u2014", "\u2015"}
	out := []string{s}
	for i := 0; i < len(s); i++ {
		if s[i] != '-' || (i > 0 && s[i-1] != ' ') {
			continue
		}
		var next []string
		for _, v := range out {
			for _, d := range dashes {
				// the byte index i is stable only for the first variant;
				// rebuild from the original position in each variant.
				next = append(next, replaceDashAt(v, s, i, d))
			}
		}
		out = next
	}
	return dedupe(out)
}

// replaceDashAt replaces, in v, the dash at the i-th byte of the original
// s (variants differ from s only in earlier dashes).
func replaceDashAt(v, s string, i int, d string) string {
	offset := len(v) - len(s)
	// Earlier replacements changed lengths before i; count them.
	j := i + offset
	for j > 0 && j < len(v) && v[j] != '-' {
		j--
	}
	if j < 0 || j >= len(v) || v[j] != '-' {
		return v
	}
	return v[:j] + d + v[j+1:]
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// globVariants turns a Sigma value with * and ? wildcards (escaped with
// \) into operators: plain text when it has none, prefix/suffix/contains
// when the wildcards only stand at the ends, a regular expression
// otherwise.
func globVariants(op rule.Op, s string, cased bool) []variant {
	lit, hasWild := unescape(s)
	if !hasWild {
		return []variant{{op, lit}}
	}
	// Fast forms: "*x*", "x*", "*x" with no other wildcard.
	inner := s
	lead := strings.HasPrefix(inner, "*")
	if lead {
		inner = inner[1:]
	}
	trail := strings.HasSuffix(inner, "*") && !strings.HasSuffix(inner, `\*`)
	if trail {
		inner = inner[:len(inner)-1]
	}
	if l, w := unescape(inner); !w {
		switch {
		case op == rule.Equals && lead && trail, op == rule.Contains:
			return []variant{{rule.Contains, l}}
		case op == rule.Equals && trail && !lead, op == rule.Prefix && !lead:
			return []variant{{rule.Prefix, l}}
		case op == rule.Equals && lead && !trail, op == rule.Suffix && !trail:
			return []variant{{rule.Suffix, l}}
		}
	}
	re := globRegex(s)
	switch op {
	case rule.Equals:
		re = "^" + re + "$"
	case rule.Prefix:
		re = "^" + re
	case rule.Suffix:
		re = re + "$"
	}
	if cased {
		re = "(?s)" + re
	} else {
		re = "(?is)" + re
	}
	return []variant{{rule.Regex, re}}
}

// variant is one operator and value a Sigma value compiles to.
type variant struct {
	op    rule.Op
	value string
}

// unescape resolves Sigma escapes and reports whether unescaped wildcards
// remain.
func unescape(s string) (string, bool) {
	var b strings.Builder
	wild := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			b.WriteByte(s[i+1])
			i++
		case c == '*' || c == '?':
			wild = true
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), wild
}

func globRegex(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			b.WriteString(regexp.QuoteMeta(string(s[i+1])))
			i++
		case c == '*':
			b.WriteString(".*")
		case c == '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String()
}

// compileKeywords compiles a keyword list (any of them, or all with |all).
func compileKeywords(n *yamltree.Node, m *mods, cfg Config) (rule.Expr, error) {
	mm := mods{op: rule.Contains}
	if m != nil {
		mm = *m
		if mm.op == rule.Equals {
			mm.op = rule.Contains
		}
	}
	var or rule.Or
	var and rule.And
	for _, it := range n.Items {
		if it.Kind != yamltree.Scalar {
			return nil, errAt(it, "a keyword must be a scalar, found %s", it.Describe())
		}
		var vs []variant
		if mm.op == rule.Regex {
			s := it.Str
			if mm.reFlags != "" {
				s = "(?" + mm.reFlags + ")" + s
			}
			if _, err := regexp.Compile(s); err != nil {
				return nil, errAt(it, "invalid regular expression: %v", err)
			}
			vs = []variant{{rule.Regex, s}}
		} else {
			for _, t := range transformValue(it.Str, mm.transforms) {
				vs = append(vs, globVariants(mm.op, t, mm.cased)...)
			}
		}
		var alts rule.Or
		for _, v := range vs {
			alts = append(alts, rule.Keyword{Op: v.op, Values: []string{v.value}, Cased: mm.cased || v.op == rule.Regex})
		}
		var e rule.Expr = alts
		if len(alts) == 1 {
			e = alts[0]
		}
		or = append(or, e)
		and = append(and, e)
	}
	if mm.all {
		return and, nil
	}
	if len(or) == 1 {
		return or[0], nil
	}
	return or, nil
}
