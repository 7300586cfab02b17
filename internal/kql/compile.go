package kql

import (
	"bytes"
	"strings"
)

// cexpr is an expression compiled for streamed rows: it evaluates on a
// row with the evaluator of the goroutine running it, with the semantics
// of evaluator.eval (which it calls for the rarer nodes).
type cexpr func(ev *evaluator, r *row) (Value, error)

// layout is the columns of a streamed row after an operator: src[i] is
// the schema index of the source column that column i still holds
// untouched (-1 for a computed column), typ[i] its type ("" when it is
// known only from the values).
type layout struct {
	t   *Table
	src []int
	typ []string
}

func sourceLayout(table string) *layout {
	cs := Schemas[table]
	l := &layout{t: &Table{Columns: cs}, src: make([]int, len(cs)), typ: make([]string, len(cs))}
	for i, c := range cs {
		l.src[i], l.typ[i] = i, c.Type
	}
	return l
}

func (l *layout) clone() *layout {
	return &layout{t: &Table{Columns: append([]Column(nil), l.t.Columns...)}, src: append([]int(nil), l.src...),
		typ: append([]string(nil), l.typ...)}
}

// set makes name a computed column (replaced in place, else appended)
// and returns its index.
func (l *layout) set(name, typ string) int {
	i := l.t.index(name)
	if i < 0 {
		l.t.Columns = append(l.t.Columns, Column{name, typ})
		l.src, l.typ = append(l.src, -1), append(l.typ, typ)
		return len(l.t.Columns) - 1
	}
	l.t.Columns[i].Type = typ
	l.src[i], l.typ[i] = -1, typ
	return i
}

// pick returns the layout of the columns idx.
func (l *layout) pick(idx []int) *layout {
	out := &layout{t: &Table{}}
	for _, i := range idx {
		out.t.Columns = append(out.t.Columns, l.t.Columns[i])
		out.src, out.typ = append(out.src, l.src[i]), append(out.typ, l.typ[i])
	}
	return out
}

// compiler compiles the expressions of one operator over a layout.
type compiler struct {
	// ev is the query's evaluator: its lets, functions and reference time
	// fold the expressions that do not depend on the row.
	ev     *evaluator
	lay    *layout
	schema []Column
}

// column returns the index of a column of the layout and the schema
// index of the source column it holds untouched (-1: computed, or no
// such column).
func (c *compiler) column(e Expr) (int, int) {
	id, ok := e.(*Ident)
	if !ok {
		return -1, -1
	}
	i := c.lay.t.index(id.Name)
	if i < 0 {
		return -1, -1
	}
	return i, c.lay.src[i]
}

// constant reports whether e does not depend on the row.
func (c *compiler) constant(e Expr) bool {
	switch x := e.(type) {
	case *Lit:
		return true
	case *Ident:
		return c.lay.t.index(x.Name) < 0
	case *Binary:
		return c.constant(x.L) && c.constant(x.R)
	case *Unary:
		return c.constant(x.X)
	case *Between:
		return c.constant(x.X) && c.constant(x.Lo) && c.constant(x.Hi)
	case *Member:
		return c.constant(x.X)
	case *Index:
		return c.constant(x.X) && c.constant(x.Index)
	case *In:
		if !c.constant(x.X) {
			return false
		}
		for _, it := range x.List {
			if _, ok := it.(*TabularExpr); !ok && !c.constant(it) {
				return false
			}
		}
		return true
	case *Call:
		for _, a := range x.Args {
			switch a.(type) {
			case *Star:
				return false
			case *TabularExpr:
				continue
			}
			if !c.constant(a) {
				return false
			}
		}
		return true
	}
	return false
}

func constExpr(v Value, err error) cexpr {
	return func(*evaluator, *row) (Value, error) { return v, err }
}

