package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/store"
	"github.com/valyala/fastjson"
)

// GraphAPI is what the service reads from Microsoft Graph (internal/graph's
// Client); each lister calls fn with every item as raw JSON.
type GraphAPI interface {
	SignIns(ctx context.Context, from, to time.Time, eventTypes []string, fn func(item []byte) error) error
	DirectoryAudits(ctx context.Context, from, to time.Time, fn func(item []byte) error) error
	Devices(ctx context.Context, fn func(item []byte) error) error
	DeviceRegistrationPolicy(ctx context.Context) ([]byte, error)
	ConditionalAccessPolicies(ctx context.Context, fn func(item []byte) error) error
	RoleAssignments(ctx context.Context, fn func(item []byte) error) error
}

// Stream configures one periodic read of a tenant.
type Stream struct {
	Enabled  bool
	Interval time.Duration
	// Overlap is how far each window of a log stream reaches back before
	// the end of the previous one, for records that arrive late.
	Overlap time.Duration
}

// Tenant is a tenant watched through Graph.
type Tenant struct {
	Name  string
	Graph GraphAPI
	// SignIns, Audits, Devices, Policies and Roles say what to read and how
	// often.
	SignIns, Audits, Devices, Policies, Roles Stream
	// EventTypes are the sign-in event types read (default interactive and
	// non-interactive user sign-ins).
	EventTypes []string
	// Start is how far back the first poll of a log stream reaches.
	Start time.Duration
}

func (t *Tenant) streams(s *Service) []stream {
	var out []stream
	add := func(name string, st Stream, poll func(context.Context) error) {
		if !st.Enabled {
			return
		}
		if st.Interval <= 0 {
			st.Interval = 5 * time.Minute
		}
		out = append(out, stream{name: name, tenant: t.Name, interval: st.Interval, poll: poll})
	}
	add("graph/signins", t.SignIns, func(ctx context.Context) error {
		types := t.EventTypes
		if len(types) == 0 {
			types = []string{"interactiveUser", "nonInteractiveUser"}
		}
		return s.pollWindow(ctx, t, "graph/signins", t.SignIns.Overlap, func(ctx context.Context, from, to time.Time, fn func([]byte) error) error {
			return t.Graph.SignIns(ctx, from, to, types, fn)
		})
	})
	add("graph/audits", t.Audits, func(ctx context.Context) error {
		return s.pollWindow(ctx, t, "graph/audits", t.Audits.Overlap, t.Graph.DirectoryAudits)
	})
	add("graph/devices", t.Devices, func(ctx context.Context) error { return s.pollDevices(ctx, t) })
	add("graph/policies", t.Policies, func(ctx context.Context) error { return s.pollPolicies(ctx, t) })
	add("graph/roles", t.Roles, func(ctx context.Context) error { return s.pollRoles(ctx, t) })
	return out
}

// chunk is how many records one ingest step stores.
const chunk = 1000

