package kql

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/record"
)

// Streaming. A query that reads one table through row-local operators
// (where, extend, project…) is evaluated while the records are read: in
// scan's parallel workers, each record of the table becomes a row whose
// columns are computed only when read (placeholders resolved from the
// live record), the row runs through the compiled operators, and only
// the rows that come out — or what summarize, top or count take from
// them — cross to scan's ordered collector. The operator that ends the
// stream (take, count, summarize, top, distinct) consumes them there, in
// input order; the operators after it run on its (small) result.
//
// Errors are those the materialising evaluator gives. It runs each
// operator (each column of extend and project) over all rows before the
// next, so it reports the error of the earliest such pass, and within a
// pass the earliest row. Each pass has a number; a row's error carries
// its pass, and the collector keeps the error of the lowest pass, first
// in input order. Once it knows one, the workers skip that pass and
// later ones; with pass 0 nothing can come before, and reading stops.
// An error found before any row (an invalid take count, a rename of a
// missing column) is raised at the end unless a row's error of an
// earlier pass comes first.

// errStop ends the read early: take has its rows, or the query's error
// is known.
var errStop = errors.New("kql: stop reading")

type stepKind uint8

const (
	stepWhere stepKind = iota
	stepExtend
	stepProject
	stepPick
	stepRename
	stepParse
	stepMvExpand
)

// step is a compiled row-local operator.
type step struct {
	kind stepKind
	pos  Pos
	// pass is the number of the operator's first pass.
	pass int
	out  *layout
	// where
	pred cexpr
	// extend: the columns in order
	assigns []extendCol
	// project: the expressions, and for a plain column its index (the
	// value is copied, placeholders included)
	exprs  []cexpr
	copyOf []int
	// project-away, -keep, -reorder: the input column of each output one
	idx []int
	// parse
	parser  *textParser
	targets []int
	expr    cexpr
	// mv-expand
	mv      *mvExpander
	mvExprs []cexpr
	// truncated steps evaluate and then drop the row: a static error
	// follows them.
	truncated bool
}

type extendCol struct {
	c      cexpr
	idx    int
	before *layout
}

type sinkKind uint8

const (
	sinkCollect sinkKind = iota
	sinkTake
	sinkCount
	sinkSummarize
	sinkTop
)

// stream is a query compiled for streaming, and its state while running.
type stream struct {
	info     detect.Info
	table    string
	db       *DB
	ev       *evaluator // the query's evaluator (lets bound), for the collector and the rest
	lets     []*Let
	first    *layout
	template []Value
	steps    []*step
	last     *layout // the columns of the rows reaching the sink

	sink     sinkKind
	sinkPass int
	n        int64 // the rows take and top keep
	sm       *summarizer
	byC      []cexpr
	argC     map[Expr]cexpr
	copyRows bool
	topKeys  []SortKey
	topKey   []cexpr
	topTh    atomic.Pointer[[]Value]
	rest     []Operator
	// needs reports whether the query names a column of the table: the
	// rows the rest of the query runs on compute those, and keep the
	// others lazy.
	needs func(string) bool
	// render is set when the rows that come out are written as JSON
	// lines by the workers (renderJSON): keys holds each column's
	// `"name":` prefix.
	render bool
	keys   [][]byte

	staticErr  error
	staticPass int

	pool  sync.Pool
	relay relay
	// errPass is the pass of the best error known to the collector (or
	// the static error's): passes from it on are skipped.
	errPass atomic.Int64
	count   atomic.Int64

	// collector state
	bestErr  error
	bestPass int
	rows     [][]Value
	lines    [][]byte
	top      []topRow
}

type topRow struct {
	key []Value
	row []Value
}

// rowError is a row's error and the pass it happened in.
type rowError struct {
	pass int
	err  error
}

// topCandidate is a row that may be in top's result.
type topCandidate struct {
	key []Value
	row []Value
}

const streamID = "kql-stream"

