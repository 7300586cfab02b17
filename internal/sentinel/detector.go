package sentinel

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/kql"
	"github.com/entrawatch/entrawatch/internal/record"
)

// Options say how a scan runs the rules.
type Options struct {
	// Now is the time of the evaluation (--now). Zero means the newest
	// TimeGenerated among the scanned records (for Devices, which has none,
	// the last sign-in time), as "entrawatch query" takes it.
	Now time.Time
	// Replay runs each rule's schedule: an evaluation at Now, Now minus
	// queryFrequency, … back to the oldest record of its tables, instead of
	// a single one at Now.
	Replay bool
	// MaxTicks bounds the evaluations of one rule in Replay (default
	// DefaultMaxTicks).
	MaxTicks int
	// FileOrder lists the input files in the order the scan reads them, so
	// that a table's rows are in input order as in "entrawatch query"
	// (records of files not listed come after, by file name).
	FileOrder []string
	// WallClock is the time when no record has one and Now is zero
	// (default time.Now).
	WallClock func() time.Time
}

// DefaultMaxTicks is the default bound on a rule's evaluations in Replay.
const DefaultMaxTicks = 10000

// MaxAlertsPerRun is, as in Sentinel, the most alerts one evaluation of an
// AlertPerResult rule raises: past it, the last alert stands for the
// remaining rows.
const MaxAlertsPerRun = 150

// Set runs a list of rules in one scan. Its detectors share the rows of
// the tables the rules read: they are kept once, however many rules read
// them.
type Set struct {
	opts  Options
	dets  []*Detector
	store store

	once     sync.Once
	now      time.Time
	finished int
	mu       sync.Mutex
	warnings []Problem
	errors   []Problem
}

// store holds the rows of the tables some rule reads, and the newest time
// of every record the scan presented in a table.
type store struct {
	want   map[string]bool
	fileIx map[string]int

	mu     sync.Mutex
	tables map[string]*tableRows
	newest atomic.Int64 // Unix ns; math.MinInt64 when no record had a time
}

// tableRows are one table's rows: in input order after prepare, with an
// index by time.
type tableRows struct {
	name    string
	timeCol int
	rows    []keptRow
	byTime  []int32 // indices of rows with a time, by time
	untimed []int32 // indices of rows without one
}

type keptRow struct {
	row  []kql.Value
	src  record.Source
	t    int64 // Unix ns
	hasT bool
}

// NewSet prepares the rules to run in one scan: add Detectors to the
// engine, then read Warnings and Errors once the scan finished.
func NewSet(rules []*Rule, opts Options) *Set {
	if opts.MaxTicks <= 0 {
		opts.MaxTicks = DefaultMaxTicks
	}
	if opts.WallClock == nil {
		opts.WallClock = time.Now
	}
	s := &Set{opts: opts}
	s.store.want = map[string]bool{}
	s.store.tables = map[string]*tableRows{}
	s.store.fileIx = map[string]int{}
	s.store.newest.Store(math.MinInt64)
	for i, f := range opts.FileOrder {
		if _, ok := s.store.fileIx[f]; !ok {
			s.store.fileIx[f] = i
		}
	}
	for _, r := range rules {
		for _, t := range r.Tables {
			s.store.want[t] = true
			if s.store.tables[t] == nil {
				s.store.tables[t] = &tableRows{name: t, timeCol: timeColumn(t)}
			}
		}
	}
	for i, r := range rules {
		d := &Detector{set: s, rule: r, collector: i == 0}
		d.info = detect.Info{
			ID: r.AlertID(), Title: r.title(), Severity: r.AlertSeverity(),
			Source:      "Sentinel " + r.Kind + " rule: " + orNone(strings.Join(r.Tables, ", ")),
			Technique:   strings.Join(r.Techniques, ", "),
			Description: r.Description, Stateful: true,
		}
		seen := map[record.Kind]bool{}
		tables := r.Tables
		if d.collector {
			// The first detector collects for every rule, and sees every
			// record in a table for the reference time.
			tables = nil
			for t := range tableKinds {
				tables = append(tables, t)
			}
			sort.Strings(tables)
		}
		for _, t := range tables {
			if k, ok := tableKinds[t]; ok && !seen[k] {
				seen[k] = true
				d.info.Kinds = append(d.info.Kinds, k)
			}
		}
		sort.Slice(d.info.Kinds, func(i, j int) bool { return d.info.Kinds[i] < d.info.Kinds[j] })
		s.dets = append(s.dets, d)
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "no table"
	}
	return s
}

