package cli

// The latency measurement of docs/performance.md ("entrawatch serve:
// ingestion and latency"). It takes about a minute, so it runs only under
// -bench or with ENTRAWATCH_BENCH=1:
//
//	ENTRAWATCH_BENCH=1 go test -count=1 -run TestServeLatency -v ./internal/cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/graph"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/serve"
	"github.com/entrawatch/entrawatch/internal/sink"
)

// latGraph is a Graph-shaped server for the latency measurement: sign-ins
// can be appended while the service polls, the $filter createdDateTime
// window is applied as Graph applies it, pages hold 1000 records, and it
// notes when each record was first listed.
type latGraph struct {
	srv    *httptest.Server
	secret string

	mu       sync.Mutex
	recs     []latRecord
	listings []latListing
	// firstListed is, by record id, the start of the first listing that
	// returned the record.
	firstListed map[string]time.Time
}

type latRecord struct {
	id      string
	created time.Time
	data    []byte
}

// latListing is one sign-in poll as the server saw it.
type latListing struct {
	start, end time.Time // first page asked, last page served
}

const latTenant = "00000000-0000-0000-0000-0000000000bb"

var latFilter = regexp.MustCompile(`createdDateTime (ge|lt) (\d{4}-\d\d-\d\dT[0-9:.]+Z)`)