// compileStream compiles q, whose body reads table, for streaming; needs
// reports the columns q names. An error of an operator found before any
// row is kept in staticErr.
func compileStream(ev *evaluator, q *Query, table string, needs func(string) bool) *stream {
	s := &stream{table: table, db: ev.db, ev: ev, lets: q.Lets, first: sourceLayout(table), staticPass: math.MaxInt, needs: needs}
	s.info = detect.Info{ID: streamID, Title: "entrawatch query", Kinds: kindsOf(table)}
	s.template = make([]Value, len(s.first.src))
	for i := range s.template {
		s.template[i] = Value{T: tLazy, I: int64(i)}
	}
	prefix, sink, rest := streamOps(q.Body.Ops)
	lay, pass := s.first, 0
	schema := Schemas[table]
	fail := func(err error) *stream {
		s.staticErr, s.staticPass = err, pass
		s.last = lay
		return s
	}
	for _, op := range prefix {
		c := &compiler{ev: ev, lay: lay, schema: schema}
		st := &step{pass: pass}
		switch o := op.(type) {
		case *Where:
			st.kind, st.pos, st.pred = stepWhere, o.Pos, c.expr(o.Pred)
			pass++
			st.out = lay
		case *Extend:
			st.kind = stepExtend
			n := 0
			out := lay
			for _, a := range o.Columns {
				name := a.Name
				if name == "" {
					name = derive(a.Expr, &n)
				}
				cc := (&compiler{ev: ev, lay: out, schema: schema}).expr(a.Expr)
				next := out.clone()
				idx := next.set(name, "")
				st.assigns = append(st.assigns, extendCol{c: cc, idx: idx, before: out})
				out = next
				pass++
			}
			st.out = out
		case *Project:
			st.kind = stepProject
			out := &layout{t: &Table{}}
			n := 0
			for _, a := range o.Columns {
				name := a.Name
				if name == "" {
					name = derive(a.Expr, &n)
				}
				typ, src, cp := "", -1, -1
				if id, ok := a.Expr.(*Ident); ok {
					if i := lay.t.index(id.Name); i >= 0 {
						typ, src, cp = lay.typ[i], lay.src[i], i
					}
				}
				st.exprs = append(st.exprs, c.expr(a.Expr))
				st.copyOf = append(st.copyOf, cp)
				pass++
				if out.t.index(name) >= 0 {
					st.truncated = true
					st.out = out
					s.steps = append(s.steps, st)
					return fail(&Error{a.Pos, fmt.Sprintf("project names column %q twice", name)})
				}
				out.t.Columns = append(out.t.Columns, Column{name, typ})
				out.src, out.typ = append(out.src, src), append(out.typ, typ)
			}
			st.out = out
		case *ProjectAway, *ProjectKeep, *ProjectReorder:
			st.kind = stepPick
			st.idx = pickColumns(op, lay.t.Columns)
			st.out = lay.pick(st.idx)
		case *ProjectRename:
			st.kind = stepRename
			out := lay.clone()
			for _, p := range o.Pairs {
				i := out.t.index(p[1])
				if i < 0 {
					return fail(&Error{o.Pos, fmt.Sprintf("project-rename: no column %q", p[1])})
				}
				out.t.Columns[i].Name = p[0]
			}
			st.out = out
		case *ParseOp:
			p, err := ev.newParser(o)
			if err != nil {
				return fail(err)
			}
			st.kind, st.parser, st.expr = stepParse, p, c.expr(o.Expr)
			out := lay.clone()
			for _, pc := range p.cols {
				st.targets = append(st.targets, out.set(pc.Column, canonicalType(pc.Type)))
			}
			st.out = out
			pass++
		case *MvExpand:
			mv, err := ev.newMvExpander(o, lay.t.Columns)
			if err != nil {
				return fail(err)
			}
			st.kind, st.mv = stepMvExpand, mv
			for _, col := range o.Columns {
				st.mvExprs = append(st.mvExprs, c.expr(col.Expr))
			}
			out := &layout{t: &Table{Columns: mv.cols}, src: append([]int(nil), lay.src...), typ: append([]string(nil), lay.typ...)}
			for len(out.src) < len(mv.cols) {
				out.src, out.typ = append(out.src, -1), append(out.typ, "")
			}
			for _, j := range mv.idx {
				out.src[j], out.typ[j] = -1, mv.cols[j].Type
			}
			st.out = out
			pass++
		}
		s.steps = append(s.steps, st)
		lay = st.out
	}
	s.last = lay
	s.sinkPass = pass
	c := &compiler{ev: ev, lay: lay, schema: schema}
	var end Operator
	if len(sink) > 0 {
		end = sink[0]
	}
	switch o := end.(type) {
	case nil:
		s.sink = sinkCollect
	case *Take:
		n, err := ev.count(o.N, o.Pos)
		if err != nil {
			return fail(err)
		}
		s.sink, s.n = sinkTake, n
	case *Count:
		s.sink = sinkCount
	case *Top:
		n, err := ev.count(o.N, o.Pos)
		if err != nil {
			return fail(err)
		}
		s.sink, s.n, s.topKeys, s.topKey = sinkTop, n, []SortKey{o.Key}, []cexpr{c.expr(o.Key.Expr)}
	case *Sort:
		// sort | take n is top n by the sort's keys (the sort is stable,
		// so is top); with an invalid n, whose error comes after the
		// sort's, both run on the rows instead.
		take := sink[1].(*Take)
		n, err := ev.count(take.N, take.Pos)
		if err != nil {
			s.sink, rest = sinkCollect, append(append([]Operator(nil), sink...), rest...)
			break
		}
		s.sink, s.n, s.topKeys = sinkTop, n, o.Keys
		for _, k := range o.Keys {
			s.topKey = append(s.topKey, c.expr(k.Expr))
		}
	case *Summarize, *Distinct:
		sm, _ := o.(*Summarize)
		if d, ok := o.(*Distinct); ok {
			var as []Assign
			for _, e := range d.Columns {
				as = append(as, Assign{Pos: e.Position(), Expr: e})
			}
			sm = &Summarize{Pos: d.Pos, By: as}
		}
		smz, err := ev.newSummarizer(sm, lay.t.Columns)
		if err != nil {
			return fail(err)
		}
		s.sink, s.sm, s.argC, s.copyRows = sinkSummarize, smz, map[Expr]cexpr{}, smz.copiesRows()
		for _, b := range sm.By {
			s.byC = append(s.byC, c.expr(b.Expr))
		}
		for _, sp := range smz.specs {
			for _, a := range sp.call.Args {
				if _, ok := a.(*Star); !ok {
					s.argC[a] = c.expr(a)
				}
			}
		}
	}
	s.rest = rest
	return s
}

