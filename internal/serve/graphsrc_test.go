package serve

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/store"
)

const (
	policyChangedRule = "device-registration-policy-changed"
	mfaRule           = "device-registration-mfa-not-required"
	staleRule         = "stale-device"
	roleRule          = "privileged-device-role-added"
	globalAdmin       = "62e90394-69f5-4237-9190-012177145e10"
)

func detail(a *store.Alert, name string) string {
	for _, d := range a.Details {
		if d.Name == name {
			return d.Value
		}
	}
	return ""
}

// TestPolicySettingSwitchedOff: the first check only remembers the state;
// switching the tenant setting off raises the change (with old and new
// state) and the MFA alert; later checks of the same state add to the MFA
// alert and raise no new change.
func TestPolicySettingSwitchedOff(t *testing.T) {
	e := newEnv(t, nil) // GroupWindow: 1h
	e.poll("policies")
	if list := e.alerts(); len(list) != 0 {
		t.Fatalf("first check of a protected tenant raised %v", rulesOf(list))
	}
	if c := e.cursor("graph:contoso:policy-state"); !strings.Contains(c, `"required"`) {
		t.Fatalf("policy state %q not stored by the first check", c)
	}

	e.clock.Advance(5 * time.Minute)
	e.graph.mu.Lock()
	e.graph.policy = policyJSON("notRequired")
	e.graph.mu.Unlock()
	e.poll("policies")
	changes := e.alerts(policyChangedRule)
	if len(changes) != 1 {
		t.Fatalf("%d change alerts after the setting went off, want 1", len(changes))
	}
	c := e.alert(changes[0].ID)
	if !strings.Contains(detail(c, "old"), "multiFactorAuthConfiguration=required") || !strings.Contains(detail(c, "new"), "multiFactorAuthConfiguration=notRequired") {
		t.Errorf("change details %+v, want the old and new setting", c.Details)
	}
	if !strings.Contains(c.Summary, "NO LONGER required") || c.Severity.String() != "high" {
		t.Errorf("change alert %q (%s), want a high alert saying MFA is no longer required", c.Summary, c.Severity)
	}
	mfa := e.alerts(mfaRule)
	if len(mfa) != 1 || mfa[0].Count != 1 {
		t.Fatalf("MFA alerts %v, want one", rulesOf(mfa))
	}
	if ev := e.alert(mfa[0].ID).Evidence; len(ev) != 1 || !strings.Contains(string(ev[0].Raw), `"notRequired"`) {
		t.Errorf("MFA alert evidence %+v, want the policy record", ev)
	}

	for i := 2; i <= 3; i++ {
		e.clock.Advance(5 * time.Minute)
		e.poll("policies")
		mfa := e.alerts(mfaRule)
		if len(mfa) != 1 || mfa[0].Count != i {
			t.Fatalf("check %d: MFA alerts %v, want one with count %d", i+1, rulesOf(mfa), i)
		}
		if !mfa[0].LastSeen.Equal(e.clock.Now()) {
			t.Errorf("check %d: MFA alert last seen %v, want the check's time %v", i+1, mfa[0].LastSeen, e.clock.Now())
		}
	}
	if got := rulesOf(e.alerts(policyChangedRule)); len(got) != 1 || got[0] != policyChangedRule+"×1" {
		t.Errorf("change alerts %v after unchanged checks, want the one", got)
	}
}

