// Package scan is the pipeline behind "entrawatch scan": inputs are split
// into records by one reader goroutine, batches of records are parsed and
// run through the detection engine by one worker per core, and a collector
// puts results back in input order, so output is deterministic while all
// cores work. Memory stays bounded: a fixed number of batches is in flight.
package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/format"
	"github.com/entrawatch/entrawatch/internal/input"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/valyala/fastjson"
)

// Config configures a scan.
type Config struct {
	// Paths are files, directories or "-".
	Paths []string
	// Stdin is read for "-".
	Stdin io.Reader
	// InputFormat forces a reader by name; empty sniffs each input.
	InputFormat string
	// Workers is the number of parsing goroutines (default GOMAXPROCS).
	Workers int
	// MaxRecord bounds the size of one record in bytes.
	MaxRecord int
	// Year is the year for syslog timestamps without one (0: file time).
	Year   int
	Engine *detect.Engine
	// Alert receives alerts in input order.
	Alert func(*alert.Alert) error
	// Warn receives one message per bad record or unreadable input.
	Warn func(msg string)
	// Progress, when set, is called about twice a second with the bytes
	// and records read so far.
	Progress func(bytes, records int64, elapsed time.Duration)
}

// MaxWarningsPerFile is how many bad-record warnings are printed per file;
// the rest are only counted.
const MaxWarningsPerFile = 100

// Stats counts what a scan saw.
type Stats struct {
	Files      int
	Records    int64
	Bad        int64
	ReadErrors int
	Bytes      int64
	// PerFormat counts records by format; PerKind by record kind.
	PerFormat map[string]int64
	PerKind   map[string]int64
	// PerRule counts alerts by rule.
	PerRule map[string]int64
	// MaxSeverity is the highest severity raised (0 when none).
	MaxSeverity alert.Severity
	Alerts      int64
	Elapsed     time.Duration
}

// item is one record or problem inside a batch.
type item struct {
	off, n       int
	rawOff, rawN int
	format       string
	line, index  int64
	ownLine      bool
	err          string
}

type batch struct {
	seq    int64
	file   string
	buf    []byte
	items  []item
	alerts []*alert.Alert
	warns  []string
	// per-batch counters, merged by the collector
	records, bad int64
	perFormat    map[string]int64
	perKind      [16]int64
	// control batches
	fileDone bool
	readErr  bool
	warnOnly bool
}

const (
	batchItems = 512
	batchBytes = 1 << 20
)

