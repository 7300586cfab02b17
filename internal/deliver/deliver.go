// Package deliver is the outbox dispatcher of entrawatch serve: it reads
// the deliveries that are due from the store's outbox, sends each alert to
// its sink, and records the outcome, retrying failures with jittered
// exponential backoff until they succeed or are dead-lettered. Delivery is
// at-least-once: an entry is marked delivered only after its Send returned
// nil, so receivers de-duplicate on the delivery id each Send gets
// through sink.WithDelivery: "<alert id>/<sink name>", the same on every
// retry and, unlike the outbox row id, not given to another alert when the
// database is recreated (the webhook sink sends it as
// X-Entrawatch-Delivery).
package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/sink"
	"github.com/entrawatch/entrawatch/internal/store"
)

// Outbox is the store's delivery queue.
type Outbox interface {
	// Due returns up to limit pending deliveries whose next try is at or
	// before now, oldest first.
	Due(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error)
	// Delivered marks a delivery done.
	Delivered(ctx context.Context, id int64) error
	// Failed records a failed attempt: dead moves it to the dead letters,
	// otherwise it is due again at next.
	Failed(ctx context.Context, id int64, errText string, next time.Time, dead bool) error
}

// Alerts reads stored alerts.
type Alerts interface {
	// Alert returns an alert, or an error wrapping store.ErrNotFound.
	Alert(ctx context.Context, id string) (*store.Alert, error)
}

// Sender delivers one alert; every sink.Sink is one.
type Sender interface {
	Send(ctx context.Context, a *sink.Payload) error
}

// RoutedSink is a sink with the filter that picks its alerts.
type RoutedSink struct {
	Sink Sender
	// MinSeverity is the lowest severity delivered (0: all).
	MinSeverity alert.Severity
	// Rules are the rule names delivered, as path.Match patterns
	// ("device-*"); empty: all rules.
	Rules []string
	// MaxAttempts is how many tries a delivery gets before it is dead
	// (default DefaultMaxAttempts).
	MaxAttempts int
}

