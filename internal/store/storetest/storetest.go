// Package storetest is the conformance suite every store.Store
// implementation passes: de-duplication, grouping, routing to the outbox,
// atomic commits, pagination, alert life, devices, deliveries, pruning and
// the listing of events by time.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/store"
)

// T0 is the time the suite's batches start at.
var T0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// Run runs the suite. open must return a store on an empty database the
// first time it is called for a given t, and a store on the same database
// when called again for the same t after the suite closed the previous one
// (the suite reopens to check what survives). The suite closes every store
// it opens.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		f    func(t *testing.T, open func(t *testing.T) store.Store)
	}{
		{"Dedup", testDedup},
		{"Grouping", testGrouping},
		{"Route", testRoute},
		{"Atomic", testAtomic},
		{"ConcurrentCommit", testConcurrentCommit},
		{"Pagination", testPagination},
		{"PageLimits", testPageLimits},
		{"Filters", testFilters},
		{"StatusAndNotes", testStatusAndNotes},
		{"HostileText", testHostileText},
		{"Devices", testDevices},
		{"Outbox", testOutbox},
		{"Prune", testPrune},
		{"Cursors", testCursors},
		{"Events", testEvents},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.f(t, open) })
	}
}

// openClosed opens a store and closes it at the end of the test.
func openClosed(t *testing.T, open func(t *testing.T) store.Store) store.Store {
	t.Helper()
	s := open(t)
	t.Cleanup(func() { s.Close() })
	return s
}

// newAlert makes an alert of rule with key and group at time at, with the
// given evidence.
func newAlert(rule, key, group string, at time.Time, refs ...store.EventRef) store.NewAlert {
	return store.NewAlert{
		Alert: &alert.Alert{
			Rule:     rule,
			Title:    "title of " + rule,
			Severity: alert.Medium,
			Time:     at,
			Summary:  "summary of " + key,
			Entities: alert.Entities{User: "user@example.com", DeviceID: "dev-" + group},
			Details:  []alert.Detail{{Name: "z", Value: "1"}, {Name: "a", Value: "2"}},
			Source:   record.Source{File: "signins.json", Line: 7, Format: "json"},
			Record:   []byte(`{"id":"` + key + `"}`),
		},
		Tenant:   "contoso",
		Key:      key,
		Group:    group,
		EventIDs: refs,
	}
}

func event(kind, id string, at time.Time) store.Event {
	return store.Event{Tenant: "contoso", Source: "graph/signins", Kind: kind, ID: id, Time: at, Raw: []byte(`{"id":"` + id + `"}`)}
}

func commit(t *testing.T, s store.Store, b *store.Batch) *store.Result {
	t.Helper()
	if b.Now.IsZero() {
		b.Now = T0
	}
	r, err := s.Commit(context.Background(), b)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return r
}

// allAlerts lists every alert, newest first.
func allAlerts(t *testing.T, s store.Store, f store.AlertFilter) []*store.Alert {
	t.Helper()
	var list []*store.Alert
	for {
		p, err := s.Alerts(context.Background(), f)
		if err != nil {
			t.Fatalf("Alerts: %v", err)
		}
		list = append(list, p.Alerts...)
		if p.Next == "" {
			return list
		}
		f.After = p.Next
	}
}

func ids(list []*store.Alert) []string {
	var out []string
	for _, a := range list {
		out = append(out, a.ID)
	}
	return out
}

