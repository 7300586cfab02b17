package graphsim

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"
)

// threat returns the first-cycle threat of rule.
func threat(t *testing.T, ten *Tenant, rule string) Threat {
	t.Helper()
	for _, e := range ten.Events() {
		if e.Rule == rule && e.Cycle == 1 {
			return e
		}
	}
	t.Fatalf("no %s threat yet", rule)
	return Threat{}
}

// deltaRound follows a delta round from link and returns its items and
// the deltaLink.
func (h *harness) deltaRound(link string) ([]map[string]any, string) {
	h.t.Helper()
	var items []map[string]any
	for link != "" {
		resp, body := h.get(link)
		if resp.StatusCode != http.StatusOK {
			h.t.Fatalf("GET %s: %d %s", link, resp.StatusCode, body)
		}
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			h.t.Fatal(err)
		}
		for _, v := range p.Value {
			var m map[string]any
			if err := json.Unmarshal(v, &m); err != nil {
				h.t.Fatal(err)
			}
			items = append(items, m)
		}
		if p.NextLink == "" {
			if p.DeltaLink == "" || !strings.Contains(p.DeltaLink, "$deltatoken=") {
				h.t.Fatalf("last page without a deltaLink: %s", body)
			}
			return items, p.DeltaLink
		}
		link = p.NextLink
	}
	return items, ""
}

func TestDevicesDelta(t *testing.T) {
	h := newHarness(t, Options{PageSize: 10, History: -1})
	every := h.ten.Options().ThreatEvery
	items, delta := h.deltaRound(PathDevices + "/delta?$select=id,deviceId,isCompliant")
	if len(items) != len(deviceSpecs) {
		t.Fatalf("the first round lists %d devices, want %d", len(items), len(deviceSpecs))
	}
	if _, ok := items[0]["displayName"]; ok || items[0]["deviceId"] == nil {
		t.Errorf("$select=id,deviceId,isCompliant gave %v", items[0])
	}
	if again, next := h.deltaRound(delta); len(again) != 0 || next == "" {
		t.Errorf("a round without changes lists %v", again)
	}

	h.at(FirstThreatAfter + offNoncompSignIn + 2*time.Second)
	reg := threat(t, h.ten, RuleRegistrationWithoutMFA)
	nc := threat(t, h.ten, RuleNoncompliantSignIn)
	newDev, victim := reg.Related[3], nc.Related[1]
	steps := []struct {
		at   time.Duration
		want map[string]string // device id: "compliant", "noncompliant" or "removed"
	}{
		// The registered personal device is not enrolled: not compliant.
		{FirstThreatAfter + offNoncompSignIn + 2*time.Second, map[string]string{newDev: "noncompliant", victim: "noncompliant"}},
		{FirstThreatAfter + every*7/10 + time.Second, map[string]string{victim: "compliant"}},
		{FirstThreatAfter + every*8/10 + time.Second, map[string]string{newDev: "removed"}},
	}
	for _, st := range steps {
		h.at(st.at)
		items, delta = h.deltaRound(delta)
		got := map[string]string{}
		for _, it := range items {
			id, _ := it["id"].(string)
			switch {
			case it["@removed"] != nil:
				got[id] = "removed"
				if r, _ := it["@removed"].(map[string]any); r["reason"] != "changed" {
					t.Errorf("@removed %v", it["@removed"])
				}
			case it["isCompliant"] == true:
				got[id] = "compliant"
			default:
				got[id] = "noncompliant"
			}
		}
		if len(got) != len(st.want) {
			t.Errorf("at +%s: delta %v, want %v", st.at, got, st.want)
		}
		for id, w := range st.want {
			if got[id] != w {
				t.Errorf("at +%s: device %s is %q in the delta, want %q", st.at, id, got[id], w)
			}
		}
	}
}

func TestDeltaTokenExpires(t *testing.T) {
	h := newHarness(t, Options{History: -1, Retention: time.Hour})
	_, first := h.deltaRound(PathDevices + "/delta")
	h.at(3 * time.Hour) // removed devices of the first cycles are forgotten
	resp, body := h.get(first)
	var e graphErrorBody
	if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != http.StatusGone || e.Error.Code != "SyncStateNotFound" {
		t.Errorf("an expired deltaLink: %d %s, want 410 SyncStateNotFound", resp.StatusCode, body)
	}
	if _, next := h.deltaRound(PathDevices + "/delta"); next == "" {
		t.Error("no deltaLink after a new round")
	}
}

