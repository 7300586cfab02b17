package graphsim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// ids returns the ids of records, and fails on a duplicate.
func ids(t *testing.T, recs []json.RawMessage) []string {
	t.Helper()
	seen := map[string]bool{}
	var out []string
	for _, r := range recs {
		id := field(t, r, "id")
		if seen[id] {
			t.Fatalf("record %s listed twice", id)
		}
		seen[id] = true
		out = append(out, id)
	}
	return out
}

func TestSignInPaging(t *testing.T) {
	h := newHarness(t, Options{PageSize: 50, History: 30 * time.Minute})
	filter := window("createdDateTime", -time.Hour, 0)
	all := h.all(PathSignIns, "$filter", filter, "$top", "1000")
	if len(all) < 150 {
		t.Fatalf("only %d sign-ins in 30 minutes of history", len(all))
	}
	tests := []struct {
		name     string
		top      string
		pageSize int
	}{
		{"page size bounds $top", "1000", 50},
		{"no $top", "", 50},
		{"small $top", "7", 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := []string{"$filter", filter}
			if tt.top != "" {
				q = append(q, "$top", tt.top)
			}
			pages := h.list(PathSignIns, q...)
			var recs []json.RawMessage
			for i, p := range pages {
				last := i == len(pages)-1
				if !last && len(p.Value) != tt.pageSize || last && len(p.Value) > tt.pageSize {
					t.Errorf("page %d of %d has %d records, want %d", i+1, len(pages), len(p.Value), tt.pageSize)
				}
				if !last && (!strings.HasPrefix(p.NextLink, h.srv.URL+"/beta/auditLogs/signIns?") || !strings.Contains(p.NextLink, "$skiptoken=")) {
					t.Errorf("nextLink %q", p.NextLink)
				}
				if p.Context != h.srv.URL+"/beta/$metadata#auditLogs/signIns" {
					t.Errorf("@odata.context %q", p.Context)
				}
				recs = append(recs, p.Value...)
			}
			got := ids(t, recs)
			want := ids(t, all)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("paging with $top=%s lists %d records, not the %d of one listing in the same order", tt.top, len(got), len(want))
			}
			prev := ""
			for _, r := range recs {
				c := field(t, r, "createdDateTime")
				if prev != "" && c > prev {
					t.Fatalf("not newest first: %s after %s", c, prev)
				}
				prev = c
			}
		})
	}
}

// TestPagingSnapshot: records that turn visible while a client pages do
// not shift the pages; the next listing returns them.
func TestPagingSnapshot(t *testing.T) {
	h := newHarness(t, Options{PageSize: 10, History: 10 * time.Minute})
	filter := window("createdDateTime", -time.Hour, time.Hour)
	resp, body := h.get(PathSignIns, "$filter", filter)
	var first page
	if err := json.Unmarshal(body, &first); err != nil || resp.StatusCode != http.StatusOK || first.NextLink == "" {
		t.Fatalf("first page: %d %s", resp.StatusCode, body)
	}
	h.at(5 * time.Minute) // about 60 new sign-ins
	recs := first.Value
	for next := first.NextLink; next != ""; {
		_, body := h.get(next)
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, p.Value...)
		next = p.NextLink
	}
	for _, r := range recs {
		if c := field(t, r, "createdDateTime"); c > recordTime(start) {
			t.Fatalf("a record of %s, after the first page's time, slipped into the listing", c)
		}
	}
	before := len(ids(t, recs))
	after := len(h.all(PathSignIns, "$filter", filter))
	if after < before+40 {
		t.Errorf("a new listing has %d records, the paged one %d: the new records are missing", after, before)
	}
}

