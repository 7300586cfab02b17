package kql

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync/atomic"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/scan"
)

// Exec checks q and runs it over the records of cfg's inputs, read with
// the scan pipeline, holding only what the query needs:
//
//   - a query over one table through row-local operators (where, extend,
//     project…, then optionally take, count, summarize, top or distinct,
//     and anything after those) is streamed: evaluated in scan's workers
//     while reading, keeping only the rows that come out (or the groups
//     of summarize); take stops reading once it has its rows;
//   - any other query loads the tables it reads, not the others, each
//     row computing when read only the columns the query names, the
//     others when printed.
//
// Both give what Run gives over Load's database (but for a type error in
// the rows after those take returns, which is not seen). Without
// cfg.Now, a streamed query that calls now() or ago() reads its inputs
// twice: first for the newest time, as Load does. The result is nil, with
// a nil error, when an input could not be read (stats.ReadErrors): a query
// over part of the data could answer wrongly. Errors of the query itself
// are *Error.
func Exec(ctx context.Context, q *Query, cfg LoadConfig) (*Table, *scan.Stats, error) {
	res, stats, err := execute(ctx, q, cfg, false)
	if err != nil || res == nil {
		return nil, stats, err
	}
	return res.table, stats, nil
}

// ExecWrite runs q as Exec does and writes its result to w as Write does
// in format (json, csv or table), once it is complete: nothing is written
// when the query fails or an input could not be read (stats.ReadErrors).
// A streamed query whose result is rows of its table (where, take,
// project of its columns…) in JSON is written by scan's workers from the
// records, as the rows come out: only the text of those rows is held.
func ExecWrite(ctx context.Context, q *Query, cfg LoadConfig, w io.Writer, format string) (*scan.Stats, error) {
	if !formats[format] {
		return nil, fmt.Errorf("unknown output format %q (json, csv or table)", format)
	}
	res, stats, err := execute(ctx, q, cfg, format == "json")
	if err != nil || res == nil {
		return stats, err
	}
	if res.rendered {
		return stats, writeLines(w, res.lines)
	}
	return stats, Write(w, res.table, format)
}

// result is a query's result: a table, or (rendered) its rows as JSON
// lines.
type result struct {
	table    *Table
	lines    [][]byte
	rendered bool
}

func execute(ctx context.Context, q *Query, cfg LoadConfig, json bool) (*result, *scan.Stats, error) {
	if err := Check(q); err != nil {
		return nil, nil, err
	}
	p := analyze(q)
	now := cfg.Now
	if !now.IsZero() {
		now = now.UTC()
	}
	table, streamed := p.streamSource(q)
	if streamed && now.IsZero() && p.usesNow {
		if readsStdin(cfg.Paths) {
			streamed = false // it cannot be read twice
		} else {
			c := newClock()
			stats, err := run(ctx, cfg, c, func(*alert.Alert) error { return nil })
			if err != nil || stats.ReadErrors > 0 {
				return nil, stats, err
			}
			now, cfg.Warn = c.time(), nil // warned in the first read
		}
	}
	if streamed {
		return execStream(ctx, q, p, table, cfg, now, json)
	}
	t, stats, err := execLoaded(ctx, q, p, cfg, now)
	if err != nil || t == nil {
		return nil, stats, err
	}
	return &result{table: t}, stats, nil
}

func readsStdin(paths []string) bool {
	for _, p := range paths {
		if p == "-" {
			return true
		}
	}
	return false
}

// run runs the scan pipeline over cfg's inputs with one detector.
func run(ctx context.Context, cfg LoadConfig, d detect.Detector, sink func(*alert.Alert) error) (*scan.Stats, error) {
	eng, err := detect.NewEngine(detect.Options{NoBuiltin: true})
	if err != nil {
		return nil, err
	}
	eng.Add(d)
	return scan.Run(ctx, scan.Config{
		Paths: cfg.Paths, Stdin: cfg.Stdin, InputFormat: cfg.InputFormat, Year: cfg.Year, Warn: cfg.Warn,
		Engine: eng, Alert: sink,
	})
}