func testDedup(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	closed := false
	t.Cleanup(func() {
		if !closed {
			s.Close()
		}
	})
	b := &store.Batch{
		Events: []store.Event{event("signIn", "e1", T0), event("signIn", "e2", T0), event("signIn", "e1", T0)},
		Alerts: []store.NewAlert{newAlert("r1", "k1", "g1", T0, store.EventRef{Kind: "signIn", ID: "e1"})},
	}
	r := commit(t, s, b)
	if len(r.Created) != 1 || r.Duplicates != 0 || r.NewEvents != 2 {
		t.Fatalf("first commit: created %d, duplicates %d, new events %d; want 1, 0, 2", len(r.Created), r.Duplicates, r.NewEvents)
	}
	id := r.Created[0].ID
	if id == "" || r.Created[0].Status != store.StatusNew || r.Created[0].Count != 1 {
		t.Fatalf("created alert: id %q status %q count %d; want an id, new, 1", id, r.Created[0].Status, r.Created[0].Count)
	}
	r = commit(t, s, b)
	if len(r.Created) != 0 || len(r.Grouped) != 0 || r.Duplicates != 1 || r.NewEvents != 0 {
		t.Fatalf("same batch again: created %d, grouped %d, duplicates %d, new events %d; want 0, 0, 1, 0", len(r.Created), len(r.Grouped), r.Duplicates, r.NewEvents)
	}
	r = commit(t, s, &store.Batch{Alerts: []store.NewAlert{newAlert("r1", "k2", "g2", T0), newAlert("r1", "k2", "g2", T0)}})
	if len(r.Created) != 1 || r.Duplicates != 1 {
		t.Fatalf("one key twice in a batch: created %d, duplicates %d; want 1, 1", len(r.Created), r.Duplicates)
	}
	seen, err := s.SeenEvents(ctx, "contoso", "signIn", []string{"e1", "e2", "e3"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]bool{"e1": true, "e2": true}; !reflect.DeepEqual(seen, want) {
		t.Errorf("SeenEvents = %v, want %v", seen, want)
	}
	if seen, _ := s.SeenEvents(ctx, "other", "signIn", []string{"e1"}); len(seen) != 0 {
		t.Errorf("SeenEvents of another tenant = %v, want none", seen)
	}

	closed = true
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = openClosed(t, open)
	r = commit(t, s, &store.Batch{Alerts: []store.NewAlert{newAlert("r1", "k1", "g1", T0.Add(time.Hour))}, Events: []store.Event{event("signIn", "e2", T0)}})
	if len(r.Created) != 0 || r.Duplicates != 1 || r.NewEvents != 0 {
		t.Fatalf("after reopening: created %d, duplicates %d, new events %d; want 0, 1, 0", len(r.Created), r.Duplicates, r.NewEvents)
	}
	if got := allAlerts(t, s, store.AlertFilter{}); len(got) != 2 {
		t.Fatalf("after reopening: %d alerts, want 2", len(got))
	}
	a, err := s.Alert(ctx, id)
	if err != nil {
		t.Fatalf("Alert(%s) after reopening: %v", id, err)
	}
	if len(a.Evidence) != 1 || a.Evidence[0].ID != "e1" || string(a.Evidence[0].Raw) != `{"id":"e1"}` {
		t.Errorf("evidence after reopening = %+v, want e1 with its raw record", a.Evidence)
	}
}

func testGrouping(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		// close the first alert before the second comes; acknowledge it.
		close, ack bool
		window     time.Duration
		group2     string
		at2        time.Time
		grouped    bool
	}{
		{name: "inside the window", window: time.Hour, group2: "g", at2: T0.Add(30 * time.Minute), grouped: true},
		{name: "at the window's edge", window: time.Hour, group2: "g", at2: T0.Add(time.Hour), grouped: true},
		{name: "earlier than the alert", window: time.Hour, group2: "g", at2: T0.Add(-10 * time.Minute), grouped: true},
		{name: "outside the window", window: time.Hour, group2: "g", at2: T0.Add(time.Hour + time.Second)},
		{name: "no window", window: 0, group2: "g", at2: T0.Add(time.Minute)},
		{name: "another group", window: time.Hour, group2: "h", at2: T0.Add(time.Minute)},
		{name: "no group", window: time.Hour, group2: "", at2: T0.Add(time.Minute)},
		{name: "onto a closed alert", close: true, window: time.Hour, group2: "g", at2: T0.Add(time.Minute)},
		{name: "onto an acknowledged alert", ack: true, window: time.Hour, group2: "g", at2: T0.Add(time.Minute), grouped: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s := openClosed(t, open)
			first := newAlert("r", "k1", "g", T0, store.EventRef{Kind: "signIn", ID: "e1"})
			if tt.name == "no group" {
				first.Group = ""
			}
			r := commit(t, s, &store.Batch{Events: []store.Event{event("signIn", "e1", T0)}, Alerts: []store.NewAlert{first}, GroupWindow: tt.window})
			id := r.Created[0].ID
			if tt.close {
				if _, err := s.SetStatus(ctx, id, store.StatusClosed, "ann", "fixed"); err != nil {
					t.Fatal(err)
				}
			}
			if tt.ack {
				if _, err := s.SetStatus(ctx, id, store.StatusAcknowledged, "ann", ""); err != nil {
					t.Fatal(err)
				}
			}
			routed := 0
			r = commit(t, s, &store.Batch{
				Events:      []store.Event{event("signIn", "e2", tt.at2)},
				Alerts:      []store.NewAlert{newAlert("r", "k2", tt.group2, tt.at2, store.EventRef{Kind: "signIn", ID: "e2"})},
				GroupWindow: tt.window,
				Route:       func(*store.Alert) []string { routed++; return []string{"webhook"} },
				Now:         T0.Add(2 * time.Hour),
			})
			all := allAlerts(t, s, store.AlertFilter{})
			if !tt.grouped {
				if len(r.Created) != 1 || len(r.Grouped) != 0 || len(all) != 2 || routed != 1 {
					t.Fatalf("created %d, grouped %d, alerts %d, routed %d; want a new alert (1, 0, 2, 1)", len(r.Created), len(r.Grouped), len(all), routed)
				}
				return
			}
			if len(r.Created) != 0 || len(r.Grouped) != 1 || len(all) != 1 || routed != 0 {
				t.Fatalf("created %d, grouped %d, alerts %d, routed %d; want a repeat (0, 1, 1, 0)", len(r.Created), len(r.Grouped), len(all), routed)
			}
			g := r.Grouped[0]
			wantFirst, wantLast := T0, T0
			if tt.at2.Before(T0) {
				wantFirst = tt.at2
			} else {
				wantLast = tt.at2
			}
			if g.ID != id || g.Count != 2 || !g.FirstSeen.Equal(wantFirst) || !g.LastSeen.Equal(wantLast) {
				t.Errorf("grouped alert: id %s count %d first %v last %v; want %s 2 %v %v", g.ID, g.Count, g.FirstSeen, g.LastSeen, id, wantFirst, wantLast)
			}
			a, err := s.Alert(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			var ev []string
			for _, e := range a.Evidence {
				ev = append(ev, e.ID)
			}
			slices.Sort(ev)
			if a.Count != 2 || !reflect.DeepEqual(ev, []string{"e1", "e2"}) {
				t.Errorf("stored alert: count %d evidence %v; want 2 [e1 e2]", a.Count, ev)
			}
			if d, err := s.Deliveries(ctx, id); err != nil || len(d) != 0 {
				t.Errorf("deliveries of a grouped alert = %v, %v; want none (the first commit routed nowhere)", d, err)
			}
			// The repeat's key is now known: committing it again is a duplicate.
			r = commit(t, s, &store.Batch{Alerts: []store.NewAlert{newAlert("r", "k2", tt.group2, tt.at2)}, GroupWindow: tt.window})
			if r.Duplicates != 1 || len(r.Grouped) != 0 {
				t.Errorf("repeat again: duplicates %d grouped %d; want 1, 0", r.Duplicates, len(r.Grouped))
			}
		})
	}

	t.Run("inside one batch", func(t *testing.T) {
		s := openClosed(t, open)
		r := commit(t, s, &store.Batch{
			Alerts:      []store.NewAlert{newAlert("r", "k1", "g", T0), newAlert("r", "k2", "g", T0.Add(time.Minute)), newAlert("r", "k3", "g", T0.Add(2*time.Minute))},
			GroupWindow: time.Hour,
		})
		if len(r.Created) != 1 || len(r.Grouped) != 0 {
			t.Fatalf("created %d grouped %d; want 1 alert created and no separate grouped entry", len(r.Created), len(r.Grouped))
		}
		if a := r.Created[0]; a.Count != 3 || !a.LastSeen.Equal(T0.Add(2*time.Minute)) {
			t.Errorf("created alert: count %d last seen %v; want 3, %v", a.Count, a.LastSeen, T0.Add(2*time.Minute))
		}
	})
}