func TestRoleAssignments(t *testing.T) {
	h := newHarness(t, Options{History: -1})
	every := h.ten.Options().ThreatEvery
	holders := func(role string) []string {
		var out []string
		for _, r := range h.all("/v1.0/roleManagement/directory/roleAssignments", "$filter", "roleDefinitionId eq '"+role+"'", "$expand", "principal") {
			var a struct {
				RoleDefinitionID, DirectoryScopeID string
				Principal                          struct{ UserPrincipalName string }
			}
			if err := json.Unmarshal(r, &a); err != nil {
				t.Fatal(err)
			}
			if a.RoleDefinitionID != role || a.DirectoryScopeID != "/" {
				t.Errorf("assignment %s", r)
			}
			out = append(out, a.Principal.UserPrincipalName)
		}
		sort.Strings(out)
		return out
	}
	ga, cda := "breakglass@contoso.example it.admin@contoso.example", "device.admin@contoso.example"
	if g, c := strings.Join(holders(RoleGlobalAdministrator), " "), strings.Join(holders(RoleCloudDeviceAdministrator), " "); g != ga || c != cda {
		t.Fatalf("initial holders: GA %q, CDA %q", g, c)
	}
	h.at(FirstThreatAfter + offRoleCDA + 2*time.Second)
	added := threat(t, h.ten, RulePrivilegedRoleAdded)
	var promoted string
	for _, e := range h.ten.Events() {
		if e.Rule == RulePrivilegedRoleAdded {
			promoted = strings.Fields(e.Summary)[2]
		}
	}
	for role, want := range map[string]string{RoleGlobalAdministrator: ga, RoleCloudDeviceAdministrator: cda} {
		got := holders(role)
		if len(got) != len(strings.Fields(want))+1 || !strings.Contains(strings.Join(got, " "), promoted) {
			t.Errorf("after %s: holders of %s %v, want %s and %s", added.Summary, role, got, want, promoted)
		}
	}
	h.at(FirstThreatAfter + every*85/100 + 5*time.Second)
	if g, c := strings.Join(holders(RoleGlobalAdministrator), " "), strings.Join(holders(RoleCloudDeviceAdministrator), " "); g != ga || c != cda {
		t.Errorf("after the removal: GA %q, CDA %q", g, c)
	}
	el := h.all("/v1.0/roleManagement/directory/roleEligibilitySchedules", "$expand", "principal")
	if len(el) != 2 || !strings.Contains(string(el[0])+string(el[1]), `"memberType":"Direct"`) {
		t.Errorf("eligibility schedules %s", el)
	}
}

func TestRegistrationPolicy(t *testing.T) {
	h := newHarness(t, Options{History: -1})
	every := h.ten.Options().ThreatEvery
	tests := []struct {
		at   time.Duration
		want string
	}{
		{0, "required"},
		{FirstThreatAfter - time.Second, "required"},
		{FirstThreatAfter, "notRequired"},
		{FirstThreatAfter + every/2 - time.Second, "notRequired"},
		{FirstThreatAfter + every/2, "required"},
		{FirstThreatAfter + every, "notRequired"},
		{FirstThreatAfter + every + every/2, "required"},
	}
	for _, tt := range tests {
		h.at(tt.at)
		for _, path := range []string{PathRegistrationPolicy, "/v1.0/policies/deviceRegistrationPolicy"} {
			var p struct {
				ID                           string
				MultiFactorAuthConfiguration string
			}
			resp, body := h.get(path)
			if err := json.Unmarshal(body, &p); err != nil || resp.StatusCode != http.StatusOK || p.ID != "deviceRegistrationPolicy" {
				t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
			}
			if p.MultiFactorAuthConfiguration != tt.want {
				t.Errorf("%s at +%s: %s, want %s", path, tt.at, p.MultiFactorAuthConfiguration, tt.want)
			}
		}
	}
	ca := h.all("/v1.0/identity/conditionalAccess/policies")
	for _, p := range ca {
		if strings.Contains(string(p), "urn:user:registerdevice") {
			t.Errorf("a Conditional Access policy covers device registration: %s", p)
		}
	}
	if len(ca) != len(caSpecs) {
		t.Errorf("%d Conditional Access policies", len(ca))
	}
}

func TestDeviceInventory(t *testing.T) {
	h := newHarness(t, Options{History: -1, PageSize: 7})
	devs := h.all(PathDevices, "$select", "id,deviceId,displayName,trustType,operatingSystem,accountEnabled,isCompliant,approximateLastSignInDateTime,nonsense")
	if len(devs) != len(deviceSpecs) {
		t.Fatalf("%d devices, want %d", len(devs), len(deviceSpecs))
	}
	trust, os := map[string]int{}, map[string]int{}
	stale, disabled, noncompliant := 0, 0, 0
	for _, d := range devs {
		var v struct {
			ID, DeviceID, DisplayName, TrustType, OperatingSystem string
			AccountEnabled, IsCompliant                           bool
			ApproximateLastSignInDateTime                         *string
			RegistrationDateTime                                  *string
		}
		if err := json.Unmarshal(d, &v); err != nil {
			t.Fatal(err)
		}
		if v.RegistrationDateTime != nil || v.ID == "" || v.DeviceID == "" {
			t.Errorf("$select not honoured: %s", d)
		}
		trust[v.TrustType]++
		os[v.OperatingSystem]++
		if !v.AccountEnabled {
			disabled++
		}
		if !v.IsCompliant {
			noncompliant++
		}
		if v.ApproximateLastSignInDateTime != nil {
			last, err := time.Parse(time.RFC3339, *v.ApproximateLastSignInDateTime)
			if err != nil {
				t.Fatal(err)
			}
			if start.Sub(last) > 120*24*time.Hour && v.AccountEnabled {
				stale++
			}
		}
	}
	if len(trust) != 3 || len(os) < 4 || stale < 2 || disabled < 1 || noncompliant < 1 {
		t.Errorf("inventory: trust types %v, systems %v, %d stale, %d disabled, %d non-compliant", trust, os, stale, disabled, noncompliant)
	}
}
