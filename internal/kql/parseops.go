package kql

import (
	"strings"
)

// operator parses one tabular operator after a pipe.
func (p *parser) operator() (Operator, error) {
	t := p.next()
	if t.kind != tIdent {
		return nil, p.errf(t, "expected a tabular operator after '|', found %s", t)
	}
	switch name := strings.ToLower(t.text); name {
	case "where", "filter":
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &Where{Pos: t.pos, Pred: e}, nil
	case "extend":
		cols, err := p.assignList(false)
		if err != nil {
			return nil, err
		}
		return &Extend{Pos: t.pos, Columns: cols}, nil
	case "project":
		cols, err := p.assignList(false)
		if err != nil {
			return nil, err
		}
		return &Project{Pos: t.pos, Columns: cols}, nil
	case "project-away":
		names, err := p.namePatterns()
		return &ProjectAway{Pos: t.pos, Names: names}, err
	case "project-keep":
		names, err := p.namePatterns()
		return &ProjectKeep{Pos: t.pos, Names: names}, err
	case "project-reorder":
		names, err := p.namePatterns()
		return &ProjectReorder{Pos: t.pos, Names: names}, err
	case "project-rename":
		op := &ProjectRename{Pos: t.pos}
		for {
			n, err := p.ident()
			if err != nil {
				return nil, err
			}
			if _, err := p.expectPunct("="); err != nil {
				return nil, err
			}
			o, err := p.ident()
			if err != nil {
				return nil, err
			}
			op.Pairs = append(op.Pairs, [2]string{n.text, o.text})
			if !p.isPunct(",") {
				return op, nil
			}
			p.next()
		}
	case "summarize":
		s := &Summarize{Pos: t.pos}
		p.skipHints()
		if !p.isWord("by") {
			aggs, err := p.assignList(true)
			if err != nil {
				return nil, err
			}
			s.Aggs = aggs
		}
		if p.isWord("by") {
			p.next()
			by, err := p.assignList(false)
			if err != nil {
				return nil, err
			}
			s.By = by
		}
		if len(s.Aggs) == 0 && len(s.By) == 0 {
			return nil, p.errf(t, "summarize needs aggregations or by columns")
		}
		return s, nil
	case "order", "sort":
		if err := p.expectWord("by"); err != nil {
			return nil, err
		}
		op := &Sort{Pos: t.pos}
		for {
			k, err := p.sortKey()
			if err != nil {
				return nil, err
			}
			op.Keys = append(op.Keys, k)
			if !p.isPunct(",") {
				return op, nil
			}
			p.next()
		}
	case "top":
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		if err := p.expectWord("by"); err != nil {
			return nil, err
		}
		k, err := p.sortKey()
		if err != nil {
			return nil, err
		}
		return &Top{Pos: t.pos, N: n, Key: k}, nil
	case "take", "limit":
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		return &Take{Pos: t.pos, N: n}, nil
	case "distinct":
		op := &Distinct{Pos: t.pos}
		if p.isPunct("*") {
			p.next()
			op.All = true
			return op, nil
		}
		for {
			e, err := p.expr()
			if err != nil {
				return nil, err
			}
			op.Columns = append(op.Columns, e)
			if !p.isPunct(",") {
				return op, nil
			}
			p.next()
		}
	case "count":
		return &Count{Pos: t.pos}, nil
	case "join":
		return p.join(t)
	case "mv-expand":
		op := &MvExpand{Pos: t.pos}
		for p.peek().kind == tIdent && p.peekN(1).kind == tPunct && p.peekN(1).text == "=" &&
			(strings.EqualFold(p.peek().text, "bagexpansion") || strings.EqualFold(p.peek().text, "kind")) {
			p.next()
			p.next()
			p.next()
		}
		cols, err := p.mvColumns()
		if err != nil {
			return nil, err
		}
		op.Columns = cols
		if p.isWord("limit") {
			p.next()
			if op.Limit, err = p.expr(); err != nil {
				return nil, err
			}
		}
		return op, nil
	case "mv-apply":
		op := &MvApply{Pos: t.pos}
		cols, err := p.mvColumns()
		if err != nil {
			return nil, err
		}
		op.Columns = cols
		if err := p.expectWord("on"); err != nil {
			return nil, err
		}
		open, err := p.expectPunct("(")
		if err != nil {
			return nil, err
		}
		// The subquery starts with an operator applied to the per-row table.
		body := Tabular{Pos: open.pos, Source: &TableRef{Pos: open.pos, Name: "$mv-apply"}}
		for {
			if p.isPunct("|") {
				p.next()
			}
			op, err := p.operator()
			if err != nil {
				return nil, err
			}
			body.Ops = append(body.Ops, op)
			if !p.isPunct("|") {
				break
			}
		}
		if _, err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		op.Body = body
		return op, nil
	case "parse":
		return p.parseOp(t)
	case "union":
		p.i-- // union() reads the keyword itself
		u, err := p.union()
		if err != nil {
			return nil, err
		}
		u.Pos = t.pos
		return &UnionOp{Pos: t.pos, Union: u}, nil
	case "invoke":
		e, err := p.postfix()
		if err != nil {
			return nil, err
		}
		c, ok := e.(*Call)
		if !ok {
			return nil, p.errf(t, "invoke needs a function call")
		}
		return &Invoke{Pos: t.pos, Call: c}, nil
	default:
		return nil, p.errf(t, "tabular operator %q is not supported", t.text)
	}
}