// Clock is the dispatcher's time source.
type Clock interface {
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// Observer hears of delivery outcomes, for metrics. It is called from
// several goroutines at once.
type Observer interface {
	Delivered(sink string)
	// Failed is called for every failed attempt; permanent says retrying
	// could not help.
	Failed(sink string, permanent bool)
	// Dead is called when a delivery is given up.
	Dead(sink string)
}

// Defaults of Options and RoutedSink.
const (
	DefaultBaseDelay = 2 * time.Second
	DefaultMaxDelay  = 10 * time.Minute
	DefaultPoll      = time.Second
	DefaultBatch     = 100
	// DefaultMaxAttempts gives a sink about three and a half hours of
	// tries, on average, with the default delays.
	DefaultMaxAttempts = 50
)

// Options tune a Dispatcher. Zero fields take the defaults.
type Options struct {
	// Clock is the time source (default: the real clock).
	Clock Clock
	// Rand returns a number in [0, 1) for backoff jitter (default
	// math/rand/v2).
	Rand func() float64
	// BaseDelay and MaxDelay bound the backoff: the n-th failed attempt
	// waits a random time up to min(MaxDelay, BaseDelay·2^(n-1)), or the
	// receiver's Retry-After when that is longer.
	BaseDelay, MaxDelay time.Duration
	// Poll is how often Run looks for due deliveries without a Kick.
	Poll time.Duration
	// Batch is how many new deliveries one poll reads (default 100).
	Batch int
	// Link returns an alert's dashboard URL for payloads ("" or nil: none).
	Link func(alertID string) string
	// Observer hears of outcomes (optional).
	Observer Observer
	// Log receives one record per failed attempt and store error
	// (default: discarded).
	Log *slog.Logger
}

// Dispatcher delivers the outbox.
type Dispatcher struct {
	outbox Outbox
	alerts Alerts
	sinks  map[string]*RoutedSink
	names  []string // sorted
	opts   Options
	kick   chan struct{}

	running atomic.Bool
	mu      sync.Mutex
	// inflight holds the deliveries handed to a worker, which a poll must
	// not hand out again. One whose outcome is recorded stays here, listed
	// in finished, until the next poll starts reading: a read that began
	// before the outcome was recorded still sees it as due.
	inflight map[int64]bool
	finished []int64
}

// maxFetch bounds the deliveries one poll reads.
const maxFetch = 10000

// maxErrText bounds the error text stored with a failed attempt.
const maxErrText = 1024

// New returns a dispatcher of the outbox to the named sinks.
func New(outbox Outbox, alerts Alerts, sinks map[string]RoutedSink, opts Options) (*Dispatcher, error) {
	if outbox == nil || alerts == nil {
		return nil, errors.New("deliver: outbox and alerts are required")
	}
	d := &Dispatcher{outbox: outbox, alerts: alerts, sinks: map[string]*RoutedSink{},
		kick: make(chan struct{}, 1), inflight: map[int64]bool{}}
	for name, rs := range sinks {
		if name == "" || rs.Sink == nil {
			return nil, fmt.Errorf("deliver: sink %q: a name and a sink are required", name)
		}
		for _, p := range rs.Rules {
			if _, err := path.Match(p, ""); err != nil {
				return nil, fmt.Errorf("deliver: sink %q: rule pattern %q: %w", name, p, err)
			}
		}
		if rs.MaxAttempts <= 0 {
			rs.MaxAttempts = DefaultMaxAttempts
		}
		d.sinks[name] = &rs
		d.names = append(d.names, name)
	}
	slices.Sort(d.names)
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Rand == nil {
		opts.Rand = rand.Float64
	}
	if opts.BaseDelay <= 0 {
		opts.BaseDelay = DefaultBaseDelay
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = DefaultMaxDelay
	}
	if opts.Poll <= 0 {
		opts.Poll = DefaultPoll
	}
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	if opts.Link == nil {
		opts.Link = func(string) string { return "" }
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	d.opts = opts
	return d, nil
}

// Route returns the names of the sinks whose severity and rule filters
// accept a, sorted; the service passes it as store.Batch.Route.
func (d *Dispatcher) Route(a *store.Alert) []string {
	var names []string
	for _, name := range d.names {
		rs := d.sinks[name]
		if a.Severity < rs.MinSeverity {
			continue
		}
		if len(rs.Rules) > 0 && !slices.ContainsFunc(rs.Rules, func(p string) bool {
			ok, _ := path.Match(p, a.Rule)
			return ok
		}) {
			continue
		}
		names = append(names, name)
	}
	return names
}

// Kick makes Run look for due deliveries now, as after a commit of new
// alerts. It never blocks.
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// worker sends one sink's deliveries in order.
type worker struct {
	name  string
	rs    *RoutedSink
	queue chan store.Delivery
	// skipped says a poll found the queue full: when it drains, poll again.
	skipped atomic.Bool
}

// Run delivers until ctx is done, then waits for the sends under way and
// returns nil. Each sink has its own goroutine, so a slow or failing sink
// does not hold up the others; within a sink, deliveries go one at a time
// in the order the outbox gives them. Run looks for due deliveries every
// Poll and on Kick, and again at once while a read is cut at its limit or
// when a sink's full queue drains; store errors are logged and retried at
// the next poll.
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.running.CompareAndSwap(false, true) {
		return errors.New("deliver: Run is already running")
	}
	defer d.running.Store(false)
	// A Run cut short leaves handed-out deliveries unfinished.
	d.mu.Lock()
	clear(d.inflight)
	d.finished = nil
	d.mu.Unlock()
	var wg sync.WaitGroup
	workers := make(map[string]*worker, len(d.sinks))
	for _, name := range d.names {
		w := &worker{name: name, rs: d.sinks[name], queue: make(chan store.Delivery, d.opts.Batch)}
		workers[name] = w
		wg.Go(func() { d.work(ctx, w) })
	}
	defer wg.Wait()
	for {
		d.poll(ctx, workers)
		select {
		case <-ctx.Done():
			return nil
		case <-d.kick:
		case <-d.opts.Clock.After(d.opts.Poll):
		}
	}
}

func (d *Dispatcher) work(ctx context.Context, w *worker) {
	for {
		select {
		case <-ctx.Done():
			return
		case del := <-w.queue:
			d.deliver(ctx, w.name, w.rs, del)
			d.finish(del.ID)
			d.kickIfDrained(w)
		}
	}
}

// kickIfDrained makes Run poll again once a worker whose queue was found
// full has drained it. Both the worker (after each delivery) and poll
// (after marking the queue skipped) call it, so the wakeup is not lost
// when the worker drains the queue before poll marks it.
func (d *Dispatcher) kickIfDrained(w *worker) {
	if len(w.queue) == 0 && w.skipped.CompareAndSwap(true, false) {
		d.Kick()
	}
}

// poll hands the due deliveries not already under way to their workers.
func (d *Dispatcher) poll(ctx context.Context, workers map[string]*worker) {
	d.mu.Lock()
	// The outcomes of the finished deliveries are recorded, so the read
	// below sees them as they are now: they may be handed out again.
	for _, id := range d.finished {
		delete(d.inflight, id)
	}
	d.finished = d.finished[:0]
	limit := min(d.opts.Batch+len(d.inflight), maxFetch)
	d.mu.Unlock()
	due, err := d.outbox.Due(ctx, d.opts.Clock.Now(), limit)
	if err != nil {
		if ctx.Err() == nil {
			d.opts.Log.Error("reading due deliveries", "err", err)
		}
		return
	}
	progress := 0 // deliveries handed out or dead-lettered
	var full map[*worker]bool
	for _, del := range due {
		w := workers[del.Sink]
		if full[w] {
			continue // keep the sink's order: nothing after what did not fit
		}
		if !d.claim(del.ID) {
			continue
		}
		if w == nil {
			d.unknownSink(ctx, del)
			d.unclaim(del.ID)
			progress++
			continue
		}
		select {
		case w.queue <- del:
			progress++
		default:
			d.unclaim(del.ID)
			if full == nil {
				full = map[*worker]bool{}
			}
			full[w] = true
			w.skipped.Store(true)
			d.kickIfDrained(w)
		}
	}
	if len(due) == limit && progress > 0 {
		d.Kick() // the read was cut at limit: more may be due
	}
}

// claim marks a delivery under way; it reports false if it already is,
// or finished since the running poll began reading.
func (d *Dispatcher) claim(id int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.inflight[id] {
		return false
	}
	d.inflight[id] = true
	return true
}

// unclaim drops the mark of a delivery that poll did not hand out, or
// whose outcome poll recorded itself: no later read can see it stale.
func (d *Dispatcher) unclaim(id int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.inflight, id)
}

