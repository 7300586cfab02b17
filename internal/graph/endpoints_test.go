package graph

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

func TestEndpointsSendTheQueriesGraphExpects(t *testing.T) {
	from := time.Date(2026, 3, 1, 10, 0, 0, 0, time.FixedZone("CET", 3600)) // 09:00Z
	to := from.Add(15 * time.Minute)
	none := func([]byte) error { return nil }
	tests := []struct {
		name      string
		call      func(c *Client) error
		wantPaths []string
		wantQuery []url.Values
	}{
		{
			name:      "sign-ins, default event types",
			call:      func(c *Client) error { return c.SignIns(context.Background(), from, to, nil, none) },
			wantPaths: []string{"/beta/auditLogs/signIns"},
			wantQuery: []url.Values{{
				"$filter": {"createdDateTime ge 2026-03-01T09:00:00Z and createdDateTime lt 2026-03-01T09:15:00Z"},
				"$top":    {"1000"},
			}},
		},
		{
			name: "sign-ins, interactive and non-interactive",
			call: func(c *Client) error {
				return c.SignIns(context.Background(), from, to, []string{EventInteractiveUser, EventNonInteractiveUser}, none)
			},
			wantPaths: []string{"/beta/auditLogs/signIns"},
			wantQuery: []url.Values{{
				"$filter": {"createdDateTime ge 2026-03-01T09:00:00Z and createdDateTime lt 2026-03-01T09:15:00Z and signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')"},
				"$top":    {"1000"},
			}},
		},
		{
			name:      "directory audits",
			call:      func(c *Client) error { return c.DirectoryAudits(context.Background(), from, to, none) },
			wantPaths: []string{"/v1.0/auditLogs/directoryAudits"},
			wantQuery: []url.Values{{
				"$filter": {"activityDateTime ge 2026-03-01T09:00:00Z and activityDateTime lt 2026-03-01T09:15:00Z"},
				"$top":    {"999"},
			}},
		},
		{
			name:      "devices",
			call:      func(c *Client) error { return c.Devices(context.Background(), none) },
			wantPaths: []string{"/v1.0/devices"},
			wantQuery: []url.Values{{
				"$select": {"id,deviceId,displayName,operatingSystem,operatingSystemVersion,trustType,profileType,accountEnabled,isCompliant,isManaged,approximateLastSignInDateTime,registrationDateTime"},
				"$top":    {"999"},
			}},
		},
		{
			name: "device registration policy",
			call: func(c *Client) error {
				_, err := c.DeviceRegistrationPolicy(context.Background())
				return err
			},
			wantPaths: []string{"/beta/policies/deviceRegistrationPolicy"},
			wantQuery: []url.Values{{}},
		},
		{
			name:      "conditional access policies",
			call:      func(c *Client) error { return c.ConditionalAccessPolicies(context.Background(), none) },
			wantPaths: []string{"/v1.0/identity/conditionalAccess/policies"},
			wantQuery: []url.Values{{}},
		},
		{
			name: "role assignments of two roles",
			call: func(c *Client) error {
				return c.RoleAssignmentsFor(context.Background(), []string{RoleGlobalAdministrator, RoleJoinedDeviceLocalAdministrator}, none)
			},
			wantPaths: []string{"/v1.0/roleManagement/directory/roleAssignments", "/v1.0/roleManagement/directory/roleAssignments"},
			wantQuery: []url.Values{
				{"$filter": {"roleDefinitionId eq '62e90394-69f5-4237-9190-012177145e10'"}, "$expand": {"principal"}},
				{"$filter": {"roleDefinitionId eq '9f06204d-73c1-4d4c-880a-6edb90606fd8'"}, "$expand": {"principal"}},
			},
		},
		{
			name:      "role eligibility schedules",
			call:      func(c *Client) error { return c.RoleEligibilitySchedules(context.Background(), none) },
			wantPaths: []string{"/v1.0/roleManagement/directory/roleEligibilitySchedules"},
			wantQuery: []url.Values{{"$expand": {"principal"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var paths []string
			var queries []url.Values
			c, _, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				if strings.Contains(r.URL.RawQuery, "+") {
					t.Errorf("raw query %q encodes spaces as '+'; Graph examples use %%20", r.URL.RawQuery)
				}
				paths = append(paths, r.URL.Path)
				queries = append(queries, r.URL.Query())
				fmt.Fprint(w, `{"id":"x","value":[]}`)
			})
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(paths) != fmt.Sprint(tt.wantPaths) {
				t.Errorf("paths = %v, want %v", paths, tt.wantPaths)
			}
			if fmt.Sprint(queries) != fmt.Sprint(tt.wantQuery) {
				t.Errorf("decoded queries\n%v\nwant\n%v", queries, tt.wantQuery)
			}
		})
	}
}

func TestRoleAssignmentsQueriesEachWatchedRole(t *testing.T) {
	var filters []string
	c, _, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		filters = append(filters, r.URL.Query().Get("$filter"))
		// A server that ignores $filter and always answers the same list.
		fmt.Fprint(w, `{"value":[
			{"id":"a1","roleDefinitionId":"62e90394-69f5-4237-9190-012177145e10","principalId":"u1","principal":{"userPrincipalName":"ga@contoso.example"}},
			{"id":"a2","roleDefinitionId":"9f06204d-73c1-4d4c-880a-6edb90606fd8","principalId":"u2"},
			{"id":"a3","roleDefinitionId":"fe930be7-5e62-47db-91af-98c3a49a38b1","principalId":"u3"}]}`)
	})
	var ids []string
	err := c.RoleAssignments(context.Background(), func(b []byte) error {
		ids = append(ids, fastjson.GetString(b, "id"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"roleDefinitionId eq '62e90394-69f5-4237-9190-012177145e10'", // Global Administrator
		"roleDefinitionId eq '7698a772-787b-4ac8-901f-60d6b08affd2'", // Cloud Device Administrator
		"roleDefinitionId eq '3a2c62db-5318-420d-8d74-23affee5d9d5'", // Intune Administrator
		"roleDefinitionId eq '9f06204d-73c1-4d4c-880a-6edb90606fd8'", // Azure AD Joined Device Local Administrator
	}
	if strings.Join(filters, "\n") != strings.Join(want, "\n") {
		t.Errorf("filters:\n%s", strings.Join(filters, "\n"))
	}
	if fmt.Sprint(ids) != "[a1 a2]" {
		t.Errorf("assignments delivered %v, want each watched one once: [a1 a2]", ids)
	}
}

func TestEndpointArgumentsAreValidated(t *testing.T) {
	c, _, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request sent for invalid arguments: %s", r.URL)
	})
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	none := func([]byte) error { return nil }
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"empty window", c.SignIns(context.Background(), t0, t0, nil, none), "window"},
		{"reversed window", c.DirectoryAudits(context.Background(), t0, t0.Add(-time.Hour), none), "window"},
		{"zero from", c.SignIns(context.Background(), time.Time{}, t0, nil, none), "window"},
		{"injected event type", c.SignIns(context.Background(), t0, t0.Add(time.Hour), []string{"x') or (1 eq 1"}, none), "not a signInEventTypes value"},
		{"bad role id", c.RoleAssignmentsFor(context.Background(), []string{"62e90394' or 1 eq 1"}, none), "not a GUID"},
	}
	for _, tt := range tests {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, tt.err, tt.want)
		}
	}
}