func (r *Rule) title() string {
	if r.Name != "" {
		return r.Name
	}
	return r.AlertID()
}

// Detectors returns one detector per rule, in the rules' order.
func (s *Set) Detectors() []*Detector { return s.dets }

// Warnings returns, once every detector finished, what the rules did not
// evaluate: records outside their query periods.
func (s *Set) Warnings() []Problem {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Problem(nil), s.warnings...)
}

// Errors returns, once every detector finished, the rules that could not
// be evaluated (a KQL error on a row, a replay over too many ticks): they
// raised no alerts.
func (s *Set) Errors() []Problem {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Problem(nil), s.errors...)
}

// Detector runs one rule: it implements detect.Detector and
// detect.Finisher, evaluating the rule once every record is read.
type Detector struct {
	set       *Set
	rule      *Rule
	info      detect.Info
	collector bool
}

// Info implements detect.Detector.
func (d *Detector) Info() *detect.Info { return &d.info }

// Rule returns the detector's rule.
func (d *Detector) Rule() *Rule { return d.rule }

// Detect implements detect.Detector: the set's first detector keeps the
// row of every record of a table some rule reads, and the newest time of
// every record in a table; the others keep nothing.
func (d *Detector) Detect(r *record.Record, _ func(*alert.Alert)) {
	if !d.collector {
		return
	}
	st := &d.set.store
	table := tableOf(r)
	if table == "" {
		return
	}
	if !st.want[table] {
		if f := timeFields[table]; f != nil {
			if t, ok := record.ParseTime(record.Text(r.Get(f))); ok {
				st.observe(t.UnixNano())
			}
		}
		return
	}
	name, row := kql.RowOf(r)
	tr := st.tables[name]
	if tr == nil {
		return
	}
	k := keptRow{row: row, src: r.Source}
	if tr.timeCol >= 0 {
		if v := row[tr.timeCol]; v.T == kql.TDatetime {
			k.t, k.hasT = v.I, true
			st.observe(v.I)
		}
	}
	st.mu.Lock()
	tr.rows = append(tr.rows, k)
	st.mu.Unlock()
}

// observe raises the newest time seen to t.
func (st *store) observe(t int64) {
	for {
		cur := st.newest.Load()
		if t <= cur || st.newest.CompareAndSwap(cur, t) {
			return
		}
	}
}

// prepare puts every table's rows in input order (workers deliver them in
// any order; records of one file come in file order, those of one line
// are delivered in order by one worker), indexes them by time and fixes
// the time of the evaluation.
func (s *Set) prepare() {
	st := &s.store
	for _, tr := range st.tables {
		ix := func(f string) int {
			if i, ok := st.fileIx[f]; ok {
				return i
			}
			return len(st.fileIx)
		}
		sort.SliceStable(tr.rows, func(i, j int) bool {
			a, b := &tr.rows[i].src, &tr.rows[j].src
			if ia, ib := ix(a.File), ix(b.File); ia != ib {
				return ia < ib
			}
			if a.File != b.File {
				return a.File < b.File
			}
			return a.Line < b.Line
		})
		for i := range tr.rows {
			if tr.rows[i].hasT {
				tr.byTime = append(tr.byTime, int32(i))
			} else {
				tr.untimed = append(tr.untimed, int32(i))
			}
		}
		sort.SliceStable(tr.byTime, func(i, j int) bool { return tr.rows[tr.byTime[i]].t < tr.rows[tr.byTime[j]].t })
	}
	switch n := st.newest.Load(); {
	case !s.opts.Now.IsZero():
		s.now = s.opts.Now.UTC()
	case n != math.MinInt64:
		s.now = time.Unix(0, n).UTC()
	default:
		s.now = s.opts.WallClock().UTC()
	}
}