// kindsOf returns the record kinds whose records a table holds.
func kindsOf(table string) []record.Kind {
	switch table {
	case record.TableAudit:
		return []record.Kind{record.KindAudit}
	case record.TableSecurityEvent:
		return []record.Kind{record.KindWindowsEvent}
	case record.TableSyslog:
		return []record.Kind{record.KindSyslog}
	case record.TableDevices:
		return []record.Kind{record.KindDevice}
	}
	return []record.Kind{record.KindSignIn}
}

// pickColumns returns the columns project-away, project-keep or
// project-reorder keeps, in order.
func pickColumns(op Operator, cs []Column) []int {
	var idx []int
	switch o := op.(type) {
	case *ProjectAway:
		for i, c := range cs {
			if !matchAny(o.Names, c.Name) {
				idx = append(idx, i)
			}
		}
	case *ProjectKeep:
		for i, c := range cs {
			if matchAny(o.Names, c.Name) {
				idx = append(idx, i)
			}
		}
	case *ProjectReorder:
		used := map[int]bool{}
		for _, pat := range o.Names {
			for i, c := range cs {
				if !used[i] && match(pat, c.Name) {
					idx = append(idx, i)
					used[i] = true
				}
			}
		}
		for i := range cs {
			if !used[i] {
				idx = append(idx, i)
			}
		}
	}
	return idx
}

// Info describes the stream as the detector scan runs.
func (s *stream) Info() *detect.Info { return &s.info }

// streamWorker is the state of one goroutine running rows: its own
// evaluator (caches are not shared), the live record and row buffers.
type streamWorker struct {
	ev    *evaluator
	live  *liveRecord
	bufs  [][]Value
	rows  []row
	mvs   []*mvExpander
	got   [][]Value
	build builder
	line  []byte
	out   []byte
}

func (s *stream) newWorker() *streamWorker {
	ev := newEvaluator(s.db, s.ev.now)
	_ = ev.bindLets(s.lets) // as the query's evaluator did, without error
	w := &streamWorker{ev: ev, live: newLiveRecord(s.table), bufs: make([][]Value, len(s.steps)+1),
		rows: make([]row, len(s.steps)+1), mvs: make([]*mvExpander, len(s.steps)), got: make([][]Value, len(s.steps)),
		build: builder{arena: arena{min: 16 << 10}}}
	w.bufs[len(s.steps)] = make([]Value, len(s.template))
	for k, st := range s.steps {
		w.bufs[k] = make([]Value, max(len(st.out.t.Columns), len(st.exprs)))
		if st.mv != nil {
			mv := *st.mv
			mv.lists, mv.buf = make([][]Value, len(mv.lists)), nil
			w.mvs[k] = &mv
		}
		if st.parser != nil {
			w.got[k] = make([]Value, len(st.parser.cols))
		}
	}
	return w
}

