package serve

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/store"
)

const (
	grady        = "grady.archie@contoso.com"
	signinsCur   = "graph:contoso:signins"
	noncompliant = "noncompliant-device-signin"
)

// TestOverlappingWindowsDeduplicate reads the same sign-in through two
// overlapping windows: one alert, one event, and the second window starts
// Overlap before the end of the first.
func TestOverlappingWindowsDeduplicate(t *testing.T) {
	e := newEnv(t, nil)
	a := signIn("s-a", grady, t0.Add(-2*time.Minute))
	e.graph.set(&e.graph.signIns, a)
	e.poll("signins")
	if got := e.cursor(signinsCur); got != t0.Format(time.RFC3339Nano) {
		t.Fatalf("cursor after the first poll = %q, want the window's end %s", got, t0.Format(time.RFC3339Nano))
	}

	e.clock.Advance(5 * time.Minute)
	b := signIn("s-b", "isaiah.langer@contoso.com", t0.Add(time.Minute))
	e.graph.set(&e.graph.signIns, a, b)
	e.poll("signins")
	e.clock.Advance(5 * time.Minute)
	e.poll("signins") // nothing new

	w := e.graph.windowsOf("SignIns")
	if len(w) != 3 {
		t.Fatalf("%d sign-in listings, want 3", len(w))
	}
	if want := t0.Add(-24 * time.Hour); !w[0].from.Equal(want) || !w[0].to.Equal(t0) {
		t.Errorf("first window %v–%v, want %v–%v (Start back from now)", w[0].from, w[0].to, want, t0)
	}
	if want := t0.Add(-10 * time.Minute); !w[1].from.Equal(want) {
		t.Errorf("second window starts %v, want %v (the first's end less the overlap)", w[1].from, want)
	}
	list := e.alerts()
	if len(list) != 2 {
		t.Fatalf("alerts %v, want one per sign-in", rulesOf(list))
	}
	for _, x := range list {
		if x.Count != 1 {
			t.Errorf("alert of %s has count %d, want 1", x.Entities.User, x.Count)
		}
		if ev := e.alert(x.ID).Evidence; len(ev) != 1 {
			t.Errorf("alert of %s has %d evidence events, want 1", x.Entities.User, len(ev))
		}
	}
	if n := e.eventCount(); n != 2 {
		t.Errorf("%d events stored, want 2", n)
	}
	if n := e.metric("entrawatch_records_ingested_total", map[string]string{"source": "graph/signins", "tenant": "contoso"}); n != 2 {
		t.Errorf("entrawatch_records_ingested_total = %v, want 2 (records read again are not counted)", n)
	}
	if n := e.metric("entrawatch_alerts_total", map[string]string{"rule": noncompliant, "severity": "high"}); n != 2 {
		t.Errorf("entrawatch_alerts_total = %v, want 2", n)
	}
}

// TestRepeatWithinListing: Graph repeats a record at a page boundary; it is
// stored and counted once.
func TestRepeatWithinListing(t *testing.T) {
	e := newEnv(t, nil)
	a := signIn("s-a", grady, t0.Add(-2*time.Minute))
	e.graph.set(&e.graph.signIns, a, a)
	e.poll("signins")
	if list := e.alerts(); len(list) != 1 || list[0].Count != 1 {
		t.Fatalf("alerts %v, want one with count 1", rulesOf(list))
	}
	if n := e.metric("entrawatch_records_ingested_total", map[string]string{"source": "graph/signins"}); n != 1 {
		t.Errorf("entrawatch_records_ingested_total = %v, want 1", n)
	}
	if st := e.svc.Sources(); len(st) != 1 || st[0].Records != 1 {
		t.Errorf("sources %+v, want graph/signins with 1 record", st)
	}
}

// failingStore fails the next n Commits.
type failingStore struct {
	store.Store
	mu   sync.Mutex
	fail int
}

var errDiskFull = errors.New("disk full")