// Run scans the inputs of cfg.
func Run(ctx context.Context, cfg Config) (*Stats, error) {
	if cfg.Engine == nil || cfg.Alert == nil {
		return nil, fmt.Errorf("scan: engine and alert sink are required")
	}
	if cfg.Warn == nil {
		cfg.Warn = func(string) {}
	}
	if cfg.MaxRecord <= 0 {
		cfg.MaxRecord = 16 << 20
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var forced format.Reader
	if cfg.InputFormat != "" {
		r, err := format.Lookup(cfg.InputFormat)
		if err != nil {
			return nil, err
		}
		forced = r
	}
	start := time.Now()
	stats := &Stats{PerFormat: map[string]int64{}, PerKind: map[string]int64{}, PerRule: map[string]int64{}}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	free := make(chan *batch, 2*workers+2)
	for i := 0; i < cap(free); i++ {
		free <- &batch{}
	}
	work := make(chan *batch, workers)
	done := make(chan *batch, 2*workers+2)
	var bytesRead, recordsRead atomic.Int64

	// Reader: one goroutine, inputs in order.
	var readerErr error
	go func() {
		defer close(work)
		var seq int64
		get := func(file string) *batch {
			var b *batch
			select {
			case b = <-free:
			case <-ctx.Done():
				return nil
			}
			*b = batch{seq: seq, file: file, buf: b.buf[:0], items: b.items[:0], alerts: b.alerts[:0], warns: b.warns[:0], perFormat: b.perFormat}
			if b.perFormat == nil {
				b.perFormat = map[string]int64{}
			}
			clear(b.perFormat)
			seq++
			return b
		}
		send := func(b *batch) bool {
			select {
			case work <- b:
				return true
			case <-ctx.Done():
				return false
			}
		}
		inputs, errs := input.Expand(cfg.Paths, cfg.Stdin)
		if len(errs) > 0 {
			b := get("")
			if b == nil {
				return
			}
			for _, e := range errs {
				b.warns = append(b.warns, e.Error())
			}
			b.readErr, b.warnOnly = true, true
			if !send(b) {
				return
			}
		}
		for _, in := range inputs {
			var counted int64
			err := readInput(ctx, in, forced, cfg, get, send, func(n int64) {
				bytesRead.Add(n - counted)
				counted = n
			}, &recordsRead)
			if err != nil {
				if ctx.Err() != nil {
					readerErr = ctx.Err()
					return
				}
				b := get(in.Name)
				if b == nil {
					return
				}
				b.warns = append(b.warns, err.Error())
				var se *skipError
				b.readErr, b.warnOnly = !(errors.As(err, &se) && !in.Explicit), true
				if !send(b) {
					return
				}
			}
		}
	}()

	// Workers.
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{eng: cfg.Engine}
			for b := range work {
				w.process(b)
				done <- b
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	// Progress.
	if cfg.Progress != nil {
		stop := make(chan struct{})
		var pwg sync.WaitGroup
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			t := time.NewTicker(500 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					cfg.Progress(bytesRead.Load(), recordsRead.Load(), time.Since(start))
				case <-stop:
					return
				}
			}
		}()
		defer func() { close(stop); pwg.Wait() }()
	}

	// Collector: restore input order.
	pending := map[int64]*batch{}
	var next int64
	var sinkErr error
	emit := func(a *alert.Alert) {
		if sinkErr != nil {
			return
		}
		stats.Alerts++
		stats.PerRule[a.Rule]++
		if a.Severity > stats.MaxSeverity {
			stats.MaxSeverity = a.Severity
		}
		if err := cfg.Alert(a); err != nil {
			sinkErr = err
			cancel()
		}
	}
	files := map[string]bool{}
	warned := map[string]int{}
	for b := range done {
		pending[b.seq] = b
		for {
			b, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			for _, w := range b.warns {
				// Past MaxWarningsPerFile, a file's warnings are counted but
				// not printed, so that a garbage file cannot flood stderr.
				if b.file != "" && !b.warnOnly {
					warned[b.file]++
					switch n := warned[b.file]; {
					case n == MaxWarningsPerFile+1:
						cfg.Warn(fmt.Sprintf("%s: more than %d bad records; further warnings for this file are not shown (see --summary for the count)", b.file, MaxWarningsPerFile))
						continue
					case n > MaxWarningsPerFile:
						continue
					}
				}
				cfg.Warn(w)
			}
			if b.readErr {
				stats.ReadErrors++
			}
			if !b.warnOnly && b.file != "" {
				files[b.file] = true
			}
			stats.Records += b.records
			stats.Bad += b.bad
			for k, v := range b.perFormat {
				stats.PerFormat[k] += v
			}
			for k, v := range b.perKind {
				if v > 0 {
					stats.PerKind[record.Kind(k).String()] += v
				}
			}
			for _, a := range b.alerts {
				emit(a)
			}
			select {
			case free <- b:
			default:
			}
		}
	}
	if readerErr == nil && sinkErr == nil && ctx.Err() == nil {
		var fin []*alert.Alert
		cfg.Engine.Finish(func(a *alert.Alert) { fin = append(fin, a) })
		for _, a := range fin {
			emit(a)
		}
	}
	stats.Files = len(files)
	stats.Bytes = bytesRead.Load()
	stats.Elapsed = time.Since(start)
	if sinkErr != nil {
		return stats, fmt.Errorf("writing alerts: %w", sinkErr)
	}
	if readerErr != nil {
		return stats, readerErr
	}
	return stats, ctx.Err()
}

