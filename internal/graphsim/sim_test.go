package graphsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// listing is every sign-in and audit visible, as served.
func listing(h *harness) []byte {
	var b bytes.Buffer
	filter := window("createdDateTime", -2*time.Hour, 2*time.Hour) + " and signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')"
	for _, r := range h.all(PathSignIns, "$filter", filter) {
		b.Write(r)
	}
	for _, r := range h.all(PathDirectoryAudits) {
		b.Write(r)
	}
	return b.Bytes()
}

// TestDeterministic: the same seed gives the same records whether the
// simulation is stepped every second or jumped to the end; another seed
// gives others.
func TestDeterministic(t *testing.T) {
	opts := Options{Seed: 7, History: 10 * time.Minute, LateFraction: 0.2}
	stepped, jumped := newHarness(t, opts), newHarness(t, opts)
	end := FirstThreatAfter + 4*time.Minute
	for d := time.Duration(0); d <= end; d += time.Second {
		stepped.ten.Step(start.Add(d))
	}
	stepped.at(end)
	jumped.at(end)
	a, b := listing(stepped), listing(jumped)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("stepping every second and jumping give different records (%d and %d bytes)", len(a), len(b))
	}
	ea, eb := fmt.Sprint(stepped.ten.Events()), fmt.Sprint(jumped.ten.Events())
	if ea != eb {
		t.Errorf("events differ:\n%s\n%s", ea, eb)
	}
	opts.Seed = 8
	other := newHarness(t, opts)
	other.at(end)
	if bytes.Equal(listing(other), a) {
		t.Error("seeds 7 and 8 give the same records")
	}
}

func TestThreatCycles(t *testing.T) {
	h := newHarness(t, Options{LateFraction: 0.5})
	o := h.ten.Options()
	if o.ThreatEvery != DefaultThreatEvery || o.LateBy != DefaultLateBy || o.PageSize != DefaultPageSize {
		t.Fatalf("defaults %+v", o)
	}
	h.at(FirstThreatAfter + 2*o.ThreatEvery + time.Minute)
	perCycle := map[int]map[string]int{}
	for _, e := range h.ten.Events() {
		if perCycle[e.Cycle] == nil {
			perCycle[e.Cycle] = map[string]int{}
		}
		perCycle[e.Cycle][e.Rule]++
		if e.Cycle == 1 && (e.At.Sub(start) > time.Minute || e.VisibleAt.Sub(start) > time.Minute+o.LateBy) {
			t.Errorf("first cycle's %s at +%s, visible at +%s: later than the demo's 90 seconds allow", e.Rule, e.At.Sub(start), e.VisibleAt.Sub(start))
		}
	}
	want := map[string]int{RuleRegistrationWithoutMFA: 1, RuleRegistrationMFAOff: 1, RuleNoncompliantSignIn: 1, RuleUnknownDeviceSignIn: 1,
		RuleBitLockerKeyRead: 1, RulePrivilegedRoleAdded: 2}
	for c := 1; c <= 3; c++ {
		if fmt.Sprint(perCycle[c]) != fmt.Sprint(want) {
			t.Errorf("cycle %d threats %v, want %v", c, perCycle[c], want)
		}
	}
	if perCycle[0][RuleStaleDevice] != 2 {
		t.Errorf("standing threats %v, want 2 stale devices", perCycle[0])
	}
}

// TestMemoryBound: records older than Retention are dropped, and at most
// MaxRecords are kept, however far the clock jumps.
func TestMemoryBound(t *testing.T) {
	h := newHarness(t, Options{History: 2 * time.Hour, Retention: time.Hour})
	if s := h.ten.Stats(); s.SignIns > 721 || s.SignIns < 700 {
		t.Errorf("%d sign-ins kept of 2h history with 1h retention at 5s intervals", s.SignIns)
	}
	h.at(30 * 24 * time.Hour)
	s := h.ten.Stats()
	// An hour holds 720 intervals and 20 threat cycles (3 sign-ins and 12
	// audits each); the inventory holds the organisation's devices and at
	// most one registered in a cycle.
	if s.SignIns > 720+1+3*21 || s.Audits > 720+1+12*21 || s.Devices < len(deviceSpecs) || s.Devices > len(deviceSpecs)+1 {
		t.Errorf("after a 30-day jump: %+v", s)
	}
	all := h.all(PathDirectoryAudits)
	oldest := field(t, all[len(all)-1], "activityDateTime")
	if floor := recordTime(h.clock.Now().Add(-time.Hour)); oldest < floor {
		t.Errorf("oldest audit %s is older than the retention floor %s", oldest, floor)
	}
	if n := len(h.ten.Events()); n > 2+7*21 {
		t.Errorf("%d events kept", n)
	}

	capped := newHarness(t, Options{MaxRecords: 100})
	if s := capped.ten.Stats(); s.SignIns != 100 || s.Audits != 100 {
		t.Errorf("with MaxRecords 100: %+v", s)
	}
}

// TestRecordShapes checks the fields a Graph client and the detections
// read, on a sample of each kind of record.
func TestRecordShapes(t *testing.T) {
	h := newHarness(t, Options{History: 10 * time.Minute})
	h.at(FirstThreatAfter + time.Minute)
	tid := h.ten.Options().TenantID
	for _, r := range h.all(PathSignIns, "$filter", window("createdDateTime", -time.Hour, time.Hour)+" and signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')") {
		var s struct {
			ID, CreatedDateTime, CorrelationID, HomeTenantID, UserPrincipalName string
			Status                                                              *struct{ ErrorCode *int }
			NetworkLocationDetails                                              []any
			DeviceDetail                                                        *struct{ DeviceID *string }
		}
		if err := json.Unmarshal(r, &s); err != nil {
			t.Fatal(err)
		}
		if len(s.ID) != 36 || len(s.CreatedDateTime) != len("2026-11-20T09:00:00.1234567Z") || s.CorrelationID == "" || s.HomeTenantID != tid ||
			s.Status == nil || s.Status.ErrorCode == nil || s.NetworkLocationDetails == nil || s.DeviceDetail == nil || s.DeviceDetail.DeviceID == nil ||
			!bytes.HasSuffix([]byte(s.UserPrincipalName), []byte("@"+Domain)) {
			t.Fatalf("sign-in shape: %s", r)
		}
	}
	for _, r := range h.all(PathDirectoryAudits) {
		var a struct {
			ID, ActivityDateTime, Category, CorrelationID, Result string
			InitiatedBy                                           *struct{ User, App *struct{} }
			TargetResources                                       []struct{ ModifiedProperties []any }
		}
		if err := json.Unmarshal(r, &a); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains([]byte(a.ID), []byte(a.CorrelationID)) || len(a.ActivityDateTime) != 28 || a.Category == "" || a.Result != "success" ||
			a.InitiatedBy == nil || (a.InitiatedBy.User == nil) == (a.InitiatedBy.App == nil) || len(a.TargetResources) == 0 || a.TargetResources[0].ModifiedProperties == nil {
			t.Fatalf("audit shape: %s", r)
		}
	}
}
