package kql

// mvApply expands the columns of each row (as mv-expand does), runs the
// subquery over that row's expanded rows, and joins its result back to the
// row: the row's other columns followed by the subquery's (a column the
// subquery keeps or sets is taken from it). A row whose subquery returns
// no rows disappears.
func (ev *evaluator) mvApply(o *MvApply, t *Table) (*Table, error) {
	exp := &MvExpand{Pos: o.Pos, Columns: o.Columns}
	expanded := map[string]bool{}
	for _, c := range o.Columns {
		expanded[c.Name] = true
	}
	run := func(in *Table) (*Table, error) {
		x, err := ev.mvExpand(exp, in)
		if err != nil {
			return nil, err
		}
		for _, op := range o.Body.Ops {
			if x, err = ev.op(op, x); err != nil {
				return nil, err
			}
		}
		return x, nil
	}
	// prefix returns the input columns the subquery's result does not hold.
	prefix := func(res *Table) []int {
		var idx []int
		for i, c := range t.Columns {
			if !expanded[c.Name] && res.index(c.Name) < 0 {
				idx = append(idx, i)
			}
		}
		return idx
	}
	shape := func(res *Table, in []Value) *Table {
		pi := prefix(res)
		out := &Table{}
		for _, i := range pi {
			out.Columns = append(out.Columns, t.Columns[i])
		}
		out.Columns = append(out.Columns, res.Columns...)
		for _, rr := range res.Rows {
			nr := make([]Value, 0, len(out.Columns))
			for _, i := range pi {
				nr = append(nr, in[i])
			}
			out.Rows = append(out.Rows, append(nr, rr...))
		}
		return out
	}
	// The shape of the result, from the subquery over no rows.
	empty, err := run(&Table{Columns: t.Columns})
	if err != nil {
		return nil, err
	}
	empty.Rows = nil
	tabs := []*Table{shape(empty, nil)}
	for _, r := range t.Rows {
		res, err := run(&Table{Columns: t.Columns, Rows: [][]Value{r}})
		if err != nil {
			return nil, err
		}
		tabs = append(tabs, shape(res, r))
	}
	return mergeTables(tabs, false), nil
}