// finish notes that a worker is done with a delivery; it stays marked
// until the next poll starts (see Dispatcher.inflight).
func (d *Dispatcher) finish(id int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.finished = append(d.finished, id)
}

// Once delivers one batch of due deliveries (up to Options.Batch), sinks
// in parallel, and returns how many it tried once all are done. It is Run
// without the loop, for tests and one-shot use; do not call it while Run
// runs.
func (d *Dispatcher) Once(ctx context.Context) (int, error) {
	due, err := d.outbox.Due(ctx, d.opts.Clock.Now(), d.opts.Batch)
	if err != nil {
		return 0, fmt.Errorf("deliver: reading due deliveries: %w", err)
	}
	bySink := map[string][]store.Delivery{}
	for _, del := range due {
		if d.sinks[del.Sink] == nil {
			d.unknownSink(ctx, del)
			continue
		}
		bySink[del.Sink] = append(bySink[del.Sink], del)
	}
	var wg sync.WaitGroup
	for name, dels := range bySink {
		wg.Go(func() {
			for _, del := range dels {
				d.deliver(ctx, name, d.sinks[name], del)
			}
		})
	}
	wg.Wait()
	return len(due), nil
}

// storeTimeout bounds recording an outcome, which runs even when ctx is
// done so that a finished Send is not repeated needlessly.
const storeTimeout = 10 * time.Second

