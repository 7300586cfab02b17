package deliver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/sink"
	"github.com/entrawatch/entrawatch/internal/store"
)

func TestRoute(t *testing.T) {
	s := &fakeSink{}
	d := mustNew(t, newOutbox(), newAlerts(0), map[string]RoutedSink{
		"all":       {Sink: s},
		"high":      {Sink: s, MinSeverity: alert.High},
		"medium":    {Sink: s, MinSeverity: alert.Medium},
		"devices":   {Sink: s, Rules: []string{"device-*", "stale-device"}},
		"bitlocker": {Sink: s, Rules: []string{"bitlocker-key-read"}, MinSeverity: alert.Medium},
	}, Options{})
	tests := []struct {
		rule string
		sev  alert.Severity
		want []string
	}{
		{"stale-device", alert.Low, []string{"all", "devices"}},
		{"stale-device", alert.High, []string{"all", "devices", "high", "medium"}},
		{"device-registered-without-mfa", alert.Medium, []string{"all", "devices", "medium"}},
		{"bitlocker-key-read", alert.Low, []string{"all"}},
		{"bitlocker-key-read", alert.Medium, []string{"all", "bitlocker", "medium"}},
		{"other", alert.Low, []string{"all"}},
	}
	for _, tt := range tests {
		got := d.Route(&store.Alert{Rule: tt.rule, Severity: tt.sev})
		if !slices.Equal(got, tt.want) {
			t.Errorf("Route(%s, %s) = %v, want %v", tt.rule, tt.sev, got, tt.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	s := &fakeSink{}
	tests := []struct {
		name  string
		sinks map[string]RoutedSink
		want  string
	}{
		{"nil sink", map[string]RoutedSink{"x": {}}, `sink "x": a name and a sink are required`},
		{"bad pattern", map[string]RoutedSink{"x": {Sink: s, Rules: []string{"dev[ice"}}}, `rule pattern "dev[ice"`},
	}
	for _, tt := range tests {
		if _, err := New(newOutbox(), newAlerts(0), tt.sinks, Options{}); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New error = %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := New(nil, newAlerts(0), nil, Options{}); err == nil {
		t.Error("New without an outbox succeeded")
	}
}

func TestBackoff(t *testing.T) {
	r := 1.0
	d := mustNew(t, newOutbox(), newAlerts(0), nil, Options{Rand: func() float64 { return r },
		BaseDelay: 2 * time.Second, MaxDelay: 10 * time.Minute})
	for n, want := range map[int]time.Duration{
		1: 2 * time.Second, 2: 4 * time.Second, 3: 8 * time.Second, 9: 512 * time.Second,
		10: 10 * time.Minute, 60: 10 * time.Minute, 1000: 10 * time.Minute,
	} {
		if got := d.backoff(n); got != want {
			t.Errorf("backoff(%d) with jitter 1 = %v, want %v", n, got, want)
		}
	}
	r = 0.25
	if got := d.backoff(3); got != 2*time.Second {
		t.Errorf("backoff(3) with jitter 0.25 = %v, want 2s", got)
	}
}

// hook is a webhook receiver that can be down (503, or refusing
// connections) and counts what it accepted.
type hook struct {
	srv      *httptest.Server
	mode     atomic.Value // "up", "503", "refuse"
	mu       sync.Mutex
	accepted map[string]int // alert id → times answered 2xx
	ids      map[string]string
	requests int
}

func newHook(t *testing.T) *hook {
	h := &hook{accepted: map[string]int{}, ids: map[string]string{}}
	h.mode.Store("up")
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.requests++
		if h.mode.Load() != "up" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var p struct{ ID string }
		if err := json.Unmarshal(body, &p); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h.accepted[p.ID]++
		h.ids[p.ID] = r.Header.Get(sink.HeaderDelivery)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// client connects to the receiver unless it is refusing.
func (h *hook) client() *http.Client {
	var d net.Dialer
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if h.mode.Load() == "refuse" {
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
		return d.DialContext(ctx, network, addr)
	}, DisableKeepAlives: true}}
}

func TestReceiverDownThenUp(t *testing.T) {
	h := newHook(t)
	wh, err := sink.New("webhook", sink.Config{Name: "soc", URL: h.srv.URL, Secret: "k", HTTPClient: h.client()})
	if err != nil {
		t.Fatal(err)
	}
	ob, clock, obs := newOutbox(), &fakeClock{now: t0}, newCounter()
	const n = 5
	var ids []int64
	for i := 1; i <= n; i++ {
		ids = append(ids, ob.add("soc", "a"+strconv.Itoa(i), t0))
	}
	d := mustNew(t, ob, newAlerts(n), map[string]RoutedSink{"soc": {Sink: wh}},
		Options{Clock: clock, Rand: func() float64 { return 0.5 }, BaseDelay: 2 * time.Second, MaxDelay: time.Minute, Observer: obs})
	ctx := context.Background()

	// Down: 503 for three rounds, then refusing connections for two.
	wantWait := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}
	for round, mode := range []string{"503", "503", "503", "refuse", "refuse"} {
		h.mode.Store(mode)
		before := clock.Now()
		if tried, err := d.Once(ctx); err != nil || tried != n {
			t.Fatalf("round %d: Once = %d, %v; want %d tried", round, tried, err, n)
		}
		for _, id := range ids {
			e := ob.get(id)
			if e.State != store.DeliveryPending || e.Attempts != round+1 {
				t.Fatalf("round %d: delivery %d is %s after %d attempts, want pending after %d", round, id, e.State, e.Attempts, round+1)
			}
			if got := e.NextTry.Sub(before); got != wantWait[round] {
				t.Errorf("round %d: delivery %d waits %v, want %v (half of the backoff window)", round, id, got, wantWait[round])
			}
			wantErr := map[string]string{"503": "503 Service Unavailable", "refuse": "connection refused"}[mode]
			if !strings.Contains(e.LastError, wantErr) {
				t.Errorf("round %d: last error %q, want %q", round, e.LastError, wantErr)
			}
		}
		// Not due yet: nothing is tried before the backoff ends.
		if tried, _ := d.Once(ctx); tried != 0 {
			t.Fatalf("round %d: %d deliveries tried before their backoff ended", round, tried)
		}
		clock.Set(ob.latestTry())
	}
	if len(h.accepted) != 0 || h.requests != 3*n {
		t.Fatalf("while down the receiver accepted %v out of %d requests, want none of %d", h.accepted, h.requests, 3*n)
	}

	// Up: every alert arrives exactly once.
	h.mode.Store("up")
	if tried, err := d.Once(ctx); err != nil || tried != n {
		t.Fatalf("after recovery: Once = %d, %v", tried, err)
	}
	if tried, _ := d.Once(ctx); tried != 0 {
		t.Errorf("%d deliveries still due after recovery", tried)
	}
	for i, id := range ids {
		alertID := "a" + strconv.Itoa(i+1)
		if h.accepted[alertID] != 1 {
			t.Errorf("alert %s arrived %d times, want once", alertID, h.accepted[alertID])
		}
		if want := alertID + "/soc"; h.ids[alertID] != want {
			t.Errorf("alert %s carried delivery id %q, want %q", alertID, h.ids[alertID], want)
		}
		if e := ob.get(id); e.State != store.DeliveryDelivered || ob.delivered[id] != 1 {
			t.Errorf("delivery %d is %s (marked %d times), want delivered once", id, e.State, ob.delivered[id])
		}
	}
	if obs.delivered["soc"] != n || obs.failed["soc"] != 5*n || obs.dead["soc"] != 0 || obs.permanent != 0 {
		t.Errorf("observer saw delivered %v failed %v dead %v permanent %d", obs.delivered, obs.failed, obs.dead, obs.permanent)
	}
}

func TestPermanentFailureIsDeadAtOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad payload", http.StatusBadRequest)
	}))
	defer srv.Close()
	wh, err := sink.New("webhook", sink.Config{Name: "soc", URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ob, obs := newOutbox(), newCounter()
	id := ob.add("soc", "a1", t0)
	d := mustNew(t, ob, newAlerts(1), map[string]RoutedSink{"soc": {Sink: wh, MaxAttempts: 10}},
		Options{Clock: &fakeClock{now: t0}, Observer: obs})
	d.Once(context.Background())
	e := ob.get(id)
	if e.State != store.DeliveryDead || e.Attempts != 1 || !strings.Contains(e.LastError, "400 Bad Request") {
		t.Errorf("delivery after a 400 is %s after %d attempts (%q), want dead after 1", e.State, e.Attempts, e.LastError)
	}
	if obs.dead["soc"] != 1 || obs.permanent != 1 {
		t.Errorf("observer saw dead %v permanent %d, want 1 and 1", obs.dead, obs.permanent)
	}
}

func TestMaxAttempts(t *testing.T) {
	s := &fakeSink{fail: func(*sink.Payload) error { return errors.New("receiver broken") }}
	ob, clock, obs := newOutbox(), &fakeClock{now: t0}, newCounter()
	id := ob.add("s", "a1", t0)
	d := mustNew(t, ob, newAlerts(1), map[string]RoutedSink{"s": {Sink: s, MaxAttempts: 3}},
		Options{Clock: clock, Rand: func() float64 { return 0.999 }, Observer: obs})
	for range 5 {
		d.Once(context.Background())
		clock.Set(clock.Now().Add(time.Hour))
	}
	e := ob.get(id)
	if e.State != store.DeliveryDead || e.Attempts != 3 || e.LastError != "receiver broken" {
		t.Errorf("delivery is %s after %d attempts (%q), want dead after 3", e.State, e.Attempts, e.LastError)
	}
	if obs.failed["s"] != 3 || obs.dead["s"] != 1 || obs.permanent != 0 {
		t.Errorf("observer saw failed %v dead %v permanent %d", obs.failed, obs.dead, obs.permanent)
	}
}

func TestRetryAfterWins(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "300")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	wh, err := sink.New("webhook", sink.Config{Name: "soc", URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ob := newOutbox()
	id := ob.add("soc", "a1", t0)
	d := mustNew(t, ob, newAlerts(1), map[string]RoutedSink{"soc": {Sink: wh}},
		Options{Clock: &fakeClock{now: t0}, Rand: func() float64 { return 0.5 }})
	d.Once(context.Background())
	if e := ob.get(id); e.State != store.DeliveryPending || !e.NextTry.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("delivery after 429 Retry-After 300 is %s, next try %v; want pending at %v", e.State, e.NextTry, t0.Add(5*time.Minute))
	}
}

func TestMissingAlertAndSink(t *testing.T) {
	s := &fakeSink{}
	ob, obs := newOutbox(), newCounter()
	gone := ob.add("s", "a404", t0)
	unknown := ob.add("removed", "a1", t0)
	d := mustNew(t, ob, newAlerts(1), map[string]RoutedSink{"s": {Sink: s}},
		Options{Clock: &fakeClock{now: t0}, Observer: obs})
	d.Once(context.Background())
	for id, want := range map[int64]string{gone: "not found", unknown: `sink "removed" is not configured`} {
		if e := ob.get(id); e.State != store.DeliveryDead || !strings.Contains(e.LastError, want) {
			t.Errorf("delivery %d is %s (%q), want dead with %q", id, e.State, e.LastError, want)
		}
	}
	if len(s.got()) != 0 {
		t.Errorf("sink was sent %v", s.got())
	}
}

func TestStoreErrorIsRetried(t *testing.T) {
	s := &fakeSink{}
	ob, al := newOutbox(), newAlerts(1)
	id := ob.add("s", "a1", t0)
	al.err = errors.New("database is locked")
	d := mustNew(t, ob, al, map[string]RoutedSink{"s": {Sink: s}}, Options{Clock: &fakeClock{now: t0}})
	d.Once(context.Background())
	if e := ob.get(id); e.State != store.DeliveryPending || e.Attempts != 1 || !strings.Contains(e.LastError, "database is locked") {
		t.Errorf("delivery after a store error is %s after %d attempts (%q), want pending", e.State, e.Attempts, e.LastError)
	}
	ob.dueErr = errors.New("disk I/O error")
	if _, err := d.Once(context.Background()); err == nil || !strings.Contains(err.Error(), "disk I/O error") {
		t.Errorf("Once with a failing outbox = %v", err)
	}
}

func TestPayloadCarriesLinkAndDeliveryID(t *testing.T) {
	s := &fakeSink{}
	ob := newOutbox()
	ob.add("s", "a1", t0)
	d := mustNew(t, ob, newAlerts(1), map[string]RoutedSink{"s": {Sink: s}}, Options{Clock: &fakeClock{now: t0},
		Link: func(id string) string { return "https://ew.example/alerts/" + id }})
	d.Once(context.Background())
	if len(s.links) != 1 || s.links[0] != "https://ew.example/alerts/a1" || s.delivery[0] != "a1/s" {
		t.Errorf("sink got links %q and delivery ids %q, want the alert's link and a1/s", s.links, s.delivery)
	}
}

func TestRunSlowSinkDoesNotBlockOthers(t *testing.T) {
	slow := &fakeSink{gate: make(chan struct{}), started: make(chan string, 10)}
	fast := &fakeSink{}
	ob, clock := newOutbox(), &fakeClock{now: t0}
	for i := 1; i <= 3; i++ {
		ob.add("slow", "a"+strconv.Itoa(i), t0)
		ob.add("fast", "a"+strconv.Itoa(i), t0)
	}
	d := mustNew(t, ob, newAlerts(5), map[string]RoutedSink{"slow": {Sink: slow}, "fast": {Sink: fast}},
		Options{Clock: clock})
	stop := startRun(t, d)

	expect(t, slow.started, "a1")
	waitFor(t, "the fast sink to get 3 alerts", func() bool { return len(fast.got()) >= 3 })
	if got := fast.got(); !slices.Equal(got, []string{"a1", "a2", "a3"}) {
		t.Fatalf("fast sink got %v, want a1…a3", got)
	}
	if got := slow.got(); len(got) != 0 {
		t.Fatalf("slow sink finished %v while blocked", got)
	}

	// A new alert and a Kick reach the fast sink while the slow one still hangs.
	ob.add("fast", "a4", t0)
	ob.add("slow", "a4", t0)
	d.Kick()
	waitFor(t, "the fast sink to get a4", func() bool { return len(fast.got()) >= 4 })
	if got := fast.got(); !slices.Equal(got, []string{"a1", "a2", "a3", "a4"}) {
		t.Fatalf("fast sink got %v, want a1…a4, each once", got)
	}

	// Released, the slow sink gets everything, in order, each once.
	release(t, slow, "a1")
	for _, id := range []string{"a2", "a3", "a4"} {
		expect(t, slow.started, id)
		release(t, slow, id)
	}
	waitFor(t, "all marked delivered", func() bool { return ob.count(store.DeliveryDelivered) == 8 })
	if got := slow.got(); !slices.Equal(got, []string{"a1", "a2", "a3", "a4"}) {
		t.Errorf("slow sink got %v, want a1…a4 in order", got)
	}

	// Shutdown while a send hangs: Run returns, and the entry stays due
	// without a counted attempt.
	hanging := ob.add("slow", "a5", t0)
	d.Kick()
	expect(t, slow.started, "a5")
	if err := stop(); err != nil {
		t.Errorf("Run = %v, want nil after cancel", err)
	}
	if e := ob.get(hanging); e.State != store.DeliveryPending || e.Attempts != 0 {
		t.Errorf("delivery cut short by shutdown is %s after %d attempts, want pending after 0", e.State, e.Attempts)
	}
	for id, n := range ob.delivered {
		if n != 1 {
			t.Errorf("delivery %d marked delivered %d times", id, n)
		}
	}
	if got := fast.got(); len(got) != 4 {
		t.Errorf("fast sink got %v, want a1…a4, each once", got)
	}
}

// A poll whose read began before a delivery's outcome was recorded still
// sees it due; it must not send it again. The read is held open until the
// worker is done with a1, the interleaving that once sent it twice.
func TestRunStaleReadDoesNotResend(t *testing.T) {
	s := &fakeSink{gate: make(chan struct{}), started: make(chan string, 10)}
	ob := newOutbox()
	first := ob.add("s", "a1", t0)
	d := mustNew(t, ob, newAlerts(2), map[string]RoutedSink{"s": {Sink: s}}, Options{Clock: &fakeClock{now: t0}})
	startRun(t, d)
	expect(t, s.started, "a1")

	ob.add("s", "a2", t0)
	hookDone := make(chan bool, 1)
	ob.setAfterRead(func() { // on Run's goroutine, with a1 in the read as pending
		select {
		case s.gate <- struct{}{}:
		case <-time.After(hangGuard):
			hookDone <- false
			return
		}
		hookDone <- eventually(func() bool { return d.isFinished(first) })
	})
	d.Kick()
	select {
	case ok := <-hookDone:
		if !ok {
			t.Fatal("a1 did not finish while the read was held open")
		}
	case <-time.After(2 * hangGuard):
		t.Fatal("no poll read the outbox after Kick")
	}
	expect(t, s.started, "a2")
	release(t, s, "a2")
	waitFor(t, "both marked delivered", func() bool { return ob.count(store.DeliveryDelivered) == 2 })
	if got := s.got(); !slices.Equal(got, []string{"a1", "a2"}) || ob.delivered[first] != 1 {
		t.Errorf("sink got %v (a1 marked delivered %d times), want a1 and a2 once each", got, ob.delivered[first])
	}
}

// A backlog larger than Batch (and than a sink's queue) drains without a
// Kick and without the poll timer, which the fake clock never fires.
func TestRunBacklogBeyondBatch(t *testing.T) {
	s := &fakeSink{gate: make(chan struct{}), started: make(chan string, 10)}
	ob := newOutbox()
	const n = 7
	var want []string
	for i := 1; i <= n; i++ {
		ob.add("s", "a"+strconv.Itoa(i), t0)
		want = append(want, "a"+strconv.Itoa(i))
	}
	d := mustNew(t, ob, newAlerts(n), map[string]RoutedSink{"s": {Sink: s}}, Options{Clock: &fakeClock{now: t0}, Batch: 2})
	startRun(t, d)
	for _, id := range want {
		expect(t, s.started, id)
		release(t, s, id)
	}
	waitFor(t, "all marked delivered", func() bool { return ob.count(store.DeliveryDelivered) == n })
	if got := s.got(); !slices.Equal(got, want) {
		t.Errorf("sink got %v, want %v", got, want)
	}
}

// Deliveries handed to a worker but not sent when Run stopped are sent by
// the next Run.
func TestRunAgainAfterShutdown(t *testing.T) {
	s := &fakeSink{gate: make(chan struct{}), started: make(chan string, 10)}
	ob := newOutbox()
	ob.add("s", "a1", t0)
	ob.add("s", "a2", t0)
	d := mustNew(t, ob, newAlerts(2), map[string]RoutedSink{"s": {Sink: s}}, Options{Clock: &fakeClock{now: t0}})
	stop := startRun(t, d)
	expect(t, s.started, "a1")
	stop()

	s.started = make(chan string, 10) // Run has returned: no Send is running
	startRun(t, d)
	for _, id := range []string{"a1", "a2"} {
		expect(t, s.started, id)
		release(t, s, id)
	}
	waitFor(t, "both marked delivered", func() bool { return ob.count(store.DeliveryDelivered) == 2 })
}

func TestRunTwice(t *testing.T) {
	d := mustNew(t, newOutbox(), newAlerts(0), nil, Options{Clock: &fakeClock{now: t0}})
	stop := startRun(t, d)
	waitFor(t, "Run to start", d.running.Load)
	if err := d.Run(context.Background()); err == nil {
		t.Error("second Run succeeded")
	}
	if err := stop(); err != nil {
		t.Errorf("Run = %v after cancel", err)
	}
}

func TestErrText(t *testing.T) {
	long := strings.Repeat("é", 2000)
	if got := errText(errors.New(long)); len(got) > maxErrText || !strings.HasSuffix(got, "…") {
		t.Errorf("errText of %d bytes gave %d bytes", len(long), len(got))
	}
	if got := errText(errors.New("a\nb\x00c\xff")); got != "a b c\uFFFD" {
		t.Errorf("errText = %q", got)
	}
}