// Detect runs one record of the table through the operators.
func (s *stream) Detect(r *record.Record, emit func(*alert.Alert)) {
	if TableOf(r) != s.table {
		return
	}
	limit := int(s.errPass.Load())
	if limit == 0 {
		return
	}
	w, _ := s.pool.Get().(*streamWorker)
	if w == nil {
		w = s.newWorker()
	}
	w.live.reset(r)
	start := w.bufs[len(s.steps)]
	copy(start, s.template)
	s.run(w, 0, &row{t: s.first.t, vals: start, live: w.live}, limit, emit)
	w.live.rec = nil
	s.pool.Put(w)
}

func (s *stream) fail(pass int, err error, emit func(*alert.Alert)) {
	s.relay.send(emit, &rowError{pass, err})
}

// run runs row r through steps k… and the sink; passes from limit on
// are skipped.
func (s *stream) run(w *streamWorker, k int, r *row, limit int, emit func(*alert.Alert)) {
	for ; k < len(s.steps); k++ {
		st := s.steps[k]
		if st.pass >= limit {
			return
		}
		switch st.kind {
		case stepWhere:
			v, err := st.pred(w.ev, r)
			if err != nil {
				s.fail(st.pass, err, emit)
				return
			}
			if !v.True() {
				if v.T != TBool && v.T != TNull {
					s.fail(st.pass, &Error{st.pos, "where needs a bool, not a " + v.T.String()}, emit)
				}
				return
			}
		case stepExtend:
			buf := w.bufs[k]
			copy(buf, r.vals)
			nr := &w.rows[k]
			*nr = row{live: r.live}
			for i, a := range st.assigns {
				if st.pass+i >= limit {
					return
				}
				nr.t, nr.vals = a.before.t, buf[:len(a.before.t.Columns)]
				v, err := a.c(w.ev, nr)
				if err != nil {
					s.fail(st.pass+i, err, emit)
					return
				}
				buf[a.idx] = v
			}
			nr.t, nr.vals = st.out.t, buf
			r = nr
		case stepProject:
			buf := w.bufs[k]
			for i, c := range st.exprs {
				if st.pass+i >= limit {
					return
				}
				if j := st.copyOf[i]; j >= 0 {
					buf[i] = r.vals[j]
					continue
				}
				v, err := c(w.ev, r)
				if err != nil {
					s.fail(st.pass+i, err, emit)
					return
				}
				buf[i] = v
			}
			if st.truncated {
				return
			}
			nr := &w.rows[k]
			*nr = row{t: st.out.t, vals: buf[:len(st.out.t.Columns)], live: r.live}
			r = nr
		case stepPick:
			buf := w.bufs[k]
			for i, j := range st.idx {
				buf[i] = r.vals[j]
			}
			nr := &w.rows[k]
			*nr = row{t: st.out.t, vals: buf, live: r.live}
			r = nr
		case stepRename:
			nr := &w.rows[k]
			*nr = row{t: st.out.t, vals: r.vals, live: r.live}
			r = nr
		case stepParse:
			v, err := st.expr(w.ev, r)
			if err != nil {
				s.fail(st.pass, err, emit)
				return
			}
			got := w.got[k]
			st.parser.parse(v, got)
			buf := w.bufs[k]
			copy(buf, r.vals)
			for i, t := range st.targets {
				buf[t] = got[i]
			}
			nr := &w.rows[k]
			*nr = row{t: st.out.t, vals: buf, live: r.live}
			r = nr
		case stepMvExpand:
			vals := make([]Value, len(st.mvExprs))
			for i, c := range st.mvExprs {
				v, err := c(w.ev, r)
				if err != nil {
					s.fail(st.pass, err, emit)
					return
				}
				vals[i] = v
			}
			live := r.live
			w.mvs[k].expand(r.vals, vals, func(nr []Value) {
				buf := w.bufs[k]
				copy(buf, nr)
				s.run(w, k+1, &row{t: st.out.t, vals: buf, live: live}, limit, emit)
			})
			return
		}
	}
	if s.staticErr != nil || s.sinkPass >= limit {
		return
	}
	s.end(w, r, emit)
}

