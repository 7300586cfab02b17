package deliver

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/sink"
	"github.com/entrawatch/entrawatch/internal/store"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// fakeOutbox is an in-memory outbox.
type fakeOutbox struct {
	mu        sync.Mutex
	entries   map[int64]*store.Delivery
	nextID    int64
	delivered map[int64]int // Delivered calls per id
	dueErr    error
	// afterRead, when set, runs once after the next Due has read its
	// entries and before it returns them, without the lock held.
	afterRead func()
}

func newOutbox() *fakeOutbox {
	return &fakeOutbox{entries: map[int64]*store.Delivery{}, delivered: map[int64]int{}}
}

func (o *fakeOutbox) add(sinkName, alertID string, now time.Time) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.nextID++
	o.entries[o.nextID] = &store.Delivery{ID: o.nextID, Sink: sinkName, AlertID: alertID,
		State: store.DeliveryPending, NextTry: now, Created: now}
	return o.nextID
}

func (o *fakeOutbox) Due(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error) {
	due, err := o.read(now, limit)
	o.mu.Lock()
	hook := o.afterRead
	o.afterRead = nil
	o.mu.Unlock()
	if hook != nil {
		hook()
	}
	return due, err
}

func (o *fakeOutbox) setAfterRead(f func()) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.afterRead = f
}

func (o *fakeOutbox) read(now time.Time, limit int) ([]store.Delivery, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dueErr != nil {
		return nil, o.dueErr
	}
	var due []store.Delivery
	for _, d := range o.entries {
		if d.State == store.DeliveryPending && !d.NextTry.After(now) {
			due = append(due, *d)
		}
	}
	slices.SortFunc(due, func(a, b store.Delivery) int {
		return cmp.Or(a.NextTry.Compare(b.NextTry), cmp.Compare(a.ID, b.ID))
	})
	if len(due) > limit {
		due = due[:limit]
	}
	return due, nil
}

func (o *fakeOutbox) Delivered(ctx context.Context, id int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	d := o.entries[id]
	if d == nil {
		return store.ErrNotFound
	}
	d.State = store.DeliveryDelivered
	o.delivered[id]++
	return nil
}

func (o *fakeOutbox) Failed(ctx context.Context, id int64, errText string, next time.Time, dead bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	d := o.entries[id]
	if d == nil {
		return store.ErrNotFound
	}
	d.Attempts++
	d.LastError = errText
	d.NextTry = next
	if dead {
		d.State = store.DeliveryDead
	}
	return nil
}

func (o *fakeOutbox) get(id int64) store.Delivery {
	o.mu.Lock()
	defer o.mu.Unlock()
	return *o.entries[id]
}

// latestTry is the latest next try of the pending entries.
func (o *fakeOutbox) latestTry() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	var t time.Time
	for _, d := range o.entries {
		if d.State == store.DeliveryPending && d.NextTry.After(t) {
			t = d.NextTry
		}
	}
	return t
}

func (o *fakeOutbox) count(st store.DeliveryState) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, d := range o.entries {
		if d.State == st {
			n++
		}
	}
	return n
}

// fakeAlerts serves alerts a1…aN.
type fakeAlerts struct {
	mu     sync.Mutex
	alerts map[string]*store.Alert
	err    error
}

func newAlerts(n int) *fakeAlerts {
	fa := &fakeAlerts{alerts: map[string]*store.Alert{}}
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("a%d", i)
		fa.alerts[id] = &store.Alert{ID: id, Rule: "stale-device", Title: "Stale device", Severity: alert.Medium,
			Tenant: "contoso", Status: store.StatusNew, Count: 1, LastSeen: t0}
	}
	return fa
}

func (f *fakeAlerts) Alert(ctx context.Context, id string) (*store.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	a := f.alerts[id]
	if a == nil {
		return nil, fmt.Errorf("alert %s: %w", id, store.ErrNotFound)
	}
	return a, nil
}

// fakeClock stands still until Set; After never fires (Run is woken by Kick).
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *fakeClock) After(time.Duration) <-chan time.Time { return nil }

// fakeSink records what it was sent; fail decides each Send's error.
type fakeSink struct {
	mu       sync.Mutex
	alerts   []string
	delivery []string
	links    []string
	fail     func(p *sink.Payload) error
	gate     chan struct{} // when set, each Send waits for a token (or ctx)
	started  chan string   // when set, each Send first reports its alert (or ctx)
}

func (s *fakeSink) Send(ctx context.Context, p *sink.Payload) error {
	if s.started != nil {
		select {
		case s.started <- p.ID:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		if err := s.fail(p); err != nil {
			return err
		}
	}
	s.alerts = append(s.alerts, p.ID)
	s.delivery = append(s.delivery, sink.DeliveryID(ctx))
	s.links = append(s.links, p.Link)
	return nil
}

func (s *fakeSink) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.alerts)
}

// counter is an Observer.
type counter struct {
	mu                      sync.Mutex
	delivered, failed, dead map[string]int
	permanent               int
}

func newCounter() *counter {
	return &counter{delivered: map[string]int{}, failed: map[string]int{}, dead: map[string]int{}}
}

func (c *counter) Delivered(s string) { c.mu.Lock(); c.delivered[s]++; c.mu.Unlock() }
func (c *counter) Dead(s string)      { c.mu.Lock(); c.dead[s]++; c.mu.Unlock() }
func (c *counter) Failed(s string, permanent bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failed[s]++
	if permanent {
		c.permanent++
	}
}

// hangGuard bounds every wait in the tests. It only turns a hang into a
// clear failure and is far beyond what any wait needs.
const hangGuard = 10 * time.Second

// eventually polls cond until it holds, or reports false after hangGuard.
// It may run on any goroutine.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !eventually(cond) {
		t.Fatalf("gave up after %v waiting for %s", hangGuard, what)
	}
}

// expect receives the next alert a sink started and checks it is want.
func expect(t *testing.T, started <-chan string, want string) {
	t.Helper()
	select {
	case got := <-started:
		if got != want {
			t.Fatalf("sink started %s, want %s", got, want)
		}
	case <-time.After(hangGuard):
		t.Fatalf("gave up after %v waiting for the sink to start %s", hangGuard, want)
	}
}

// release lets one gated Send finish.
func release(t *testing.T, s *fakeSink, what string) {
	t.Helper()
	select {
	case s.gate <- struct{}{}:
	case <-time.After(hangGuard):
		t.Fatalf("gave up after %v waiting for a send to take the gate (%s)", hangGuard, what)
	}
}

// startRun runs d until the returned stop (also called at cleanup), which
// cancels Run, waits for it and returns its error.
func startRun(t *testing.T, d *Dispatcher) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stop = sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(hangGuard):
			t.Errorf("Run did not return within %v of its context being canceled", hangGuard)
			return nil
		}
	})
	t.Cleanup(func() { stop() })
	return stop
}

// isFinished says whether a worker is done with a delivery since the last
// poll began.
func (d *Dispatcher) isFinished(id int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Contains(d.finished, id)
}

func mustNew(t *testing.T, o Outbox, a Alerts, sinks map[string]RoutedSink, opts Options) *Dispatcher {
	t.Helper()
	d, err := New(o, a, sinks, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