func TestSignInFilters(t *testing.T) {
	h := newHarness(t, Options{History: 20 * time.Minute})
	h.at(FirstThreatAfter + time.Minute)
	both := "signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')"
	all := h.all(PathSignIns, "$filter", window("createdDateTime", -time.Hour, time.Hour)+" and "+both)
	// A timestamp in the middle of the listing, and the adjacent windows
	// around it.
	mid := field(t, all[len(all)/2], "createdDateTime")
	count := func(filter string) int { return len(h.all(PathSignIns, "$filter", filter+" and "+both)) }
	lo, hi := start.Add(-time.Hour).Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339)
	tests := []struct {
		filter string
		want   int
	}{
		{"createdDateTime ge " + lo + " and createdDateTime lt " + mid, len(all) - len(all)/2 - 1},
		{"createdDateTime ge " + mid + " and createdDateTime le " + hi, len(all)/2 + 1},
		{"createdDateTime gt " + mid, len(all) / 2},
		{"createdDateTime le " + mid, len(all) - len(all)/2},
		{"createdDateTime eq " + mid, 1},
		{"(createdDateTime ge " + lo + ") and (createdDateTime le " + hi + ")", len(all)},
		{"createdDateTime ge " + hi, 0},
	}
	for _, tt := range tests {
		if got := count(tt.filter); got != tt.want {
			t.Errorf("%s: %d sign-ins, want %d", tt.filter, got, tt.want)
		}
	}

	types := map[string]int{}
	for _, r := range all {
		var s struct{ SignInEventTypes []string }
		if err := json.Unmarshal(r, &s); err != nil {
			t.Fatal(err)
		}
		types[s.SignInEventTypes[0]]++
	}
	if types["interactiveUser"] == 0 || types["nonInteractiveUser"] == 0 {
		t.Fatalf("event types %v", types)
	}
	win := window("createdDateTime", -time.Hour, time.Hour)
	for _, tt := range []struct {
		name, filter string
		want         int
	}{
		{"no event-type clause: interactive only, as Graph", win, types["interactiveUser"]},
		{"non-interactive", win + " and signInEventTypes/any(t: t eq 'nonInteractiveUser')", types["nonInteractiveUser"]},
		{"clause first, other lambda variable", "signInEventTypes/any(x:x eq 'interactiveUser') and " + win, types["interactiveUser"]},
		{"service principals (none simulated)", win + " and signInEventTypes/any(t: t eq 'servicePrincipal')", 0},
	} {
		if got := len(h.all(PathSignIns, "$filter", tt.filter)); got != tt.want {
			t.Errorf("%s: %d sign-ins, want %d", tt.name, got, tt.want)
		}
	}
}

func TestBadQueries(t *testing.T) {
	h := newHarness(t, Options{History: -1})
	tests := []struct {
		path, name, value, msg string
	}{
		{PathSignIns, "$filter", "createdDateTime ge", "expected a value"},
		{PathSignIns, "$filter", "createdDateTime ge '2026-11-20T00:00:00Z'", "unquoted DateTimeOffset"},
		{PathSignIns, "$filter", "createdDateTime ge 2026-11-20", "not a DateTimeOffset"},
		{PathSignIns, "$filter", "userPrincipalName eq 'a@contoso.example'", "filtering on \"userPrincipalName\" is not supported"},
		{PathSignIns, "$filter", "createdDateTime ne 2026-11-20T00:00:00Z", "operator \"ne\""},
		{PathSignIns, "$filter", "(createdDateTime ge 2026-11-20T00:00:00Z", "expected ')'"},
		{PathSignIns, "$filter", "createdDateTime ge 2026-11-20T00:00:00Z or createdDateTime le 2026-11-21T00:00:00Z", "'or'"},
		{PathSignIns, "$filter", "signInEventTypes/any(t: t eq 'robot')", "not a member of enum"},
		{PathSignIns, "$filter", "signInEventTypes/any(t: t ne 'interactiveUser')", "only 'eq'"},
		{PathSignIns, "$top", "0", "Invalid $top"},
		{PathSignIns, "$top", "ten", "Invalid $top"},
		{PathSignIns, "$skiptoken", "not-a-token", "Invalid $skiptoken"},
		{PathDirectoryAudits, "$filter", "createdDateTime ge 2026-11-20T00:00:00Z", "not supported on type 'microsoft.graph.directoryAudit'"},
		{PathDirectoryAudits, "$filter", "signInEventTypes/any(t: t eq 'interactiveUser')", "signInEventTypes"},
		{PathDevices + "/delta", "$deltatoken", "bm9wZQ", "Invalid $deltatoken"},
		{"/v1.0/roleManagement/directory/roleAssignments", "$expand", "roleDefinition", "expands only principal"},
	}
	for _, tt := range tests {
		resp, body := h.get(tt.path, tt.name, tt.value)
		var e graphErrorBody
		if err := json.Unmarshal(body, &e); err != nil || resp.StatusCode != http.StatusBadRequest || e.Error.Code != "BadRequest" || !strings.Contains(e.Error.Message, tt.msg) {
			t.Errorf("%s %s=%s: %d %s, want 400 BadRequest with %q", tt.path, tt.name, tt.value, resp.StatusCode, body, tt.msg)
		}
	}
	resp, body := h.get("/v1.0/auditLogs/signIns")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "does not simulate") {
		t.Errorf("v1.0 sign-ins: %d %s", resp.StatusCode, body)
	}
}

