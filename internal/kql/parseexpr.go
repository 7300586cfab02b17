package kql

import (
	"strconv"
	"strings"
)

// String operators written as words, with their negations and case-sensitive
// forms.
var wordOps = map[string]bool{
	"has": true, "!has": true, "has_cs": true, "!has_cs": true,
	"hasprefix": true, "!hasprefix": true, "hassuffix": true, "!hassuffix": true,
	"contains": true, "!contains": true, "contains_cs": true, "!contains_cs": true,
	"startswith": true, "!startswith": true, "startswith_cs": true, "!startswith_cs": true,
	"endswith": true, "!endswith": true, "endswith_cs": true, "!endswith_cs": true,
}

var cmpOps = map[string]bool{"==": true, "!=": true, "<>": true, "<": true, ">": true, "<=": true, ">=": true, "=~": true, "!~": true}

func (p *parser) expr() (Expr, error) { return p.or() }

func (p *parser) or() (Expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.isWord("or") {
		t := p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = &Binary{Pos: t.pos, Op: "or", L: l, R: r}
	}
	return l, nil
}

func (p *parser) and() (Expr, error) {
	l, err := p.comparison()
	if err != nil {
		return nil, err
	}
	for p.isWord("and") {
		t := p.next()
		r, err := p.comparison()
		if err != nil {
			return nil, err
		}
		l = &Binary{Pos: t.pos, Op: "and", L: l, R: r}
	}
	return l, nil
}

// opAhead returns the comparison or string operator ahead, and how many
// tokens it takes.
func (p *parser) opAhead() (string, int) {
	t := p.peek()
	switch t.kind {
	case tPunct:
		if cmpOps[t.text] {
			return t.text, 1
		}
		if strings.HasPrefix(t.text, "!") {
			low := strings.ToLower(t.text)
			if wordOps[low] {
				return low, 1
			}
			switch low {
			case "!in", "!in~", "!between":
				return low, 1
			}
		}
	case tIdent:
		low := strings.ToLower(t.text)
		switch {
		case wordOps[low]:
			return low, 1
		case low == "in":
			n := p.peekN(1)
			if n.kind == tPunct && n.text == "~" && n.off == t.end {
				return "in~", 2
			}
			return "in", 1
		case low == "between", low == "has_any", low == "has_all":
			return low, 1
		case low == "matches":
			if n := p.peekN(1); n.kind == tIdent && strings.EqualFold(n.text, "regex") {
				return "matches regex", 2
			}
		}
	}
	return "", 0
}

func (p *parser) comparison() (Expr, error) {
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	for {
		op, n := p.opAhead()
		if n == 0 {
			return l, nil
		}
		t := p.peek()
		p.i += n
		switch op {
		case "in", "!in", "in~", "!in~", "has_any", "has_all":
			list, err := p.inList()
			if err != nil {
				return nil, err
			}
			l = &In{Pos: t.pos, Op: op, X: l, List: list}
		case "between", "!between":
			if _, err := p.expectPunct("("); err != nil {
				return nil, err
			}
			lo, err := p.additive()
			if err != nil {
				return nil, err
			}
			if _, err := p.expectPunct(".."); err != nil {
				return nil, err
			}
			hi, err := p.additive()
			if err != nil {
				return nil, err
			}
			if _, err := p.expectPunct(")"); err != nil {
				return nil, err
			}
			l = &Between{Pos: t.pos, Not: op == "!between", X: l, Lo: lo, Hi: hi}
		default:
			if op == "<>" {
				op = "!="
			}
			r, err := p.additive()
			if err != nil {
				return nil, err
			}
			l = &Binary{Pos: t.pos, Op: op, L: l, R: r}
		}
	}
}

// inList parses "(a, b, …)", "(T | project x)" or a dynamic array name.
func (p *parser) inList() ([]Expr, error) {
	if !p.isPunct("(") {
		e, err := p.additive()
		if err != nil {
			return nil, err
		}
		return []Expr{e}, nil
	}
	return p.args()
}

