package sigma

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

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
		if combinations(len(matched), c.N) > maxCombinations {
			return nil, fmt.Errorf("column %d: \"%d of %s\": too many combinations of the %d matching identifiers (more than %d)", c.Pos, c.N, c.Pattern, len(matched), maxCombinations)
		}
		return atLeast(c.N, matched), nil
	}
	return nil, fmt.Errorf("unknown condition node %T", c)
}

// maxCombinations bounds the expansion of "N of": an Or of every And of N
// identifiers.
const maxCombinations = 10000

// combinations returns n choose k, or maxCombinations+1 when it is larger.
func combinations(n, k int) int {
	if k > n-k {
		k = n - k
	}
	c := 1
	for i := 1; i <= k; i++ {
		c = c * (n - k + i) / i
		if c > maxCombinations {
			return maxCombinations + 1
		}
	}
	return c
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
		for i := start; i <= len(es)-(n-len(chosen)); i++ {
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
	op                                        rule.Op
	opName                                    string // the modifier that set op
	all, cased, exists, fieldref, expand, neq bool
	reFlags                                   string
	transforms                                []string // base64, base64offset, utf16le, utf16be, wide, utf16, windash, in order
	n                                         int      // number of modifiers
}

var knownTransforms = map[string]bool{"base64": true, "base64offset": true, "utf16le": true, "utf16be": true, "wide": true, "utf16": true, "windash": true}

// reFlagNames maps the flag modifiers of re, short and long, to RE2 flags.
var reFlagNames = map[string]string{"i": "i", "ignorecase": "i", "m": "m", "multiline": "m", "s": "s", "dotall": "s"}

// timeModifiers are the Sigma 2.1 modifiers that read a date field's
// minute, hour, day… (not supported yet).
var timeModifiers = map[string]bool{"minute": true, "hour": true, "day": true, "week": true, "month": true, "year": true}

func parseMods(key *yamltree.Node, list []string) (mods, error) {
	m := mods{op: rule.Equals, n: len(list)}
	setOp := func(op rule.Op, name string) error {
		if m.op != rule.Equals {
			return errAt(key, "modifier %q conflicts with %q", name, m.opName)
		}
		m.op, m.opName = op, name
		return nil
	}
	for _, x := range list {
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
		case "i", "ignorecase", "m", "multiline", "s", "dotall":
			if m.op != rule.Regex {
				return m, errAt(key, "modifier %q is a flag of re and must follow it", x)
			}
			if f := reFlagNames[x]; !strings.Contains(m.reFlags, f) {
				m.reFlags += f
			}
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
		case "neq":
			m.neq = true
		default:
			switch {
			case knownTransforms[x]:
				m.transforms = append(m.transforms, x)
			case timeModifiers[x]:
				return m, errAt(key, "modifier %q: the Sigma 2.1 time modifiers (minute, hour, day, week, month, year) are not supported yet", x)
			case x == "":
				return m, errAt(key, "empty modifier in %q", key.Str)
			default:
				return m, errAt(key, "unknown modifier %q", x)
			}
		}
		if err != nil {
			return m, err
		}
	}
	// Combinations the specification (and pySigma) refuse, or that
	// entrawatch cannot honour: refused rather than silently ignored.
	switch {
	case m.exists && m.n > 1:
		return m, errAt(key, "exists cannot be combined with other modifiers (%s)", key.Str)
	case m.fieldref && len(m.transforms) > 0:
		return m, errAt(key, "fieldref cannot be combined with %s", m.transforms[0])
	case m.fieldref && m.op != rule.Equals:
		return m, errAt(key, "fieldref cannot be combined with %s (not supported)", m.opName)
	case m.fieldref && m.expand:
		return m, errAt(key, "fieldref cannot be combined with expand")
	case m.op != rule.Equals && m.op != rule.Contains && m.op != rule.Prefix && m.op != rule.Suffix && len(m.transforms) > 0:
		return m, errAt(key, "%s cannot be combined with %s", m.opName, m.transforms[0])
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
		if m.exists || m.fieldref {
			return nil, errAt(key, "%s needs a field name; keyword searches cannot use it", map[bool]string{true: "exists", false: "fieldref"}[m.exists])
		}
		e, err := compileKeywords(asList(val), &m, cfg)
		if err != nil || !m.neq {
			return e, err
		}
		return rule.Not{X: e}, nil
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
				if p := parsePattern(v.Str); p.wild() {
					return nil, errAt(v, "field %s: fieldref names a field and cannot hold wildcards (%q)", field, v.Str)
				}
				names = append(names, v.Str)
			}
			alts = append(alts, rule.Match{Field: field, Op: rule.FieldRef, Values: names, All: m.all, Cased: m.cased})
		} else {
			e, err := compileValues(field, values, m, cfg)
			if err != nil {
				return nil, err
			}
			alts = append(alts, e)
		}
	}
	var e rule.Expr
	switch {
	case len(alts) == 1:
		e = alts[0]
	case m.all:
		e = rule.And(alts)
	default:
		e = rule.Or(alts)
	}
	if m.neq {
		e = rule.Not{X: e}
	}
	return e, nil
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
func compileValues(field string, values []*yamltree.Node, m mods, cfg Config) (rule.Expr, error) {
	// groups[i] holds the alternatives of values[i]; with |all every group
	// must match, else any.
	var groups [][]variant
	total := 0
	for _, v := range values {
		g, err := valueVariants(v, m, cfg)
		if err != nil {
			return nil, errAt(v, "field %s: %s", field, err.Error())
		}
		if total += len(g); total > maxFieldValues {
			return nil, errAt(v, "field %s: more than %d values after modifiers and placeholders", field, maxFieldValues)
		}
		groups = append(groups, g)
	}
	return combine(groups, m.all, func(op rule.Op, values []string) rule.Expr {
		return rule.Match{Field: field, Op: op, Values: values, Cased: m.cased || op == rule.Regex}
	}), nil
}