// end hands a row that came through the operators to the sink.
func (s *stream) end(w *streamWorker, r *row, emit func(*alert.Alert)) {
	switch s.sink {
	case sinkCount:
		s.count.Add(1)
	case sinkCollect, sinkTake:
		if s.render {
			s.relay.send(emit, s.renderRow(w, r))
			return
		}
		s.relay.send(emit, s.keep(w, r))
	case sinkTop:
		key := make([]Value, len(s.topKey))
		for i, c := range s.topKey {
			v, err := c(w.ev, r)
			if err != nil {
				s.fail(s.sinkPass, err, emit)
				return
			}
			key[i] = v
		}
		if th := s.topTh.Load(); th != nil && !sortLess(s.topKeys, key, *th) {
			return // cannot displace the rows the collector holds, which come first
		}
		s.relay.send(emit, &topCandidate{key, s.keep(w, r)})
	case sinkSummarize:
		in := &aggInput{errAgg: -1}
		if len(s.byC) > 0 {
			in.by = make([]Value, len(s.byC))
			for i, c := range s.byC {
				v, err := c(w.ev, r)
				if err != nil {
					s.fail(s.sinkPass, err, emit)
					return
				}
				in.by[i] = v
			}
			in.key = appendRowKey(nil, in.by) // here rather than in the collector
		}
		eval := func(e Expr) (Value, error) { return s.argC[e](w.ev, r) }
		for k, sp := range s.sm.specs {
			var a aggArg
			if err := w.ev.aggArgs(sp.call, &a, eval); err != nil {
				in.err, in.errAgg = err, k
				break
			}
			in.args = append(in.args, a)
		}
		if s.copyRows {
			in.row = kept(r)
		}
		s.relay.send(emit, in)
	}
}

// renderJSON makes the stream write the rows that come out as JSON lines
// in the workers, from their records, when the query's result is those
// rows and each of their columns is one of the table's, untouched; it
// reports whether it did.
func (s *stream) renderJSON() bool {
	if s.staticErr != nil || s.sink != sinkCollect && s.sink != sinkTake || len(s.rest) > 0 {
		return false
	}
	for _, src := range s.last.src {
		if src < 0 {
			return false
		}
	}
	s.render = true
	for i, c := range s.last.t.Columns {
		var k []byte
		if i > 0 {
			k = append(k, ',')
		}
		k = appendJSONString(k, c.Name)
		s.keys = append(s.keys, append(k, ':'))
	}
	return true
}

// renderRow returns the JSON line WriteJSON writes for the row.
func (s *stream) renderRow(w *streamWorker, r *row) []byte {
	b := append(w.line[:0], '{')
	for i, v := range r.vals {
		b = append(b, s.keys[i]...)
		if v.T == tLazy && v.D == nil && !r.live.have[v.I] {
			b = r.live.appendJSON(b, int(v.I))
		} else {
			b = r.get(i).AppendJSON(b)
		}
	}
	b = append(b, '}', '\n')
	w.line = b
	// Lines are copied into chunks shared by the worker's rows: one
	// allocation per megabyte of output, not one per row.
	if cap(w.out)-len(w.out) < len(b) {
		w.out = make([]byte, 0, max(1<<20, len(b)))
	}
	start := len(w.out)
	w.out = append(w.out, b...)
	return w.out[start:len(w.out):len(w.out)]
}

// keep returns the values of a row that comes out: every column computed
// when they are the result, else (operators follow) the columns the
// query names, the others lazy.
func (s *stream) keep(w *streamWorker, r *row) []Value {
	if len(s.rest) == 0 {
		return owned(w, r)
	}
	out := make([]Value, len(r.vals))
	l := r.live
	for i, v := range r.vals {
		if v.T == tLazy && v.D == nil {
			switch src := int(v.I); {
			case l.have[src]:
				v = l.cache[src]
			case s.needs(l.cols[src].Name):
				v = w.build.column(l.rec, l.table, l.cols[src], l.fields[src])
			default:
				v.D = l.snapshot()
			}
		}
		out[i] = v
	}
	return out
}

// owned returns the values of a row, every column computed (in the
// worker's arena): the row outlives its record.
func owned(w *streamWorker, r *row) []Value {
	out := make([]Value, len(r.vals))
	l := r.live
	for i, v := range r.vals {
		if v.T == tLazy && v.D == nil {
			if src := int(v.I); l.have[src] {
				v = l.cache[src]
			} else {
				v = w.build.column(l.rec, l.table, l.cols[src], l.fields[src])
			}
		}
		out[i] = v
	}
	return out
}