func (p *parser) additive() (Expr, error) {
	l, err := p.multiplicative()
	if err != nil {
		return nil, err
	}
	for p.isPunct("+") || p.isPunct("-") {
		t := p.next()
		r, err := p.multiplicative()
		if err != nil {
			return nil, err
		}
		l = &Binary{Pos: t.pos, Op: t.text, L: l, R: r}
	}
	return l, nil
}

func (p *parser) multiplicative() (Expr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.isPunct("*") || p.isPunct("/") || p.isPunct("%") {
		t := p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = &Binary{Pos: t.pos, Op: t.text, L: l, R: r}
	}
	return l, nil
}

func (p *parser) unary() (Expr, error) {
	if p.isPunct("-") || p.isPunct("+") {
		t := p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		if lit, ok := x.(*Lit); ok && t.text == "-" && (lit.Kind == "long" || lit.Kind == "real" || lit.Kind == "timespan") {
			lit.Text = "-" + lit.Text
			lit.Pos = t.pos
			return lit, nil
		}
		return &Unary{Pos: t.pos, Op: t.text, X: x}, nil
	}
	return p.postfix()
}

func (p *parser) postfix() (Expr, error) {
	x, err := p.primary()
	if err != nil {
		return nil, err
	}
	for {
		switch {
		case p.isPunct("."):
			t := p.next()
			n, err := p.ident()
			if err != nil {
				return nil, err
			}
			x = &Member{Pos: t.pos, X: x, Name: n.text}
		case p.isPunct("["):
			t := p.next()
			if p.peek().kind == tString && p.peekN(1).kind == tPunct && p.peekN(1).text == "]" {
				s := p.next()
				p.next()
				x = &Member{Pos: t.pos, X: x, Name: s.text}
				continue
			}
			idx, err := p.expr()
			if err != nil {
				return nil, err
			}
			if _, err := p.expectPunct("]"); err != nil {
				return nil, err
			}
			x = &Index{Pos: t.pos, X: x, Index: idx}
		default:
			return x, nil
		}
	}
}

func (p *parser) primary() (Expr, error) {
	t := p.peek()
	switch t.kind {
	case tString:
		p.next()
		return &Lit{Pos: t.pos, Kind: "string", Text: t.text}, nil
	case tNumber:
		p.next()
		return numberLit(t)
	case tPunct:
		switch t.text {
		case "(":
			if p.startsTabular() {
				p.next()
				tab, err := p.tabular()
				if err != nil {
					return nil, err
				}
				if _, err := p.expectPunct(")"); err != nil {
					return nil, err
				}
				return &TabularExpr{Pos: t.pos, Tabular: tab}, nil
			}
			p.next()
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			if _, err := p.expectPunct(")"); err != nil {
				return nil, err
			}
			return e, nil
		case "*":
			p.next()
			return &Star{Pos: t.pos}, nil
		case "[":
			if p.peekN(1).kind == tString {
				n, err := p.ident()
				if err != nil {
					return nil, err
				}
				return &Ident{Pos: n.pos, Name: n.text}, nil
			}
		}
		return nil, p.errf(t, "unexpected %s in an expression", t)
	case tIdent:
		p.next()
		low := strings.ToLower(t.text)
		switch low {
		case "true", "false":
			return &Lit{Pos: t.pos, Kind: "bool", Text: low}, nil
		case "null":
			return &Lit{Pos: t.pos, Kind: "null"}, nil
		}
		if !p.isPunct("(") {
			return &Ident{Pos: t.pos, Name: t.text}, nil
		}
		switch low {
		case "datetime", "timespan", "dynamic", "guid", "time", "todynamic_literal", "real", "long", "int", "bool", "decimal", "string":
			if low == "string" || low == "int" || low == "long" || low == "real" || low == "bool" || low == "decimal" {
				// typed literals such as long(null), real(1.5)
				break
			}
			raw, err := p.rawParens()
			if err != nil {
				return nil, err
			}
			kind := low
			if kind == "time" {
				kind = "timespan"
			}
			return &Lit{Pos: t.pos, Kind: kind, Text: strings.TrimSpace(raw)}, nil
		}
		args, err := p.args()
		if err != nil {
			return nil, err
		}
		return &Call{Pos: t.pos, Name: low, Args: args}, nil
	}
	return nil, p.errf(t, "unexpected %s in an expression", t)
}

