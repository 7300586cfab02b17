package serve

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/sentinel"
	"github.com/entrawatch/entrawatch/internal/store"
)

// noncompliantRule reads the Sentinel rule of the noncompliant-device-signin
// case (queryFrequency 1d, queryPeriod 14d).
func noncompliantRule(t *testing.T) *sentinel.Rule {
	t.Helper()
	dir := filepath.Join("..", "..", "testdata", "sentinel", "noncompliant-device-signin", "rules")
	file := filepath.Join(dir, "noncompliant-device-signin.yaml")
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rules, probs := sentinel.Parse(file, src)
	if len(probs) > 0 || len(rules) != 1 {
		t.Fatalf("loading %s: %d rules, problems %v", file, len(rules), probs)
	}
	return rules[0]
}

// ingestSignIns stores sign-ins of tenant contoso as the Graph poller
// does.
func (e *env) ingestSignIns(recs ...string) {
	e.t.Helper()
	in := &Ingest{Tenant: "contoso", Source: "graph/signins", SkipSeen: true}
	for _, r := range recs {
		in.Items = append(in.Items, Item{Data: []byte(r), Source: record.Source{File: "graph:contoso/signins", Format: "graph"}})
	}
	if _, err := e.svc.ingest(e.ctx, in); err != nil {
		e.t.Fatal(err)
	}
}

// users lists the users of alerts, sorted, with their count.
func users(list []*store.Alert) []string {
	var out []string
	for _, a := range list {
		out = append(out, a.Entities.User+"×"+strconv.Itoa(a.Count))
	}
	slices.Sort(out)
	return out
}

// TestScheduledSentinelRule runs a Sentinel rule on its schedule over the
// stored sign-ins: each result row raises one alert, with the sign-in as
// its evidence; a later run over an overlapping window raises nothing new
// but the rows it has not seen; a sign-in older than queryPeriod is not
// evaluated.
func TestScheduledSentinelRule(t *testing.T) {
	r := noncompliantRule(t)
	e := newEnv(t, func(o *Options) { o.Scheduled = []*sentinel.Rule{r} })
	id := r.AlertID()
	e.ingestSignIns(
		signIn("si-recent", "adele@contoso.com", t0.Add(-time.Hour)),
		signIn("si-day", "bianca@contoso.com", t0.Add(-24*time.Hour)),
		signIn("si-old", "carl@contoso.com", t0.Add(-15*24*time.Hour)), // outside the 14d queryPeriod
		signIn("si-later", "dora@contoso.com", t0.Add(time.Hour)),      // after the run
	)
	run := func() {
		t.Helper()
		if err := e.svc.runScheduled(e.ctx, "contoso", r); err != nil {
			t.Fatalf("run of %s: %v", id, err)
		}
	}
	steps := []struct {
		name    string
		advance time.Duration
		ingest  []string
		want    []string
	}{
		{"first run: the sign-ins of the window", 0, nil,
			[]string{"adele@contoso.com×1", "bianca@contoso.com×1"}},
		{"same window again: nothing new", 0, nil,
			[]string{"adele@contoso.com×1", "bianca@contoso.com×1"}},
		{"next day, overlapping window: only the new sign-in", 24 * time.Hour, nil,
			[]string{"adele@contoso.com×1", "bianca@contoso.com×1", "dora@contoso.com×1"}},
		{"a sign-in stored since", 24 * time.Hour, []string{signIn("si-new", "erin@contoso.com", t0.Add(47*time.Hour))},
			[]string{"adele@contoso.com×1", "bianca@contoso.com×1", "dora@contoso.com×1", "erin@contoso.com×1"}},
	}
	for _, st := range steps {
		e.clock.Advance(st.advance)
		if len(st.ingest) > 0 {
			e.ingestSignIns(st.ingest...)
		}
		run()
		if got := users(e.alerts(id)); !slices.Equal(got, st.want) {
			t.Errorf("%s: alerts of %s = %q, want %q", st.name, id, got, st.want)
		}
	}
	for _, a := range e.alerts(id) {
		full := e.alert(a.ID)
		if len(full.Evidence) != 1 || full.Evidence[0].Kind != "signin" || !strings.HasPrefix(full.Evidence[0].ID, "si-") {
			t.Errorf("alert of %s: evidence %+v, want its one sign-in", a.Entities.User, full.Evidence)
		}
		if !strings.HasPrefix(a.Source, "store:contoso/signin/si-") {
			t.Errorf("alert of %s: source %q, want the stored sign-in", a.Entities.User, a.Source)
		}
		if a.Tenant != "contoso" || a.Severity.String() != "high" {
			t.Errorf("alert of %s: tenant %q severity %s, want contoso high", a.Entities.User, a.Tenant, a.Severity)
		}
	}
	if got := e.svc.status("contoso", "sentinel/"+id).Records; got == 0 {
		t.Errorf("status of sentinel/%s counts no records read", id)
	}
}