func execStream(ctx context.Context, q *Query, p *plan, table string, cfg LoadConfig, now time.Time, json bool) (*result, *scan.Stats, error) {
	if now.IsZero() {
		now = time.Now().UTC() // the query does not read it
	}
	db := NewDB()
	db.Now = now
	ev := newEvaluator(db, now)
	if err := ev.bindLets(q.Lets); err != nil {
		return nil, nil, err
	}
	s := compileStream(ev, q, table, p.needs)
	if s.staticErr != nil && s.staticPass == 0 {
		return nil, nil, s.staticErr
	}
	if json {
		s.renderJSON()
	}
	s.errPass.Store(int64(s.staticPass))
	stats, err := run(ctx, cfg, s, s.collect)
	if err != nil && !errors.Is(err, errStop) {
		return nil, stats, err
	}
	if stats.ReadErrors > 0 {
		return nil, stats, nil
	}
	if s.bestErr != nil {
		return nil, stats, s.bestErr
	}
	if s.staticErr != nil {
		return nil, stats, s.staticErr
	}
	if s.render {
		return &result{lines: s.lines, rendered: true}, stats, nil
	}
	t := s.result()
	for _, op := range s.rest {
		if t, err = ev.op(op, t); err != nil {
			return nil, stats, err
		}
	}
	resolveTable(t)
	return &result{table: t}, stats, nil
}

func execLoaded(ctx context.Context, q *Query, p *plan, cfg LoadConfig, now time.Time) (*Table, *scan.Stats, error) {
	l := &loader{plan: p}
	kinds := map[record.Kind]bool{}
	if now.IsZero() && p.usesNow {
		l.clock = newClock()
		for _, k := range l.clock.info.Kinds {
			kinds[k] = true
		}
	}
	for t := range p.tables {
		for _, k := range kindsOf(t) {
			kinds[k] = true
		}
	}
	for k := range kinds {
		l.info.Kinds = append(l.info.Kinds, k)
	}
	l.info.ID, l.info.Title = collectorID, "load the tables of entrawatch query"
	db := NewDB()
	stats, err := run(ctx, cfg, l, func(a *alert.Alert) error {
		if v, ok := l.relay.receive(a); ok {
			p := v.(*pending)
			db.Add(p.table, p.row)
		}
		return nil
	})
	if err != nil || stats.ReadErrors > 0 {
		return nil, stats, err
	}
	switch {
	case !now.IsZero():
		db.Now = now
	case l.clock != nil:
		db.Now = l.clock.time()
	default:
		db.Now = time.Now().UTC() // the query does not read it
	}
	res, err := Run(q, db)
	if err != nil {
		return nil, stats, err
	}
	resolveTable(res)
	return res, stats, nil
}

// loader loads the rows of the tables a query reads: the columns it
// names computed, the others stored lazy over the record's JSON.
type loader struct {
	info  detect.Info
	plan  *plan
	clock *clock
	relay relay
}

func (l *loader) Info() *detect.Info { return &l.info }

func (l *loader) Detect(r *record.Record, emit func(*alert.Alert)) {
	if l.clock != nil {
		l.clock.see(r)
	}
	table := TableOf(r)
	fs := fields[table]
	if fs == nil || !l.plan.tables[table] {
		return
	}
	cs := Schemas[table]
	row := make([]Value, len(cs))
	var lz *lazyRow
	for i, c := range cs {
		if c.Name == "Type" || l.plan.needs(c.Name) {
			row[i] = columnValue(r, table, c, fs[i])
			continue
		}
		if lz == nil {
			lz = newLazyRow(r, table)
		}
		row[i] = Value{T: tLazy, I: int64(i), D: lz}
	}
	l.relay.send(emit, &pending{table: table, row: row})
}

// clock finds the newest time of the records, as DB.ReferenceTime does
// over loaded tables.
type clock struct {
	info detect.Info
	best atomic.Int64
}

const noTime = math.MinInt64

func newClock() *clock {
	c := &clock{info: detect.Info{ID: "kql-clock", Title: "newest record time for entrawatch query",
		Kinds: []record.Kind{record.KindSignIn, record.KindAudit, record.KindWindowsEvent, record.KindSyslog, record.KindDevice}}}
	c.best.Store(noTime)
	return c
}

func (c *clock) Info() *detect.Info { return &c.info }

func (c *clock) Detect(r *record.Record, _ func(*alert.Alert)) { c.see(r) }

func (c *clock) see(r *record.Record) {
	table := TableOf(r)
	fs := fields[table]
	if fs == nil {
		return
	}
	cs := Schemas[table]
	i := TimeColumn(cs)
	if i < 0 {
		return
	}
	v := columnValue(r, table, cs[i], fs[i])
	if v.T != TDatetime {
		return
	}
	for {
		old := c.best.Load()
		if old != noTime && v.I <= old || c.best.CompareAndSwap(old, v.I) {
			return
		}
	}
}

// time returns the newest time seen, or the current time when no record
// had one.
func (c *clock) time() time.Time {
	if b := c.best.Load(); b != noTime {
		return time.Unix(0, b).UTC()
	}
	return time.Now().UTC()
}