// Finish implements detect.Finisher: it evaluates the rule and raises its
// alerts.
func (d *Detector) Finish(emit func(*alert.Alert)) {
	s := d.set
	s.once.Do(s.prepare)
	if err := d.run(emit); err != nil {
		p := d.problem(err.Error())
		if qe, ok := err.(*queryError); ok {
			p.Line, p.Col = qe.line, qe.col
		}
		s.mu.Lock()
		s.errors = append(s.errors, p)
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.finished++
	if s.finished == len(s.dets) {
		// Every rule ran: let the rows go.
		s.store.tables = nil
	}
	s.mu.Unlock()
}

func (d *Detector) problem(msg string) Problem {
	r := d.rule
	return Problem{File: r.File, Line: r.Line, Col: r.Col, RuleID: r.AlertID(), Msg: msg}
}

func (d *Detector) warn(msg string) {
	d.set.mu.Lock()
	d.set.warnings = append(d.set.warnings, d.problem(msg))
	d.set.mu.Unlock()
}

// run evaluates the rule at every tick of its schedule.
func (d *Detector) run(emit func(*alert.Alert)) error {
	s, r := d.set, d.rule
	if r.query == nil {
		return fmt.Errorf("the rule has no parsed query (rules are read with sentinel.Parse or sentinel.Load)")
	}
	now := s.now
	freq := r.QueryFrequency
	var tables []*tableRows
	for _, t := range r.Tables {
		if tr := s.store.tables[t]; tr != nil {
			tables = append(tables, tr)
		}
	}
	ticks := []time.Time{now}
	if s.opts.Replay {
		oldest, ok := oldestTime(tables, now)
		if ok {
			n := int64(now.Sub(oldest)/freq) + 1
			if n > int64(s.opts.MaxTicks) {
				return fmt.Errorf("replaying its %s schedule from %s to %s takes %d evaluations, over the limit of %d: scan a shorter span of records, or leave out --sentinel-replay",
					formatDuration(freq), oldest.Format(time.RFC3339), now.Format(time.RFC3339), n, s.opts.MaxTicks)
			}
			ticks = ticks[:0]
			for k := n - 1; k >= 0; k-- {
				ticks = append(ticks, now.Add(-time.Duration(k)*freq))
			}
		}
	}
	d.reportSkipped(tables, ticks, now)
	seen := map[[16]byte]bool{}
	raised := 0
	count := func(a *alert.Alert) { raised++; emit(a) }
	for _, tick := range ticks {
		if err := d.evaluate(tables, tick, seen, count); err != nil {
			if qe, ok := err.(*queryError); ok {
				if raised == 0 {
					qe.msg += "; the rule raised no alerts"
				} else {
					qe.msg += fmt.Sprintf("; the rule stopped there, after %d %s", raised, plural(raised, "alert", "alerts"))
				}
			}
			return err
		}
	}
	return nil
}

// oldestTime is the time of the oldest row at or before now.
func oldestTime(tables []*tableRows, now time.Time) (time.Time, bool) {
	best, found := int64(0), false
	for _, tr := range tables {
		if len(tr.byTime) == 0 {
			continue
		}
		if t := tr.rows[tr.byTime[0]].t; t <= now.UnixNano() && (!found || t < best) {
			best, found = t, true
		}
	}
	return time.Unix(0, best).UTC(), found
}

// reportSkipped warns about the rows of the rule's tables that no
// evaluation presents: older than every window, between windows, or
// after the time of the evaluation.
func (d *Detector) reportSkipped(tables []*tableRows, ticks []time.Time, now time.Time) {
	r := d.rule
	first := ticks[0]
	freq, period := int64(r.QueryFrequency), int64(r.QueryPeriod)
	var older, between, newer int
	for _, tr := range tables {
		for _, i := range tr.byTime {
			t := tr.rows[i].t
			switch {
			case t > now.UnixNano():
				newer++
			case t <= first.UnixNano()-period:
				older++
			case len(ticks) > 1:
				// The first tick at or after t must see it.
				k := (now.UnixNano() - t) / freq
				if now.UnixNano()-k*freq-period >= t {
					between++
				}
			}
		}
	}
	if older > 0 {
		hint := " (--sentinel-replay runs its schedule over every record)"
		if len(ticks) > 1 {
			hint = ""
		}
		d.warn(fmt.Sprintf("%d %s older than its %s queryPeriod %s not evaluated (at or before %s)%s",
			older, plural(older, "record", "records"), formatDuration(r.QueryPeriod), plural(older, "was", "were"),
			first.Add(-r.QueryPeriod).Format(time.RFC3339), hint))
	}
	if between > 0 {
		d.warn(fmt.Sprintf("%d %s between the windows of its schedule (queryFrequency %s longer than queryPeriod %s) %s not evaluated",
			between, plural(between, "record", "records"), formatDuration(r.QueryFrequency), formatDuration(r.QueryPeriod), plural(between, "was", "were")))
	}
	if newer > 0 {
		d.warn(fmt.Sprintf("%d %s after --now %s %s not evaluated", newer, plural(newer, "record", "records"), now.Format(time.RFC3339), plural(newer, "was", "were")))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// formatDuration writes a duration as Sentinel does: 14d, 1h, 5m.
func formatDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// window builds the database of one evaluation at tick: the rows of the
// rule's tables with tick - queryPeriod < time <= tick (and those without
// a time), in input order. It also returns the rows by table.
func (d *Detector) window(tables []*tableRows, tick time.Time) (*kql.DB, map[*tableRows][]int32) {
	db := kql.NewDB()
	db.Now = tick
	in := map[*tableRows][]int32{}
	hi, lo := tick.UnixNano(), tick.Add(-d.rule.QueryPeriod).UnixNano()
	for _, tr := range tables {
		start := sort.Search(len(tr.byTime), func(i int) bool { return tr.rows[tr.byTime[i]].t > lo })
		end := sort.Search(len(tr.byTime), func(i int) bool { return tr.rows[tr.byTime[i]].t > hi })
		idx := make([]int32, 0, end-start+len(tr.untimed))
		if start < end {
			idx = append(idx, tr.byTime[start:end]...)
		}
		idx = append(idx, tr.untimed...)
		sort.Slice(idx, func(i, j int) bool { return idx[i] < idx[j] })
		for _, i := range idx {
			k := &tr.rows[i]
			db.AddRecord(tr.name, k.row, k.src)
		}
		in[tr] = idx
	}
	return db, in
}

// evaluate runs the query at one tick and raises the alerts of the rows
// not alerted on at an earlier tick.
func (d *Detector) evaluate(tables []*tableRows, tick time.Time, seen map[[16]byte]bool, emit func(*alert.Alert)) error {
	r := d.rule
	db, in := d.window(tables, tick)
	res, err := kql.Run(r.query, db)
	if err != nil {
		qe := &queryError{line: r.Line, col: r.Col, msg: err.Error()}
		if ke, ok := err.(*kql.Error); ok {
			qe.line, qe.col = r.qpos.file(ke.Pos)
			qe.msg = fmt.Sprintf("KQL %d:%d: %s", ke.Pos.Line, ke.Pos.Col, ke.Msg)
		}
		qe.msg = fmt.Sprintf("query failed when run at %s: %s", tick.Format(time.RFC3339), qe.msg)
		return qe
	}
	if !triggered(r.TriggerOperator, int64(len(res.Rows)), r.TriggerThreshold) {
		return nil
	}
	ev := &evaluation{rule: r, res: res, db: db, in: in, tick: tick}
	ev.index()
	if r.SingleAlert || len(res.Rows) == 0 {
		key := rowsKey(res, res.Rows)
		if len(res.Rows) > 0 {
			fresh := false
			for _, row := range res.Rows {
				if !seen[rowKey(res, row)] {
					fresh = true
				}
			}
			if !fresh {
				return nil
			}
		} else if seen[key] {
			return nil
		}
		seen[key] = true
		for _, row := range res.Rows {
			seen[rowKey(res, row)] = true
		}
		emit(ev.alert(res.Rows, len(res.Rows)))
		return nil
	}
	var fresh [][]kql.Value
	for _, row := range res.Rows {
		k := rowKey(res, row)
		if seen[k] {
			continue
		}
		seen[k] = true
		fresh = append(fresh, row)
	}
	for i, row := range fresh {
		if i == MaxAlertsPerRun-1 && len(fresh) > MaxAlertsPerRun {
			emit(ev.alert(fresh[i:], len(fresh)-i))
			break
		}
		emit(ev.alert([][]kql.Value{row}, 1))
	}
	return nil
}

// queryError is a query that failed on a row, at its position in the
// rule's file.
type queryError struct {
	line, col int
	msg       string
}

func (e *queryError) Error() string { return e.msg }

// triggered compares the number of result rows with the threshold.
func triggered(op string, n, threshold int64) bool {
	switch op {
	case "lt":
		return n < threshold
	case "eq":
		return n == threshold
	case "ne":
		return n != threshold
	}
	return n > threshold
}