func (f *failingStore) Commit(ctx context.Context, b *store.Batch) (*store.Result, error) {
	f.mu.Lock()
	fail := f.fail > 0
	if fail {
		f.fail--
	}
	f.mu.Unlock()
	if fail {
		return nil, errDiskFull
	}
	return f.Store.Commit(ctx, b)
}

// TestCursorAdvancesOnlyAfterStore makes a store fail once: the cursor
// stays where it was, and the next poll reads the window again and alerts
// once.
func TestCursorAdvancesOnlyAfterStore(t *testing.T) {
	var fs *failingStore
	e := newEnv(t, func(o *Options) {
		fs = &failingStore{Store: o.Store}
		o.Store = fs
	})
	e.poll("signins") // nothing yet: the cursor is t0
	e.clock.Advance(5 * time.Minute)
	e.graph.set(&e.graph.signIns, signIn("s-a", grady, t0.Add(time.Minute)))
	fs.fail = 1
	err := e.tryPoll("signins")
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("poll with a failing store: %v, want the store's error", err)
	}
	if !strings.Contains(err.Error(), "graph/signins") {
		t.Errorf("error %q does not name the source", err)
	}
	if got := e.cursor(signinsCur); got != t0.Format(time.RFC3339Nano) {
		t.Fatalf("cursor after a failed store = %q, want it unchanged (%s)", got, t0.Format(time.RFC3339Nano))
	}
	if list := e.alerts(); len(list) != 0 {
		t.Fatalf("alerts after a failed store: %v", rulesOf(list))
	}
	e.clock.Advance(5 * time.Minute)
	e.poll("signins")
	w := e.graph.windowsOf("SignIns")
	if len(w) != 3 || !w[2].from.Equal(w[1].from) {
		t.Fatalf("windows %v: the poll after the failure must start where the failed one did", w)
	}
	if got, want := e.cursor(signinsCur), t0.Add(10*time.Minute).Format(time.RFC3339Nano); got != want {
		t.Errorf("cursor = %q, want %q", got, want)
	}
	e.poll("signins")
	if list := e.alerts(); len(list) != 1 || list[0].Count != 1 {
		t.Fatalf("alerts %v, want one with count 1", rulesOf(list))
	}
}

// TestGrouping: repeats of one rule for one user within GroupWindow add to
// one alert; outside it they make a new one.
func TestGrouping(t *testing.T) {
	for _, tc := range []struct {
		name   string
		gap    time.Duration
		counts []int // newest first
	}{
		{"within the window", 10 * time.Minute, []int{2}},
		{"outside the window", 2 * time.Hour, []int{1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil) // GroupWindow: 1h
			first := t0.Add(-time.Minute)
			s1 := signIn("s-1", grady, first)
			e.graph.set(&e.graph.signIns, s1)
			e.poll("signins")
			e.clock.Advance(tc.gap + 5*time.Minute)
			// The same user, in another case: grouping ignores case.
			e.graph.set(&e.graph.signIns, s1, signIn("s-2", strings.ToUpper(grady), first.Add(tc.gap)))
			e.poll("signins")
			list := e.alerts(noncompliant)
			var counts []int
			for _, a := range list {
				counts = append(counts, a.Count)
			}
			if len(counts) != len(tc.counts) || counts[0] != tc.counts[0] {
				t.Fatalf("alert counts %v, want %v", counts, tc.counts)
			}
			if len(list) == 1 {
				a := e.alert(list[0].ID)
				if !a.FirstSeen.Equal(first) || !a.LastSeen.Equal(first.Add(tc.gap)) {
					t.Errorf("grouped alert seen %v–%v, want %v–%v", a.FirstSeen, a.LastSeen, first, first.Add(tc.gap))
				}
				if len(a.Evidence) != 2 {
					t.Errorf("grouped alert has %d evidence events, want both sign-ins", len(a.Evidence))
				}
				if n := e.metric("entrawatch_alerts_total", map[string]string{"rule": noncompliant}); n != 1 {
					t.Errorf("entrawatch_alerts_total = %v, want 1 (a repeat is not a new alert)", n)
				}
			}
		})
	}
}