// expr compiles e.
func (c *compiler) expr(e Expr) cexpr {
	if c.constant(e) {
		v, err := c.ev.eval(e, nil)
		return constExpr(v, err)
	}
	switch x := e.(type) {
	case *Ident:
		i, _ := c.column(x)
		return func(_ *evaluator, r *row) (Value, error) { return r.get(i), nil }
	case *Binary:
		return c.binary(x)
	case *Unary:
		xc := c.expr(x.X)
		return func(ev *evaluator, r *row) (Value, error) {
			v, err := xc(ev, r)
			if err != nil {
				return v, err
			}
			return unary(x, v)
		}
	case *Between:
		vc, loc, hic := c.expr(x.X), c.expr(x.Lo), c.expr(x.Hi)
		return func(ev *evaluator, r *row) (Value, error) {
			v, err := vc(ev, r)
			if err != nil {
				return v, err
			}
			lo, err := loc(ev, r)
			if err != nil {
				return v, err
			}
			hi, err := hic(ev, r)
			if err != nil {
				return v, err
			}
			return between(x, v, lo, hi)
		}
	case *In:
		return c.in(x)
	case *Call:
		return c.call(x)
	case *Member, *Index:
		if src, path := c.memberPath(e); src >= 0 {
			pathB := make([][]byte, len(path))
			for i, p := range path {
				pathB[i] = []byte(p)
			}
			return func(_ *evaluator, r *row) (Value, error) { return r.live.memberValue(src, path, pathB), nil }
		}
		if m, ok := x.(*Member); ok {
			xc := c.expr(m.X)
			return func(ev *evaluator, r *row) (Value, error) {
				v, err := xc(ev, r)
				if err != nil {
					return v, err
				}
				return member(v, m.Name, m.Pos)
			}
		}
		ix := x.(*Index)
		xc, ic := c.expr(ix.X), c.expr(ix.Index)
		return func(ev *evaluator, r *row) (Value, error) {
			v, err := xc(ev, r)
			if err != nil {
				return v, err
			}
			idx, err := ic(ev, r)
			if err != nil {
				return v, err
			}
			return index(ix, v, idx)
		}
	}
	return c.fallback(e)
}

// fallback evaluates e by walking it.
func (c *compiler) fallback(e Expr) cexpr {
	return func(ev *evaluator, r *row) (Value, error) { return ev.eval(e, r) }
}

// memberPath recognises col.a.b, col["a"]… on a dynamic source column
// held untouched: the members are then read from the record's JSON. It
// returns the column's schema index (-1: not such a path) and the names.
func (c *compiler) memberPath(e Expr) (int, []string) {
	var path []string
	for {
		switch x := e.(type) {
		case *Member:
			path = append(path, x.Name)
			e = x.X
			continue
		case *Index:
			l, ok := x.Index.(*Lit)
			if !ok || l.Kind != "string" {
				return -1, nil
			}
			path = append(path, l.Text)
			e = x.X
			continue
		}
		break
	}
	_, src := c.column(e)
	if src < 0 || c.schema[src].Type != "dynamic" {
		return -1, nil
	}
	for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
		path[i], path[j] = path[j], path[i]
	}
	return src, path
}

// stringColumn returns the layout and schema indexes of e when it is a
// string source column held untouched.
func (c *compiler) stringColumn(e Expr) (int, int) {
	i, src := c.column(e)
	if src < 0 || c.schema[src].Type != "string" {
		return -1, -1
	}
	return i, src
}

// text returns the text of string column i (schema index src) of the
// row, without allocating when it is still a placeholder.
func text(r *row, i, src int) (string, []byte) {
	if v := r.vals[i]; v.T == tLazy && v.D == nil && r.live != nil {
		return "", r.live.text(src)
	}
	return r.get(i).S, nil
}

func (c *compiler) binary(x *Binary) cexpr {
	switch x.Op {
	case "and", "or":
		lc, rc := c.expr(x.L), c.expr(x.R)
		and := x.Op == "and"
		return func(ev *evaluator, r *row) (Value, error) {
			l, err := lc(ev, r)
			if err != nil {
				return l, err
			}
			if and && l.T == TBool && l.I == 0 {
				return Bool(false), nil
			}
			if !and && l.True() {
				return Bool(true), nil
			}
			rv, err := rc(ev, r)
			if err != nil {
				return rv, err
			}
			if and {
				return andValues(l, rv), nil
			}
			return orValues(l, rv), nil
		}
	case "==", "!=", "=~", "!~":
		// A string column against a string: compared on the record's
		// text, building no value.
		if i, src := c.stringColumn(x.L); i >= 0 && c.constant(x.R) {
			if lit, err := c.ev.eval(x.R, nil); err == nil && lit.T == TString {
				s, b := lit.S, []byte(lit.S)
				fold, want := x.Op == "=~" || x.Op == "!~", x.Op == "==" || x.Op == "=~"
				return func(_ *evaluator, r *row) (Value, error) {
					ts, tb := text(r, i, src)
					var eq bool
					switch {
					case tb == nil && !fold:
						eq = ts == s
					case tb == nil:
						eq = strings.EqualFold(ts, s)
					case fold:
						eq = bytes.EqualFold(tb, b)
					default:
						eq = string(tb) == s
					}
					return Bool(eq == want), nil
				}
			}
		}
	}
	lc, rc := c.expr(x.L), c.expr(x.R)
	return func(ev *evaluator, r *row) (Value, error) {
		l, err := lc(ev, r)
		if err != nil {
			return l, err
		}
		rv, err := rc(ev, r)
		if err != nil {
			return rv, err
		}
		return ev.binaryValues(x, l, rv)
	}
}

