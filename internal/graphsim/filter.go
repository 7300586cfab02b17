package graphsim

import (
	"fmt"
	"strings"
	"time"
)

// maxFilterLen and maxFilterDepth bound the $filter expressions parsed.
const (
	maxFilterLen   = 2048
	maxFilterDepth = 8
)

// signInEventTypes are the members of Graph's signInEventTypes enum.
var signInEventTypes = map[string]string{
	"interactiveuser":    "interactiveUser",
	"noninteractiveuser": "nonInteractiveUser",
	"serviceprincipal":   "servicePrincipal",
	"managedidentity":    "managedIdentity",
}

// schema lists the properties a list's $filter may compare: timeFields
// with DateTimeOffset literals (eq, ge, gt, le, lt), stringFields with
// quoted strings (eq), and whether signInEventTypes/any(...) is allowed.
type schema struct {
	entity       string // for messages: "microsoft.graph.signIn"
	timeFields   []string
	stringFields []string
	eventTypes   bool
}

// cond is one comparison of a $filter.
type cond struct {
	field string // as spelled in the schema
	op    string // eq, ge, gt, le, lt
	t     time.Time
	s     string
}

// filter is a parsed $filter: a conjunction of comparisons and, for
// sign-ins, the event types a signInEventTypes/any(...) clause admits
// (nil: no such clause).
type filter struct {
	conds []cond
	types map[string]bool
}

// matchTime reports whether the time value v of field satisfies every
// comparison of the field.
func (f *filter) matchTime(field string, v time.Time) bool {
	for _, c := range f.conds {
		if c.field != field {
			continue
		}
		ok := false
		switch c.op {
		case "eq":
			ok = v.Equal(c.t)
		case "ge":
			ok = !v.Before(c.t)
		case "gt":
			ok = v.After(c.t)
		case "le":
			ok = !v.After(c.t)
		case "lt":
			ok = v.Before(c.t)
		}
		if !ok {
			return false
		}
	}
	return true
}

// lowerBound is the earliest time of field that can match: the latest
// bound of its eq, ge and gt comparisons (zero when none).
func (f *filter) lowerBound(field string) time.Time {
	var lb time.Time
	for _, c := range f.conds {
		if c.field == field && (c.op == "eq" || c.op == "ge" || c.op == "gt") && c.t.After(lb) {
			lb = c.t
		}
	}
	return lb
}

// matchString reports whether the value v of field equals every string
// the filter compares the field with (case-insensitively, as Graph).
func (f *filter) matchString(field, v string) bool {
	for _, c := range f.conds {
		if c.field == field && !strings.EqualFold(c.s, v) {
			return false
		}
	}
	return true
}

type tokKind int

const (
	tokWord tokKind = iota
	tokString
	tokLParen
	tokRParen
	tokColon
	tokEOF
)

type token struct {
	kind tokKind
	text string
	pos  int
}

// lex splits a $filter into words, quoted strings, parentheses and
// colons. Words that start with a digit (DateTimeOffset literals) may
// contain colons.
func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			out = append(out, token{tokLParen, "(", i})
			i++
		case c == ')':
			out = append(out, token{tokRParen, ")", i})
			i++
		case c == ':':
			out = append(out, token{tokColon, ":", i})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated string literal at position %d", i)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, token{tokString, b.String(), i})
			i = j + 1
		default:
			digit := '0' <= c && c <= '9'
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n()'", rune(s[j])) && (digit || s[j] != ':') {
				j++
			}
			out = append(out, token{tokWord, s[i:j], i})
			i = j
		}
	}
	return append(out, token{tokEOF, "", len(s)}), nil
}

type parser struct {
	toks  []token
	i     int
	sc    schema
	depth int
}

// parseFilter parses the $filter forms the simulated lists support:
// comparisons of the schema's fields joined by "and" (parentheses
// allowed), and signInEventTypes/any(t: t eq '...' or ...), several of
// which may be joined by "or".
func parseFilter(s string, sc schema) (*filter, error) {
	if len(s) > maxFilterLen {
		return nil, fmt.Errorf("the filter is longer than %d characters", maxFilterLen)
	}
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, sc: sc}
	f, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, fmt.Errorf("unexpected %q at position %d", t.text, t.pos)
	}
	return f, nil
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) keyword(k string) bool {
	if t := p.peek(); t.kind == tokWord && strings.EqualFold(t.text, k) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expect(kind tokKind, what string) (token, error) {
	t := p.next()
	if t.kind != kind {
		return t, fmt.Errorf("expected %s at position %d, found %q", what, t.pos, t.text)
	}
	return t, nil
}

func (p *parser) or() (*filter, error) {
	f, err := p.and()
	if err != nil {
		return nil, err
	}
	for {
		pos := p.peek().pos
		if !p.keyword("or") {
			return f, nil
		}
		g, err := p.and()
		if err != nil {
			return nil, err
		}
		if len(f.conds) > 0 || len(g.conds) > 0 || f.types == nil || g.types == nil {
			return nil, fmt.Errorf("'or' at position %d is supported only between signInEventTypes/any(...) clauses", pos)
		}
		for k := range g.types {
			f.types[k] = true
		}
	}
}

func (p *parser) and() (*filter, error) {
	f, err := p.term()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		g, err := p.term()
		if err != nil {
			return nil, err
		}
		f.conds = append(f.conds, g.conds...)
		switch {
		case f.types == nil:
			f.types = g.types
		case g.types != nil:
			for k := range f.types {
				if !g.types[k] {
					delete(f.types, k)
				}
			}
		}
	}
	return f, nil
}