// pollWindow reads a log stream in a time window that starts Overlap before
// the end of the previous window, so records that reach Graph late are still
// read; records already stored are skipped by id. The window's end is the
// cursor, stored with the window's last records.
func (s *Service) pollWindow(ctx context.Context, t *Tenant, name string, overlap time.Duration, list func(ctx context.Context, from, to time.Time, fn func([]byte) error) error) error {
	cname := "graph:" + t.Name + ":" + strings.TrimPrefix(name, "graph/")
	now := s.now()
	start := t.Start
	if start <= 0 {
		start = 24 * time.Hour
	}
	from := now.Add(-start)
	if v, ok, err := s.store.Cursor(ctx, cname); err != nil {
		return fmt.Errorf("reading cursor %s: %w", cname, err)
	} else if ok {
		end, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fmt.Errorf("cursor %s: %q is not a time: %w", cname, v, err)
		}
		from = end.Add(-overlap)
	}
	to := now
	var items []Item
	var newest time.Time
	flush := func(cursors []store.Cursor) error {
		in := &Ingest{Tenant: t.Name, Source: name, Items: items, Cursors: cursors, SkipSeen: true}
		r, err := s.ingest(ctx, in)
		if err != nil {
			return err
		}
		if r.Newest.After(newest) {
			newest = r.Newest
		}
		s.noted(t.Name, name, r, newest)
		items = nil
		return nil
	}
	err := list(ctx, from, to, func(b []byte) error {
		it := Item{Data: append([]byte(nil), b...), Source: record.Source{File: "graph:" + t.Name + "/" + strings.TrimPrefix(name, "graph/"), Format: "graph"}}
		items = append(items, it)
		if len(items) >= chunk {
			return flush(nil)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush([]store.Cursor{{Name: cname, Value: to.Format(time.RFC3339Nano)}})
}

// pollDevices reads the whole device inventory, stores it (with history)
// and runs the inventory detections (stale-device) over it with the
// current time.
func (s *Service) pollDevices(ctx context.Context, t *Tenant) error {
	now := s.now()
	var items []Item
	var devs []store.Device
	err := t.Graph.Devices(ctx, func(b []byte) error {
		items = append(items, Item{Data: append([]byte(nil), b...), Source: record.Source{File: "graph:" + t.Name + "/devices", Format: "graph"}})
		if d, ok := deviceOf(t.Name, b, now, s.cfg.StaleAfter); ok {
			devs = append(devs, d)
		}
		return nil
	})
	if err != nil {
		return err
	}
	eng, err := s.cfg.NewEngine(now)
	if err != nil {
		return err
	}
	if err := s.store.PutDevices(ctx, t.Name, devs, true); err != nil {
		return fmt.Errorf("storing %d devices: %w", len(devs), err)
	}
	r, err := s.ingest(ctx, &Ingest{Tenant: t.Name, Source: "graph/devices", Items: items, Engine: eng, Finish: true, Observed: now})
	if err != nil {
		return err
	}
	s.noted(t.Name, "graph/devices", r, time.Time{})
	return nil
}

// deviceOf reads a Graph device object.
func deviceOf(tenant string, b []byte, now time.Time, staleAfter time.Duration) (store.Device, bool) {
	v, err := fastjson.ParseBytes(b)
	if err != nil {
		return store.Device{}, false
	}
	str := func(k string) string { return string(v.GetStringBytes(k)) }
	tm := func(k string) time.Time {
		t, _ := time.Parse(time.RFC3339Nano, str(k))
		return t.UTC()
	}
	boolp := func(k string) *bool {
		x := v.Get(k)
		if x == nil || (x.Type() != fastjson.TypeTrue && x.Type() != fastjson.TypeFalse) {
			return nil
		}
		b := x.Type() == fastjson.TypeTrue
		return &b
	}
	d := store.Device{Tenant: tenant, ID: str("id"), DeviceID: str("deviceId"), DisplayName: str("displayName"),
		OS: str("operatingSystem"), OSVersion: str("operatingSystemVersion"), TrustType: str("trustType"),
		Enabled: v.GetBool("accountEnabled"), Compliant: boolp("isCompliant"), Managed: boolp("isManaged"),
		LastSignIn: tm("approximateLastSignInDateTime"), Registered: tm("registrationDateTime"), Updated: now, Raw: append([]byte(nil), b...)}
	if d.ID == "" {
		return d, false
	}
	last := d.LastSignIn
	if last.IsZero() {
		last = d.Registered
	}
	d.Stale = d.Enabled && !last.IsZero() && now.Sub(last) > staleAfter
	return d, true
}

// policyState is what a policy check remembers: whether MFA is required
// to register or join devices, and how.
type policyState struct {
	// Setting is the deviceRegistrationPolicy's multiFactorAuthConfiguration.
	Setting string `json:"setting"`
	// Covering are the enabled Conditional Access policies that require
	// MFA (or an authentication strength) for registering devices.
	Covering []string `json:"covering"`
}

func (p policyState) String() string {
	c := "none"
	if len(p.Covering) > 0 {
		c = strings.Join(p.Covering, "; ")
	}
	return fmt.Sprintf("multiFactorAuthConfiguration=%s, Conditional Access for \"Register or join devices\": %s", orDash(p.Setting), c)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (p policyState) requiresMFA() bool {
	return strings.EqualFold(p.Setting, "required") || p.Setting == "1" || len(p.Covering) > 0
}

// pollPolicies reads the deviceRegistrationPolicy and the Conditional
// Access policies and runs the policy detection over them; it compares the
// state with the previous check's, since switching the protection off
// writes no audit record.
func (s *Service) pollPolicies(ctx context.Context, t *Tenant) error {
	now := s.now()
	src := record.Source{File: "graph:" + t.Name + "/policies", Format: "graph"}
	pol, err := t.Graph.DeviceRegistrationPolicy(ctx)
	if err != nil {
		return err
	}
	items := []Item{{Data: pol, Source: src}}
	var state policyState
	state.Setting = mfaSetting(pol)
	err = t.Graph.ConditionalAccessPolicies(ctx, func(b []byte) error {
		items = append(items, Item{Data: append([]byte(nil), b...), Source: src})
		if name, ok := coversRegistration(b); ok {
			state.Covering = append(state.Covering, name)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(state.Covering)
	cname := "graph:" + t.Name + ":policy-state"
	b, _ := json.Marshal(state)
	var extra []*alert.Alert
	prev, ok, err := s.store.Cursor(ctx, cname)
	if err != nil {
		return err
	}
	if ok && prev != string(b) {
		var old policyState
		if json.Unmarshal([]byte(prev), &old) == nil && changed(old, state) {
			extra = append(extra, policyChanged(t.Name, old, state, now))
		}
	}
	eng, err := s.cfg.NewEngine(now)
	if err != nil {
		return err
	}
	r, err := s.ingest(ctx, &Ingest{Tenant: t.Name, Source: "graph/policies", Items: items, Engine: eng, Finish: true, Extra: extra,
		Cursors: []store.Cursor{{Name: cname, Value: string(b)}}})
	if err != nil {
		return err
	}
	s.noted(t.Name, "graph/policies", r, time.Time{})
	return nil
}

// changed reports a change that matters: the setting, or a covering
// Conditional Access policy that went away (disabled, removed, loosened).
func changed(old, cur policyState) bool {
	if !strings.EqualFold(old.Setting, cur.Setting) {
		return true
	}
	have := map[string]bool{}
	for _, c := range cur.Covering {
		have[c] = true
	}
	for _, c := range old.Covering {
		if !have[c] {
			return true
		}
	}
	return false
}

func policyChanged(tenant string, old, cur policyState, now time.Time) *alert.Alert {
	info := catalogInfo("device-registration-policy-changed")
	a := &alert.Alert{Rule: "device-registration-policy-changed", Title: "Device registration policy changed", Severity: alert.High, Time: now,
		Source: record.Source{File: "graph:" + tenant + "/policies", Format: "graph"}}
	if info != nil {
		a.Title, a.Severity = info.Title, info.Severity
	}
	verdict := "MFA is still required"
	if old.requiresMFA() && !cur.requiresMFA() {
		verdict = "MFA is NO LONGER required to register or join devices"
	} else if !old.requiresMFA() && cur.requiresMFA() {
		verdict = "MFA is now required"
	}
	a.Summary = fmt.Sprintf("a policy check saw the device registration protection change (no audit record is written for this): %s", verdict)
	a.Details = []alert.Detail{{Name: "old", Value: old.String()}, {Name: "new", Value: cur.String()}, {Name: "checked_at", Value: now.Format(time.RFC3339)}}
	return a
}

func mfaSetting(b []byte) string {
	v, err := fastjson.ParseBytes(b)
	if err != nil {
		return ""
	}
	for _, p := range [][]string{{"multiFactorAuthConfiguration"}, {"azureADJoin", "multiFactorAuthConfiguration"}} {
		if x := v.Get(p...); x != nil {
			return record.Text(x)
		}
	}
	return ""
}

// coversRegistration reports whether a Conditional Access policy is
// enabled, targets the user action "Register or join devices" and requires
// MFA or an authentication strength; it returns the policy's name.
func coversRegistration(b []byte) (string, bool) {
	v, err := fastjson.ParseBytes(b)
	if err != nil {
		return "", false
	}
	if !strings.EqualFold(string(v.GetStringBytes("state")), "enabled") {
		return "", false
	}
	found := false
	for _, x := range v.GetArray("conditions", "applications", "includeUserActions") {
		if strings.EqualFold(string(x.GetStringBytes()), detect.UserActionRegisterDevice) {
			found = true
		}
	}
	if !found {
		return "", false
	}
	mfa := false
	for _, x := range v.GetArray("grantControls", "builtInControls") {
		if strings.EqualFold(string(x.GetStringBytes()), "mfa") {
			mfa = true
		}
	}
	if s := v.Get("grantControls", "authenticationStrength"); s != nil && s.Type() == fastjson.TypeObject {
		mfa = true
	}
	if !mfa {
		return "", false
	}
	name := string(v.GetStringBytes("displayName"))
	if name == "" {
		name = string(v.GetStringBytes("id"))
	}
	return name, true
}

// catalogInfo returns the catalogue entry of a built-in detection, or nil.
func catalogInfo(id string) *detect.Info {
	for _, i := range detect.Catalogue() {
		if i.ID == id {
			return i
		}
	}
	return nil
}