type skipError struct{ msg string }

func (e *skipError) Error() string { return e.msg }

// readInput splits one input into batches.
func readInput(ctx context.Context, in input.Input, forced format.Reader, cfg Config, get func(string) *batch, send func(*batch) bool, progress func(int64), records *atomic.Int64) error {
	o, err := input.Open(in)
	if err != nil {
		return fmt.Errorf("%s: %v", in.Name, err)
	}
	defer o.Close()
	r := forced
	if r == nil {
		r = format.Sniff(in.Name, o.Head)
		if r == nil {
			if len(o.Head) == 0 {
				return nil // empty file
			}
			if !in.Explicit && isDocument(in.Name) {
				return nil // a README or picture beside the logs
			}
			return &skipError{fmt.Sprintf("%s: skipped: not a log format entrawatch reads (use --input-format to force one)", in.Name)}
		}
	}
	b := get(in.Name)
	if b == nil {
		return ctx.Err()
	}
	opts := format.Options{MaxRecord: cfg.MaxRecord, Year: cfg.Year, ModTime: in.ModTime.Unix()}
	n := 0
	err = r.Split(ctx, in.Name, o, opts, func(it *format.Item) error {
		if len(b.items) >= batchItems || len(b.buf) >= batchBytes {
			if !send(b) {
				return ctx.Err()
			}
			if b = get(in.Name); b == nil {
				return ctx.Err()
			}
			progress(o.Counter.N)
		}
		x := item{line: it.Line, index: it.Index, ownLine: it.OwnLine, format: it.Format}
		if it.Err != nil {
			x.err = it.Err.Error()
		} else {
			x.off = len(b.buf)
			b.buf = append(b.buf, it.Data...)
			x.n = len(it.Data)
			x.rawOff, x.rawN = x.off, x.n
			if it.Raw != nil {
				x.rawOff = len(b.buf)
				b.buf = append(b.buf, it.Raw...)
				x.rawN = len(it.Raw)
			}
		}
		b.items = append(b.items, x)
		n++
		records.Add(1)
		return nil
	})
	progress(o.Counter.N)
	if b != nil {
		b.fileDone = true
		if !send(b) {
			return ctx.Err()
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %s", in.Name, stripLine(err.Error(), true))
	}
	return nil
}

// worker holds one goroutine's reusable parsing state.
type worker struct {
	p       fastjson.Parser
	rec     record.Record
	scratch []byte
	eng     *detect.Engine
}

// isDocument reports whether a file name is that of documentation or a
// picture, which a folder of evidence often holds beside the logs.
func isDocument(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".md", ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".html", ".htm", ".docx", ".xlsx", ".pptx", ".rtf":
		return true
	}
	return false
}

// process parses and evaluates the records of a batch.
func (w *worker) process(b *batch) {
	emit := func(a *alert.Alert) { b.alerts = append(b.alerts, a) }
	for i := range b.items {
		x := &b.items[i]
		if x.err != "" {
			b.bad++
			b.warns = append(b.warns, fmt.Sprintf("%s:%d: %s", b.file, x.line, stripLine(x.err, false)))
			continue
		}
		v, err := w.p.ParseBytes(b.buf[x.off : x.off+x.n])
		if err != nil {
			b.bad++
			b.warns = append(b.warns, fmt.Sprintf("%s:%d: invalid JSON record: %s", b.file, x.line, parseReason(err)))
			continue
		}
		line := x.index
		if x.ownLine {
			line = x.line
		}
		// A line may hold a whole list envelope or array (an Event Hubs
		// message, a Graph page saved per line): its elements are the records.
		if elems, ok := envelopeElements(v); ok {
			for _, el := range elems {
				w.scratch = el.MarshalTo(w.scratch[:0])
				w.eval(b, el, w.scratch, x.format, line, emit)
			}
			continue
		}
		w.eval(b, v, b.buf[x.rawOff:x.rawOff+x.rawN], x.format, line, emit)
	}
}

