package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/store"
)

const apiToken = "tok-9f2c1e7a5b3d"

// routeAll is a Dispatcher that queues every alert for the sink "out" and
// delivers nothing.
type routeAll struct{ kicks atomic.Int64 }

func (d *routeAll) Run(ctx context.Context) error { <-ctx.Done(); return nil }
func (d *routeAll) Kick()                         { d.kicks.Add(1) }
func (d *routeAll) Route(*store.Alert) []string   { return []string{"out"} }

// get requests path from h with the API token (auth false: without it)
// and returns the status and body.
func get(t *testing.T, h http.Handler, path string, auth bool) (int, []byte) {
	t.Helper()
	return do(t, h, http.MethodGet, path, "", auth)
}

func do(t *testing.T, h http.Handler, method, path, body string, auth bool) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if auth {
		req.Header.Set("Authorization", "Bearer "+apiToken)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b := rec.Body.Bytes()
	if bytes.Contains(b, []byte(apiToken)) {
		t.Errorf("%s %s: the API token appears in the response", method, path)
	}
	if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s %s: no X-Content-Type-Options: nosniff", method, path)
	}
	return rec.Code, b
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("response %s: %v", b, err)
	}
}

type apiAlert struct {
	ID       string `json:"id"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Status   string `json:"status"`
	Count    int    `json:"count"`
	Summary  string `json:"summary"`
	Entities struct {
		User string `json:"user"`
	} `json:"entities"`
	Details []struct {
		Name, Value string
	} `json:"details"`
	Notes []struct {
		Author, Status, Text string
	} `json:"notes"`
	Evidence []struct {
		Kind   string          `json:"kind"`
		ID     string          `json:"id"`
		Source string          `json:"source"`
		Record json.RawMessage `json:"record"`
	} `json:"evidence"`
	Deliveries []struct {
		Sink     string `json:"sink"`
		State    string `json:"state"`
		Attempts int    `json:"attempts"`
	} `json:"deliveries"`
}

type apiList struct {
	Alerts []apiAlert `json:"alerts"`
	Next   string     `json:"next"`
}

// apiEnv is a service with a token, a dispatcher and four alerts: two
// sign-ins from a non-compliant device (grady an hour ago, isaiah 30 hours
// ago; high), a stale device (low, last seen 100 days ago) and the MFA
// policy (high, now).
func apiEnv(t *testing.T) (*env, *routeAll, http.Handler, string) {
	t.Helper()
	d := &routeAll{}
	e := newEnv(t, func(o *Options) {
		o.Token = apiToken
		o.Listen = "0.0.0.0:8443"
		o.Dispatcher = d
		o.Tenants[0].Start = 48 * time.Hour
	})
	grady := signIn("s-grady", grady, t0.Add(-time.Hour))
	e.graph.set(&e.graph.signIns, grady, signIn("s-isaiah", "isaiah.langer@contoso.com", t0.Add(-30*time.Hour)))
	e.poll("signins")
	e.graph.set(&e.graph.devices,
		device("d1", "CONTOSO-LT-0001", true, t0.Add(-100*24*time.Hour)),
		device("d2", "CONTOSO-LT-0002", true, t0.Add(-24*time.Hour)))
	e.poll("devices")
	e.graph.mu.Lock()
	e.graph.policy = policyJSON("notRequired")
	e.graph.mu.Unlock()
	e.poll("policies")
	if n := len(e.alerts()); n != 4 {
		t.Fatalf("setup made %d alerts (%v), want 4", n, rulesOf(e.alerts()))
	}
	return e, d, e.svc.Handler(), grady
}

func TestAPIAuth(t *testing.T) {
	_, _, h, _ := apiEnv(t)
	if code, body := get(t, h, "/healthz", false); code != 200 || strings.TrimSpace(string(body)) != "ok" {
		t.Errorf("/healthz: %d %s", code, body)
	}
	if code, _ := get(t, h, "/readyz", false); code != 200 {
		t.Errorf("/readyz: %d", code)
	}
	for _, path := range []string{"/api/v1/alerts", "/metrics", "/api/v1/devices", "/api/v1/sources", "/api/v1/outbox"} {
		code, body := get(t, h, path, false)
		var e struct {
			Error struct {
				Status  int    `json:"status"`
				Message string `json:"message"`
			} `json:"error"`
		}
		decode(t, body, &e)
		if code != 401 || e.Error.Status != 401 {
			t.Errorf("%s without the token: %d %s, want 401", path, code, body)
		}
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Authorization", "Bearer "+apiToken+"x")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s with a wrong token: %d, want 401 with WWW-Authenticate", path, rec.Code)
		}
		if code, body := get(t, h, path, true); code != 200 {
			t.Errorf("%s with the token: %d %s", path, code, body)
		}
	}
}

func TestAPIAlertFilters(t *testing.T) {
	_, _, h, _ := apiEnv(t)
	list := func(q string) apiList {
		t.Helper()
		code, body := get(t, h, "/api/v1/alerts?"+q, true)
		if code != 200 {
			t.Fatalf("?%s: %d %s", q, code, body)
		}
		var l apiList
		decode(t, body, &l)
		return l
	}
	rules := func(l apiList) string {
		var out []string
		for _, a := range l.Alerts {
			who := a.Entities.User
			if who == "" {
				who = "-"
			}
			out = append(out, a.Rule+"/"+who)
		}
		return strings.Join(out, " ")
	}
	// The stale device is dated at the inventory check that found it (now).
	all := "stale-device/- device-registration-mfa-not-required/- noncompliant-device-signin/grady.archie@contoso.com noncompliant-device-signin/isaiah.langer@contoso.com"
	for _, tc := range []struct{ q, want string }{
		{"", all},
		{"status=new", all},
		{"status=acknowledged,closed", ""},
		{"severity=high", "device-registration-mfa-not-required/- noncompliant-device-signin/grady.archie@contoso.com noncompliant-device-signin/isaiah.langer@contoso.com"},
		{"severity=LOW", all},
		{"rule=stale-device", "stale-device/-"},
		{"rule=stale-device&rule=device-registration-mfa-not-required", "stale-device/- device-registration-mfa-not-required/-"},
		{"rule=stale-device,noncompliant-device-signin", "stale-device/- noncompliant-device-signin/grady.archie@contoso.com noncompliant-device-signin/isaiah.langer@contoso.com"},
		{"since=24h", "stale-device/- device-registration-mfa-not-required/- noncompliant-device-signin/grady.archie@contoso.com"},
		{"since=2d", "stale-device/- device-registration-mfa-not-required/- noncompliant-device-signin/grady.archie@contoso.com noncompliant-device-signin/isaiah.langer@contoso.com"},
		{"since=" + url.QueryEscape(t0.Add(-2*time.Hour).Format(time.RFC3339)), "stale-device/- device-registration-mfa-not-required/- noncompliant-device-signin/grady.archie@contoso.com"},
		{"until=24h", "noncompliant-device-signin/isaiah.langer@contoso.com"},
		{"severity=high&since=24h&rule=noncompliant-device-signin", "noncompliant-device-signin/grady.archie@contoso.com"},
		{"tenant=contoso", all},
		{"tenant=fabrikam", ""},
	} {
		if got := rules(list(tc.q)); got != tc.want {
			t.Errorf("?%s: %s\nwant %s", tc.q, got, tc.want)
		}
	}

	// Pages of one, newest first, through next.
	whole := list("")
	var ids []string
	q := "limit=1"
	for page := 0; ; page++ {
		if page > 10 {
			t.Fatal("pagination does not end")
		}
		l := list(q)
		if len(l.Alerts) != 1 {
			t.Fatalf("page %d has %d alerts", page, len(l.Alerts))
		}
		ids = append(ids, l.Alerts[0].ID)
		if l.Next == "" {
			break
		}
		q = "limit=1&after=" + url.QueryEscape(l.Next)
	}
	if len(ids) != len(whole.Alerts) {
		t.Fatalf("pages gave %d alerts, want %d", len(ids), len(whole.Alerts))
	}
	for i, a := range whole.Alerts {
		if ids[i] != a.ID {
			t.Errorf("page %d: %s, want %s", i, ids[i], a.ID)
		}
	}
	if whole.Next != "" {
		t.Errorf("next = %q on the only page", whole.Next)
	}

	for _, tc := range []struct{ q, param string }{
		{"status=open", "status"},
		{"severity=critical", "severity"},
		{"since=yesterday", "since"},
		{"since=-1h", "since"},
		{"until=soon", "until"},
		{"limit=0", "limit"},
		{"limit=1001", "limit"},
		{"limit=ten", "limit"},
		{"after=not-a-cursor", "cursor"},
	} {
		code, body := get(t, h, "/api/v1/alerts?"+tc.q, true)
		var er struct {
			Error struct {
				Status  int    `json:"status"`
				Message string `json:"message"`
			} `json:"error"`
		}
		decode(t, body, &er)
		if code != 400 || er.Error.Status != 400 || !strings.Contains(er.Error.Message, tc.param) {
			t.Errorf("?%s: %d %s, want 400 with a message about %s", tc.q, code, body, tc.param)
		}
	}
}

func TestAPIAlertDetail(t *testing.T) {
	e, d, h, record := apiEnv(t)
	id := e.alerts(noncompliant)[0].ID // grady's, the newer
	code, body := get(t, h, "/api/v1/alerts/"+id, true)
	if code != 200 {
		t.Fatalf("GET alert: %d %s", code, body)
	}
	var a apiAlert
	decode(t, body, &a)
	if a.ID != id || a.Rule != noncompliant || a.Severity != "high" || a.Status != "new" || a.Entities.User != grady {
		t.Errorf("alert %+v", a)
	}
	if len(a.Evidence) != 1 || a.Evidence[0].ID != "s-grady" || a.Evidence[0].Kind != "signin" || a.Evidence[0].Source != "graph/signins" {
		t.Fatalf("evidence %+v, want the sign-in", a.Evidence)
	}
	var got, want any
	decode(t, a.Evidence[0].Record, &got)
	decode(t, []byte(record), &want)
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("evidence record\n%s\nwant the original\n%s", g, w)
	}
	if len(a.Deliveries) != 1 || a.Deliveries[0].Sink != "out" || a.Deliveries[0].State != "pending" || a.Deliveries[0].Attempts != 0 {
		t.Errorf("deliveries %+v, want one pending for out", a.Deliveries)
	}
	if d.kicks.Load() == 0 {
		t.Error("the dispatcher was never kicked after new alerts")
	}
	if code, body := get(t, h, "/api/v1/alerts/0123456789abcdef", true); code != 404 || !strings.Contains(string(body), "no such alert") {
		t.Errorf("unknown alert: %d %s", code, body)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAPIStatus(t *testing.T) {
	e, _, h, _ := apiEnv(t)
	id := e.alerts(noncompliant)[0].ID
	e.clock.Advance(time.Minute)
	code, body := do(t, h, "POST", "/api/v1/alerts/"+id+"/status", `{"status":"acknowledged","note":"x"}`, true)
	if code != 200 {
		t.Fatalf("POST status: %d %s", code, body)
	}
	var a apiAlert
	decode(t, body, &a)
	if a.Status != "acknowledged" || len(a.Notes) != 1 || a.Notes[0].Text != "x" || a.Notes[0].Status != "acknowledged" || a.Notes[0].Author != "api" {
		t.Errorf("after POST status: %+v", a)
	}
	_, body = get(t, h, "/api/v1/alerts/"+id, true)
	decode(t, body, &a)
	if a.Status != "acknowledged" || len(a.Notes) != 1 || a.Notes[0].Text != "x" {
		t.Errorf("GET after the change: status %s, notes %+v", a.Status, a.Notes)
	}
	_, body = get(t, h, "/api/v1/alerts?status=acknowledged", true)
	var l apiList
	decode(t, body, &l)
	if len(l.Alerts) != 1 || l.Alerts[0].ID != id {
		t.Errorf("?status=acknowledged lists %+v, want the alert", l.Alerts)
	}
	if code, body := do(t, h, "POST", "/api/v1/alerts/"+id+"/notes", `{"note":"called the user","author":"sam"}`, true); code != 200 || !strings.Contains(string(body), "called the user") {
		t.Errorf("POST note: %d %s", code, body)
	}

	for _, tc := range []struct {
		path, body string
		code       int
	}{
		{"/api/v1/alerts/0123456789abcdef/status", `{"status":"closed"}`, 404},
		{"/api/v1/alerts/" + id + "/status", `not json`, 400},
		{"/api/v1/alerts/" + id + "/status", ``, 400},
		{"/api/v1/alerts/" + id + "/status", `{"status":"resolved"}`, 400},
		{"/api/v1/alerts/" + id + "/status", `{"status":"closed","reason":"fp"}`, 400},
		{"/api/v1/alerts/" + id + "/status", `{"status":"closed"} {"status":"new"}`, 400},
		{"/api/v1/alerts/" + id + "/notes", `{"note":"  "}`, 400},
		{"/api/v1/alerts/0123456789abcdef/notes", `{"note":"x"}`, 404},
	} {
		code, body := do(t, h, "POST", tc.path, tc.body, true)
		var er struct {
			Error struct {
				Status int `json:"status"`
			} `json:"error"`
		}
		decode(t, body, &er)
		if code != tc.code || er.Error.Status != tc.code {
			t.Errorf("POST %s %s: %d %s, want %d", tc.path, tc.body, code, body, tc.code)
		}
	}
	_, body = get(t, h, "/api/v1/alerts/"+id, true)
	decode(t, body, &a)
	if a.Status != "acknowledged" || len(a.Notes) != 2 {
		t.Errorf("after the bad requests: status %s, notes %+v; want them unchanged", a.Status, a.Notes)
	}
}

func TestAPIDevicesSourcesMetrics(t *testing.T) {
	_, _, h, _ := apiEnv(t)
	var devs struct {
		Devices []struct {
			ID    string `json:"id"`
			Stale bool   `json:"stale"`
		} `json:"devices"`
		Next string `json:"next"`
	}
	code, body := get(t, h, "/api/v1/devices?stale=true", true)
	decode(t, body, &devs)
	if code != 200 || len(devs.Devices) != 1 || devs.Devices[0].ID != "d1" || !devs.Devices[0].Stale {
		t.Errorf("?stale=true: %d %s, want d1", code, body)
	}
	_, body = get(t, h, "/api/v1/devices?stale=false", true)
	decode(t, body, &devs)
	if len(devs.Devices) != 1 || devs.Devices[0].ID != "d2" {
		t.Errorf("?stale=false: %s, want d2", body)
	}
	_, body = get(t, h, "/api/v1/devices?limit=1", true)
	decode(t, body, &devs)
	if len(devs.Devices) != 1 || devs.Next == "" {
		t.Errorf("?limit=1: %s, want one device and a next cursor", body)
	}
	for _, q := range []string{"stale=maybe", "limit=0", "noncompliant=perhaps", "after=xyz"} {
		if code, body := get(t, h, "/api/v1/devices?"+q, true); code != 400 {
			t.Errorf("?%s: %d %s, want 400", q, code, body)
		}
	}
	var hist struct {
		History []struct{ Field, New string } `json:"history"`
	}
	code, body = get(t, h, "/api/v1/devices/contoso/d1/history", true)
	decode(t, body, &hist)
	if code != 200 || len(hist.History) != 1 || hist.History[0].Field != "created" || hist.History[0].New != "CONTOSO-LT-0001" {
		t.Errorf("history of d1: %d %s", code, body)
	}
	if code, body := get(t, h, "/api/v1/devices/contoso/nope/history", true); code != 404 || !strings.Contains(string(body), "no such device") {
		t.Errorf("history of an unknown device: %d %s", code, body)
	}

	var src struct {
		Sources []SourceStatus `json:"sources"`
	}
	_, body = get(t, h, "/api/v1/sources", true)
	decode(t, body, &src)
	var names []string
	for _, s := range src.Sources {
		names = append(names, s.Tenant+"/"+s.Name)
	}
	if strings.Join(names, " ") != "contoso/graph/devices contoso/graph/policies contoso/graph/signins" {
		t.Errorf("sources %s", body)
	}

	var ob struct {
		Outbox map[string]map[string]int `json:"outbox"`
	}
	_, body = get(t, h, "/api/v1/outbox", true)
	decode(t, body, &ob)
	if ob.Outbox["out"]["pending"] != 4 {
		t.Errorf("outbox %s, want 4 pending for out", body)
	}

	code, body = get(t, h, "/metrics", true)
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`entrawatch_records_ingested_total{source="graph/signins",tenant="contoso"} 2`,
		`entrawatch_alerts_total{rule="noncompliant-device-signin",severity="high"} 2`,
		`entrawatch_alerts_total{rule="stale-device",severity="low"} 1`,
		`entrawatch_alerts_total{rule="device-registration-mfa-not-required",severity="high"} 1`,
		`entrawatch_outbox_depth{sink="out",state="pending"} 4`,
		`entrawatch_ingestion_lag_seconds{source="graph/signins",tenant="contoso"} 3600`,
	} {
		if !bytes.Contains(body, []byte(want+"\n")) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestAPIAttackerText: text from a sign-in (a user name with markup,
// quotes and control characters) comes back from the API JSON-escaped,
// never as markup or raw control characters, and unchanged once decoded.
func TestAPIAttackerText(t *testing.T) {
	e := newEnv(t, nil)
	upn := "<script>alert(\"pwn\")</script>'\x1b[31m\r\n\u202e@contoso.com"
	rec := signIn("s-evil", upn, t0.Add(-time.Minute))
	e.graph.set(&e.graph.signIns, rec)
	e.poll("signins")
	h := e.svc.Handler()
	list := e.alerts()
	if len(list) != 1 {
		t.Fatalf("alerts %v", rulesOf(list))
	}
	for _, path := range []string{"/api/v1/alerts", "/api/v1/alerts/" + list[0].ID} {
		code, body := get(t, h, path, false)
		if code != 200 {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		if bytes.Contains(body, []byte("<script")) || bytes.Contains(body, []byte("</script")) {
			t.Errorf("%s: raw markup in the body: %s", path, body)
		}
		if i := bytes.IndexFunc(bytes.TrimSuffix(body, []byte("\n")), func(r rune) bool { return r < 0x20 }); i >= 0 {
			t.Errorf("%s: raw control character at byte %d of the body", path, i)
		}
	}
	_, body := get(t, h, "/api/v1/alerts/"+list[0].ID, false)
	var a apiAlert
	decode(t, body, &a)
	if a.Entities.User != upn || !strings.Contains(a.Summary, upn) {
		t.Errorf("decoded user %q, summary %q; want the original %q", a.Entities.User, a.Summary, upn)
	}
	var r struct {
		UPN string `json:"userPrincipalName"`
	}
	decode(t, a.Evidence[0].Record, &r)
	if r.UPN != upn {
		t.Errorf("evidence userPrincipalName %q, want %q", r.UPN, upn)
	}
}
