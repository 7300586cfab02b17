package kql

import (
	"fmt"
	"math"
	"sort"
)

// aggAliases are other spellings of aggregations.
var aggAliases = map[string]string{"argmax": "arg_max", "argmin": "arg_min"}

// limitArg is the index of the size limit argument of the aggregations
// that have one.
var limitArg = map[string]int{"make_set": 1, "make_list": 1, "make_bag": 1, "make_set_if": 2, "make_list_if": 2}

func init() {
	for k, v := range map[string][2]int{"argmax": {2, -1}, "argmin": {2, -1}, "stdev": {1, 1}, "variance": {1, 1},
		"dcountif": {2, 3}, "sumif": {2, 2}, "make_set_if": {2, 3}, "make_list_if": {2, 3}, "make_bag": {1, 2},
		"percentile": {2, 2}} {
		aggFuncs[k] = v
	}
}

// percentile is the exact nearest-rank percentile of the values (the
// smallest value with at least p% of the values at or below it).
func percentile(nums []float64, p float64) Value {
	if len(nums) == 0 {
		return Null
	}
	s := append([]float64(nil), nums...)
	sort.Float64s(s)
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	k = max(0, min(k, len(s)-1))
	return Real(s[k])
}

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
	nums  []float64
	sumSq float64
	bag   *Obj
	pct   float64
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
		"min": "min_", "max": "max_", "avg": "avg_", "make_set": "set_", "make_list": "list_", "any": "any_", "take_any": "any_",
		"stdev": "stdev_", "variance": "variance_", "dcountif": "dcountif_", "sumif": "sumif_", "make_set_if": "set_", "make_list_if": "list_",
		"make_bag": "bag_", "percentile": "percentile_"}[name]
	if name == "percentile" && arg != "" && len(call.Args) == 2 {
		if l, ok := call.Args[1].(*Lit); ok {
			return prefix + arg + "_" + l.Text
		}
	}
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
		if alias, ok := aggAliases[call.Name]; ok {
			c := *call
			c.Name = alias
			call = &c
		}
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
			if li := limitArg[sp.call.Name]; li > 0 && len(sp.call.Args) > li {
				lim, err := ev.count(sp.call.Args[li], sp.call.Pos)
				if err != nil {
					return nil
				}
				ag.limit = lim
			}
			if sp.call.Name == "percentile" {
				v, err := ev.eval(sp.call.Args[1], nil)
				f, ok := v.number()
				if err != nil || !ok || f < 0 || f > 100 {
					return nil
				}
				ag.pct = f
			}
			g.aggs = append(g.aggs, ag)
		}
		groups = append(groups, g)
		return g
	}
	if len(s.By) == 0 {
		if newGroup(nil) == nil {
			return nil, &Error{s.Pos, "invalid make_set/make_list limit or percentile"}
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
					return nil, &Error{s.Pos, "invalid make_set/make_list limit or percentile"}
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
	case "dcountif", "sumif", "make_set_if", "make_list_if":
		p, err := ev.eval(c.Args[1], rc)
		if err != nil || !p.True() {
			return err
		}
		base := *c
		base.Name = map[string]string{"dcountif": "dcount", "sumif": "sum", "make_set_if": "make_set", "make_list_if": "make_list"}[c.Name]
		saved := ag.call
		ag.call = &base
		err = ev.accumulate(ag, rc)
		ag.call = saved
		return err
	case "stdev", "variance", "percentile":
		v, err := arg()
		if err != nil || v.IsNull() {
			return err
		}
		f, ok := v.number()
		if !ok {
			return &Error{c.Pos, fmt.Sprintf("%s() cannot take a %s", c.Name, v.T)}
		}
		ag.nums = append(ag.nums, f)
		ag.isF = ag.isF || v.T == TReal
	case "make_bag":
		v, err := arg()
		if err != nil {
			return err
		}
		o, ok := v.D.(*Obj)
		if v.T != TDynamic || !ok {
			return nil
		}
		if ag.bag == nil {
			ag.bag = &Obj{}
		}
		for i, k := range o.Keys {
			if _, dup := ag.bag.Get(k); !dup && int64(len(ag.bag.Keys)) < ag.limit {
				ag.bag.Keys = append(ag.bag.Keys, k)
				ag.bag.Vals = append(ag.bag.Vals, o.Vals[i])
			}
		}
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
	case "stdev", "variance":
		n := float64(len(ag.nums))
		if n < 2 {
			return []Value{Real(0)}
		}
		mean := 0.0
		for _, f := range ag.nums {
			mean += f
		}
		mean /= n
		ss := 0.0
		for _, f := range ag.nums {
			ss += (f - mean) * (f - mean)
		}
		if ag.call.Name == "variance" {
			return []Value{Real(ss / (n - 1))}
		}
		return []Value{Real(math.Sqrt(ss / (n - 1)))}
	case "percentile":
		v := percentile(ag.nums, ag.pct)
		if !ag.isF && v.T == TReal {
			v = Long(int64(v.F))
		}
		return []Value{v}
	case "make_bag":
		if ag.bag == nil {
			return []Value{{T: TDynamic, D: &Obj{}}}
		}
		return []Value{{T: TDynamic, D: ag.bag}}
	case "dcountif":
		return []Value{Long(int64(len(ag.seen)))}
	case "sumif":
		b := *ag
		b.call = &Call{Name: "sum"}
		return b.result(sp)
	case "make_set_if", "make_list_if":
		l := ag.list
		if l == nil {
			l = []Value{}
		}
		return []Value{{T: TDynamic, D: l}}
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