// combine builds the expression of value groups: each group's variants
// joined by "or" (one match per operator), the groups joined by "and" with
// |all, else all variants by "or".
func combine(groups [][]variant, all bool, match func(op rule.Op, values []string) rule.Expr) rule.Expr {
	toExpr := func(g []variant) rule.Expr {
		var or rule.Or
		for _, x := range groupByOp(g) {
			or = append(or, match(x.op, x.values))
		}
		if len(or) == 1 {
			return or[0]
		}
		return or
	}
	if all && len(groups) > 1 {
		var and rule.And
		for _, g := range groups {
			and = append(and, toExpr(g))
		}
		return and
	}
	var flat []variant
	for _, g := range groups {
		flat = append(flat, g...)
	}
	return toExpr(flat)
}

// opValues is one operator and the values it tests.
type opValues struct {
	op     rule.Op
	values []string
}

// groupByOp gathers variants by operator, in order of first use, without
// repeated values.
func groupByOp(vs []variant) []opValues {
	var out []opValues
	seen := map[variant]bool{}
	for _, x := range vs {
		if seen[x] {
			continue
		}
		seen[x] = true
		i := slices.IndexFunc(out, func(o opValues) bool { return o.op == x.op })
		if i < 0 {
			out = append(out, opValues{op: x.op})
			i = len(out) - 1
		}
		out[i].values = append(out[i].values, x.value)
	}
	return out
}

// maxVariants bounds what one value may expand to (placeholders, windash,
// base64offset), maxFieldValues what the values of one field or keyword
// list may (YAML aliases can repeat a value many times).
const (
	maxVariants    = 4096
	maxFieldValues = 16384
)