func testRoute(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := openClosed(t, open)
	var calls []*store.Alert
	route := func(a *store.Alert) []string {
		calls = append(calls, a)
		if a.Rule == "quiet" {
			return nil
		}
		return []string{"webhook", "syslog", "webhook", ""}
	}
	commit(t, s, &store.Batch{Alerts: []store.NewAlert{newAlert("r", "k0", "g0", T0)}, Route: route})
	calls = nil
	r := commit(t, s, &store.Batch{
		Alerts: []store.NewAlert{
			newAlert("r", "k1", "g1", T0),
			newAlert("r", "k0", "g0", T0),                  // duplicate
			newAlert("r", "k2", "g0", T0.Add(time.Minute)), // grouped
			newAlert("quiet", "k3", "g3", T0),
			newAlert("r", "k4", "g4", T0),
		},
		GroupWindow: time.Hour,
		Route:       route,
		Now:         T0.Add(time.Minute),
	})
	if len(r.Created) != 3 || len(r.Grouped) != 1 || r.Duplicates != 1 {
		t.Fatalf("created %d grouped %d duplicates %d; want 3 1 1", len(r.Created), len(r.Grouped), r.Duplicates)
	}
	if len(calls) != 3 {
		t.Fatalf("Route called %d times, want once per created alert (3)", len(calls))
	}
	for i, a := range calls {
		if a.ID != r.Created[i].ID || a.Status != store.StatusNew || a.Rule == "" {
			t.Errorf("Route call %d got alert %+v, want the created alert %s", i, a, r.Created[i].ID)
		}
	}
	for _, a := range r.Created {
		d, err := s.Deliveries(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var sinks []string
		for _, x := range d {
			sinks = append(sinks, x.Sink)
			if x.State != store.DeliveryPending || x.Attempts != 0 || !x.NextTry.Equal(T0.Add(time.Minute)) || x.AlertID != a.ID {
				t.Errorf("delivery %+v: want pending, 0 attempts, next try at the commit's time, of alert %s", x, a.ID)
			}
		}
		slices.Sort(sinks)
		want := []string{"syslog", "webhook"}
		if a.Rule == "quiet" {
			want = nil
		}
		if !reflect.DeepEqual(sinks, want) {
			t.Errorf("alert %s (%s) queued for %v, want %v", a.ID, a.Rule, sinks, want)
		}
	}
	stats, err := s.OutboxStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := store.OutboxStats{"webhook": {store.DeliveryPending: 3}, "syslog": {store.DeliveryPending: 3}}
	if !reflect.DeepEqual(stats, want) {
		t.Errorf("OutboxStats = %v, want %v", stats, want)
	}
}

func testAtomic(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name  string
		batch func(cancel func()) *store.Batch
		// cancelFirst cancels the context before Commit.
		cancelFirst bool
	}{
		{name: "context cancelled inside the transaction", batch: func(cancel func()) *store.Batch {
			return &store.Batch{Route: func(*store.Alert) []string { cancel(); return []string{"webhook"} }}
		}},
		{name: "context cancelled before", cancelFirst: true, batch: func(func()) *store.Batch { return &store.Batch{} }},
		{name: "alert without a key", batch: func(func()) *store.Batch {
			return &store.Batch{Alerts: []store.NewAlert{{Alert: &alert.Alert{Rule: "r"}, Tenant: "contoso"}}}
		}},
		{name: "empty alert", batch: func(func()) *store.Batch {
			return &store.Batch{Alerts: []store.NewAlert{{Tenant: "contoso", Key: "x"}}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openClosed(t, open)
			bg := context.Background()
			commit(t, s, &store.Batch{Events: []store.Event{event("signIn", "before", T0)}, Cursors: []store.Cursor{{Name: "graph/signins", Value: "1"}}})
			ctx, cancel := context.WithCancel(bg)
			defer cancel()
			b := tt.batch(cancel)
			b.Events = append(b.Events, event("signIn", "e1", T0), event("signIn", "e2", T0))
			b.Alerts = append([]store.NewAlert{newAlert("r", "k1", "g1", T0, store.EventRef{Kind: "signIn", ID: "e1"}), newAlert("r", "k2", "g2", T0)}, b.Alerts...)
			b.Cursors = []store.Cursor{{Name: "graph/signins", Value: "2"}, {Name: "file/x", Value: "10"}}
			b.Now = T0
			if tt.cancelFirst {
				cancel()
			}
			if _, err := s.Commit(ctx, b); err == nil {
				t.Fatal("Commit succeeded, want an error")
			}
			seen, err := s.SeenEvents(bg, "contoso", "signIn", []string{"before", "e1", "e2"})
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]bool{"before": true}; !reflect.DeepEqual(seen, want) {
				t.Errorf("events after a failed commit: %v, want only %v", seen, want)
			}
			if v, ok, err := s.Cursor(bg, "graph/signins"); err != nil || v != "1" || !ok {
				t.Errorf("cursor after a failed commit = %q %v %v, want the previous value 1", v, ok, err)
			}
			if v, ok, err := s.Cursor(bg, "file/x"); err != nil || ok {
				t.Errorf("new cursor after a failed commit = %q %v %v, want none", v, ok, err)
			}
			if got := allAlerts(t, s, store.AlertFilter{}); len(got) != 0 {
				t.Errorf("alerts after a failed commit: %v, want none", ids(got))
			}
			if st, err := s.OutboxStats(bg); err != nil || len(st) != 0 {
				t.Errorf("outbox after a failed commit: %v %v, want empty", st, err)
			}
			// The store still works, and the keys were not taken.
			r := commit(t, s, &store.Batch{Alerts: []store.NewAlert{newAlert("r", "k1", "g1", T0)}, Cursors: []store.Cursor{{Name: "graph/signins", Value: "3"}}})
			if len(r.Created) != 1 {
				t.Errorf("commit after the failed one: created %d, want 1", len(r.Created))
			}
			if v, _, _ := s.Cursor(bg, "graph/signins"); v != "3" {
				t.Errorf("cursor = %q, want 3", v)
			}
		})
	}
}

func testConcurrentCommit(t *testing.T, open func(t *testing.T) store.Store) {
	s := openClosed(t, open)
	const workers, keys = 8, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	created := make(chan int, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			// Each worker commits every key, in its own order and batch size.
			for i := 0; i < keys; i += 1 + w%3 {
				b := &store.Batch{Now: T0}
				for j := i; j < min(keys, i+1+w%3); j++ {
					k := (j*7 + w) % keys
					b.Alerts = append(b.Alerts, newAlert("r", fmt.Sprintf("k%d", k), fmt.Sprintf("g%d", k), T0))
					b.Events = append(b.Events, event("signIn", fmt.Sprintf("e%d", k), T0))
				}
				r, err := s.Commit(context.Background(), b)
				if err != nil {
					errs <- err
					return
				}
				n += len(r.Created)
			}
			created <- n
		}()
	}
	wg.Wait()
	close(errs)
	close(created)
	for err := range errs {
		t.Fatalf("concurrent Commit: %v", err)
	}
	total := 0
	for n := range created {
		total += n
	}
	all := allAlerts(t, s, store.AlertFilter{})
	if total != keys || len(all) != keys {
		t.Fatalf("%d alerts created, %d stored; want each of the %d keys once", total, len(all), keys)
	}
}

