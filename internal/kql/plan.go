package kql

// plan is what a query reads, found by walking its AST once: which
// tables, which of their columns it may evaluate, and whether it needs
// the reference time.
type plan struct {
	// tables are the canonical names of the tables the query reads; refs
	// counts the places that name one.
	tables map[string]bool
	refs   int
	// names are the identifiers the query uses: the columns it may
	// evaluate are among them. Others are only copied to the output, and
	// can be computed then.
	names map[string]bool
	// allCols is set when something evaluates columns without naming
	// them (distinct *, arg_max(…, *), the first column of a table in in
	// or toscalar): every column is then computed when loaded.
	allCols bool
	// usesNow is set when now() or ago() is called.
	usesNow bool
	// tabNames are the tabular lets and tabular parameters.
	tabNames map[string]bool
}

func analyze(q *Query) *plan {
	p := &plan{tables: map[string]bool{}, names: map[string]bool{}, tabNames: map[string]bool{}}
	p.lets(q.Lets)
	p.tabular(q.Body)
	return p
}

// needs reports whether column name of a table must be computed when the
// row is loaded.
func (p *plan) needs(name string) bool { return p.allCols || p.names[name] }

func (p *plan) lets(lets []*Let) {
	for _, l := range lets {
		switch {
		case l.Func != nil:
			for _, prm := range l.Func.Params {
				if prm.Tabular {
					p.tabNames[prm.Name] = true
				}
				p.expr(prm.Default)
			}
			p.lets(l.Func.Lets)
			p.expr(l.Func.Scalar)
			if l.Func.Tabular.Source != nil {
				p.tabular(l.Func.Tabular)
			}
		case l.Scalar != nil:
			p.expr(l.Scalar)
		default:
			p.tabNames[l.Name] = true
			p.tabular(l.Tabular)
		}
	}
}

func (p *plan) table(name string) {
	if isTable(name) {
		p.tables[canonicalTable(name)] = true
		p.refs++
	}
}

func (p *plan) tabular(t Tabular) {
	switch s := t.Source.(type) {
	case *TableRef:
		if s.Call {
			p.args(s.Args)
		} else {
			p.table(s.Name)
		}
	case *Union:
		p.union(s)
	case *Datatable:
		for _, v := range s.Values {
			p.expr(v)
		}
	case *Subquery:
		p.tabular(s.Tabular)
	}
	p.ops(t.Ops)
}

func (p *plan) union(u *Union) {
	for _, t := range u.Tables {
		p.tabular(t)
	}
}

func (p *plan) ops(ops []Operator) {
	for _, op := range ops {
		p.op(op)
	}
}

func (p *plan) assigns(as []Assign) {
	for _, a := range as {
		p.expr(a.Expr)
	}
}

func (p *plan) op(op Operator) {
	switch o := op.(type) {
	case *Where:
		p.expr(o.Pred)
	case *Extend:
		p.assigns(o.Columns)
	case *Project:
		p.assigns(o.Columns)
	case *ProjectRename:
		// the column is evaluated under its new name
		for _, pr := range o.Pairs {
			p.names[pr[1]] = true
		}
	case *Summarize:
		p.assigns(o.Aggs)
		p.assigns(o.By)
	case *Sort:
		for _, k := range o.Keys {
			p.expr(k.Expr)
		}
	case *Top:
		p.expr(o.N)
		p.expr(o.Key.Expr)
	case *Take:
		p.expr(o.N)
	case *Distinct:
		p.allCols = p.allCols || o.All
		for _, e := range o.Columns {
			p.expr(e)
		}
	case *Join:
		p.tabular(o.Right)
		for _, k := range o.On {
			p.names[k.Left], p.names[k.Right] = true, true
		}
	case *MvExpand:
		for _, c := range o.Columns {
			p.expr(c.Expr)
		}
		p.expr(o.Limit)
	case *MvApply:
		for _, c := range o.Columns {
			p.expr(c.Expr)
		}
		p.ops(o.Body.Ops)
	case *ParseOp:
		p.expr(o.Expr)
	case *UnionOp:
		p.union(o.Union)
	case *Invoke:
		p.args(o.Call.Args)
	}
}

// args walks the arguments of a call, which may be tables.
func (p *plan) args(args []Expr) {
	for _, a := range args {
		p.expr(a)
	}
}

func (p *plan) expr(e Expr) {
	switch x := e.(type) {
	case nil:
	case *Ident:
		p.names[x.Name] = true
		if !p.tabNames[x.Name] {
			p.table(x.Name) // a table as a tabular argument
		}
	case *Binary:
		p.expr(x.L)
		p.expr(x.R)
	case *Unary:
		p.expr(x.X)
	case *In:
		p.expr(x.X)
		for _, it := range x.List {
			if id, ok := it.(*Ident); ok && p.tabNames[id.Name] {
				p.allCols = true // its first column is read
			}
			p.expr(it)
		}
	case *Between:
		p.expr(x.X)
		p.expr(x.Lo)
		p.expr(x.Hi)
	case *Call:
		switch x.Name {
		case "now", "ago":
			p.usesNow = true
		case "toscalar":
			p.allCols = true
		}
		p.args(x.Args)
	case *Member:
		p.expr(x.X)
	case *Index:
		p.expr(x.X)
		p.expr(x.Index)
	case *Star:
		p.allCols = true
	case *TabularExpr:
		p.allCols = true
		p.tabular(x.Tabular)
	}
}

// streamOps splits the operators of a streamed query: the row-local
// prefix, then the operators that may end the stream (take, count,
// summarize, top, distinct of columns, or sort followed by take, which is
// top), and the rest, run on the stream's result.
func streamOps(ops []Operator) (prefix, sink, rest []Operator) {
	i := 0
	for i < len(ops) && rowLocal(ops[i]) {
		i++
	}
	prefix = ops[:i]
	if i < len(ops) {
		switch o := ops[i].(type) {
		case *Take, *Count, *Summarize, *Top:
			sink, i = ops[i:i+1], i+1
		case *Distinct:
			if !o.All {
				sink, i = ops[i:i+1], i+1
			}
		case *Sort:
			if i+1 < len(ops) {
				if _, ok := ops[i+1].(*Take); ok {
					sink, i = ops[i:i+2], i+2
				}
			}
		}
	}
	return prefix, sink, ops[i:]
}

// rowLocal reports whether an operator turns each row into rows on its
// own, without seeing the others.
func rowLocal(op Operator) bool {
	switch o := op.(type) {
	case *Where, *Extend, *ProjectAway, *ProjectKeep, *ProjectRename, *ProjectReorder, *ParseOp, *MvExpand:
		return true
	case *Project:
		return !hasStar(o.Columns)
	}
	return false
}

func hasStar(as []Assign) bool {
	for _, a := range as {
		if _, ok := a.Expr.(*Star); ok {
			return true
		}
	}
	return false
}

// streamSource returns the table a query can be streamed from: its body
// reads a table, which is the only table the whole query reads.
func (p *plan) streamSource(q *Query) (string, bool) {
	ref, ok := q.Body.Source.(*TableRef)
	if !ok || ref.Call || p.refs != 1 || p.tabNames[ref.Name] || !isTable(ref.Name) {
		return "", false
	}
	name := canonicalTable(ref.Name)
	if _, ok := Schemas[name]; !ok {
		return "", false
	}
	return name, true
}