// valueVariants compiles one value of a field or keyword search into the
// operators and values it stands for. Errors are *compileError at v.
func valueVariants(v *yamltree.Node, m mods, cfg Config) ([]variant, error) {
	switch m.op {
	case rule.Regex:
		s := v.Str
		if m.expand {
			var err error
			if s, err = expandRegex(v, cfg); err != nil {
				return nil, err
			}
		}
		if m.reFlags != "" {
			s = "(?" + m.reFlags + ")" + s
		}
		if _, err := regexp.Compile(s); err != nil {
			return nil, errAt(v, "invalid regular expression: %v", err)
		}
		return []variant{{rule.Regex, s}}, nil
	case rule.CIDR, rule.Gt, rule.Gte, rule.Lt, rule.Lte:
		raw := []string{v.Str}
		if m.expand {
			ps, err := expandPatterns(v, cfg)
			if err != nil {
				return nil, err
			}
			raw = raw[:0]
			for _, p := range ps {
				if p.wild() {
					return nil, errAt(v, "%s cannot take a wildcard (%q)", m.opName, v.Str)
				}
				raw = append(raw, p.plain())
			}
		}
		var out []variant
		for _, s := range raw {
			if _, err := rule.TextPredicate(m.op, s, false); err != nil {
				return nil, errAt(v, "%v", err)
			}
			out = append(out, variant{m.op, s})
		}
		return out, nil
	}
	var ps []pattern
	switch {
	case v.Type != yamltree.String:
		// Numbers and booleans compare as their literal text.
		ps = []pattern{{{lit: v.Str}}}
	case m.expand:
		var err error
		if ps, err = expandPatterns(v, cfg); err != nil {
			return nil, err
		}
	default:
		ps = []pattern{parsePattern(v.Str)}
	}
	for _, t := range m.transforms {
		var next []pattern
		for _, p := range ps {
			q, err := transform(t, p)
			if err != nil {
				return nil, errAt(v, "%v", err)
			}
			next = append(next, q...)
		}
		if len(next) > maxVariants {
			return nil, errAt(v, "%s makes more than %d values of %q", t, maxVariants, v.Str)
		}
		ps = next
	}
	out := make([]variant, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.variant(m.op, m.cased))
	}
	return out, nil
}

// A pattern is a Sigma string value: literal text, the wildcards * and ?,
// and the dash class windash leaves when it has too many dashes to spell
// out every combination.
type pattern []piece

type piece struct {
	lit  string
	kind byte // 0: literal; '*', '?'; 'd': any windash dash
}

// dashes are the characters windash puts in place of a dash or slash.
var dashes = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

func (p pattern) addLit(s string) pattern {
	if s == "" {
		return p
	}
	if n := len(p); n > 0 && p[n-1].kind == 0 {
		p[n-1].lit += s
		return p
	}
	return append(p, piece{lit: s})
}

// wild reports whether the pattern holds anything but literal text.
func (p pattern) wild() bool {
	for _, x := range p {
		if x.kind != 0 {
			return true
		}
	}
	return false
}

// plain returns the literal text of a pattern without wildcards.
func (p pattern) plain() string {
	var b strings.Builder
	for _, x := range p {
		b.WriteString(x.lit)
	}
	return b.String()
}

// parsePattern reads a Sigma value: * and ? are wildcards; \*, \? and \\
// stand for the character itself; any other backslash is plain.
func parsePattern(s string) pattern {
	var p pattern
	var b strings.Builder
	flush := func() {
		p = p.addLit(b.String())
		b.Reset()
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			b.WriteByte(s[i+1])
			i++
		case c == '*' || c == '?':
			flush()
			p = append(p, piece{kind: c})
		default:
			b.WriteByte(c)
		}
	}
	flush()
	return p
}

// variant turns a pattern into the operator that tests it: plain text when
// it has no wildcard, startswith/endswith/contains when * stands only at
// its ends, else a regular expression.
func (p pattern) variant(op rule.Op, cased bool) variant {
	// The operators are wildcards at the ends, as the specification
	// defines them.
	lead := op == rule.Contains || op == rule.Suffix
	trail := op == rule.Contains || op == rule.Prefix
	for len(p) > 0 && p[0].kind == '*' {
		p, lead = p[1:], true
	}
	for len(p) > 0 && p[len(p)-1].kind == '*' {
		p, trail = p[:len(p)-1], true
	}
	if len(p) == 0 && (lead || trail) {
		// "*" alone: any text.
		return variant{rule.Contains, ""}
	}
	if !p.wild() {
		lit := p.plain()
		switch {
		case lead && trail:
			return variant{rule.Contains, lit}
		case lead:
			return variant{rule.Suffix, lit}
		case trail:
			return variant{rule.Prefix, lit}
		}
		return variant{rule.Equals, lit}
	}
	re := "(?s)"
	if !cased {
		re = "(?si)"
	}
	if !lead {
		re += "^"
	}
	re += p.regexBody()
	if !trail {
		re += "$"
	}
	return variant{rule.Regex, re}
}

// regexBody returns the regular expression of a pattern, unanchored.
func (p pattern) regexBody() string {
	var b strings.Builder
	for _, x := range p {
		switch x.kind {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case 'd':
			b.WriteString("(?:")
			for i, d := range dashes {
				if i > 0 {
					b.WriteByte('|')
				}
				b.WriteString(regexp.QuoteMeta(d))
			}
			b.WriteString(")")
		default:
			b.WriteString(regexp.QuoteMeta(x.lit))
		}
	}
	return b.String()
}