func testPagination(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := openClosed(t, open)
	// 120 alerts on 40 distinct times, so that pages split ties.
	b := &store.Batch{}
	for i := range 120 {
		b.Alerts = append(b.Alerts, newAlert("r", fmt.Sprintf("k%03d", i), "", T0.Add(time.Duration(i%40)*time.Minute)))
	}
	before := ids(commit(t, s, b).Created)

	done := make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		// New alerts, older, newer and equal to the listed ones, while the
		// pages are read.
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			at := T0.Add(time.Duration(i%50-5) * time.Minute)
			if _, err := s.Commit(ctx, &store.Batch{Now: T0, Alerts: []store.NewAlert{newAlert("r", fmt.Sprintf("new%03d", i), "", at)}}); err != nil {
				done <- err
				return
			}
			if i == 200 {
				<-stop
				done <- nil
				return
			}
		}
	}()
	seen := map[string]int{}
	var prev *store.Alert
	f := store.AlertFilter{Limit: 7}
	pages := 0
	for {
		p, err := s.Alerts(ctx, f)
		if err != nil {
			t.Fatalf("Alerts page %d: %v", pages, err)
		}
		pages++
		if len(p.Alerts) > 7 {
			t.Fatalf("page of %d alerts, want at most 7", len(p.Alerts))
		}
		for _, a := range p.Alerts {
			seen[a.ID]++
			if prev != nil && (a.LastSeen.After(prev.LastSeen) || a.LastSeen.Equal(prev.LastSeen) && a.ID >= prev.ID) {
				t.Fatalf("alert %s (%v) listed after %s (%v): want newest first by (last seen, id)", a.ID, a.LastSeen, prev.ID, prev.LastSeen)
			}
			prev = a
		}
		if p.Next == "" {
			break
		}
		f.After = p.Next
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("concurrent Commit: %v", err)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("alert %s listed %d times, want once", id, n)
		}
	}
	for _, id := range before {
		if seen[id] != 1 {
			t.Errorf("alert %s stored before listing was listed %d times, want once", id, seen[id])
		}
	}
	for _, bad := range []string{"not a cursor!", "e30", "WzEsMl0"} {
		if _, err := s.Alerts(ctx, store.AlertFilter{After: bad}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Alerts(After: %q) = %v, want an invalid cursor error (store.ErrInvalid)", bad, err)
		}
	}
}