// TestPolicyChangesEachAlert: each change of the protection is an alert of
// its own, even within the group window (switching it back on and off
// again must be seen).
func TestPolicyChangesEachAlert(t *testing.T) {
	e := newEnv(t, nil) // GroupWindow: 1h
	e.poll("policies")
	for _, setting := range []string{"notRequired", "required", "notRequired"} {
		e.clock.Advance(5 * time.Minute)
		e.graph.mu.Lock()
		e.graph.policy = policyJSON(setting)
		e.graph.mu.Unlock()
		e.poll("policies")
	}
	changes := e.alerts(policyChangedRule)
	var got []string
	for _, c := range changes {
		got = append(got, fmt.Sprintf("%d %s", c.Count, c.Summary[strings.LastIndex(c.Summary, ": ")+2:]))
	}
	want := []string{"1 MFA is NO LONGER required to register or join devices", "1 MFA is now required", "1 MFA is NO LONGER required to register or join devices"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("change alerts, newest first:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestPolicyCADisabled: an enabled Conditional Access policy requiring MFA
// for "Register or join devices" is the protection; disabling it is a
// change.
func TestPolicyCADisabled(t *testing.T) {
	for _, state := range []string{"disabled", "enabledForReportingButNotEnforced"} {
		t.Run(state, func(t *testing.T) {
			e := newEnv(t, nil)
			e.graph.mu.Lock()
			e.graph.policy = policyJSON("notRequired") // as Microsoft recommends with the CA policy
			e.graph.mu.Unlock()
			e.graph.set(&e.graph.ca, caPolicy("Require MFA to register or join devices", "enabled"))
			e.poll("policies")
			e.clock.Advance(5 * time.Minute)
			e.poll("policies")
			if list := e.alerts(); len(list) != 0 {
				t.Fatalf("a tenant protected by Conditional Access raised %v", rulesOf(list))
			}
			e.clock.Advance(5 * time.Minute)
			e.graph.set(&e.graph.ca, caPolicy("Require MFA to register or join devices", state))
			e.poll("policies")
			changes := e.alerts(policyChangedRule)
			if len(changes) != 1 {
				t.Fatalf("%d change alerts after the CA policy became %s, want 1", len(changes), state)
			}
			c := e.alert(changes[0].ID)
			if !strings.Contains(detail(c, "old"), "Require MFA to register or join devices") || !strings.Contains(detail(c, "new"), "Conditional Access for \"Register or join devices\": none") {
				t.Errorf("change details %+v, want the CA policy in old and none in new", c.Details)
			}
			if !strings.Contains(c.Summary, "NO LONGER") {
				t.Errorf("change summary %q", c.Summary)
			}
			if mfa := e.alerts(mfaRule); len(mfa) != 1 {
				t.Errorf("MFA alerts %v, want one", rulesOf(mfa))
			}
		})
	}
}

// TestStaleDevices: stale enabled devices are flagged (in the alerts and in
// the inventory), disabled ones never; a device that becomes active and
// later stale again makes a new alert; the device's history is kept.
func TestStaleDevices(t *testing.T) {
	e := newEnv(t, nil)
	d1Last := t0.Add(-100 * 24 * time.Hour)
	e.graph.set(&e.graph.devices,
		device("d1", "CONTOSO-LT-0001", true, d1Last),
		device("d2", "CONTOSO-LT-0002", true, t0.Add(-10*24*time.Hour)),
		device("d3", "CONTOSO-LT-0003", false, t0.Add(-200*24*time.Hour)))
	e.poll("devices")
	e.clock.Advance(time.Hour)
	e.poll("devices") // the same snapshot: nothing new
	list := e.alerts(staleRule)
	if len(list) != 1 || list[0].Entities.DeviceID != "dev-d1" || list[0].Count != 1 {
		t.Fatalf("stale alerts %v (%+v), want one for d1", rulesOf(list), list)
	}
	first := e.alert(list[0].ID)
	if len(first.Evidence) != 1 || first.Evidence[0].ID != "d1@"+d1Last.Format(time.RFC3339) {
		t.Errorf("evidence %+v, want event d1@%s", first.Evidence, d1Last.Format(time.RFC3339))
	}
	stale := func() []string {
		yes := true
		devs, _, err := e.store.Devices(e.ctx, store.DeviceFilter{Tenant: "contoso", Stale: &yes})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range devs {
			ids = append(ids, d.ID)
		}
		return ids
	}
	if got := stale(); len(got) != 1 || got[0] != "d1" {
		t.Errorf("stale devices %v, want [d1]", got)
	}

	// d1 signs in again: no longer stale.
	e.clock.Advance(24 * time.Hour)
	d1Back := e.clock.Now().Add(-time.Hour)
	e.graph.set(&e.graph.devices,
		device("d1", "CONTOSO-LT-0001", true, d1Back),
		device("d2", "CONTOSO-LT-0002", true, e.clock.Now().Add(-time.Hour)),
		device("d3", "CONTOSO-LT-0003", false, t0.Add(-200*24*time.Hour)))
	e.poll("devices")
	if got := stale(); len(got) != 0 {
		t.Errorf("stale devices %v after d1 signed in, want none", got)
	}
	if n := len(e.alerts(staleRule)); n != 1 {
		t.Errorf("%d stale alerts after d1 signed in, want still 1", n)
	}

	// 100 days later, d1 is stale again.
	e.clock.Advance(100 * 24 * time.Hour)
	e.graph.set(&e.graph.devices,
		device("d1", "CONTOSO-LT-0001", true, d1Back),
		device("d2", "CONTOSO-LT-0002", true, e.clock.Now().Add(-time.Hour)),
		device("d3", "CONTOSO-LT-0003", false, t0.Add(-200*24*time.Hour)))
	e.poll("devices")
	list = e.alerts(staleRule)
	if len(list) != 2 {
		t.Fatalf("stale alerts %v, want a new one for d1's second inactivity", rulesOf(list))
	}
	for _, a := range list {
		if a.Entities.DeviceID != "dev-d1" {
			t.Errorf("stale alert for %s, want only d1 (d2 is active, d3 disabled)", a.Entities.DeviceID)
		}
	}
	second := e.alert(list[0].ID)
	if len(second.Evidence) != 1 || second.Evidence[0].ID != "d1@"+d1Back.Format(time.RFC3339) {
		t.Errorf("evidence of the new alert %+v, want event d1@%s", second.Evidence, d1Back.Format(time.RFC3339))
	}
	if got := stale(); len(got) != 1 || got[0] != "d1" {
		t.Errorf("stale devices %v, want [d1]", got)
	}

	h, err := e.store.DeviceHistory(e.ctx, "contoso", "d1")
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, c := range h {
		fields = append(fields, c.Field+":"+c.New)
	}
	want := []string{"created:CONTOSO-LT-0001", "approximate_last_sign_in:" + d1Back.Format(time.RFC3339Nano)}
	if strings.Join(fields, " ") != strings.Join(want, " ") {
		t.Errorf("history of d1 %v, want %v", fields, want)
	}

	// A device gone from the inventory is marked deleted.
	e.graph.set(&e.graph.devices, device("d1", "CONTOSO-LT-0001", true, d1Back))
	e.poll("devices")
	devs, _, err := e.store.Devices(e.ctx, store.DeviceFilter{Tenant: "contoso"})
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 || devs[0].ID != "d1" {
		t.Errorf("devices %+v after d2 and d3 left the inventory, want only d1", devs)
	}
}

// roleAuditRecord is the fixture's audit record of nestor.wilke being
// added to Global Administrator, dated at.
func roleAuditRecord(t *testing.T, at time.Time) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "detections", "privileged-device-role-added", "positive", "graph-directoryaudits.json"))
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Value []map[string]any `json:"value"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		t.Fatal(err)
	}
	rec := page.Value[0]
	rec["activityDateTime"] = at.UTC().Format(time.RFC3339Nano)
	out, _ := json.Marshal(rec)
	if !strings.Contains(string(out), "nestor.wilke@contoso.com") {
		t.Fatal("the fixture's first audit record is not nestor.wilke's assignment")
	}
	return string(out)
}

func roleAssignment(id, role, principal, upn string) string {
	b, _ := json.Marshal(map[string]any{"id": id, "roleDefinitionId": role, "principalId": principal, "directoryScopeId": "/",
		"principal": map[string]any{"@odata.type": "#microsoft.graph.user", "id": principal, "userPrincipalName": upn}})
	return string(b)
}

// TestRoleHolders: a new holder of a watched role is judged one check
// after it appears; with an audit record of that assignment nothing more
// is raised, without one the next check raises an alert. An audit record
// covers only its member and role: not its actor, not another role.
func TestRoleHolders(t *testing.T) {
	const (
		nestorID = "4c9bebb0-4057-5dc9-bab7-ca794dcfe1e3"
		cloudDev = "7698a772-787b-4ac8-901f-60d6b08affd2"
	)
	alice := roleAssignment("ra-1", globalAdmin, "11111111-0000-0000-0000-000000000001", "alice@contoso.com")
	reader := roleAssignment("ra-3", "88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "22222222-0000-0000-0000-000000000002", "reader@contoso.com") // Directory Readers: not watched
	const audited = "it.admin@contoso.com added nestor.wilke@contoso.com to Global Administrator"
	for _, tc := range []struct {
		name   string
		holder string
		// audit is when the audit record of nestor's assignment is polled:
		// before the holder appears, between the two checks, or never.
		audit string
		want  []string // alert summaries (substrings), any order
	}{
		{"audit first", roleAssignment("ra-2", globalAdmin, nestorID, "nestor.wilke@contoso.com"), "before", []string{audited}},
		{"audit late", roleAssignment("ra-2", globalAdmin, nestorID, "nestor.wilke@contoso.com"), "between", []string{audited}},
		{"no audit", roleAssignment("ra-2", globalAdmin, nestorID, "nestor.wilke@contoso.com"), "never",
			[]string{"nestor.wilke@contoso.com now holds Global Administrator, and entrawatch saw no audit record of the assignment"}},
		{"no audit, principal without a name", roleAssignment("ra-2", globalAdmin, nestorID, ""), "never",
			[]string{nestorID + " now holds Global Administrator, and entrawatch saw no audit record"}},
		{"the audit record's actor", roleAssignment("ra-4", globalAdmin, "42184342-9ddb-5250-8e84-146677eb09ed", "it.admin@contoso.com"), "before",
			[]string{audited, "it.admin@contoso.com now holds Global Administrator, and entrawatch saw no audit record"}},
		{"another role", roleAssignment("ra-5", cloudDev, nestorID, "nestor.wilke@contoso.com"), "before",
			[]string{audited, "nestor.wilke@contoso.com now holds Cloud Device Administrator, and entrawatch saw no audit record"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			audit := func() {
				e.graph.set(&e.graph.audits, roleAuditRecord(t, e.clock.Now().Add(-time.Minute)))
				e.poll("audits")
			}
			e.graph.set(&e.graph.roles, alice, reader)
			e.poll("roles")
			if list := e.alerts(); len(list) != 0 {
				t.Fatalf("the first check raised %v", rulesOf(list))
			}
			e.clock.Advance(5 * time.Minute)
			if tc.audit == "before" {
				audit()
			}
			e.graph.set(&e.graph.roles, alice, reader, tc.holder)
			e.poll("roles")
			if tc.audit == "never" {
				if list := e.alerts(); len(list) != 0 {
					t.Fatalf("the check that first saw the holder raised %v", rulesOf(list))
				}
			}
			e.clock.Advance(5 * time.Minute)
			if tc.audit == "between" {
				audit()
			}
			e.poll("roles")
			e.clock.Advance(5 * time.Minute)
			e.poll("roles")
			list := e.alerts()
			var got []string
			for _, a := range list {
				got = append(got, fmt.Sprintf("%s×%d: %s", a.Rule, a.Count, a.Summary))
			}
			if len(list) != len(tc.want) {
				t.Fatalf("alerts %q, want %q", got, tc.want)
			}
		want:
			for _, w := range tc.want {
				for _, g := range got {
					if strings.HasPrefix(g, roleRule+"×1: ") && strings.Contains(g, w) {
						continue want
					}
				}
				t.Errorf("no %s alert (count 1) saying %q in %q", roleRule, w, got)
			}
			if tc.audit == "never" {
				a := e.alert(list[0].ID)
				if detail(a, "principal_id") != nestorID || detail(a, "role_template_id") != globalAdmin || detail(a, "audit_record") != "none seen" {
					t.Errorf("alert details %+v, want nestor's Global Administrator assignment without audit record", a.Details)
				}
			}
		})
	}
}