func newLatGraph(t *testing.T) *latGraph {
	g := &latGraph{secret: "latency-bench-secret", firstListed: map[string]time.Time{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(graph.OpenIDConfiguration(g.srv.URL, r.PathValue("tenant")))
	})
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if r.Form.Get("client_secret") != g.secret {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided."}`)
			return
		}
		fmt.Fprint(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"latency-access-token"}`)
	})
	mux.HandleFunc("GET /beta/auditLogs/signIns", g.signIns)
	g.srv = httptest.NewTLSServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

// add appends a sign-in, as Graph makes a new record visible.
func (g *latGraph) add(id string, created time.Time, data []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.recs = append(g.recs, latRecord{id: id, created: created, data: data})
}

// signIns lists the records of the $filter window in pages of 1000;
// $skiptoken is "listing.offset".
func (g *latGraph) signIns(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	if r.Header.Get("Authorization") != "Bearer latency-access-token" {
		http.Error(w, `{"error":{"code":"InvalidAuthenticationToken","message":"Access token is empty."}}`, http.StatusUnauthorized)
		return
	}
	q := r.URL.Query()
	var from, to time.Time
	for _, m := range latFilter.FindAllStringSubmatch(q.Get("$filter"), -1) {
		t, err := time.Parse(time.RFC3339Nano, m[2])
		if err != nil {
			http.Error(w, `{"error":{"code":"BadRequest","message":"bad time in $filter"}}`, http.StatusBadRequest)
			return
		}
		if m[1] == "ge" {
			from = t
		} else {
			to = t
		}
	}
	g.mu.Lock()
	listing, offset := len(g.listings), 0
	if tok := q.Get("$skiptoken"); tok != "" {
		l, o, _ := strings.Cut(tok, ".")
		listing, _ = strconv.Atoi(l)
		offset, _ = strconv.Atoi(o)
		if listing < 0 || listing >= len(g.listings) || offset < 0 {
			g.mu.Unlock()
			http.Error(w, `{"error":{"code":"BadRequest","message":"bad $skiptoken"}}`, http.StatusBadRequest)
			return
		}
	} else {
		g.listings = append(g.listings, latListing{start: now})
	}
	start := g.listings[listing].start
	var sel []latRecord
	for _, rec := range g.recs {
		if (from.IsZero() || !rec.created.Before(from)) && (to.IsZero() || rec.created.Before(to)) {
			sel = append(sel, rec)
		}
	}
	end := min(offset+1000, len(sel))
	page := []byte(`{"@odata.context":"https://graph.microsoft.com/beta/$metadata#auditLogs/signIns","value":[`)
	for i := offset; i < end; i++ {
		if i > offset {
			page = append(page, ',')
		}
		page = append(page, sel[i].data...)
		if _, ok := g.firstListed[sel[i].id]; !ok {
			g.firstListed[sel[i].id] = start
		}
	}
	page = append(page, ']')
	if end < len(sel) {
		u := *r.URL
		q.Set("$skiptoken", fmt.Sprintf("%d.%d", listing, end))
		u.RawQuery = q.Encode()
		page = fmt.Appendf(page, `,"@odata.nextLink":%q`, g.srv.URL+u.RequestURI())
	} else {
		g.listings[listing].end = time.Now()
	}
	g.mu.Unlock()
	page = append(page, '}')
	w.Header().Set("Content-Type", "application/json")
	w.Write(page)
}

// completeListings counts the listings whose last page was served.
func (g *latGraph) completeListings() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, l := range g.listings {
		if !l.end.IsZero() {
			n++
		}
	}
	return n
}

// latTemplates reads a compliant and a non-compliant Graph beta sign-in
// from the detection fixtures.
func latTemplates(t *testing.T) (benign, flagged map[string]any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "detections", "noncompliant-device-signin", "positive", "graph-beta-signins.json"))
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Value []map[string]any `json:"value"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	for _, v := range page.Value {
		if d, _ := v["deviceDetail"].(map[string]any); d != nil {
			if c, ok := d["isCompliant"].(bool); ok && c {
				benign = v
			} else if ok {
				flagged = v
			}
		}
	}
	if benign == nil || flagged == nil {
		t.Fatal("the fixture lacks a compliant or a non-compliant sign-in")
	}
	return benign, flagged
}

// latSignIn is a copy of tmpl with a new id, time and user.
func latSignIn(t *testing.T, tmpl map[string]any, id string, created time.Time, upn string) []byte {
	t.Helper()
	m := make(map[string]any, len(tmpl))
	for k, v := range tmpl {
		m[k] = v
	}
	m["id"], m["correlationId"] = id, id
	m["createdDateTime"] = created.UTC().Format("2006-01-02T15:04:05.0000000Z")
	m["userPrincipalName"] = upn
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func latID(n int) string { return fmt.Sprintf("1a7e0000-0000-4000-8000-%012d", n) }

// latEnabled reports whether to measure: with -bench or ENTRAWATCH_BENCH=1.
func latEnabled() bool {
	if os.Getenv("ENTRAWATCH_BENCH") == "1" {
		return true
	}
	f := flag.Lookup("test.bench")
	return f != nil && f.Value.String() != ""
}

func latEnvInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a whole number", name, v)
	}
	return n
}

// latStats is min, median, p95 (nearest rank) and max, in milliseconds
// with one decimal.
func latStats(d []time.Duration) string {
	s := slices.Clone(d)
	slices.Sort(s)
	ms := func(x time.Duration) string {
		return strconv.FormatFloat(float64(x)/float64(time.Millisecond), 'f', 1, 64)
	}
	p95 := s[(len(s)*95+99)/100-1]
	return fmt.Sprintf("%s | %s | %s | %s", ms(s[0]), ms(s[len(s)/2]), ms(p95), ms(s[len(s)-1]))
}

// TestServeLatency runs the real service against latGraph, polling
// sign-ins every second (the shortest interval the configuration accepts)
// with a webhook sink, and appends one flagged sign-in (a non-compliant
// device, createdDateTime now) at a random moment of the poll cycle, 30
// times. For each it measures record appended → outbox entry committed
// (read from the store by a read-only connection) and → webhook received,
// and splits the first into the wait for the next listing that returns
// the record and the processing from that listing's start to the commit.
//
// ENTRAWATCH_BENCH_SAMPLES (default 30), ENTRAWATCH_BENCH_BACKGROUND
// (benign sign-ins of the last hour, read again by every poll through the
// window's overlap; default 1000) and ENTRAWATCH_BENCH_AGE (how old a
// record's createdDateTime is when it appears, as in Graph, where records
// appear minutes after the sign-in; default 0) change the run.
func TestServeLatency(t *testing.T) {
	if !latEnabled() {
		t.Skip("a one-minute measurement: run with -bench or ENTRAWATCH_BENCH=1")
	}
	samples := latEnvInt(t, "ENTRAWATCH_BENCH_SAMPLES", 30)
	background := latEnvInt(t, "ENTRAWATCH_BENCH_BACKGROUND", 1000)
	age := time.Duration(0)
	if v := os.Getenv("ENTRAWATCH_BENCH_AGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > time.Hour {
			t.Fatalf("ENTRAWATCH_BENCH_AGE=%q: want a duration from 0 to 1h", v)
		}
		age = d
	}
	if samples < 1 {
		t.Fatal("ENTRAWATCH_BENCH_SAMPLES must be at least 1")
	}
	const interval = time.Second
	fg := newLatGraph(t)
	benign, flagged := latTemplates(t)
	now := time.Now()
	for i := range background {
		at := now.Add(-time.Hour + time.Duration(i)*time.Hour/time.Duration(background+1))
		fg.add(latID(i), at, latSignIn(t, benign, latID(i), at, fmt.Sprintf("user%d@contoso.com", i%500)))
	}

	var hookMu sync.Mutex
	hooked := map[string]time.Time{} // by user
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		var p sink.Payload
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&p); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		hookMu.Lock()
		if _, ok := hooked[p.Entities.User]; !ok {
			hooked[p.Entities.User] = at
		}
		hookMu.Unlock()
	}))
	defer hook.Close()

	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fg.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, "entrawatch.db")
	cfgText := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
store:
  path: %s
tenants:
  - name: bench
    tenant_id: %s
    endpoints:
      login: %s
      graph: %s
    ca_file: %s
    auth:
      method: client_secret
      client_id: 11111111-1111-1111-1111-111111111111
      client_secret: {env: ENTRAWATCH_BENCH_GRAPH_SECRET}
    signins: {interval: %s}
    audits: {enabled: false}
    devices: {enabled: false}
    policies: {enabled: false}
    roles: {enabled: false}
    start: 3h