func (p *parser) term() (*filter, error) {
	t := p.peek()
	switch {
	case t.kind == tokLParen:
		p.next()
		if p.depth++; p.depth > maxFilterDepth {
			return nil, fmt.Errorf("parentheses nest deeper than %d", maxFilterDepth)
		}
		f, err := p.or()
		if err != nil {
			return nil, err
		}
		p.depth--
		if _, err := p.expect(tokRParen, "')'"); err != nil {
			return nil, err
		}
		return f, nil
	case t.kind == tokWord && strings.EqualFold(t.text, "signInEventTypes/any"):
		if !p.sc.eventTypes {
			return nil, fmt.Errorf("could not find a property named 'signInEventTypes' on type '%s'", p.sc.entity)
		}
		p.next()
		return p.anyClause()
	case t.kind == tokWord:
		return p.comparison()
	}
	return nil, fmt.Errorf("expected a comparison at position %d, found %q", t.pos, t.text)
}

// anyClause parses "(t: t eq 'x' or t eq 'y')" after signInEventTypes/any.
func (p *parser) anyClause() (*filter, error) {
	if _, err := p.expect(tokLParen, "'(' after signInEventTypes/any"); err != nil {
		return nil, err
	}
	v, err := p.expect(tokWord, "a lambda variable")
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokColon, "':' after the lambda variable"); err != nil {
		return nil, err
	}
	f := &filter{types: map[string]bool{}}
	for {
		open := 0
		for p.peek().kind == tokLParen {
			p.next()
			open++
		}
		if w, err := p.expect(tokWord, "the lambda variable"); err != nil {
			return nil, err
		} else if w.text != v.text {
			return nil, fmt.Errorf("expected lambda variable %q at position %d, found %q", v.text, w.pos, w.text)
		}
		if !p.keyword("eq") {
			t := p.peek()
			return nil, fmt.Errorf("only 'eq' is supported on signInEventTypes, found %q at position %d", t.text, t.pos)
		}
		lit, err := p.expect(tokString, "a quoted event type")
		if err != nil {
			return nil, err
		}
		name, ok := signInEventTypes[strings.ToLower(lit.text)]
		if !ok {
			return nil, fmt.Errorf("%q is not a member of enum type 'microsoft.graph.signInEventType'", lit.text)
		}
		f.types[name] = true
		for ; open > 0; open-- {
			if _, err := p.expect(tokRParen, "')'"); err != nil {
				return nil, err
			}
		}
		if !p.keyword("or") {
			break
		}
	}
	if _, err := p.expect(tokRParen, "')' closing signInEventTypes/any"); err != nil {
		return nil, err
	}
	return f, nil
}

func (p *parser) comparison() (*filter, error) {
	field := p.next()
	op := p.next()
	if op.kind != tokWord {
		return nil, fmt.Errorf("expected an operator after %q at position %d, found %q", field.text, op.pos, op.text)
	}
	o := strings.ToLower(op.text)
	lit := p.next()
	if lit.kind == tokEOF {
		return nil, fmt.Errorf("expected a value after %q %q at the end", field.text, op.text)
	}
	for _, name := range p.sc.timeFields {
		if !strings.EqualFold(field.text, name) {
			continue
		}
		switch o {
		case "eq", "ge", "gt", "le", "lt":
		default:
			return nil, fmt.Errorf("operator %q is not supported on %s (use eq, ge, gt, le or lt)", op.text, name)
		}
		if lit.kind != tokWord {
			return nil, fmt.Errorf("%s must be compared with an unquoted DateTimeOffset such as 2026-11-20T08:00:00Z, found %q at position %d", name, lit.text, lit.pos)
		}
		t, err := time.Parse(time.RFC3339Nano, lit.text)
		if err != nil {
			return nil, fmt.Errorf("%q at position %d is not a DateTimeOffset (RFC 3339, such as 2026-11-20T08:00:00Z)", lit.text, lit.pos)
		}
		return &filter{conds: []cond{{field: name, op: o, t: t}}}, nil
	}
	for _, name := range p.sc.stringFields {
		if !strings.EqualFold(field.text, name) {
			continue
		}
		if o != "eq" {
			return nil, fmt.Errorf("operator %q is not supported on %s (use eq)", op.text, name)
		}
		if lit.kind != tokString {
			return nil, fmt.Errorf("%s must be compared with a quoted string, found %q at position %d", name, lit.text, lit.pos)
		}
		return &filter{conds: []cond{{field: name, op: o, s: lit.text}}}, nil
	}
	return nil, fmt.Errorf("filtering on %q is not supported on type '%s'", field.text, p.sc.entity)
}