// TestLateRecords: a late record is invisible until LateBy after its
// timestamp, then listed with its original timestamp, and listed again by
// every overlapping window.
func TestLateRecords(t *testing.T) {
	const lateBy = time.Minute
	h := newHarness(t, Options{LateFraction: 1, LateBy: lateBy, History: -1})
	h.at(FirstThreatAfter + 40*time.Second)
	var reg Threat
	for _, e := range h.ten.Events() {
		if e.Rule == RuleRegistrationWithoutMFA {
			reg = e
		}
	}
	if reg.RecordID == "" || !reg.VisibleAt.Equal(reg.At.Add(lateBy)) {
		t.Fatalf("registration threat %+v", reg)
	}
	filter := window("createdDateTime", 0, 10*time.Minute)
	listed := func() (bool, string) {
		for _, r := range h.all(PathSignIns, "$filter", filter) {
			if field(t, r, "id") == reg.RecordID {
				return true, field(t, r, "createdDateTime")
			}
		}
		return false, ""
	}
	for _, tt := range []struct {
		at   time.Time
		want bool
	}{
		{reg.At.Add(time.Second), false},
		{reg.VisibleAt.Add(-time.Millisecond), false},
		{reg.VisibleAt, true},
		{reg.VisibleAt.Add(2 * time.Minute), true},
	} {
		h.clock.Set(tt.at)
		got, created := listed()
		if got != tt.want {
			t.Errorf("at At+%s: listed %v, want %v", tt.at.Sub(reg.At), got, tt.want)
		}
		if got && created != recordTime(reg.At) {
			t.Errorf("late record listed with createdDateTime %s, want %s", created, recordTime(reg.At))
		}
	}
}

func TestThrottling(t *testing.T) {
	h := newHarness(t, Options{ThrottleEvery: 3, History: -1})
	var statuses []int
	for i := 0; i < 9; i++ {
		resp, body := h.get(PathSignIns)
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests {
			var e graphErrorBody
			if err := json.Unmarshal(body, &e); err != nil || e.Error.Code != "TooManyRequests" || resp.Header.Get("Retry-After") != "1" {
				t.Errorf("429 answer: Retry-After %q, body %s", resp.Header.Get("Retry-After"), body)
			}
		}
	}
	want := []int{200, 200, 429, 200, 200, 429, 200, 200, 429}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses %v, want %v", statuses, want)
		}
	}
	for i := 0; i < 4; i++ {
		if resp, _ := h.get(PathDirectoryAudits); resp.StatusCode != http.StatusOK {
			t.Errorf("directory audits throttled: %d", resp.StatusCode)
		}
	}
	if s := h.ten.Stats(); s.Throttled != 3 || s.Requests != 1+9+4 {
		t.Errorf("Stats() = %+v, want 3 throttled of 14 requests", s)
	}
}