// variant is one operator and value a Sigma value compiles to.
type variant struct {
	op    rule.Op
	value string
}

// placeholder finds the %name% placeholder at s[i:], returning its name and
// length.
func placeholder(s string, i int) (string, int) {
	if s[i] != '%' {
		return "", 0
	}
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '%':
			if j == i+1 {
				return "", 0
			}
			return s[i+1 : j], j + 1 - i
		case c == '_' || c == '-' || c == '.' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9':
		default:
			return "", 0
		}
	}
	return "", 0
}

// expandSegments splits a value with the expand modifier into literal text
// (with \% unescaped) and the values of its placeholders, and returns
// every combination of them: lit maps literal text, ph each placeholder
// value, join a combination.
func expandSegments[T any](v *yamltree.Node, cfg Config, lit func(string) T, ph func(string) T, join func([]T) T) ([]T, error) {
	s := v.Str
	var segs [][]T
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			segs = append(segs, []T{lit(b.String())})
			b.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && s[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		name, n := placeholder(s, i)
		if n == 0 {
			b.WriteByte(s[i])
			continue
		}
		vals, ok := cfg.Placeholders[name]
		if !ok || len(vals) == 0 {
			return nil, errAt(v, "placeholder %%%s%% has no values (give them with --placeholder %s=VALUE)", name, name)
		}
		flush()
		var alts []T
		for _, x := range vals {
			alts = append(alts, ph(x))
		}
		segs = append(segs, alts)
		i += n - 1
	}
	flush()
	combos := [][]T{nil}
	for _, seg := range segs {
		if len(combos)*len(seg) > maxVariants {
			return nil, errAt(v, "placeholders make more than %d values of %q", maxVariants, s)
		}
		var next [][]T
		for _, c := range combos {
			for _, x := range seg {
				next = append(next, append(c[:len(c):len(c)], x))
			}
		}
		combos = next
	}
	out := make([]T, len(combos))
	for i, c := range combos {
		out[i] = join(c)
	}
	return out, nil
}

// expandPatterns resolves the placeholders of a value: each placeholder
// value is itself a Sigma value (with wildcards).
func expandPatterns(v *yamltree.Node, cfg Config) ([]pattern, error) {
	return expandSegments(v, cfg, parsePattern, parsePattern, func(ps []pattern) pattern {
		var out pattern
		for _, p := range ps {
			for _, x := range p {
				if x.kind == 0 {
					out = out.addLit(x.lit)
				} else {
					out = append(out, x)
				}
			}
		}
		return out
	})
}

// expandRegex resolves the placeholders of a regular expression: their
// values are inserted as Sigma values (wildcards become .* and .), in one
// alternation.
func expandRegex(v *yamltree.Node, cfg Config) (string, error) {
	alts, err := expandSegments(v, cfg, func(s string) string { return s }, func(s string) string {
		return "(?:" + parsePattern(s).regexBody() + ")"
	}, func(ss []string) string { return strings.Join(ss, "") })
	if err != nil {
		return "", err
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	return "(?:" + strings.Join(alts, "|") + ")", nil
}

// transform applies one encoding modifier to a pattern. The UTF-16 ones
// encode the text and keep the wildcards; base64 and base64offset need a
// value without wildcards (as pySigma does).
func transform(t string, p pattern) ([]pattern, error) {
	switch t {
	case "windash":
		return windash(p), nil
	case "utf16le", "wide", "utf16be", "utf16":
		var out pattern
		if t == "utf16" {
			out = out.addLit("\xff\xfe")
		}
		for _, x := range p {
			if x.kind != 0 {
				out = append(out, x)
				continue
			}
			out = out.addLit(utf16Bytes(x.lit, t == "utf16be"))
		}
		return []pattern{out}, nil
	case "base64", "base64offset":
		if p.wild() {
			return nil, fmt.Errorf("%s cannot encode a value with wildcards", t)
		}
		if t == "base64" {
			return []pattern{{{lit: base64.StdEncoding.EncodeToString([]byte(p.plain()))}}}, nil
		}
		var out []pattern
		for _, s := range base64Offsets([]byte(p.plain())) {
			out = append(out, pattern{{lit: s}})
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("base64offset: the value is too short to encode")
		}
		return out, nil
	}
	return []pattern{p}, nil
}

// base64Offsets returns the encodings of b at byte offsets 0, 1 and 2 of a
// base64 stream, without the characters that depend on the bytes around
// it, as pySigma computes them: encode i spaces then b, drop the first 0,
// 2 or 3 characters (those of the spaces) and the last 0, 3 or 2 (the
// padded end) as (len(b)+i) mod 3 is 0, 1 or 2. Empty results (values of
// one or two bytes) are left out.
func base64Offsets(b []byte) []string {
	start := [3]int{0, 2, 3}
	cut := [3]int{0, 3, 2}
	var out []string
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString(append(bytes.Repeat([]byte{' '}, i), b...))
		lo, hi := start[i], len(enc)-cut[(len(b)+i)%3]
		if hi > lo {
			out = append(out, enc[lo:hi])
		}
	}
	return out
}