// skipHints skips hint.strategy=… and similar operator hints.
func (p *parser) skipHints() {
	for p.peek().kind == tIdent && strings.HasPrefix(strings.ToLower(p.peek().text), "hint") &&
		p.peekN(1).kind == tPunct && p.peekN(1).text == "." {
		p.i += 3 // hint . strategy
		if p.isPunct("=") {
			p.i += 2
		}
	}
}

func (p *parser) namePatterns() ([]string, error) {
	var out []string
	for {
		t := p.next()
		name := ""
		switch {
		case t.kind == tIdent:
			name = t.text
		case t.kind == tPunct && t.text == "*":
			name = "*"
		default:
			return nil, p.errf(t, "expected a column name, found %s", t)
		}
		// name* or *name: pieces written without spaces
		for {
			n := p.peek()
			if n.off != p.toks[p.i-1].end {
				break
			}
			if n.kind == tIdent || n.kind == tPunct && n.text == "*" {
				name += n.text
				p.next()
				continue
			}
			break
		}
		if p.isWord("asc") || p.isWord("desc") {
			p.next()
		}
		out = append(out, name)
		if !p.isPunct(",") {
			return out, nil
		}
		p.next()
	}
}

func (p *parser) sortKey() (SortKey, error) {
	e, err := p.expr()
	if err != nil {
		return SortKey{}, err
	}
	k := SortKey{Expr: e}
	switch {
	case p.isWord("asc"):
		p.next()
		k.Asc = true
	case p.isWord("desc"):
		p.next()
	}
	if p.isWord("nulls") {
		p.next()
		w := p.next()
		k.NullsSet = true
		k.NullsFirst = strings.EqualFold(w.text, "first")
		if !k.NullsFirst && !strings.EqualFold(w.text, "last") {
			return k, p.errf(w, "expected first or last after nulls, found %s", w)
		}
	}
	return k, nil
}

// assignList parses "[name =] expr, …". For aggregations the same form is
// used; the evaluator checks that each is an aggregate call.
func (p *parser) assignList(aggs bool) ([]Assign, error) {
	var out []Assign
	for {
		a := Assign{Pos: p.peek().pos}
		switch {
		case p.isPunct("("): // (a, b) = f(…)
			save := p.i
			p.next()
			var names []string
			ok := true
			for {
				n := p.next()
				if n.kind != tIdent {
					ok = false
					break
				}
				names = append(names, n.text)
				if p.isPunct(",") {
					p.next()
					continue
				}
				break
			}
			if ok && p.isPunct(")") && p.peekN(1).kind == tPunct && p.peekN(1).text == "=" {
				p.next()
				p.next()
				a.Tup = names
			} else {
				p.i = save
			}
		case (p.peek().kind == tIdent || p.isPunct("[")) && p.nextIsAssign():
			n, err := p.ident()
			if err != nil {
				return nil, err
			}
			p.next() // =
			a.Name = n.text
		}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		a.Expr = e
		out = append(out, a)
		if !p.isPunct(",") {
			return out, nil
		}
		p.next()
	}
}

// nextIsAssign reports whether the tokens ahead are "name =" (not "==").
func (p *parser) nextIsAssign() bool {
	if p.isPunct("[") {
		return p.peekN(1).kind == tString && p.peekN(2).kind == tPunct && p.peekN(2).text == "]" &&
			p.peekN(3).kind == tPunct && p.peekN(3).text == "="
	}
	n := p.peekN(1)
	return n.kind == tPunct && n.text == "="
}