// rawParens returns the source text between balanced parentheses.
func (p *parser) rawParens() (string, error) {
	open, err := p.expectPunct("(")
	if err != nil {
		return "", err
	}
	depth := 1
	start := open.end
	for {
		t := p.next()
		if t.kind == tEOF {
			return "", p.errf(open, "unbalanced parentheses")
		}
		if t.kind == tPunct && t.text == "(" || t.kind == tPunct && t.text == "[" || t.kind == tPunct && t.text == "{" {
			depth++
		}
		if t.kind == tPunct && (t.text == ")" || t.text == "]" || t.text == "}") {
			depth--
			if depth == 0 {
				return p.src[start:t.off], nil
			}
		}
	}
}

var timespanUnits = map[string]bool{"d": true, "h": true, "m": true, "s": true, "ms": true, "microsecond": true, "tick": true,
	"day": true, "days": true, "hr": true, "hrs": true, "hour": true, "hours": true, "min": true, "minute": true, "minutes": true,
	"sec": true, "second": true, "seconds": true, "milli": true, "millis": true, "millisecond": true, "milliseconds": true,
	"micro": true, "micros": true, "microseconds": true, "ticks": true}

func numberLit(t token) (Expr, error) {
	s := t.text
	if strings.HasPrefix(strings.ToLower(s), "0x") {
		if _, err := strconv.ParseInt(s[2:], 16, 64); err != nil {
			return nil, &Error{t.pos, "invalid hexadecimal number " + s}
		}
		return &Lit{Pos: t.pos, Kind: "long", Text: s}, nil
	}
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.' || (s[i] == 'e' || s[i] == 'E') && i+1 < len(s) && (s[i+1] >= '0' && s[i+1] <= '9' || s[i+1] == '-' || s[i+1] == '+') || (s[i] == '-' || s[i] == '+') && i > 0 && (s[i-1] == 'e' || s[i-1] == 'E')) {
		i++
	}
	num, unit := s[:i], strings.ToLower(s[i:])
	if unit != "" {
		if !timespanUnits[unit] {
			return nil, &Error{t.pos, "unknown number suffix in " + s}
		}
		if _, err := strconv.ParseFloat(num, 64); err != nil {
			return nil, &Error{t.pos, "invalid timespan " + s}
		}
		return &Lit{Pos: t.pos, Kind: "timespan", Text: s}, nil
	}
	if strings.ContainsAny(num, ".eE") {
		if _, err := strconv.ParseFloat(num, 64); err != nil {
			return nil, &Error{t.pos, "invalid number " + s}
		}
		return &Lit{Pos: t.pos, Kind: "real", Text: num}, nil
	}
	if _, err := strconv.ParseInt(num, 10, 64); err != nil {
		return nil, &Error{t.pos, "invalid number " + s}
	}
	return &Lit{Pos: t.pos, Kind: "long", Text: num}, nil
}

// columnName derives the column name Kusto gives an unnamed expression:
// the column or member name, else Column1-like names from the evaluator.
func columnName(e Expr) string {
	switch e := e.(type) {
	case *Ident:
		return e.Name
	case *Member:
		return columnName(e.X) + "_" + e.Name
	case *Call:
		if len(e.Args) > 0 {
			if n := columnName(e.Args[0]); n != "" {
				return e.Name + "_" + n
			}
		}
		return e.Name + "_"
	}
	return ""
}
