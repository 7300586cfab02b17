package graphsim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		"createdDateTime ge 2026-11-20T08:00:00Z and createdDateTime lt 2026-11-20T09:00:00Z and signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')",
		"((createdDateTime eq 2026-11-20T08:00:00.1234567+01:00))", "signInEventTypes/any(t: (t eq 'x'", "'''", "roleDefinitionId eq 'a''b'",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, sc := range []schema{signInSchema, auditSchema, deviceSchema, roleSchema} {
			if fl, err := parseFilter(s, sc); err == nil {
				fl.matchTime("createdDateTime", time.Time{})
				fl.matchString("principalId", "")
				fl.lowerBound("createdDateTime")
			}
		}
	})
}

// FuzzHandler sends arbitrary paths and query strings, with a valid token:
// the handler answers every one with a Graph or identity status, never a
// panic or a 5xx.
func FuzzHandler(f *testing.F) {
	ten := New(Options{Seed: 3, Clock: func() time.Time { return start }, History: 5 * time.Minute, PageSize: 5})
	tok := ten.issueToken(start)
	for _, s := range []string{
		"/beta/auditLogs/signIns?$filter=createdDateTime%20ge%202026-11-20T08:00:00Z&$top=3",
		"/beta/auditLogs/signIns?$skiptoken=eyJsIjoic2lnbklucyJ9",
		"/v1.0/devices/delta?$deltatoken=eyJsIjoiZGV2aWNlcy9kZWx0YSIsInYiOjk5OTl9",
		"/v1.0/devices?$select=id,,displayName&$top=2&$skiptoken=eyJsIjoiZGV2aWNlcyIsImkiOiJ6In0",
		"/v1.0/roleManagement/directory/roleAssignments?$filter=principalId%20eq%20'x'&$expand=principal",
		"/x/v2.0/.well-known/openid-configuration", "/common/discovery/instance?authorization_endpoint=%zz", "//", "/beta",
	} {
		f.Add(s)
	}
	h := ten.Handler()
	f.Fuzz(func(t *testing.T, target string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n#") {
			return
		}
		req, err := http.NewRequest(http.MethodGet, "http://sim.example"+target, nil)
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Errorf("GET %s: %d %s", target, rec.Code, rec.Header().Get("Content-Type"))
		}
	})
}