func (c *compiler) in(x *In) cexpr {
	for _, it := range x.List {
		if _, ok := it.(*TabularExpr); !ok && !c.constant(it) {
			return c.fallback(x)
		}
	}
	items, itemsErr := c.ev.inItems(x, nil)
	xc := c.expr(x.X)
	if itemsErr != nil {
		return func(ev *evaluator, r *row) (Value, error) {
			if v, err := xc(ev, r); err != nil {
				return v, err
			}
			return Null, itemsErr
		}
	}
	// A string column in a list of strings: looked up on the record's
	// text.
	if i, src := c.stringColumn(x.X); i >= 0 && (x.Op == "in" || x.Op == "!in" || x.Op == "in~" || x.Op == "!in~") {
		set := map[string]bool{}
		var list []string
		strs := true
		for _, it := range items {
			switch it.T {
			case TString:
				set[it.S] = true
				list = append(list, it.S)
			case TNull:
			default:
				strs = false
			}
		}
		if strs {
			fold, neg := strings.HasSuffix(x.Op, "~"), strings.HasPrefix(x.Op, "!")
			listB := make([][]byte, len(list))
			for k, s := range list {
				listB[k] = []byte(s)
			}
			return func(_ *evaluator, r *row) (Value, error) {
				ts, tb := text(r, i, src)
				found := false
				switch {
				case !fold && tb == nil:
					found = set[ts]
				case !fold:
					found = set[string(tb)]
				case tb == nil:
					for _, s := range list {
						if strings.EqualFold(ts, s) {
							found = true
							break
						}
					}
				default:
					for _, b := range listB {
						if bytes.EqualFold(tb, b) {
							found = true
							break
						}
					}
				}
				return Bool(found != neg), nil
			}
		}
	}
	return func(ev *evaluator, r *row) (Value, error) {
		v, err := xc(ev, r)
		if err != nil {
			return v, err
		}
		return inValues(x, v, items)
	}
}

func (c *compiler) call(x *Call) cexpr {
	if c.ev.funcs[strings.ToLower(x.Name)] != nil {
		return c.fallback(x)
	}
	switch x.Name {
	case "iff", "iif":
		cc, ac, bc := c.expr(x.Args[0]), c.expr(x.Args[1]), c.expr(x.Args[2])
		return func(ev *evaluator, r *row) (Value, error) {
			v, err := cc(ev, r)
			if err != nil {
				return v, err
			}
			if v.True() {
				return ac(ev, r)
			}
			return bc(ev, r)
		}
	case "coalesce", "case", "toscalar":
		return c.fallback(x)
	case "isempty", "isnotempty":
		want := x.Name == "isempty"
		if i, src := c.stringColumn(x.Args[0]); i >= 0 {
			return func(_ *evaluator, r *row) (Value, error) {
				ts, tb := text(r, i, src)
				return Bool((len(ts) == 0 && len(tb) == 0) == want), nil
			}
		}
		if src, path := c.memberPath(x.Args[0]); src >= 0 {
			pathB := make([][]byte, len(path))
			for i, p := range path {
				pathB[i] = []byte(p)
			}
			return func(_ *evaluator, r *row) (Value, error) {
				return Bool(r.live.memberEmpty(src, path, pathB) == want), nil
			}
		}
	}
	args := make([]cexpr, len(x.Args))
	for i, a := range x.Args {
		if x.Name == "extract" && i == 3 {
			continue
		}
		args[i] = c.expr(a)
	}
	return func(ev *evaluator, r *row) (Value, error) {
		var buf [4]Value
		vals := buf[:0]
		if len(args) > len(buf) {
			vals = make([]Value, 0, len(args))
		}
		vals = vals[:len(args)]
		for i, a := range args {
			if a == nil {
				continue
			}
			v, err := a(ev, r)
			if err != nil {
				return v, err
			}
			vals[i] = v
		}
		return ev.applyCall(x, vals)
	}
}