// deliver makes one attempt at one delivery and records its outcome.
func (d *Dispatcher) deliver(ctx context.Context, name string, rs *RoutedSink, del store.Delivery) {
	a, err := d.alerts.Alert(ctx, del.AlertID)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		d.failed(ctx, name, rs, del, fmt.Errorf("reading alert %s: %w", del.AlertID, err), errors.Is(err, store.ErrNotFound))
		return
	}
	err = rs.Sink.Send(sink.WithDelivery(ctx, del.AlertID+"/"+del.Sink), sink.NewPayload(a, d.opts.Link(a.ID)))
	if err != nil && ctx.Err() != nil {
		return // shutting down: not the sink's fault; the entry stays due
	}
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err == nil {
		if err := d.outbox.Delivered(bctx, del.ID); err != nil {
			// It will be sent again: at-least-once.
			d.opts.Log.Error("recording delivery", "sink", name, "delivery", del.ID, "alert", del.AlertID, "err", err)
		}
		d.opts.Observer.Delivered(name)
		return
	}
	d.failed(bctx, name, rs, del, err, sink.IsPermanent(err))
}

// failed records a failed attempt: dead when permanent or out of attempts,
// otherwise due again after the backoff.
func (d *Dispatcher) failed(ctx context.Context, name string, rs *RoutedSink, del store.Delivery, err error, permanent bool) {
	attempts := del.Attempts + 1
	dead := permanent || attempts >= rs.MaxAttempts
	var next time.Time
	if !dead {
		wait := d.backoff(attempts)
		if ra, ok := sink.RetryAfter(err); ok && ra > wait {
			wait = ra
		}
		next = d.opts.Clock.Now().Add(wait)
	}
	text := errText(err)
	if rerr := d.outbox.Failed(ctx, del.ID, text, next, dead); rerr != nil {
		d.opts.Log.Error("recording failed delivery", "sink", name, "delivery", del.ID, "alert", del.AlertID, "err", rerr)
	}
	d.opts.Observer.Failed(name, permanent)
	if dead {
		d.opts.Observer.Dead(name)
		d.opts.Log.Error("delivery dead", "sink", name, "delivery", del.ID, "alert", del.AlertID,
			"attempts", attempts, "permanent", permanent, "err", text)
		return
	}
	d.opts.Log.Warn("delivery failed", "sink", name, "delivery", del.ID, "alert", del.AlertID,
		"attempts", attempts, "next", next, "err", text)
}

// unknownSink dead-letters a delivery to a sink that is not configured
// (any more): left pending it would be read again at every poll.
func (d *Dispatcher) unknownSink(ctx context.Context, del store.Delivery) {
	text := errText(fmt.Errorf("sink %q is not configured", del.Sink))
	if err := d.outbox.Failed(context.WithoutCancel(ctx), del.ID, text, time.Time{}, true); err != nil {
		d.opts.Log.Error("recording failed delivery", "sink", del.Sink, "delivery", del.ID, "err", err)
	}
	d.opts.Observer.Dead(del.Sink)
	d.opts.Log.Error("delivery dead", "sink", del.Sink, "delivery", del.ID, "alert", del.AlertID, "err", text)
}

// backoff returns the wait after the n-th failed attempt: full jitter over
// min(MaxDelay, BaseDelay·2^(n-1)).
func (d *Dispatcher) backoff(n int) time.Duration {
	window := d.opts.BaseDelay
	for i := 1; i < n && window < d.opts.MaxDelay; i++ {
		window *= 2
	}
	window = min(window, d.opts.MaxDelay)
	return time.Duration(d.opts.Rand() * float64(window))
}

// errText is an error's message made fit to store: valid UTF-8, one line,
// at most maxErrText bytes.
func errText(err error) string {
	s := strings.ToValidUTF8(err.Error(), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxErrText {
		n := maxErrText - 3
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

type nopObserver struct{}

func (nopObserver) Delivered(string)    {}
func (nopObserver) Failed(string, bool) {}
func (nopObserver) Dead(string)         {}
