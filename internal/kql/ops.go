package kql

import (
	"fmt"
)

// aggregator accumulates one aggregation of one group.
type aggregator struct {
	call  *Call
	n     int64
	seen  map[string]bool
	list  []Value
	acc   Value
	sumF  float64
	isF   bool
	best  Value
	row   []Value
	limit int64
}

type aggSpec struct {
	call *Call
	// cols are the output columns; for arg_max/arg_min/any the input
	// columns they copy (-1: the aggregated expression).
	names []string
	src   []int
}

func aggName(name string, a Assign, call *Call, n *int) string {
	if a.Name != "" {
		return a.Name
	}
	arg := ""
	if len(call.Args) > 0 {
		arg = columnName(call.Args[0])
	}
	prefix := map[string]string{"count": "count_", "countif": "countif_", "dcount": "dcount_", "sum": "sum_",
		"min": "min_", "max": "max_", "avg": "avg_", "make_set": "set_", "make_list": "list_", "any": "any_", "take_any": "any_"}[name]
	if name == "count" || name == "countif" {
		return prefix
	}
	if arg == "" {
		*n++
		return fmt.Sprintf("%sColumn%d", prefix, *n)
	}
	return prefix + arg
}

func (ev *evaluator) summarize(s *Summarize, t *Table) (*Table, error) {
	out := &Table{}
	n := 0
	var byNames []string
	for _, b := range s.By {
		name := b.Name
		if name == "" {
			name = derive(b.Expr, &n)
		}
		byNames = append(byNames, name)
		out.Columns = append(out.Columns, Column{name, ""})
	}
	isBy := func(name string) bool {
		for _, b := range byNames {
			if b == name {
				return true
			}
		}
		return false
	}
	var specs []aggSpec
	for _, a := range s.Aggs {
		call := a.Expr.(*Call)
		sp := aggSpec{call: call}
		switch call.Name {
		case "arg_max", "arg_min", "any", "take_any":
			exprs := call.Args
			if call.Name == "arg_max" || call.Name == "arg_min" {
				name := a.Name
				if name == "" {
					name = columnName(call.Args[0])
				}
				if name == "" {
					name = map[string]string{"arg_max": "max_", "arg_min": "min_"}[call.Name] + "Column"
				}
				sp.names = append(sp.names, name)
				sp.src = append(sp.src, -1)
				exprs = call.Args[1:]
			}
			for k, e := range exprs {
				if _, ok := e.(*Star); ok {
					for i, c := range t.Columns {
						if !isBy(c.Name) && !contains(sp.names, c.Name) {
							sp.names = append(sp.names, c.Name)
							sp.src = append(sp.src, i)
						}
					}
					continue
				}
				id, ok := e.(*Ident)
				if !ok || t.index(id.Name) < 0 {
					return nil, refuse(e.Position(), "%s() argument other than a column or *", call.Name)
				}
				name := id.Name
				if (call.Name == "any" || call.Name == "take_any") && a.Name == "" {
					name = "any_" + id.Name
				} else if a.Name != "" && len(exprs) == 1 && call.Name != "arg_max" && call.Name != "arg_min" {
					name = a.Name
				}
				_ = k
				if !contains(sp.names, name) {
					sp.names = append(sp.names, name)
					sp.src = append(sp.src, t.index(id.Name))
				}
			}
		default:
			sp.names = []string{aggName(call.Name, a, call, &n)}
		}
		specs = append(specs, sp)
		for _, nm := range sp.names {
			out.Columns = append(out.Columns, Column{nm, ""})
		}
	}
	type group struct {
		by   []Value
		aggs []*aggregator
	}
	var groups []*group
	index := map[string]*group{}
	newGroup := func(by []Value) *group {
		g := &group{by: by}
		for _, sp := range specs {
			ag := &aggregator{call: sp.call, seen: map[string]bool{}, limit: 1 << 20}
			if len(sp.call.Args) == 2 && (sp.call.Name == "make_set" || sp.call.Name == "make_list") {
				lim, err := ev.count(sp.call.Args[1], sp.call.Pos)
				if err != nil {
					return nil
				}
				ag.limit = lim
			}
			g.aggs = append(g.aggs, ag)
		}
		groups = append(groups, g)
		return g
	}
	if len(s.By) == 0 {
		if newGroup(nil) == nil {
			return nil, &Error{s.Pos, "invalid make_set/make_list limit"}
		}
	}
	for _, r := range t.Rows {
		rc := &row{t, r}
		var g *group
		if len(s.By) == 0 {
			g = groups[0]
		} else {
			by := make([]Value, len(s.By))
			for i, b := range s.By {
				v, err := ev.eval(b.Expr, rc)
				if err != nil {
					return nil, err
				}
				by[i] = v
			}
			k := rowKey(by)
			if g = index[k]; g == nil {
				if g = newGroup(by); g == nil {
					return nil, &Error{s.Pos, "invalid make_set/make_list limit"}
				}
				index[k] = g
			}
		}
		for _, ag := range g.aggs {
			if err := ev.accumulate(ag, rc); err != nil {
				return nil, err
			}
		}
	}
	for _, g := range groups {
		nr := append([]Value(nil), g.by...)
		for i, ag := range g.aggs {
			nr = append(nr, ag.result(specs[i])...)
		}
		out.Rows = append(out.Rows, nr)
	}
	for i := range out.Columns {
		out.Columns[i].Type = "string"
		for _, r := range out.Rows {
			if r[i].T != TNull {
				out.Columns[i].Type = typeOf(r[i])
				break
			}
		}
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (ev *evaluator) accumulate(ag *aggregator, rc *row) error {
	c := ag.call
	arg := func() (Value, error) { return ev.eval(c.Args[0], rc) }
	switch c.Name {
	case "count":
		ag.n++
	case "countif":
		v, err := arg()
		if err != nil {
			return err
		}
		if v.True() {
			ag.n++
		}
	case "dcount":
		v, err := arg()
		if err != nil || v.IsNull() {
			return err
		}
		ag.seen[v.key()] = true
	case "sum", "avg":
		v, err := arg()
		if err != nil || v.IsNull() {
			return err
		}
		switch v.T {
		case TLong:
			ag.acc.I += v.I
			ag.sumF += float64(v.I)
		case TReal:
			ag.isF = true
			ag.sumF += v.F
		case TTimespan:
			ag.acc.T = TTimespan
			ag.acc.I += v.I
		default:
			return &Error{c.Pos, fmt.Sprintf("%s() cannot take a %s", c.Name, v.T)}
		}
		ag.n++
	case "min", "max":
		v, err := arg()
		if err != nil || v.IsNull() {
			return err
		}
		if ag.n == 0 || c.Name == "min" && order(v, ag.acc) < 0 || c.Name == "max" && order(v, ag.acc) > 0 {
			ag.acc = v
		}
		ag.n++
	case "make_set", "make_list":
		v, err := arg()
		if err != nil || v.IsNull() || int64(len(ag.list)) >= ag.limit {
			return err
		}
		if c.Name == "make_set" {
			k := v.key()
			if ag.seen[k] {
				return nil
			}
			ag.seen[k] = true
		}
		ag.list = append(ag.list, v)
	case "arg_max", "arg_min":
		v, err := arg()
		if err != nil || v.IsNull() {
			return err
		}
		if ag.row == nil || c.Name == "arg_max" && order(v, ag.best) > 0 || c.Name == "arg_min" && order(v, ag.best) < 0 {
			ag.best, ag.row = v, rc.vals
		}
	case "any", "take_any":
		if ag.row == nil {
			ag.row = rc.vals
		}
	}
	return nil
}

func (ag *aggregator) result(sp aggSpec) []Value {
	switch ag.call.Name {
	case "count", "countif":
		return []Value{Long(ag.n)}
	case "dcount":
		return []Value{Long(int64(len(ag.seen)))}
	case "sum":
		switch {
		case ag.acc.T == TTimespan:
			return []Value{{T: TTimespan, I: ag.acc.I}}
		case ag.isF:
			return []Value{Real(ag.sumF)}
		}
		return []Value{Long(ag.acc.I)}
	case "avg":
		if ag.n == 0 {
			return []Value{Null}
		}
		if ag.acc.T == TTimespan {
			return []Value{{T: TTimespan, I: ag.acc.I / ag.n}}
		}
		return []Value{Real(ag.sumF / float64(ag.n))}
	case "min", "max":
		if ag.n == 0 {
			return []Value{Null}
		}
		v := ag.acc
		v.Dyn = false
		return []Value{v}
	case "make_set", "make_list":
		l := ag.list
		if l == nil {
			l = []Value{}
		}
		return []Value{{T: TDynamic, D: l}}
	}
	out := make([]Value, len(sp.src))
	for i, j := range sp.src {
		switch {
		case ag.row == nil:
		case j < 0:
			out[i] = ag.best
		default:
			out[i] = ag.row[j]
		}
	}
	return out
}

func (ev *evaluator) join(j *Join, left *Table) (*Table, error) {
	right, err := ev.tabular(j.Right)
	if err != nil {
		return nil, err
	}
	var li, ri []int
	for _, k := range j.On {
		l, r := left.index(k.Left), right.index(k.Right)
		if l < 0 {
			return nil, &Error{j.Pos, fmt.Sprintf("join: the left side has no column %q", k.Left)}
		}
		if r < 0 {
			return nil, &Error{j.Pos, fmt.Sprintf("join: the right side has no column %q", k.Right)}
		}
		li, ri = append(li, l), append(ri, r)
	}
	key := func(r []Value, idx []int) (string, bool) {
		vals := make([]Value, len(idx))
		for i, k := range idx {
			if r[k].IsNull() {
				return "", false
			}
			vals[i] = r[k]
		}
		return rowKey(vals), true
	}
	rightBy := map[string][]int{}
	for i, r := range right.Rows {
		if k, ok := key(r, ri); ok {
			rightBy[k] = append(rightBy[k], i)
		}
	}
	kind := j.Kind
	switch kind {
	case "leftantisemi":
		kind = "leftanti"
	case "rightantisemi":
		kind = "rightanti"
	}
	lrows := left.Rows
	if kind == "innerunique" {
		seen := map[string]bool{}
		lrows = nil
		for _, r := range left.Rows {
			k, ok := key(r, li)
			if ok && seen[k] {
				continue
			}
			if ok {
				seen[k] = true
			}
			lrows = append(lrows, r)
		}
		kind = "inner"
	}
	switch kind {
	case "leftsemi", "leftanti":
		out := &Table{Columns: left.Columns}
		for _, r := range lrows {
			k, ok := key(r, li)
			if (ok && len(rightBy[k]) > 0) == (kind == "leftsemi") {
				out.Rows = append(out.Rows, r)
			}
		}
		return out, nil
	case "rightsemi", "rightanti":
		leftKeys := map[string]bool{}
		for _, r := range lrows {
			if k, ok := key(r, li); ok {
				leftKeys[k] = true
			}
		}
		out := &Table{Columns: right.Columns}
		for _, r := range right.Rows {
			k, ok := key(r, ri)
			if (ok && leftKeys[k]) == (kind == "rightsemi") {
				out.Rows = append(out.Rows, r)
			}
		}
		return out, nil
	}
	out := &Table{Columns: append([]Column(nil), left.Columns...)}
	for _, c := range right.Columns {
		name := c.Name
		for n := 1; out.index(name) >= 0; n++ {
			name = fmt.Sprintf("%s%d", c.Name, n)
		}
		out.Columns = append(out.Columns, Column{name, c.Type})
	}
	nl, nr := len(left.Columns), len(right.Columns)
	matched := make([]bool, len(right.Rows))
	for _, l := range lrows {
		k, ok := key(l, li)
		var ms []int
		if ok {
			ms = rightBy[k]
		}
		for _, m := range ms {
			row := make([]Value, 0, nl+nr)
			row = append(append(row, l...), right.Rows[m]...)
			out.Rows = append(out.Rows, row)
			matched[m] = true
		}
		if len(ms) == 0 && (kind == "leftouter" || kind == "fullouter") {
			row := make([]Value, nl+nr)
			copy(row, l)
			out.Rows = append(out.Rows, row)
		}
	}
	if kind == "fullouter" {
		for i, r := range right.Rows {
			if !matched[i] {
				row := make([]Value, nl+nr)
				copy(row[nl:], r)
				out.Rows = append(out.Rows, row)
			}
		}
	}
	return out, nil
}

func (ev *evaluator) mvExpand(o *MvExpand, t *Table) (*Table, error) {
	limit := int64(-1)
	if o.Limit != nil {
		n, err := ev.count(o.Limit, o.Pos)
		if err != nil {
			return nil, err
		}
		limit = n
	}
	out := &Table{Columns: append([]Column(nil), t.Columns...)}
	idx := make([]int, len(o.Columns))
	for i, c := range o.Columns {
		name := c.Name
		if name == "" {
			return nil, &Error{o.Pos, "mv-expand needs a column name for an expression"}
		}
		idx[i] = out.index(name)
		typ := c.Type
		if typ == "" {
			typ = "dynamic"
		}
		if idx[i] < 0 {
			out.Columns = append(out.Columns, Column{name, typ})
			idx[i] = len(out.Columns) - 1
		} else {
			out.Columns[idx[i]].Type = typ
		}
	}
	for _, r := range t.Rows {
		lists := make([][]Value, len(o.Columns))
		n := 0
		for i, c := range o.Columns {
			v, err := ev.eval(c.Expr, &row{t, r})
			if err != nil {
				return nil, err
			}
			switch d := v.D.(type) {
			case []Value:
				lists[i] = d
			case *Obj:
				for k, key := range d.Keys {
					lists[i] = append(lists[i], Value{T: TDynamic, D: &Obj{Keys: []string{key}, Vals: []Value{d.Vals[k]}}})
				}
			default:
				lists[i] = []Value{v}
			}
			if len(lists[i]) > n {
				n = len(lists[i])
			}
		}
		if limit >= 0 && int64(n) > limit {
			n = int(limit)
		}
		for e := 0; e < n; e++ {
			nr := make([]Value, len(out.Columns))
			copy(nr, r)
			for i, c := range o.Columns {
				var v Value
				if e < len(lists[i]) {
					v = lists[i][e]
				}
				if c.Type != "" {
					v = castTo(v, c.Type)
				}
				nr[idx[i]] = v
			}
			out.Rows = append(out.Rows, nr)
		}
	}
	return out, nil
}