func (p *parser) mvColumns() ([]MvColumn, error) {
	var out []MvColumn
	for {
		c := MvColumn{}
		if (p.peek().kind == tIdent || p.isPunct("[")) && p.nextIsAssign() {
			n, err := p.ident()
			if err != nil {
				return nil, err
			}
			p.next()
			c.Name = n.text
		}
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		c.Expr = e
		if c.Name == "" {
			c.Name = columnName(e)
		}
		if p.isWord("to") {
			p.next()
			if err := p.expectWord("typeof"); err != nil {
				return nil, err
			}
			if _, err := p.expectPunct("("); err != nil {
				return nil, err
			}
			typ, err := p.ident()
			if err != nil {
				return nil, err
			}
			c.Type = strings.ToLower(typ.text)
			if _, err := p.expectPunct(")"); err != nil {
				return nil, err
			}
		}
		out = append(out, c)
		if !p.isPunct(",") {
			return out, nil
		}
		p.next()
	}
}

func (p *parser) join(kw token) (Operator, error) {
	j := &Join{Pos: kw.pos, Kind: "innerunique"}
	for p.peek().kind == tIdent && !strings.EqualFold(p.peek().text, "on") && (p.peekN(1).kind == tPunct && (p.peekN(1).text == "=" || p.peekN(1).text == ".")) {
		name := strings.ToLower(p.next().text)
		if name == "hint" {
			p.i += 2 // . strategy
		}
		p.next() // =
		v := p.next()
		if name == "kind" {
			j.Kind = strings.ToLower(v.text)
			switch j.Kind {
			case "innerunique", "inner", "leftouter", "rightouter", "fullouter", "leftanti", "rightanti", "leftsemi", "rightsemi", "leftantisemi", "rightantisemi":
			default:
				return nil, p.errf(v, "join kind %q is not supported", v.text)
			}
		}
	}
	if p.isPunct("(") {
		p.next()
		r, err := p.tabular()
		if err != nil {
			return nil, err
		}
		if _, err := p.expectPunct(")"); err != nil {
			return nil, err
		}
		j.Right = r
	} else {
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		j.Right = Tabular{Pos: name.pos, Source: &TableRef{Pos: name.pos, Name: name.text}}
	}
	if err := p.expectWord("on"); err != nil {
		return nil, err
	}
	for {
		if p.isPunct("$") {
			l, err := p.joinSide("left")
			if err != nil {
				return nil, err
			}
			if _, err := p.expectPunct("=="); err != nil {
				return nil, err
			}
			r, err := p.joinSide("right")
			if err != nil {
				return nil, err
			}
			j.On = append(j.On, JoinKey{Left: l, Right: r})
		} else {
			n, err := p.ident()
			if err != nil {
				return nil, err
			}
			j.On = append(j.On, JoinKey{Left: n.text, Right: n.text})
		}
		if p.isPunct(",") || p.isWord("and") {
			p.next()
			continue
		}
		return j, nil
	}
}

func (p *parser) joinSide(side string) (string, error) {
	if _, err := p.expectPunct("$"); err != nil {
		return "", err
	}
	s := p.next()
	if s.kind != tIdent || !strings.EqualFold(s.text, side) {
		return "", p.errf(s, "expected $%s, found %s", side, s)
	}
	if _, err := p.expectPunct("."); err != nil {
		return "", err
	}
	n, err := p.ident()
	return n.text, err
}

func (p *parser) parseOp(kw token) (Operator, error) {
	op := &ParseOp{Pos: kw.pos}
	if p.isWord("kind") && p.peekN(1).kind == tPunct && p.peekN(1).text == "=" {
		p.next()
		p.next()
		op.Kind = strings.ToLower(p.next().text)
		if op.Kind != "simple" && op.Kind != "regex" && op.Kind != "relaxed" {
			return nil, p.errf(kw, "parse kind %q is not supported", op.Kind)
		}
	}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	op.Expr = e
	if err := p.expectWord("with"); err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.kind == tString:
			p.next()
			op.Parts = append(op.Parts, ParsePart{Literal: t.text})
		case t.kind == tPunct && t.text == "*":
			p.next()
			op.Parts = append(op.Parts, ParsePart{IsCol: true})
		case t.kind == tIdent:
			p.next()
			part := ParsePart{IsCol: true, Column: t.text, Type: "string"}
			if p.isPunct(":") {
				p.next()
				typ, err := p.ident()
				if err != nil {
					return nil, err
				}
				part.Type = strings.ToLower(typ.text)
			}
			op.Parts = append(op.Parts, part)
		default:
			if len(op.Parts) == 0 {
				return nil, p.errf(t, "parse needs a pattern after with")
			}
			return op, nil
		}
	}
}
