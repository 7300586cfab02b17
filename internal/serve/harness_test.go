package serve

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/entrawatch/entrawatch/internal/catalog"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/store"
	"github.com/entrawatch/entrawatch/internal/store/sqlite"
)

// t0 is the fake clock's start: a few days after the fixtures' records.
var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// fakeClock is a clock the tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// window is the time window of one log listing.
type window struct{ from, to time.Time }

// fakeGraph is a GraphAPI serving records set by the test. Log listings
// apply their time window as Graph's $filter does.
type fakeGraph struct {
	mu       sync.Mutex
	signIns  []string
	audits   []string
	devices  []string
	policy   string
	ca       []string
	roles    []string
	windows  map[string][]window
	calls    map[string]int
	failures map[string]error
	// hook, when set, runs first in every call (n counts the calls of the
	// method, from 1); an error fails the call.
	hook func(ctx context.Context, method string, n int) error
}

func newFakeGraph() *fakeGraph {
	return &fakeGraph{policy: policyJSON("required"), windows: map[string][]window{}, calls: map[string]int{}, failures: map[string]error{}}
}

func (f *fakeGraph) begin(ctx context.Context, method string) error {
	f.mu.Lock()
	f.calls[method]++
	n := f.calls[method]
	err := f.failures[method]
	hook := f.hook
	f.mu.Unlock()
	if hook != nil {
		if err := hook(ctx, method, n); err != nil {
			return err
		}
	}
	return err
}

func (f *fakeGraph) set(p *[]string, recs ...string) {
	f.mu.Lock()
	*p = append([]string(nil), recs...)
	f.mu.Unlock()
}

func (f *fakeGraph) list(ctx context.Context, method string, recs *[]string, timeKey string, from, to time.Time, fn func([]byte) error) error {
	if err := f.begin(ctx, method); err != nil {
		return err
	}
	f.mu.Lock()
	if timeKey != "" {
		f.windows[method] = append(f.windows[method], window{from, to})
	}
	all := append([]string(nil), *recs...)
	f.mu.Unlock()
	for _, r := range all {
		if timeKey != "" {
			var x map[string]any
			if err := json.Unmarshal([]byte(r), &x); err != nil {
				return err
			}
			s, _ := x[timeKey].(string)
			tm, err := time.Parse(time.RFC3339Nano, s)
			if err == nil && (tm.Before(from) || !tm.Before(to)) {
				continue
			}
		}
		if err := fn([]byte(r)); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeGraph) SignIns(ctx context.Context, from, to time.Time, eventTypes []string, fn func(item []byte) error) error {
	return f.list(ctx, "SignIns", &f.signIns, "createdDateTime", from, to, fn)
}

func (f *fakeGraph) DirectoryAudits(ctx context.Context, from, to time.Time, fn func(item []byte) error) error {
	return f.list(ctx, "DirectoryAudits", &f.audits, "activityDateTime", from, to, fn)
}

func (f *fakeGraph) Devices(ctx context.Context, fn func(item []byte) error) error {
	return f.list(ctx, "Devices", &f.devices, "", time.Time{}, time.Time{}, fn)
}

func (f *fakeGraph) DeviceRegistrationPolicy(ctx context.Context) ([]byte, error) {
	if err := f.begin(ctx, "DeviceRegistrationPolicy"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return []byte(f.policy), nil
}

func (f *fakeGraph) ConditionalAccessPolicies(ctx context.Context, fn func(item []byte) error) error {
	return f.list(ctx, "ConditionalAccessPolicies", &f.ca, "", time.Time{}, time.Time{}, fn)
}

func (f *fakeGraph) RoleAssignments(ctx context.Context, fn func(item []byte) error) error {
	return f.list(ctx, "RoleAssignments", &f.roles, "", time.Time{}, time.Time{}, fn)
}

func (f *fakeGraph) windowsOf(method string) []window {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]window(nil), f.windows[method]...)
}

var _ GraphAPI = (*fakeGraph)(nil)

// env is a service over a fresh SQLite store, a fake clock and a fake
// Graph tenant named "contoso".
type env struct {
	t      *testing.T
	ctx    context.Context
	svc    *Service
	store  *sqlite.Store
	path   string
	clock  *fakeClock
	graph  *fakeGraph
	tenant *Tenant
}

// newEnv builds the service; opt, when set, changes its options first.
func newEnv(t *testing.T, opt func(*Options)) *env {
	t.Helper()
	ctx := context.Background()
	clk := &fakeClock{t: t0}
	path := filepath.Join(t.TempDir(), "entrawatch.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	g := newFakeGraph()
	ten := &Tenant{Name: "contoso", Graph: g, Start: 24 * time.Hour,
		SignIns: Stream{Enabled: true, Overlap: 10 * time.Minute}, Audits: Stream{Enabled: true, Overlap: 10 * time.Minute},
		Devices: Stream{Enabled: true}, Policies: Stream{Enabled: true}, Roles: Stream{Enabled: true}}
	opts := Options{
		Store:       st,
		NewEngine:   func(now time.Time) (*detect.Engine, error) { return detect.NewEngine(detect.Options{Now: now}) },
		Clock:       clk.Now,
		GroupWindow: time.Hour,
		Tenants:     []*Tenant{ten},
	}
	if opt != nil {
		opt(&opts)
	}
	svc, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: ctx, svc: svc, store: st, path: path, clock: clk, graph: g, tenant: ten}
}

