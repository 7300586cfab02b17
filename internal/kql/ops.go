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
	sm, err := ev.newSummarizer(s, t.Columns)
	if err != nil {
		return nil, err
	}
	var in aggInput
	for _, r := range t.Rows {
		if err := ev.aggInputs(sm, &row{t: t, vals: r}, &in); err != nil {
			return nil, err
		}
		if err := sm.add(&in); err != nil {
			return nil, err
		}
	}
	return sm.table(), nil
}

// summarizer aggregates rows one at a time, in order, for summarize (and
// distinct of columns): the groups and their aggregators.
type summarizer struct {
	ev     *evaluator
	s      *Summarize
	cols   []Column
	specs  []aggSpec
	groups []*group
	index  map[string]*group
	key    []byte
}

type group struct {
	by   []Value
	aggs []*aggregator
}

// aggInput is what summarize takes from one row: the by values, the
// aggregations' arguments, and the row itself for the aggregations that
// copy columns. err is the error of evaluating the arguments of
// aggregation errAgg (then the later arguments are not evaluated).
type aggInput struct {
	by     []Value
	key    []byte // the by values' key, when computed already
	args   []aggArg
	row    []Value
	errAgg int
	err    error
}

// aggArg holds an aggregation's argument x and, for the *if
// aggregations, its predicate p (x is evaluated only when p is true).
type aggArg struct {
	x, p Value
}

// newSummarizer prepares summarize s over rows of the given columns.
func (ev *evaluator) newSummarizer(s *Summarize, in []Column) (*summarizer, error) {
	sm := &summarizer{ev: ev, s: s, cols: nil, index: map[string]*group{}}
	n := 0
	var byNames []string
	for _, b := range s.By {
		name := b.Name
		if name == "" {
			name = derive(b.Expr, &n)
		}
		byNames = append(byNames, name)
		sm.cols = append(sm.cols, Column{name, ""})
	}
	t := &Table{Columns: in}
	isBy := func(name string) bool {
		for _, b := range byNames {
			if b == name {
				return true
			}
		}
		return false
	}
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
			for _, e := range exprs {
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
				if !contains(sp.names, name) {
					sp.names = append(sp.names, name)
					sp.src = append(sp.src, t.index(id.Name))
				}
			}
		default:
			sp.names = []string{aggName(call.Name, a, call, &n)}
		}
		sm.specs = append(sm.specs, sp)
		for _, nm := range sp.names {
			sm.cols = append(sm.cols, Column{nm, ""})
		}
	}
	if len(s.By) == 0 {
		if sm.newGroup(nil) == nil {
			return nil, sm.groupError()
		}
	}
	return sm, nil
}

// copiesRows reports whether an aggregation copies columns of the rows
// (arg_max, arg_min, any): aggInput.row is then needed.
func (sm *summarizer) copiesRows() bool {
	for _, sp := range sm.specs {
		if len(sp.src) > 0 {
			return true
		}
	}
	return false
}

func (sm *summarizer) groupError() error {
	return &Error{sm.s.Pos, "invalid make_set/make_list limit or percentile"}
}