// TestSuppressions checks each kind of suppression against one sign-in of
// grady in tenant contoso.
func TestSuppressions(t *testing.T) {
	for _, tc := range []struct {
		name       string
		s          Suppression
		suppressed bool
	}{
		{"rule", Suppression{Rule: noncompliant}, true},
		{"every rule", Suppression{Rule: "*"}, true},
		{"another rule", Suppression{Rule: "unknown-device-signin"}, false},
		{"rule and user in another case", Suppression{Rule: noncompliant, Entity: "GRADY.Archie@Contoso.com"}, true},
		{"rule and device id", Suppression{Rule: noncompliant, Entity: "55BE6F25-1F17-59F7-B212-A7601A43B3A3"}, true},
		{"rule and another user", Suppression{Rule: noncompliant, Entity: "isaiah.langer@contoso.com"}, false},
		{"rule and part of the user", Suppression{Rule: noncompliant, Entity: "grady"}, false},
		{"this tenant", Suppression{Rule: noncompliant, Tenant: "Contoso"}, true},
		{"another tenant", Suppression{Rule: noncompliant, Tenant: "fabrikam"}, false},
		{"until later", Suppression{Rule: noncompliant, Until: t0.Add(time.Hour)}, true},
		{"expired", Suppression{Rule: noncompliant, Until: t0.Add(-time.Second)}, false},
		{"expiring now", Suppression{Rule: noncompliant, Until: t0}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.Suppressions = []Suppression{tc.s} })
			e.graph.set(&e.graph.signIns, signIn("s-1", grady, t0.Add(-time.Minute)))
			e.poll("signins")
			n := len(e.alerts(noncompliant))
			if tc.suppressed != (n == 0) {
				t.Fatalf("%d alerts with suppression %+v, want suppressed=%v", n, tc.s, tc.suppressed)
			}
			want := 0.0
			if tc.suppressed {
				want = 1
			}
			if got := e.metric("entrawatch_alerts_suppressed_total", map[string]string{"rule": noncompliant}); got != want {
				t.Errorf("entrawatch_alerts_suppressed_total = %v, want %v", got, want)
			}
			if n := e.eventCount(); n != 1 {
				t.Errorf("%d events stored, want the sign-in kept even when its alert is suppressed", n)
			}
		})
	}
}

// TestSuppressionExpires: a suppression stops applying once its Until has
// passed on the service's clock.
func TestSuppressionExpires(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Suppressions = []Suppression{{Rule: noncompliant, Entity: grady, Until: t0.Add(30 * time.Minute), Reason: "planned test"}}
	})
	e.graph.set(&e.graph.signIns, signIn("s-1", grady, t0.Add(-time.Minute)))
	e.poll("signins")
	if n := len(e.alerts()); n != 0 {
		t.Fatalf("%d alerts while suppressed", n)
	}
	e.clock.Advance(time.Hour)
	e.graph.set(&e.graph.signIns, signIn("s-2", grady, t0.Add(50*time.Minute)))
	e.poll("signins")
	list := e.alerts()
	if len(list) != 1 || list[0].Count != 1 {
		t.Fatalf("alerts %v after the suppression expired, want one", rulesOf(list))
	}
	if ev := e.alert(list[0].ID).Evidence; len(ev) != 1 || ev[0].ID != "s-2" {
		t.Errorf("evidence %+v, want the sign-in after the expiry", ev)
	}
}

