package kql

import (
	"fmt"
	"strings"
)

type parser struct {
	src  string
	toks []token
	i    int
	// tabularNames are lets bound to tabular expressions, so that a bare
	// name in a let is known to be a table.
	tabularNames map[string]bool
}

// TableNames are the tables entrawatch can present.
var TableNames = []string{"SigninLogs", "AADNonInteractiveUserSignInLogs", "AADServicePrincipalSignInLogs",
	"AADManagedIdentitySignInLogs", "AuditLogs", "SecurityEvent", "WindowsEvent", "Syslog", "Devices",
	"AzureActivity", "AADUserRiskEvents", "AADRiskyUsers"}

func isTable(name string) bool {
	for _, t := range TableNames {
		if strings.EqualFold(t, name) {
			return true
		}
	}
	return false
}

// Parse parses a query.
func Parse(src string) (*Query, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{src: src, toks: toks, tabularNames: map[string]bool{}}
	q := &Query{}
	for {
		for p.isPunct(";") {
			p.i++
		}
		if p.isWord("let") {
			l, err := p.let()
			if err != nil {
				return nil, err
			}
			q.Lets = append(q.Lets, l)
			continue
		}
		if p.peek().kind == tEOF {
			return nil, &Error{p.peek().pos, "the query has no tabular expression to run"}
		}
		t, err := p.tabular()
		if err != nil {
			return nil, err
		}
		q.Body = t
		for p.isPunct(";") {
			p.i++
		}
		if tok := p.peek(); tok.kind != tEOF {
			return nil, &Error{tok.pos, fmt.Sprintf("unexpected %s after the query (only one tabular statement is run)", tok)}
		}
		return q, nil
	}
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekN(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}
func (p *parser) isPunct(s string) bool { t := p.peek(); return t.kind == tPunct && t.text == s }
func (p *parser) isWord(s string) bool {
	t := p.peek()
	return t.kind == tIdent && strings.EqualFold(t.text, s)
}
func (p *parser) errf(t token, format string, args ...any) error {
	return &Error{t.pos, fmt.Sprintf(format, args...)}
}

func (p *parser) expectPunct(s string) (token, error) {
	t := p.next()
	if t.kind != tPunct || t.text != s {
		return t, p.errf(t, "expected %q, found %s", s, t)
	}
	return t, nil
}

func (p *parser) expectWord(s string) error {
	t := p.next()
	if t.kind != tIdent || !strings.EqualFold(t.text, s) {
		return p.errf(t, "expected %q, found %s", s, t)
	}
	return nil
}

func (p *parser) ident() (token, error) {
	t := p.next()
	if t.kind == tIdent {
		return t, nil
	}
	// ['quoted name']
	if t.kind == tPunct && t.text == "[" && p.peek().kind == tString {
		s := p.next()
		if _, err := p.expectPunct("]"); err != nil {
			return t, err
		}
		return token{kind: tIdent, text: s.text, raw: s.raw, pos: t.pos}, nil
	}
	return t, p.errf(t, "expected a name, found %s", t)
}

// let parses "let name = …;".
func (p *parser) let() (*Let, error) {
	kw := p.next()
	name, err := p.ident()
	if err != nil {
		return nil, err
	}
	if _, err := p.expectPunct("="); err != nil {
		return nil, err
	}
	l := &Let{Pos: kw.pos, Name: name.text}
	switch {
	case p.isPunct("(") && p.looksLikeParams():
		f, err := p.function()
		if err != nil {
			return nil, err
		}
		l.Func = f
		if f.Tabular.Source != nil {
			p.tabularNames[strings.ToLower(name.text)] = true
		}
	case p.startsTabular():
		t, err := p.tabular()
		if err != nil {
			return nil, err
		}
		l.Tabular = t
		p.tabularNames[strings.ToLower(name.text)] = true
	default:
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		l.Scalar = e
	}
	if !p.isPunct(";") && p.peek().kind != tEOF {
		return nil, p.errf(p.peek(), "expected ';' after let %s, found %s", name.text, p.peek())
	}
	return l, nil
}

// looksLikeParams reports whether "(" starts a function's parameter list:
// "()" or "(name:".
func (p *parser) looksLikeParams() bool {
	a, b := p.peekN(1), p.peekN(2)
	if a.kind == tPunct && a.text == ")" {
		return b.kind == tPunct && b.text == "{"
	}
	return a.kind == tIdent && b.kind == tPunct && b.text == ":"
}

func (p *parser) function() (*Func, error) {
	p.next() // (
	f := &Func{}
	for !p.isPunct(")") {
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		if _, err := p.expectPunct(":"); err != nil {
			return nil, err
		}
		prm := Param{Name: name.text}
		if p.isPunct("(") { // T:(*) or T:(col:type, …)
			depth := 0
			for {
				t := p.next()
				if t.kind == tEOF {
					return nil, p.errf(t, "unterminated tabular parameter type")
				}
				if t.kind == tPunct && t.text == "(" {
					depth++
				} else if t.kind == tPunct && t.text == ")" {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			prm.Tabular = true
		} else {
			typ, err := p.ident()
			if err != nil {
				return nil, err
			}
			prm.Type = strings.ToLower(typ.text)
		}
		if p.isPunct("=") {
			p.next()
			d, err := p.expr()
			if err != nil {
				return nil, err
			}
			prm.Default = d
		}
		f.Params = append(f.Params, prm)
		if p.isPunct(",") {
			p.next()
			continue
		}
		if !p.isPunct(")") {
			return nil, p.errf(p.peek(), "expected ',' or ')' in the parameter list, found %s", p.peek())
		}
	}
	p.next() // )
	if _, err := p.expectPunct("{"); err != nil {
		return nil, err
	}
	saved := p.tabularNames
	p.tabularNames = map[string]bool{}
	for k, v := range saved {
		p.tabularNames[k] = v
	}
	for _, prm := range f.Params {
		if prm.Tabular {
			p.tabularNames[strings.ToLower(prm.Name)] = true
		}
	}
	for {
		for p.isPunct(";") {
			p.next()
		}
		if p.isWord("let") {
			l, err := p.let()
			if err != nil {
				return nil, err
			}
			f.Lets = append(f.Lets, l)
			continue
		}
		break
	}
	if p.startsTabular() {
		t, err := p.tabular()
		if err != nil {
			return nil, err
		}
		f.Tabular = t
	} else {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		f.Scalar = e
	}
	for p.isPunct(";") {
		p.next()
	}
	p.tabularNames = saved
	if _, err := p.expectPunct("}"); err != nil {
		return nil, err
	}
	return f, nil
}

// startsTabular reports whether the tokens ahead start a tabular
// expression.
func (p *parser) startsTabular() bool {
	t := p.peek()
	switch {
	case t.kind == tIdent:
		low := strings.ToLower(t.text)
		if low == "union" || low == "datatable" || isTable(t.text) || p.tabularNames[low] {
			return true
		}
		n := p.peekN(1)
		return n.kind == tPunct && n.text == "|"
	case t.kind == tPunct && t.text == "(":
		// (T | …) as a source
		save := p.i
		p.i++
		ok := p.startsTabular()
		p.i = save
		return ok
	}
	return false
}

// tabular parses source | op | op ….
func (p *parser) tabular() (Tabular, error) {
	t := Tabular{Pos: p.peek().pos}
	src, err := p.source()
	if err != nil {
		return t, err
	}
	t.Source = src
	for p.isPunct("|") {
		p.next()
		op, err := p.operator()
		if err != nil {
			return t, err
		}
		t.Ops = append(t.Ops, op)
	}
	return t, nil
}

func (p *parser) source() (Source, error) {
	t := p.peek()
	switch {
	case t.kind == tPunct && t.text == "(":
		p.next()
		sub, err := p.tabular()
		if err != nil {
			return nil, err
		}
		if _, err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		return &Subquery{Tabular: sub}, nil
	case t.kind == tIdent && strings.EqualFold(t.text, "union"):
		return p.union()
	case t.kind == tIdent && strings.EqualFold(t.text, "datatable"):
		return p.datatable()
	case t.kind == tIdent:
		p.next()
		ref := &TableRef{Pos: t.pos, Name: t.text}
		if p.isPunct("(") {
			args, err := p.args()
			if err != nil {
				return nil, err
			}
			ref.Args, ref.Call = args, true
		}
		return ref, nil
	}
	return nil, p.errf(t, "expected a table, found %s", t)
}

func (p *parser) union() (*Union, error) {
	kw := p.next()
	u := &Union{Pos: kw.pos}
	for p.peek().kind == tIdent && p.peekN(1).kind == tPunct && p.peekN(1).text == "=" {
		name := strings.ToLower(p.next().text)
		p.next()
		v := p.next()
		switch name {
		case "isfuzzy":
			u.IsFuzzy = strings.EqualFold(v.text, "true")
		case "kind":
			u.Kind = strings.ToLower(v.text)
		case "withsource":
			return nil, p.errf(v, "union withsource= is not supported")
		default:
			return nil, p.errf(v, "union parameter %q is not supported", name)
		}
	}
	for {
		t, err := p.unionLeg()
		if err != nil {
			return nil, err
		}
		u.Tables = append(u.Tables, t)
		if !p.isPunct(",") {
			break
		}
		p.next()
	}
	return u, nil
}

// unionLeg is a table name or a parenthesised tabular expression (a
// union's operands do not take pipes of their own unless parenthesised).
func (p *parser) unionLeg() (Tabular, error) {
	t := p.peek()
	if t.kind == tPunct && t.text == "(" {
		p.next()
		sub, err := p.tabular()
		if err != nil {
			return sub, err
		}
		_, err = p.expectPunct(")")
		return sub, err
	}
	name, err := p.ident()
	if err != nil {
		return Tabular{}, err
	}
	ref := &TableRef{Pos: name.pos, Name: name.text}
	if p.isPunct("(") {
		args, err := p.args()
		if err != nil {
			return Tabular{}, err
		}
		ref.Args, ref.Call = args, true
	}
	return Tabular{Pos: name.pos, Source: ref}, nil
}

func (p *parser) datatable() (*Datatable, error) {
	kw := p.next()
	d := &Datatable{Pos: kw.pos}
	if _, err := p.expectPunct("("); err != nil {
		return nil, err
	}
	for !p.isPunct(")") {
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		if _, err := p.expectPunct(":"); err != nil {
			return nil, err
		}
		typ, err := p.ident()
		if err != nil {
			return nil, err
		}
		d.Columns = append(d.Columns, Param{Name: name.text, Type: strings.ToLower(typ.text)})
		if p.isPunct(",") {
			p.next()
		}
	}
	p.next()
	if _, err := p.expectPunct("["); err != nil {
		return nil, err
	}
	for !p.isPunct("]") {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		d.Values = append(d.Values, e)
		if p.isPunct(",") {
			p.next()
		} else if !p.isPunct("]") {
			return nil, p.errf(p.peek(), "expected ',' or ']' in datatable values, found %s", p.peek())
		}
	}
	p.next()
	if len(d.Columns) == 0 || len(d.Values)%len(d.Columns) != 0 {
		return nil, p.errf(kw, "datatable has %d values for %d columns", len(d.Values), len(d.Columns))
	}
	return d, nil
}

func (p *parser) args() ([]Expr, error) {
	if _, err := p.expectPunct("("); err != nil {
		return nil, err
	}
	var out []Expr
	for !p.isPunct(")") {
		var e Expr
		var err error
		if p.startsTabular() {
			start := p.peek().pos
			var t Tabular
			t, err = p.tabular()
			e = &TabularExpr{Pos: start, Tabular: t}
		} else {
			e, err = p.expr()
		}
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		if p.isPunct(",") {
			p.next()
		} else if !p.isPunct(")") {
			return nil, p.errf(p.peek(), "expected ',' or ')' in arguments, found %s", p.peek())
		}
	}
	p.next()
	return out, nil
}