func testPageLimits(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := openClosed(t, open)
	b := &store.Batch{}
	for i := range 1001 {
		b.Alerts = append(b.Alerts, newAlert("r", fmt.Sprintf("k%d", i), "", T0.Add(time.Duration(i)*time.Second)))
	}
	commit(t, s, b)
	for _, tt := range []struct{ limit, want int }{{0, 100}, {-1, 100}, {10, 10}, {1000, 1000}, {5000, 1000}} {
		p, err := s.Alerts(ctx, store.AlertFilter{Limit: tt.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Alerts) != tt.want || p.Next == "" {
			t.Errorf("Limit %d: %d alerts (next %q), want %d and a next page", tt.limit, len(p.Alerts), p.Next, tt.want)
		}
	}
}

func testFilters(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := openClosed(t, open)
	mk := func(rule, key, tenant string, sev alert.Severity, at time.Time) store.NewAlert {
		a := newAlert(rule, key, "", at)
		a.Tenant, a.Severity = tenant, sev
		return a
	}
	r := commit(t, s, &store.Batch{Alerts: []store.NewAlert{
		mk("r1", "a", "contoso", alert.Low, T0),
		mk("r1", "b", "contoso", alert.High, T0.Add(time.Hour)),
		mk("r2", "c", "fabrikam", alert.Medium, T0.Add(2*time.Hour)),
		mk("r3", "d", "fabrikam", alert.High, T0.Add(3*time.Hour)),
	}})
	id := map[string]string{}
	for _, a := range r.Created {
		id[strings.TrimPrefix(a.Summary, "summary of ")] = a.ID
	}
	if _, err := s.SetStatus(ctx, id["b"], store.StatusAcknowledged, "ann", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetStatus(ctx, id["d"], store.StatusClosed, "ann", ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		f    store.AlertFilter
		want []string // keys, newest first
	}{
		{"none", store.AlertFilter{}, []string{"d", "c", "b", "a"}},
		{"status", store.AlertFilter{Status: []store.Status{store.StatusNew, store.StatusAcknowledged}}, []string{"c", "b", "a"}},
		{"closed", store.AlertFilter{Status: []store.Status{store.StatusClosed}}, []string{"d"}},
		{"min severity", store.AlertFilter{MinSeverity: alert.Medium}, []string{"d", "c", "b"}},
		{"rules", store.AlertFilter{Rule: []string{"r1", "r3"}}, []string{"d", "b", "a"}},
		{"tenant", store.AlertFilter{Tenant: "fabrikam"}, []string{"d", "c"}},
		{"since", store.AlertFilter{Since: T0.Add(time.Hour)}, []string{"d", "c", "b"}},
		{"until", store.AlertFilter{Until: T0.Add(time.Hour)}, []string{"a"}},
		{"combined", store.AlertFilter{Tenant: "contoso", MinSeverity: alert.High, Status: []store.Status{store.StatusAcknowledged}}, []string{"b"}},
		{"nothing", store.AlertFilter{Tenant: "nobody"}, nil},
	}
	for _, tt := range tests {
		var want []string
		for _, k := range tt.want {
			want = append(want, id[k])
		}
		if got := ids(allAlerts(t, s, tt.f)); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: alerts %v, want %v (keys %v)", tt.name, got, want, tt.want)
		}
	}
	if _, err := s.Alerts(ctx, store.AlertFilter{Status: []store.Status{"bogus"}}); err == nil {
		t.Error("Alerts with an unknown status succeeded, want an error")
	}
}

func testStatusAndNotes(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := openClosed(t, open)
	id := commit(t, s, &store.Batch{Alerts: []store.NewAlert{newAlert("r", "k", "g", T0)}}).Created[0].ID
	type note struct {
		Author string
		Status store.Status
		Text   string
	}
	steps := []struct {
		name   string
		do     func() (*store.Alert, error)
		status store.Status
		notes  []note
	}{
		{"acknowledge", func() (*store.Alert, error) {
			return s.SetStatus(ctx, id, store.StatusAcknowledged, "ann", "looking")
		}, store.StatusAcknowledged, []note{{"ann", store.StatusAcknowledged, "looking"}}},
		{"same status, no text", func() (*store.Alert, error) { return s.SetStatus(ctx, id, store.StatusAcknowledged, "bob", "") },
			store.StatusAcknowledged, []note{{"ann", store.StatusAcknowledged, "looking"}}},
		{"same status with text", func() (*store.Alert, error) {
			return s.SetStatus(ctx, id, store.StatusAcknowledged, "bob", "still looking")
		}, store.StatusAcknowledged, []note{{"ann", store.StatusAcknowledged, "looking"}, {"bob", "", "still looking"}}},
		{"comment", func() (*store.Alert, error) { return s.AddNote(ctx, id, "cy", "the user confirmed") },
			store.StatusAcknowledged, []note{{"ann", store.StatusAcknowledged, "looking"}, {"bob", "", "still looking"}, {"cy", "", "the user confirmed"}}},
		{"close", func() (*store.Alert, error) { return s.SetStatus(ctx, id, store.StatusClosed, "ann", "") },
			store.StatusClosed, []note{{"ann", store.StatusAcknowledged, "looking"}, {"bob", "", "still looking"}, {"cy", "", "the user confirmed"}, {"ann", store.StatusClosed, ""}}},
		{"reopen", func() (*store.Alert, error) { return s.SetStatus(ctx, id, store.StatusNew, "bob", "again") },
			store.StatusNew, []note{{"ann", store.StatusAcknowledged, "looking"}, {"bob", "", "still looking"}, {"cy", "", "the user confirmed"}, {"ann", store.StatusClosed, ""}, {"bob", store.StatusNew, "again"}}},
	}
	for _, st := range steps {
		a, err := st.do()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		stored, err := s.Alert(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, got := range []*store.Alert{a, stored} {
			var notes []note
			for _, n := range got.Notes {
				notes = append(notes, note{n.Author, n.Status, n.Text})
				if n.Time.IsZero() || n.Time.Location() != time.UTC {
					t.Errorf("%s: note time %v, want a UTC time", st.name, n.Time)
				}
			}
			if got.Status != st.status || !reflect.DeepEqual(notes, st.notes) {
				t.Fatalf("%s: status %s notes %+v; want %s %+v", st.name, got.Status, notes, st.status, st.notes)
			}
		}
	}
	if p, _ := s.Alerts(ctx, store.AlertFilter{Status: []store.Status{store.StatusNew}}); len(p.Alerts) != 1 || p.Alerts[0].Notes != nil {
		t.Errorf("listed alert: %+v, want the alert without notes", p.Alerts)
	}
	errTests := []struct {
		name     string
		do       func() error
		notFound bool
	}{
		{"SetStatus of an unknown alert", func() error { _, err := s.SetStatus(ctx, "nope", store.StatusClosed, "", ""); return err }, true},
		{"AddNote to an unknown alert", func() error { _, err := s.AddNote(ctx, "nope", "ann", "x"); return err }, true},
		{"Alert unknown", func() error { _, err := s.Alert(ctx, "nope"); return err }, true},
		{"Deliveries of an unknown alert", func() error { _, err := s.Deliveries(ctx, "nope"); return err }, true},
		{"unknown status", func() error { _, err := s.SetStatus(ctx, id, "resolved", "", ""); return err }, false},
		{"empty note", func() error { _, err := s.AddNote(ctx, id, "ann", ""); return err }, false},
	}
	for _, tt := range errTests {
		err := tt.do()
		if err == nil || errors.Is(err, store.ErrNotFound) != tt.notFound {
			t.Errorf("%s: error %v; want an error, errors.Is(ErrNotFound) %v", tt.name, err, tt.notFound)
		}
	}
}

func testHostileText(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := openClosed(t, open)
	big := strings.Repeat("A\"'\x00;--é", 1<<20/9+1) // 9 bytes: a little over 1 MiB
	tests := []string{
		`it's "quoted"`,
		"nul\x00inside",
		"'); DROP TABLE alerts; --",
		"?1 ?2 $1 :name @x",
		big,
	}
	for i, text := range tests {
		na := newAlert(text, fmt.Sprintf("key %d %s", i, text), "g"+text, T0, store.EventRef{Kind: text, ID: text})
		na.Tenant = text
		na.Title, na.Summary = text, text
		na.Entities = alert.Entities{User: text, DeviceID: text, DeviceName: text, IP: text, Host: text}
		na.Details = []alert.Detail{{Name: text, Value: text}, {Name: "b", Value: ""}, {Name: "a", Value: text}}
		na.Source = record.Source{File: text, Line: 3}
		na.Record = []byte(text)
		ev := store.Event{Tenant: text, Source: text, Kind: text, ID: text, Time: T0, Raw: []byte(text)}
		r := commit(t, s, &store.Batch{Events: []store.Event{ev}, Alerts: []store.NewAlert{na}, Cursors: []store.Cursor{{Name: text, Value: text}}})
		if len(r.Created) != 1 {
			t.Fatalf("text %d: created %d alerts, want 1", i, len(r.Created))
		}
		a, err := s.Alert(ctx, r.Created[0].ID)
		if err != nil {
			t.Fatalf("text %d: %v", i, err)
		}
		if a.Rule != text || a.Tenant != text || a.Title != text || a.Summary != text || a.Group != "g"+text ||
			a.Entities != na.Entities || !reflect.DeepEqual(a.Details, na.Details) || string(a.Record) != text {
			t.Errorf("text %d (%d bytes): alert not read back intact", i, len(text))
		}
		if a.Source != text+":3" {
			t.Errorf("text %d: source not read back intact", i)
		}
		if len(a.Evidence) != 1 || a.Evidence[0].ID != text || a.Evidence[0].Kind != text || a.Evidence[0].Tenant != text ||
			a.Evidence[0].Source != text || string(a.Evidence[0].Raw) != text || !a.Evidence[0].Time.Equal(T0) {
			t.Errorf("text %d: evidence not read back intact", i)
		}
		if v, ok, err := s.Cursor(ctx, text); err != nil || !ok || v != text {
			t.Errorf("text %d: cursor not read back intact (%v)", i, err)
		}
		if seen, err := s.SeenEvents(ctx, text, text, []string{text}); err != nil || !seen[text] {
			t.Errorf("text %d: SeenEvents = %v, %v; want the event", i, len(seen), err)
		}
		if _, err := s.AddNote(ctx, a.ID, text[:min(len(text), 1000)], text[:min(len(text), 1000)]); err != nil {
			t.Errorf("text %d: AddNote: %v", i, err)
		}
		no := false
		dev := store.Device{ID: text, DeviceID: text, DisplayName: text, OS: text, OSVersion: text, TrustType: text, Compliant: &no, Raw: []byte(text)}
		if err := s.PutDevices(ctx, text, []store.Device{dev}, false); err != nil {
			t.Fatalf("text %d: PutDevices: %v", i, err)
		}
		devs, _, err := s.Devices(ctx, store.DeviceFilter{Tenant: text})
		if err != nil || len(devs) != 1 {
			t.Fatalf("text %d: Devices = %d, %v", i, len(devs), err)
		}
		if d := devs[0]; d.ID != text || d.DisplayName != text || d.OS != text || d.TrustType != text || string(d.Raw) != text || d.Tenant != text {
			t.Errorf("text %d: device not read back intact", i)
		}
	}
	if got := allAlerts(t, s, store.AlertFilter{}); len(got) != len(tests) {
		t.Errorf("%d alerts stored, want %d", len(got), len(tests))
	}
}

func boolp(b bool) *bool { return &b }

func testDevices(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := openClosed(t, open)
	d1 := store.Device{ID: "d1", DeviceID: "dev1", DisplayName: "LAPTOP-1", OS: "Windows", OSVersion: "10.0.19045", TrustType: "AzureAd", Enabled: true, Compliant: boolp(true), Managed: boolp(true), LastSignIn: T0, Registered: T0.Add(-24 * time.Hour), Raw: []byte(`{"id":"d1"}`)}
	d2 := store.Device{ID: "d2", DisplayName: "PHONE", OS: "iOS", TrustType: "Workplace", Enabled: true, Stale: true}
	d3 := store.Device{ID: "d3", DisplayName: "OLD", OS: "Windows", Enabled: false, Compliant: boolp(false)}
	if err := s.PutDevices(ctx, "contoso", []store.Device{d1, d2, d3}, true); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDevices(ctx, "fabrikam", []store.Device{{ID: "f1", DisplayName: "F"}}, true); err != nil {
		t.Fatal(err)
	}
	got, next, err := s.Devices(ctx, store.DeviceFilter{Tenant: "contoso"})
	if err != nil || len(got) != 3 || next != "" {
		t.Fatalf("Devices = %d, %q, %v; want 3 devices, one page", len(got), next, err)
	}
	if g := got[0]; g.ID != "d1" || g.Tenant != "contoso" || !g.LastSignIn.Equal(T0) || !g.Registered.Equal(T0.Add(-24*time.Hour)) ||
		g.Compliant == nil || !*g.Compliant || g.Managed == nil || !g.Enabled || string(g.Raw) != `{"id":"d1"}` || g.Updated.IsZero() {
		t.Errorf("device d1 read back as %+v", g)
	}
	if got[1].Compliant != nil || got[1].Managed != nil {
		t.Errorf("device d2: compliant %v managed %v, want unknown (nil)", got[1].Compliant, got[1].Managed)
	}

	// The next full snapshot: d1 changed, d3 gone.
	d1b := d1
	d1b.DisplayName, d1b.Compliant, d1b.LastSignIn, d1b.Raw = "LAPTOP-1B", boolp(false), T0.Add(time.Hour), []byte(`{"id":"d1","v":2}`)
	if err := s.PutDevices(ctx, "contoso", []store.Device{d1b, d2}, true); err != nil {
		t.Fatal(err)
	}
	type change struct{ Field, Old, New string }
	history := func(id string) []change {
		t.Helper()
		h, err := s.DeviceHistory(ctx, "contoso", id)
		if err != nil {
			t.Fatalf("DeviceHistory(%s): %v", id, err)
		}
		var out []change
		for _, c := range h {
			out = append(out, change{c.Field, c.Old, c.New})
		}
		return out
	}
	wantD1 := []change{{"created", "", "LAPTOP-1"}, {"display_name", "LAPTOP-1", "LAPTOP-1B"}, {"is_compliant", "true", "false"},
		{"approximate_last_sign_in", "2024-05-01T12:00:00Z", "2024-05-01T13:00:00Z"}}
	if h := history("d1"); !reflect.DeepEqual(h, wantD1) {
		t.Errorf("history of d1 = %v, want %v", h, wantD1)
	}
	if h, want := history("d2"), []change{{"created", "", "PHONE"}}; !reflect.DeepEqual(h, want) {
		t.Errorf("history of unchanged d2 = %v, want %v", h, want)
	}
	if h, want := history("d3"), []change{{"created", "", "OLD"}, {"deleted", "false", "true"}}; !reflect.DeepEqual(h, want) {
		t.Errorf("history of d3 = %v, want %v", h, want)
	}
	if _, err := s.DeviceHistory(ctx, "contoso", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeviceHistory of an unknown device: %v, want ErrNotFound", err)
	}

	listIDs := func(f store.DeviceFilter) []string {
		t.Helper()
		var out []string
		for {
			list, next, err := s.Devices(ctx, f)
			if err != nil {
				t.Fatalf("Devices(%+v): %v", f, err)
			}
			for _, d := range list {
				name := d.Tenant + "/" + d.ID
				if d.Deleted {
					name += " (deleted)"
				}
				out = append(out, name)
			}
			if next == "" {
				return out
			}
			f.After = next
		}
	}
	filters := []struct {
		name string
		f    store.DeviceFilter
		want []string
	}{
		{"all", store.DeviceFilter{}, []string{"contoso/d1", "contoso/d2", "fabrikam/f1"}},
		{"pages of one", store.DeviceFilter{Limit: 1}, []string{"contoso/d1", "contoso/d2", "fabrikam/f1"}},
		{"with deleted", store.DeviceFilter{Tenant: "contoso", IncludeDeleted: true}, []string{"contoso/d1", "contoso/d2", "contoso/d3 (deleted)"}},
		{"stale", store.DeviceFilter{Stale: boolp(true)}, []string{"contoso/d2"}},
		{"not stale", store.DeviceFilter{Tenant: "contoso", Stale: boolp(false)}, []string{"contoso/d1"}},
		{"non-compliant", store.DeviceFilter{NonCompliant: true}, []string{"contoso/d1"}},
		{"non-compliant with deleted", store.DeviceFilter{NonCompliant: true, IncludeDeleted: true}, []string{"contoso/d1", "contoso/d3 (deleted)"}},
	}
	for _, tt := range filters {
		if got := listIDs(tt.f); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: devices %v, want %v", tt.name, got, tt.want)
		}
	}
	if _, _, err := s.Devices(ctx, store.DeviceFilter{After: "garbage!"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Devices with an invalid cursor = %v, want store.ErrInvalid", err)
	}

	// A delta: d3 is back, d2 removed (a removal carries only the id).
	if err := s.PutDevices(ctx, "contoso", []store.Device{d3, {ID: "d2", Deleted: true}}, false); err != nil {
		t.Fatal(err)
	}
	if h, want := history("d3"), []change{{"created", "", "OLD"}, {"deleted", "false", "true"}, {"deleted", "true", "false"}}; !reflect.DeepEqual(h, want) {
		t.Errorf("history of d3 after it came back = %v, want %v", h, want)
	}
	if h, want := history("d2"), []change{{"created", "", "PHONE"}, {"deleted", "false", "true"}}; !reflect.DeepEqual(h, want) {
		t.Errorf("history of d2 after its removal = %v, want %v", h, want)
	}
	all, _, _ := s.Devices(ctx, store.DeviceFilter{Tenant: "contoso", IncludeDeleted: true})
	if len(all) != 3 || all[1].ID != "d2" || !all[1].Deleted || all[1].DisplayName != "PHONE" || all[1].OS != "iOS" {
		t.Errorf("removed d2 = %+v, want it marked deleted with its fields kept", all[1])
	}
	if err := s.PutDevices(ctx, "contoso", []store.Device{{ID: "x", Tenant: "fabrikam"}}, false); err == nil {
		t.Error("PutDevices of another tenant's device succeeded, want an error")
	}
	if got := listIDs(store.DeviceFilter{Tenant: "fabrikam"}); !reflect.DeepEqual(got, []string{"fabrikam/f1"}) {
		t.Errorf("fabrikam devices after contoso snapshots = %v, want [fabrikam/f1]", got)
	}
}

func testOutbox(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := openClosed(t, open)
	r := commit(t, s, &store.Batch{
		Alerts: []store.NewAlert{newAlert("r", "k1", "g1", T0), newAlert("r", "k2", "g2", T0)},
		Route:  func(*store.Alert) []string { return []string{"a", "b"} },
	})
	a1 := r.Created[0].ID
	due := func(at time.Time, limit int) []string {
		t.Helper()
		list, err := s.Due(ctx, at, limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range list {
			out = append(out, fmt.Sprintf("%s/%s#%d", d.AlertID, d.Sink, d.Attempts))
		}
		return out
	}
	name := func(id, sink string, attempts int) string { return fmt.Sprintf("%s/%s#%d", id, sink, attempts) }
	a2 := r.Created[1].ID
	if got := due(T0.Add(-time.Second), 10); got != nil {
		t.Errorf("due before the commit: %v, want none", got)
	}
	if got, want := due(T0, 10), []string{name(a1, "a", 0), name(a1, "b", 0), name(a2, "a", 0), name(a2, "b", 0)}; !reflect.DeepEqual(got, want) {
		t.Errorf("due = %v, want %v", got, want)
	}
	if got := due(T0, 3); len(got) != 3 {
		t.Errorf("due with limit 3: %d, want 3", len(got))
	}
	list, _ := s.Deliveries(ctx, a1)
	da, db := list[0], list[1]
	steps := []struct {
		name string
		do   func() error
		at   time.Time
		want []string
	}{
		{"a fails, retry in a minute", func() error { return s.Failed(ctx, da.ID, "HTTP 503", T0.Add(time.Minute), false) },
			T0, []string{name(a1, "b", 0), name(a2, "a", 0), name(a2, "b", 0)}},
		{"retry due", func() error { return nil },
			T0.Add(time.Minute), []string{name(a1, "b", 0), name(a2, "a", 0), name(a2, "b", 0), name(a1, "a", 1)}},
		{"a fails again", func() error { return s.Failed(ctx, da.ID, "HTTP 503 again", T0.Add(2*time.Minute), false) },
			T0.Add(2 * time.Minute), []string{name(a1, "b", 0), name(a2, "a", 0), name(a2, "b", 0), name(a1, "a", 2)}},
		{"a is dead", func() error { return s.Failed(ctx, da.ID, "HTTP 400", time.Time{}, true) },
			T0.Add(time.Hour), []string{name(a1, "b", 0), name(a2, "a", 0), name(a2, "b", 0)}},
		{"b delivered", func() error { return s.Delivered(ctx, db.ID) },
			T0.Add(time.Hour), []string{name(a2, "a", 0), name(a2, "b", 0)}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := due(st.at, 100); !reflect.DeepEqual(got, st.want) {
			t.Errorf("%s: due at %v = %v, want %v", st.name, st.at, got, st.want)
		}
	}
	list, err := s.Deliveries(ctx, a1)
	if err != nil || len(list) != 2 {
		t.Fatalf("Deliveries = %v, %v", list, err)
	}
	if d := list[0]; d.State != store.DeliveryDead || d.Attempts != 3 || d.LastError != "HTTP 400" || d.Sink != "a" {
		t.Errorf("dead delivery = %+v, want dead after 3 attempts with the last error", d)
	}
	if d := list[1]; d.State != store.DeliveryDelivered || d.Attempts != 0 || d.Sink != "b" {
		t.Errorf("delivered = %+v", d)
	}
	stats, err := s.OutboxStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := store.OutboxStats{"a": {store.DeliveryDead: 1, store.DeliveryPending: 1}, "b": {store.DeliveryDelivered: 1, store.DeliveryPending: 1}}
	if !reflect.DeepEqual(stats, want) {
		t.Errorf("OutboxStats = %v, want %v", stats, want)
	}
	if err := s.Delivered(ctx, 1<<40); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Delivered of an unknown delivery: %v, want ErrNotFound", err)
	}
	if err := s.Failed(ctx, 1<<40, "x", T0, false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Failed of an unknown delivery: %v, want ErrNotFound", err)
	}
}

func testPrune(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := openClosed(t, open)
	later := T0.Add(2 * time.Hour)
	r := commit(t, s, &store.Batch{
		Events: []store.Event{event("signIn", "old", T0), event("signIn", "evidence", T0)},
		Alerts: []store.NewAlert{newAlert("r", "k1", "g1", T0, store.EventRef{Kind: "signIn", ID: "evidence"}), newAlert("r", "k2", "g2", T0)},
		Route:  func(*store.Alert) []string { return []string{"a"} },
		Now:    T0,
	})
	commit(t, s, &store.Batch{Events: []store.Event{event("signIn", "new", later)}, Now: later})
	d, _ := s.Deliveries(ctx, r.Created[0].ID)
	if err := s.Delivered(ctx, d[0].ID); err != nil {
		t.Fatal(err)
	}
	seen := func() []string {
		m, err := s.SeenEvents(ctx, "contoso", "signIn", []string{"old", "evidence", "new"})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, id := range []string{"old", "evidence", "new"} {
			if m[id] {
				out = append(out, id)
			}
		}
		return out
	}
	steps := []struct {
		before time.Time
		n      int64
		events []string
		stats  store.OutboxStats
	}{
		{T0, 0, []string{"old", "evidence", "new"}, store.OutboxStats{"a": {store.DeliveryDelivered: 1, store.DeliveryPending: 1}}},
		{T0.Add(time.Hour), 1, []string{"evidence", "new"}, store.OutboxStats{"a": {store.DeliveryDelivered: 1, store.DeliveryPending: 1}}},
		// Deliveries are done at the store's own clock (now).
		{time.Now().Add(48 * time.Hour), 2, []string{"evidence"}, store.OutboxStats{"a": {store.DeliveryPending: 1}}},
	}
	for _, st := range steps {
		n, err := s.Prune(ctx, st.before)
		if err != nil {
			t.Fatal(err)
		}
		stats, _ := s.OutboxStats(ctx)
		if got := seen(); n != st.n || !reflect.DeepEqual(got, st.events) || !reflect.DeepEqual(stats, st.stats) {
			t.Errorf("Prune(%v) = %d, events %v, outbox %v; want %d, %v, %v", st.before, n, got, stats, st.n, st.events, st.stats)
		}
	}
	a, err := s.Alert(ctx, r.Created[0].ID)
	if err != nil || len(a.Evidence) != 1 || string(a.Evidence[0].Raw) != `{"id":"evidence"}` {
		t.Errorf("evidence after pruning = %+v, %v; want the event with its record", a.Evidence, err)
	}
}

func testCursors(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := openClosed(t, open)
	if v, ok, err := s.Cursor(ctx, "graph/signins"); v != "" || ok || err != nil {
		t.Fatalf("unknown cursor = %q %v %v, want \"\" false nil", v, ok, err)
	}
	for _, v := range []string{"2024-05-01T12:00:00Z", "https://graph.microsoft.com/v1.0/devices/delta?$deltatoken=x", ""} {
		commit(t, s, &store.Batch{Cursors: []store.Cursor{{Name: "graph/signins", Value: v}}})
		if got, ok, err := s.Cursor(ctx, "graph/signins"); got != v || !ok || err != nil {
			t.Errorf("cursor = %q %v %v, want %q true nil", got, ok, err, v)
		}
	}
	if _, err := s.Commit(ctx, &store.Batch{Cursors: []store.Cursor{{Name: "", Value: "x"}}}); err == nil {
		t.Error("a cursor without a name was stored, want an error")
	}
}

func testEvents(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := openClosed(t, open)
	other := event("signin", "other-tenant", T0.Add(time.Minute))
	other.Tenant = "fabrikam"
	untimed := event("signin", "untimed", time.Time{})
	commit(t, s, &store.Batch{Events: []store.Event{
		event("signin", "c", T0.Add(2*time.Minute)),
		event("signin", "a", T0),
		event("audit", "b", T0),
		event("signin", "early", T0.Add(-time.Second)),
		event("signin", "end", T0.Add(3*time.Minute)),
		other, untimed,
	}})
	list := func(tenant string, since, until time.Time) []string {
		t.Helper()
		var got []string
		err := s.Events(ctx, tenant, since, until, func(e store.Event) error {
			if e.Tenant != tenant || e.Source != "graph/signins" || string(e.Raw) != `{"id":"`+e.ID+`"}` {
				t.Errorf("event %s = %+v (raw %s), want tenant %s, its source and raw", e.ID, e, e.Raw, tenant)
			}
			got = append(got, fmt.Sprintf("%s/%s@%s", e.Kind, e.ID, e.Time.Format("15:04:05")))
			return nil
		})
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		return got
	}
	tests := []struct {
		name         string
		tenant       string
		since, until time.Time
		want         []string
	}{
		{"window, in time order, until excluded", "contoso", T0, T0.Add(3 * time.Minute),
			[]string{"audit/b@12:00:00", "signin/a@12:00:00", "signin/c@12:02:00"}},
		{"since included", "contoso", T0.Add(-time.Second), T0.Add(time.Second),
			[]string{"signin/early@11:59:59", "audit/b@12:00:00", "signin/a@12:00:00"}},
		{"other tenant", "fabrikam", T0, T0.Add(time.Hour), []string{"signin/other-tenant@12:01:00"}},
		{"empty window", "contoso", T0.Add(time.Hour), T0.Add(2 * time.Hour), nil},
		{"until before since", "contoso", T0.Add(time.Hour), T0, nil},
		{"unknown tenant", "nobody", T0.Add(-time.Hour), T0.Add(time.Hour), nil},
	}
	for _, tt := range tests {
		if got := list(tt.tenant, tt.since, tt.until); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Events(%s, %s, %s) = %q, want %q", tt.name, tt.tenant, tt.since.Format(time.RFC3339), tt.until.Format(time.RFC3339), got, tt.want)
		}
	}
	stop := errors.New("stop")
	n := 0
	err := s.Events(ctx, "contoso", T0.Add(-time.Hour), T0.Add(time.Hour), func(store.Event) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Events with fn failing = %v after %d events, want the error after 1", err, n)
	}
}