// poll runs one poll of a stream ("signins", "audits", "devices",
// "policies", "roles") and fails the test on an error.
func (e *env) poll(stream string) {
	e.t.Helper()
	if err := e.tryPoll(stream); err != nil {
		e.t.Fatalf("poll %s: %v", stream, err)
	}
}

func (e *env) tryPoll(stream string) error {
	for _, st := range e.tenant.streams(e.svc) {
		if st.name == "graph/"+stream {
			return st.poll(e.ctx)
		}
	}
	e.t.Fatalf("no stream %s", stream)
	return nil
}

// alerts lists every stored alert, newest first.
func (e *env) alerts(rules ...string) []*store.Alert {
	e.t.Helper()
	p, err := e.store.Alerts(e.ctx, store.AlertFilter{Rule: rules, Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return p.Alerts
}

// alert reads one alert with its evidence and notes.
func (e *env) alert(id string) *store.Alert {
	e.t.Helper()
	a, err := e.store.Alert(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func rulesOf(list []*store.Alert) []string {
	var out []string
	for _, a := range list {
		out = append(out, fmt.Sprintf("%s×%d", a.Rule, a.Count))
	}
	return out
}

// signIn is a Graph sign-in from the non-compliant device of the fixtures
// (it raises noncompliant-device-signin) by upn at tm.
func signIn(id, upn string, tm time.Time) string {
	rec := map[string]any{
		"id": id, "createdDateTime": tm.UTC().Format(time.RFC3339Nano),
		"userDisplayName": "Grady Archie", "userPrincipalName": upn, "userId": "afb8c79a-c0dc-5602-9f08-1af78494b9ac",
		"appId": "d3590ed6-52b3-4102-aeff-aad2292ab01c", "appDisplayName": "Microsoft Office",
		"ipAddress": "203.0.113.45", "clientAppUsed": "Browser", "conditionalAccessStatus": "success", "isInteractive": true,
		"resourceDisplayName": "Office 365 Exchange Online", "resourceId": "00000002-0000-0ff1-ce00-000000000000",
		"status":           map[string]any{"errorCode": 0, "failureReason": nil, "additionalDetails": nil},
		"deviceDetail":     map[string]any{"deviceId": "55be6f25-1f17-59f7-b212-a7601a43b3a3", "displayName": "CONTOSO-LT-0145", "operatingSystem": "Windows10", "browser": "Edge 131.0.0", "isCompliant": false, "isManaged": true, "trustType": "Microsoft Entra joined"},
		"signInEventTypes": []string{"interactiveUser"}, "authenticationRequirement": "multiFactorAuthentication",
		"userType": "member",
	}
	b, err := json.Marshal(rec)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// policyJSON is a deviceRegistrationPolicy with the given MFA setting.
func policyJSON(setting string) string {
	return fmt.Sprintf(`{"@odata.context":"https://graph.microsoft.com/beta/$metadata#policies/deviceRegistrationPolicy/$entity","id":"deviceRegistrationPolicy","displayName":"Device Registration Policy","userDeviceQuota":50,"multiFactorAuthConfiguration":%q,"azureADJoin":{"isAdminConfigurable":true}}`, setting)
}

// caPolicy is a Conditional Access policy requiring MFA for "Register or
// join devices".
func caPolicy(name, state string) string {
	return fmt.Sprintf(`{"id":"d2a16bd1-1bb0-50fe-99a8-bb285772927c","displayName":%q,"state":%q,"conditions":{"clientAppTypes":["all"],"applications":{"includeApplications":[],"excludeApplications":[],"includeUserActions":["urn:user:registerdevice"]},"users":{"includeUsers":["All"]}},"grantControls":{"operator":"OR","builtInControls":["mfa"],"authenticationStrength":null}}`, name, state)
}

// device is a Graph device object.
func device(id, name string, enabled bool, lastSignIn time.Time) string {
	last := any(nil)
	if !lastSignIn.IsZero() {
		last = lastSignIn.UTC().Format(time.RFC3339)
	}
	b, _ := json.Marshal(map[string]any{"id": id, "deviceId": "dev-" + id, "displayName": name, "accountEnabled": enabled,
		"approximateLastSignInDateTime": last, "registrationDateTime": "2025-02-11T10:22:31Z", "operatingSystem": "Windows",
		"operatingSystemVersion": "10.0.22631.4460", "trustType": "AzureAd", "isCompliant": true, "isManaged": true, "physicalIds": []string{}})
	return string(b)
}

// metric returns the value of a counter or gauge with the given labels
// (0 when it has no such series).
func (e *env) metric(name string, labels map[string]string) float64 {
	e.t.Helper()
	mfs, err := e.svc.cfg.Registry.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// eventCount counts the events stored (read straight from the database
// file, as an operator would).
func (e *env) eventCount() int {
	e.t.Helper()
	db, err := sql.Open("sqlite", "file:"+e.path+"?mode=ro")
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(e.ctx, "SELECT count(*) FROM events").Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// cursor returns a stored cursor ("" when none).
func (e *env) cursor(name string) string {
	e.t.Helper()
	v, _, err := e.store.Cursor(e.ctx, name)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}
