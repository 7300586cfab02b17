package graphsim

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	tests := []struct {
		filter string
		want   string // conditions, then event types; or "error: <part of the message>"
	}{
		{"createdDateTime ge 2026-11-20T08:00:00Z and createdDateTime lt 2026-11-20T09:00:00Z",
			"createdDateTime ge 08:00:00; createdDateTime lt 09:00:00; types <nil>"},
		{"CreatedDateTime GE 2026-11-20T08:00:00.1234567Z", "createdDateTime ge 08:00:00.1234567; types <nil>"},
		{"createdDateTime le 2026-11-20T10:00:00+01:00", "createdDateTime le 09:00:00; types <nil>"},
		{"createdDateTime gt 2026-11-20T08:00:00Z and signInEventTypes/any(t: t eq 'interactiveUser' or t eq 'nonInteractiveUser')",
			"createdDateTime gt 08:00:00; types [interactiveUser nonInteractiveUser]"},
		{"(signInEventTypes/any(t:t eq 'nonInteractiveUser')) and (createdDateTime eq 2026-11-20T08:00:00Z)",
			"createdDateTime eq 08:00:00; types [nonInteractiveUser]"},
		{"signInEventTypes/any(t: t eq 'interactiveUser') or signInEventTypes/any(t: t eq 'servicePrincipal')",
			"types [interactiveUser servicePrincipal]"},
		{"signInEventTypes/any(t: (t eq 'interactiveUser') or (t eq 'nonInteractiveUser'))", "types [interactiveUser nonInteractiveUser]"},
		{"signInEventTypes/any(t: t eq 'interactiveUser') and signInEventTypes/any(t: t eq 'nonInteractiveUser')", "types []"},
		{"createdDateTime ge", "error: expected a value after \"createdDateTime\" \"ge\""},
		{"createdDateTime", "error: expected an operator"},
		{"createdDateTime ge 2026-11-20T08:00:00Z and", "error: expected a comparison"},
		{"createdDateTime ge 2026-11-20T08:00:00Z)", "error: unexpected \")\""},
		{"createdDateTime ge 'x", "error: unterminated string"},
		{"createdDateTime ge 2026-11-20T08:00:00", "error: not a DateTimeOffset"},
		{"signInEventTypes/any(t: u eq 'interactiveUser')", "error: expected lambda variable \"t\""},
		{strings.Repeat("(", 9) + "createdDateTime ge 2026-11-20T08:00:00Z" + strings.Repeat(")", 9), "error: nest deeper"},
		{strings.Repeat("x", maxFilterLen+1), "error: longer than"},
	}
	for _, tt := range tests {
		f, err := parseFilter(tt.filter, signInSchema)
		got := ""
		if err != nil {
			got = "error: " + err.Error()
			if !strings.HasPrefix(tt.want, "error: ") || !strings.Contains(got, strings.TrimPrefix(tt.want, "error: ")) {
				t.Errorf("%s: %s, want %s", tt.filter, got, tt.want)
			}
			continue
		}
		var parts []string
		for _, c := range f.conds {
			parts = append(parts, fmt.Sprintf("%s %s %s", c.field, c.op, strings.TrimSuffix(c.t.UTC().Format("15:04:05.9999999Z"), "Z")))
		}
		var types []string
		for k := range f.types {
			types = append(types, k)
		}
		sort.Strings(types)
		if f.types == nil {
			parts = append(parts, "types <nil>")
		} else {
			parts = append(parts, fmt.Sprintf("types %v", types))
		}
		if got = strings.Join(parts, "; "); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.filter, got, tt.want)
		}
	}
}

func TestParseFilterStrings(t *testing.T) {
	f, err := parseFilter("roleDefinitionId eq '62e90394-69f5-4237-9190-012177145e10' and principalId eq 'O''Brien'", roleSchema)
	if err != nil {
		t.Fatal(err)
	}
	if !f.matchString("roleDefinitionId", "62E90394-69F5-4237-9190-012177145E10") || !f.matchString("principalId", "O'Brien") || f.matchString("principalId", "x") {
		t.Errorf("string conditions %+v", f.conds)
	}
	if _, err := parseFilter("roleDefinitionId ge '1'", roleSchema); err == nil || !strings.Contains(err.Error(), "use eq") {
		t.Errorf("ge on a string: %v", err)
	}
}