// TestScheduledSentinelStreams checks that every Graph tenant and file
// source gets one stream per rule, every queryFrequency, named for the
// rule.
func TestScheduledSentinelStreams(t *testing.T) {
	r := noncompliantRule(t)
	e := newEnv(t, func(o *Options) {
		o.Scheduled = []*sentinel.Rule{r}
		o.Files = []FileSource{{Name: "exports"}, {Name: "contoso"}}
	})
	var got []string
	for _, st := range e.svc.scheduledStreams() {
		got = append(got, st.tenant+" "+st.name+" "+st.interval.String())
	}
	want := []string{"contoso sentinel/" + r.AlertID() + " 24h0m0s", "exports sentinel/" + r.AlertID() + " 24h0m0s"}
	if !slices.Equal(got, want) {
		t.Errorf("streams = %q, want %q", got, want)
	}
}

// TestScheduledSentinelTooManyRecords checks that a run whose window holds
// more records than the bound fails with the reason and stores nothing.
func TestScheduledSentinelTooManyRecords(t *testing.T) {
	r := noncompliantRule(t)
	e := newEnv(t, func(o *Options) {
		o.Scheduled = []*sentinel.Rule{r}
		o.MaxScheduledRecords = 1
	})
	e.ingestSignIns(signIn("si-1", "adele@contoso.com", t0.Add(-time.Hour)), signIn("si-2", "bianca@contoso.com", t0.Add(-2*time.Hour)))
	err := e.svc.runScheduled(e.ctx, "contoso", r)
	if err == nil || !strings.Contains(err.Error(), "more than 1 records") {
		t.Fatalf("run = %v, want an error naming the bound", err)
	}
	if got := e.alerts(r.AlertID()); len(got) != 0 {
		t.Errorf("alerts = %q, want none", rulesOf(got))
	}
}

// TestScheduledKey checks what a scheduled alert's identity depends on.
func TestScheduledKey(t *testing.T) {
	base := func() *alert.Alert {
		return &alert.Alert{Rule: "sentinel:r", Time: t0, Record: []byte(`{"TimeGenerated":"2026-11-24T11:00:00Z","User":"a"}`),
			Details: []alert.Detail{{Name: "query_window", Value: "run 1"}}}
	}
	ref := []store.EventRef{{Kind: "signin", ID: "si-1"}}
	k := scheduledKey(base(), ref)
	tests := []struct {
		name   string
		change func(a *alert.Alert) []store.EventRef
		same   bool
	}{
		{"another run's time and window", func(a *alert.Alert) []store.EventRef {
			a.Time, a.Details[0].Value = t0.Add(time.Hour), "run 2"
			return ref
		}, true},
		{"the same row from another record", func(a *alert.Alert) []store.EventRef { return []store.EventRef{{Kind: "signin", ID: "si-2"}} }, true},
		{"another row", func(a *alert.Alert) []store.EventRef { a.Record = []byte(`{"User":"b"}`); return ref }, false},
		{"a SingleAlert run with more rows", func(a *alert.Alert) []store.EventRef {
			a.Details = append(a.Details, alert.Detail{Name: "results", Value: "2"})
			return ref
		}, false},
	}
	for _, tt := range tests {
		a := base()
		ev := tt.change(a)
		if got := scheduledKey(a, ev) == k; got != tt.same {
			t.Errorf("%s: same key = %v, want %v", tt.name, got, tt.same)
		}
	}
	// Without a row, a run's alert is the run's.
	a, b := base(), base()
	a.Record, b.Record, b.Time = nil, nil, t0.Add(time.Hour)
	if scheduledKey(a, nil) == scheduledKey(b, nil) {
		t.Error("alerts without a row of two runs have the same key, want one per run")
	}
}