func utf16Bytes(s string, bigEndian bool) string {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u))
	for _, x := range u {
		if bigEndian {
			b = append(b, byte(x>>8), byte(x))
		} else {
			b = append(b, byte(x), byte(x>>8))
		}
	}
	return string(b)
}

// maxWindash is the number of dashes windash spells out in every
// combination (5^4 values); beyond it, the value becomes one regular
// expression with a class for each dash.
const maxWindash = 4

// windash replaces each - or / that starts a word (as pySigma finds them,
// \B[-/]\b: after a non-word character or the start of the text, before a
// word character) with every dash Windows accepts: -, /, en dash, em dash
// and horizontal bar. Text on either side of a wildcard counts as a start
// or an end.
func windash(p pattern) []pattern {
	type pos struct{ piece, at int }
	var at []pos
	for i, x := range p {
		if x.kind != 0 {
			continue
		}
		s := x.lit
		for j := 0; j < len(s); j++ {
			if s[j] != '-' && s[j] != '/' {
				continue
			}
			if j > 0 {
				if r, _ := utf8.DecodeLastRuneInString(s[:j]); isWordRune(r) {
					continue
				}
			}
			if r, _ := utf8.DecodeRuneInString(s[j+1:]); j+1 >= len(s) || !isWordRune(r) {
				continue
			}
			at = append(at, pos{i, j})
		}
	}
	if len(at) == 0 {
		return []pattern{p}
	}
	// split rebuilds p with the dash at each position replaced by choose(k).
	split := func(choose func(k int) piece) pattern {
		var out pattern
		k := 0
		for i, x := range p {
			if x.kind != 0 {
				out = append(out, x)
				continue
			}
			last := 0
			for ; k < len(at) && at[k].piece == i; k++ {
				out = out.addLit(x.lit[last:at[k].at])
				if c := choose(k); c.kind != 0 {
					out = append(out, c)
				} else {
					out = out.addLit(c.lit)
				}
				last = at[k].at + 1
			}
			out = out.addLit(x.lit[last:])
		}
		return out
	}
	if len(at) > maxWindash {
		return []pattern{split(func(int) piece { return piece{kind: 'd'} })}
	}
	n := 1
	for range at {
		n *= len(dashes)
	}
	out := make([]pattern, 0, n)
	for c := 0; c < n; c++ {
		out = append(out, split(func(k int) piece {
			x := c
			for ; k > 0; k-- {
				x /= len(dashes)
			}
			return piece{lit: dashes[x%len(dashes)]}
		}))
	}
	return out
}

// isWordRune reports whether r is a word character of a regular expression
// (\w as Python reads it in text: letters, digits and _).
func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r)
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
	if len(n.Items) == 0 {
		return nil, errAt(n, "empty list of keywords")
	}
	var groups [][]variant
	total := 0
	for _, it := range n.Items {
		if it.Kind != yamltree.Scalar {
			return nil, errAt(it, "a keyword must be a scalar, found %s", it.Describe())
		}
		g, err := valueVariants(it, mm, cfg)
		if err != nil {
			return nil, err
		}
		if total += len(g); total > maxFieldValues {
			return nil, errAt(it, "more than %d keywords after modifiers and placeholders", maxFieldValues)
		}
		groups = append(groups, g)
	}
	return combine(groups, mm.all, func(op rule.Op, values []string) rule.Expr {
		return rule.Keyword{Op: op, Values: values, Cased: mm.cased || op == rule.Regex}
	}), nil
}