// kept returns the values of a row kept after its record: the columns
// not computed yet are kept as stored lazy values over the record's JSON.
func kept(r *row) []Value {
	out := make([]Value, len(r.vals))
	for i, v := range r.vals {
		if v.T == tLazy && v.D == nil {
			if src := int(v.I); r.live.have[src] {
				v = r.live.cache[src]
			} else {
				v.D = r.live.snapshot()
			}
		}
		out[i] = v
	}
	return out
}

// collect receives, in input order, what the workers sent.
func (s *stream) collect(a *alert.Alert) error {
	p, ok := s.relay.receive(a)
	if !ok {
		return nil
	}
	if e, ok := p.(*rowError); ok {
		return s.failed(e.pass, e.err)
	}
	if s.bestErr != nil {
		return nil // the query fails: its result is not needed
	}
	switch p := p.(type) {
	case []byte:
		if s.sink == sinkTake && int64(len(s.lines)) >= s.n {
			return errStop
		}
		s.lines = append(s.lines, p)
		if s.sink == sinkTake && int64(len(s.lines)) >= s.n {
			return errStop
		}
	case []Value:
		if s.sink == sinkTake {
			if int64(len(s.rows)) < s.n {
				s.rows = append(s.rows, p)
			}
			if int64(len(s.rows)) >= s.n {
				return errStop
			}
			return nil
		}
		s.rows = append(s.rows, p)
	case *topCandidate:
		s.addTop(p)
	case *aggInput:
		if err := s.sm.add(p); err != nil {
			return s.failed(s.sinkPass, err)
		}
	}
	return nil
}

// failed records a row's error; the lowest pass wins, then the first.
func (s *stream) failed(pass int, err error) error {
	if s.bestErr == nil || pass < s.bestPass {
		s.bestErr, s.bestPass = err, pass
		s.errPass.Store(int64(pass))
	}
	if s.bestPass == 0 {
		return errStop
	}
	return nil
}

// addTop keeps the top rows seen so far, sorted (ties in input order).
func (s *stream) addTop(c *topCandidate) {
	if s.n == 0 {
		return
	}
	i := sort.Search(len(s.top), func(i int) bool { return sortLess(s.topKeys, c.key, s.top[i].key) })
	if int64(i) >= s.n {
		return
	}
	s.top = append(s.top, topRow{})
	copy(s.top[i+1:], s.top[i:])
	s.top[i] = topRow{key: c.key, row: c.row}
	if int64(len(s.top)) > s.n {
		s.top = s.top[:s.n]
	}
	if int64(len(s.top)) == s.n {
		th := s.top[len(s.top)-1].key
		s.topTh.Store(&th)
	}
}

// result is the stream's table, once every record is read.
func (s *stream) result() *Table {
	switch s.sink {
	case sinkCount:
		return &Table{Columns: []Column{{"Count", "long"}}, Rows: [][]Value{{Long(s.count.Load())}}}
	case sinkSummarize:
		return s.sm.table()
	case sinkTop:
		rows := make([][]Value, len(s.top))
		for i, t := range s.top {
			rows[i] = t.row
		}
		return s.rowsTable(rows)
	}
	return s.rowsTable(s.rows)
}

// rowsTable makes a table of rows of the last layout; a computed column's
// type is that of its first non-null value.
func (s *stream) rowsTable(rows [][]Value) *Table {
	t := &Table{Columns: append([]Column(nil), s.last.t.Columns...), Rows: rows}
	for i := range t.Columns {
		if s.last.typ[i] != "" {
			t.Columns[i].Type = s.last.typ[i]
			continue
		}
		t.Columns[i].Type = "string"
		for _, r := range rows {
			if r[i].T != TNull {
				t.Columns[i].Type = typeOf(r[i])
				break
			}
		}
	}
	return t
}

// relay carries values from the workers to scan's ordered collector,
// through the marker alerts the workers emit.
type relay struct {
	mu sync.Mutex
	m  map[*alert.Alert]any
}

func (r *relay) send(emit func(*alert.Alert), v any) {
	a := &alert.Alert{Rule: streamID}
	r.mu.Lock()
	if r.m == nil {
		r.m = map[*alert.Alert]any{}
	}
	r.m[a] = v
	r.mu.Unlock()
	emit(a)
}

func (r *relay) receive(a *alert.Alert) (any, bool) {
	r.mu.Lock()
	v, ok := r.m[a]
	delete(r.m, a)
	r.mu.Unlock()
	return v, ok
}