func (w *worker) eval(b *batch, v *fastjson.Value, raw []byte, format string, line int64, emit func(*alert.Alert)) {
	rec := &w.rec
	rec.Reset()
	rec.Root = v
	rec.Raw = raw
	rec.Classify()
	if format == "" {
		format = shapeFormat[rec.Shape]
	}
	rec.Source = record.Source{File: b.file, Line: line, Format: format}
	b.records++
	b.perFormat[format]++
	b.perKind[rec.Kind]++
	w.eng.Detect(rec, emit)
	rec.Release()
}

// envelopeElements returns the records of a list envelope ({"value":[…]}
// or {"records":[…]}, beside only "@odata…" keys) or of a bare array.
func envelopeElements(v *fastjson.Value) ([]*fastjson.Value, bool) {
	switch v.Type() {
	case fastjson.TypeArray:
		a, _ := v.Array()
		return a, true
	case fastjson.TypeObject:
		o, _ := v.Object()
		if o.Len() > 4 {
			return nil, false
		}
		var elems []*fastjson.Value
		found, other := false, false
		o.Visit(func(k []byte, val *fastjson.Value) {
			switch {
			case (strings.EqualFold(string(k), "value") || strings.EqualFold(string(k), "records")) && val.Type() == fastjson.TypeArray:
				elems, _ = val.Array()
				found = true
			case len(k) > 0 && k[0] == '@':
			default:
				other = true
			}
		})
		if found && !other {
			return elems, true
		}
	}
	return nil, false
}

var shapeFormat = [...]string{record.ShapeGraph: "graph", record.ShapeDiagnostic: "diagnostic-settings", record.ShapeLogAnalytics: "log-analytics", record.ShapeWindows: "windows-json"}

func parseReason(err error) string {
	s := err.Error()
	if strings.Contains(s, "too big depth") {
		return fmt.Sprintf("nested deeper than %d levels", fastjson.MaxDepth)
	}
	s = strings.TrimPrefix(s, "cannot parse JSON: ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// stripLine removes a leading "line N: " from a reader's message, since
// the pipeline prints file:line itself.
func stripLine(s string, keep bool) string {
	if keep {
		return s
	}
	if strings.HasPrefix(s, "line ") {
		if i := strings.Index(s, ": "); i > 0 && i < 20 {
			return s[i+2:]
		}
	}
	return s
}

// FormatStats renders the --summary block.
func FormatStats(s *Stats, rules []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "scanned %d files, %d records (%s) in %s", s.Files, s.Records, humanBytes(s.Bytes), s.Elapsed.Round(time.Millisecond))
	if s.Elapsed > 0 {
		fmt.Fprintf(&b, ", %.0f records/s", float64(s.Records)/s.Elapsed.Seconds())
	}
	fmt.Fprintf(&b, "\nskipped %d bad records, %d unreadable inputs\n", s.Bad, s.ReadErrors)
	b.WriteString("records by format:\n")
	for _, k := range sortedKeys(s.PerFormat) {
		fmt.Fprintf(&b, "  %-28s %d\n", k, s.PerFormat[k])
	}
	b.WriteString("records by kind:\n")
	for _, k := range sortedKeys(s.PerKind) {
		fmt.Fprintf(&b, "  %-28s %d\n", k, s.PerKind[k])
	}
	fmt.Fprintf(&b, "alerts by rule (%d in all):\n", s.Alerts)
	for _, r := range rules {
		fmt.Fprintf(&b, "  %-40s %d\n", r, s.PerRule[r])
	}
	return b.String()
}

func sortedKeys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