sinks:
  - name: hook
    type: webhook
    url: %s/hook
`, dbPath, latTenant, fg.srv.URL, fg.srv.URL, caFile, interval, hook.URL)
	cfgPath := filepath.Join(dir, "entrawatch.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ENTRAWATCH_BENCH_GRAPH_SECRET", fg.secret)
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	done := make(chan error, 1)
	var logs strings.Builder
	var logMu sync.Mutex
	go func() {
		done <- runService(ctx, Streams{Out: io.Discard, Err: latLogWriter{&logMu, &logs}}, cfg, serviceHooks{ready: func(string, *serve.Service) { close(ready) }})
	}()
	fail := func(format string, args ...any) {
		t.Helper()
		logMu.Lock()
		defer logMu.Unlock()
		t.Fatalf(format+"\nservice log:\n%s", append(args, logs.String())...)
	}
	select {
	case <-ready:
	case err := <-done:
		fail("serve stopped: %v", err)
	case <-time.After(30 * time.Second):
		fail("serve did not start")
	}
	db, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	outboxed := func(id string) (time.Time, bool) {
		var created int64
		err := db.QueryRow(`SELECT o.created FROM outbox o JOIN alert_events ae ON ae.alert_id = o.alert_id
			WHERE ae.tenant = 'bench' AND ae.kind = ? AND ae.event_id = ? LIMIT 1`, record.KindSignIn.String(), id).Scan(&created)
		if err != nil {
			return time.Time{}, false
		}
		return time.Unix(0, created), true
	}
	// Steady state: the first polls read the background.
	for deadline := time.Now().Add(60 * time.Second); fg.completeListings() < 3; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			fail("fewer than 3 sign-in listings in 60 s")
		}
	}

	var toOutbox, toHook, wait, processing, delivery, commitGap []time.Duration
	for i := range samples {
		time.Sleep(rand.N(interval)) // a random moment of the poll cycle
		id := latID(1_000_000 + i)
		upn := fmt.Sprintf("latency-%d@contoso.com", i)
		at := time.Now()
		fg.add(id, at.Add(-age), latSignIn(t, flagged, id, at.Add(-age), upn))
		var inOutbox, created, inHook time.Time
		for deadline := at.Add(30 * time.Second); inOutbox.IsZero() || inHook.IsZero(); time.Sleep(2 * time.Millisecond) {
			if time.Now().After(deadline) {
				fail("sample %d: no outbox entry or webhook call 30 s after the record appeared", i)
			}
			if inOutbox.IsZero() {
				if c, ok := outboxed(id); ok {
					inOutbox, created = time.Now(), c
				}
			}
			if inHook.IsZero() {
				hookMu.Lock()
				inHook = hooked[upn]
				hookMu.Unlock()
			}
		}
		fg.mu.Lock()
		listed := fg.firstListed[id]
		fg.mu.Unlock()
		toOutbox = append(toOutbox, inOutbox.Sub(at))
		toHook = append(toHook, inHook.Sub(at))
		wait = append(wait, listed.Sub(at))
		processing = append(processing, inOutbox.Sub(listed))
		delivery = append(delivery, inHook.Sub(inOutbox))
		commitGap = append(commitGap, inOutbox.Sub(created))
	}
	cancel()
	if err := <-done; err != nil {
		fail("serve: %v", err)
	}
	var listings []time.Duration
	fg.mu.Lock()
	for _, l := range fg.listings {
		if !l.end.IsZero() {
			listings = append(listings, l.end.Sub(l.start))
		}
	}
	fg.mu.Unlock()
	t.Logf("%d samples, sign-ins polled every %s, %d background sign-ins read again by every poll, records appear %s after their createdDateTime", samples, interval, background, age)
	t.Logf("| measure | min ms | median ms | p95 ms | max ms |")
	t.Logf("|---|---:|---:|---:|---:|")
	t.Logf("| record appended → alert's outbox entry visible | %s |", latStats(toOutbox))
	t.Logf("| record appended → webhook received | %s |", latStats(toHook))
	t.Logf("| wait: record appended → start of the listing that returned it | %s |", latStats(wait))
	t.Logf("| processing: that listing's start → outbox entry visible | %s |", latStats(processing))
	t.Logf("| of which: commit's batch time → outbox entry visible | %s |", latStats(commitGap))
	t.Logf("| delivery: outbox entry visible → webhook received | %s |", latStats(delivery))
	t.Logf("| every listing: first page asked → last page served (%d listings) | %s |", len(listings), latStats(listings))
}

// latLogWriter keeps the service's log (its first MiB) for a failure
// message.
type latLogWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w latLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.b.Len() > 1<<20 {
		return len(p), nil
	}
	return w.b.Write(p)
}