// TestSources runs the service: /api/v1/sources (Service.Sources) lists
// every stream with its last poll and last error.
func TestSources(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		for _, st := range []*Stream{&o.Tenants[0].SignIns, &o.Tenants[0].Audits, &o.Tenants[0].Devices, &o.Tenants[0].Policies, &o.Tenants[0].Roles} {
			st.Interval = time.Nanosecond
		}
	})
	e.graph.set(&e.graph.signIns, signIn("s-1", grady, t0.Add(-time.Minute)))
	e.graph.failures["DirectoryAudits"] = errors.New(`GET https://graph.microsoft.com/v1.0/auditLogs/directoryAudits: 403 Authorization_RequestDenied`)
	// Each stream's second poll waits for the end of the run: once every
	// stream is in it, its first poll is recorded.
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan string, 8)
	e.graph.hook = func(c context.Context, method string, n int) error {
		if method == "ConditionalAccessPolicies" || n < 2 {
			return nil
		}
		second <- method
		<-c.Done()
		return c.Err()
	}
	done := make(chan error, 1)
	go func() { done <- e.svc.Run(ctx) }()
	for range 5 {
		<-second
	}
	got := e.svc.Sources()
	_, body := get(t, e.svc.Handler(), "/api/v1/sources", false)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	names := map[string]SourceStatus{}
	for _, s := range got {
		names[s.Name] = s
	}
	for _, n := range []string{"graph/signins", "graph/audits", "graph/devices", "graph/policies", "graph/roles"} {
		s, ok := names[n]
		if !ok {
			t.Errorf("source %s missing from %+v", n, got)
			continue
		}
		if s.Tenant != "contoso" || !s.LastPoll.Equal(t0) || s.Polls != 1 {
			t.Errorf("%s: %+v, want tenant contoso, one poll at %v", n, s, t0)
		}
		if n == "graph/audits" {
			if s.Failures != 1 || !strings.Contains(s.LastError, "403") || !s.LastSuccess.IsZero() {
				t.Errorf("%s: %+v, want the failure recorded", n, s)
			}
		} else if s.LastError != "" || !s.LastSuccess.Equal(t0) {
			t.Errorf("%s: %+v, want a success at %v", n, s, t0)
		}
	}
	if s := names["graph/signins"]; s.Records != 1 || s.Lag != 60 {
		t.Errorf("graph/signins: %+v, want 1 record, 60s lag", s)
	}
	var api struct {
		Sources []map[string]any `json:"sources"`
	}
	decode(t, body, &api)
	if len(api.Sources) != 5 {
		t.Fatalf("/api/v1/sources: %s, want the five streams", body)
	}
	for _, s := range api.Sources {
		if s["last_poll"] != t0.Format(time.RFC3339) {
			t.Errorf("/api/v1/sources: %v, want last_poll %s", s, t0.Format(time.RFC3339))
		}
		if e, _ := s["last_error"].(string); (s["name"] == "graph/audits") != strings.Contains(e, "403 Authorization_RequestDenied") {
			t.Errorf("/api/v1/sources: %v, want last_error only for graph/audits", s)
		}
	}
	if n := e.metric("entrawatch_source_errors_total", map[string]string{"source": "graph/audits", "tenant": "contoso"}); n != 1 {
		t.Errorf("entrawatch_source_errors_total = %v, want 1", n)
	}
}

// TestNewChecksOptions covers New's refusals.
func TestNewChecksOptions(t *testing.T) {
	e := newEnv(t, nil)
	base := e.svc.cfg
	for _, tc := range []struct {
		listen, token string
		ok            bool
	}{
		{"127.0.0.1:8080", "", true},
		{"localhost:8080", "", true},
		{"[::1]:8080", "", true},
		{"0.0.0.0:8080", "", false},
		{":8080", "", false},
		{"192.0.2.10:8080", "", false},
		{"0.0.0.0:8080", "s3cret-token", true},
	} {
		o := base
		o.Registry, o.Metrics = nil, nil
		o.Listen, o.Token = tc.listen, tc.token
		_, err := New(o)
		if (err == nil) != tc.ok {
			t.Errorf("New(Listen %q, token %v): %v, want ok=%v", tc.listen, tc.token != "", err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), tc.listen) {
			t.Errorf("error %q does not name the address", err)
		}
	}
	if _, err := New(Options{NewEngine: base.NewEngine}); err == nil {
		t.Error("New without a store succeeded")
	}
}