// newGroup adds a group; nil when a size limit or percentile is invalid.
func (sm *summarizer) newGroup(by []Value) *group {
	ev := sm.ev
	g := &group{by: by}
	for _, sp := range sm.specs {
		ag := &aggregator{call: sp.call, limit: 1 << 20}
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
	sm.groups = append(sm.groups, g)
	return g
}

// aggInputs evaluates what summarize takes from row rc into in: an error
// of the by expressions is returned, one of the aggregations' arguments
// kept in in (it is raised by add after the aggregations before it).
func (ev *evaluator) aggInputs(sm *summarizer, rc *row, in *aggInput) error {
	s := sm.s
	in.by = nil
	if len(s.By) > 0 {
		in.by = make([]Value, len(s.By))
		for i, b := range s.By {
			v, err := ev.eval(b.Expr, rc)
			if err != nil {
				return err
			}
			in.by[i] = v
		}
	}
	in.args = in.args[:0]
	in.err, in.errAgg = nil, -1
	in.row = rc.vals
	for k, sp := range sm.specs {
		var a aggArg
		if err := ev.aggArgs(sp.call, &a, func(e Expr) (Value, error) { return ev.eval(e, rc) }); err != nil {
			in.err, in.errAgg = err, k
			break
		}
		in.args = append(in.args, a)
	}
	return nil
}

// aggArgs evaluates the arguments of an aggregation with eval, as
// accumulate reads them.
func (ev *evaluator) aggArgs(c *Call, a *aggArg, eval func(Expr) (Value, error)) error {
	var err error
	switch c.Name {
	case "count", "any", "take_any":
	case "dcountif", "sumif", "make_set_if", "make_list_if":
		if a.p, err = eval(c.Args[1]); err != nil || !a.p.True() {
			return err
		}
		a.x, err = eval(c.Args[0])
	default:
		a.x, err = eval(c.Args[0])
	}
	return err
}

// add aggregates one row's input, in the order the rows come.
func (sm *summarizer) add(in *aggInput) error {
	var g *group
	if len(sm.s.By) == 0 {
		g = sm.groups[0]
	} else {
		key := in.key
		if key == nil {
			sm.key = appendRowKey(sm.key[:0], in.by)
			key = sm.key
		}
		if g = sm.index[string(key)]; g == nil {
			if g = sm.newGroup(in.by); g == nil {
				return sm.groupError()
			}
			sm.index[string(key)] = g
		}
	}
	for i, ag := range g.aggs {
		if i == in.errAgg {
			return in.err
		}
		if err := ag.accumulate(in.args[i], in.row); err != nil {
			return err
		}
	}
	return nil
}

// table returns the result: one row per group, in order of first
// appearance; a column's type is its first non-null value's.
func (sm *summarizer) table() *Table {
	out := &Table{Columns: append([]Column(nil), sm.cols...)}
	for _, g := range sm.groups {
		nr := append([]Value(nil), g.by...)
		for i, ag := range g.aggs {
			nr = append(nr, ag.result(sm.specs[i])...)
		}
		out.Rows = append(out.Rows, nr)
	}
	resolveTable(out)
	for i := range out.Columns {
		out.Columns[i].Type = "string"
		for _, r := range out.Rows {
			if r[i].T != TNull {
				out.Columns[i].Type = typeOf(r[i])
				break
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// accumulate adds a row to the aggregation, given its arguments (aggArgs)
// and the row.
func (ag *aggregator) accumulate(a aggArg, row []Value) error {
	c := ag.call
	arg := func() (Value, error) { return a.x, nil }
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
		if ag.seen == nil {
			ag.seen = map[string]bool{}
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
			if ag.seen == nil {
				ag.seen = map[string]bool{}
			}
			k := v.key()
			if ag.seen[k] {
				return nil
			}
			ag.seen[k] = true
		}
		ag.list = append(ag.list, v)
	case "dcountif", "sumif", "make_set_if", "make_list_if":
		if !a.p.True() {
			return nil
		}
		base := *c
		base.Name = map[string]string{"dcountif": "dcount", "sumif": "sum", "make_set_if": "make_set", "make_list_if": "make_list"}[c.Name]
		saved := ag.call
		ag.call = &base
		err := ag.accumulate(a, row)
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
			ag.best, ag.row = v, row
		}
	case "any", "take_any":
		if ag.row == nil {
			ag.row = row
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
			v := resolved(r[k])
			if v.IsNull() {
				return "", false
			}
			vals[i] = v
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
	p, err := ev.newMvExpander(o, t.Columns)
	if err != nil {
		return nil, err
	}
	out := &Table{Columns: p.cols}
	vals := make([]Value, len(o.Columns))
	for _, r := range t.Rows {
		rc := &row{t: t, vals: r}
		for i, c := range o.Columns {
			v, err := ev.eval(c.Expr, rc)
			if err != nil {
				return nil, err
			}
			vals[i] = v
		}
		p.expand(r, vals, func(nr []Value) {
			out.Rows = append(out.Rows, append([]Value(nil), nr...))
		})
	}
	return out, nil
}

// mvExpander is mv-expand prepared over rows of known columns.
type mvExpander struct {
	o     *MvExpand
	cols  []Column
	idx   []int
	limit int64
	lists [][]Value
	buf   []Value
}

func (ev *evaluator) newMvExpander(o *MvExpand, in []Column) (*mvExpander, error) {
	p := &mvExpander{o: o, limit: -1}
	if o.Limit != nil {
		n, err := ev.count(o.Limit, o.Pos)
		if err != nil {
			return nil, err
		}
		p.limit = n
	}
	out := &Table{Columns: append([]Column(nil), in...)}
	p.idx = make([]int, len(o.Columns))
	for i, c := range o.Columns {
		name := c.Name
		if name == "" {
			return nil, &Error{o.Pos, "mv-expand needs a column name for an expression"}
		}
		p.idx[i] = out.index(name)
		typ := c.Type
		if typ == "" {
			typ = "dynamic"
		}
		if p.idx[i] < 0 {
			out.Columns = append(out.Columns, Column{name, typ})
			p.idx[i] = len(out.Columns) - 1
		} else {
			out.Columns[p.idx[i]].Type = typ
		}
	}
	p.cols = out.Columns
	p.lists = make([][]Value, len(o.Columns))
	return p, nil
}

// expand calls emit with each row that row r expands to, given the values
// of the expanded expressions; the row passed to emit is reused.
func (p *mvExpander) expand(r, vals []Value, emit func(nr []Value)) {
	n := 0
	for i, v := range vals {
		switch d := v.D.(type) {
		case []Value:
			p.lists[i] = d
		case *Obj:
			l := make([]Value, 0, len(d.Keys))
			for k, key := range d.Keys {
				l = append(l, Value{T: TDynamic, D: &Obj{Keys: []string{key}, Vals: []Value{d.Vals[k]}}})
			}
			p.lists[i] = l
		default:
			p.lists[i] = append(p.lists[i][:0:0], v)
		}
		if len(p.lists[i]) > n {
			n = len(p.lists[i])
		}
	}
	if p.limit >= 0 && int64(n) > p.limit {
		n = int(p.limit)
	}
	if cap(p.buf) < len(p.cols) {
		p.buf = make([]Value, len(p.cols))
	}
	nr := p.buf[:len(p.cols)]
	for e := 0; e < n; e++ {
		clear(nr)
		copy(nr, r)
		for i, c := range p.o.Columns {
			var v Value
			if e < len(p.lists[i]) {
				v = p.lists[i][e]
			}
			if c.Type != "" {
				v = castTo(v, c.Type)
			}
			nr[p.idx[i]] = v
		}
		emit(nr)
	}
}
