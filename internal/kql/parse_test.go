package kql

import (
	"github.com/entrawatch/entrawatch/internal/testenv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestParseGuideQueries(t *testing.T) {
	for _, q := range []string{
		`SigninLogs
| where ResourceDisplayName == "Device Registration Service"
| where ConditionalAccessStatus == "success"
| where AuthenticationRequirement <> "multiFactorAuthentication"`,
		`SigninLogs | where DeviceDetail.isCompliant == false | where ConditionalAccessStatus == "success"`,
		`SigninLogs | where isempty(DeviceDetail.deviceId) | where AuthenticationRequirement == "singleFactorAuthentication" | where ResultType == "0" | where NetworkLocationDetails == "[]"`,
		`AuditLogs | where OperationName == "Read BitLocker key"`,
		`let lookback = 14d; let admins = dynamic(["a@x.com", 'b@x.com']);
AuditLogs
| where TimeGenerated > ago(lookback) and OperationName has_any ("Add member to role", "Add eligible member")
| mv-apply TargetResource = TargetResources on (where TargetResource.type in~ ("User", "ServicePrincipal") | extend Target = tostring(TargetResource.userPrincipalName))
| extend Initiator = tostring(parse_json(tostring(InitiatedBy.user)).userPrincipalName), ['Role name'] = trim(@'"', tostring(TargetResources[0].modifiedProperties[1].newValue))
| summarize Count = count(), Users = make_set(Target, 100), arg_max(TimeGenerated, *) by Initiator, bin(TimeGenerated, 1h)
| where Count > 1 and Initiator !in (admins)
| project-away Target*
| order by Count desc nulls last, TimeGenerated asc
| top 10 by Count
| join kind=leftouter (SigninLogs | summarize dcount(IPAddress) by UserPrincipalName) on $left.Initiator == $right.UserPrincipalName
| extend Since = now() - datetime(2024-01-01 10:00:00), Span = 1d + 2h, Between = Count between (1 .. 10)
| parse Initiator with user "@" domain
| mv-expand Users to typeof(string)
| distinct Initiator, Users
| take 5`,
		`let f = (T:(*), n:int = 3) { T | take n }; union isfuzzy=true (SigninLogs | where ResultType != 0), (AuditLogs | count) | invoke f(2)`,
		`datatable(a:string, b:long) ["x", 1, "y", 2] | extend c = iff(b > 1, "big", "small") | project-rename A = a | project-reorder b`,
	} {
		if _, err := Parse(q); err != nil {
			t.Errorf("Parse(%.60q…): %v", q, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ q, want string }{
		{"SigninLogs | where", "1:19: unexpected end of query"},
		{"SigninLogs | frobnicate x", `1:14: tabular operator "frobnicate" is not supported`},
		{"SigninLogs\n| where x == \"unterminated", "2:14: unterminated string"},
		{"SigninLogs | where (a == 1", `1:27: expected ")"`},
		{"SigninLogs | where x == 5parsecs", "unknown number suffix"},
		{"let x = 1", "no tabular expression"},
		{"SigninLogs | join kind=sideways (AuditLogs) on Id", `join kind "sideways" is not supported`},
		{"SigninLogs | where a # b", `unexpected character "#"`},
	} {
		_, err := Parse(tt.q)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tt.q, err, tt.want)
		}
	}
}

// TestParseSentinelCorpus parses every query of the Sentinel corpus: each
// parses, or is refused with a position.
func TestParseSentinelCorpus(t *testing.T) {
	dir := testenv.Corpus(t)
	queryRE := regexp.MustCompile(`(?ms)^query: \|\s*\n(.*?)(?:^\S|\z)`)
	n, ok := 0, 0
	_ = filepath.WalkDir(filepath.Join(dir, "sentinel"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return nil
		}
		b, _ := os.ReadFile(path)
		m := queryRE.FindSubmatch(b)
		if m == nil {
			return nil
		}
		n++
		if _, err := Parse(string(m[1])); err != nil {
			t.Logf("%s: %v", filepath.Base(path), err)
		} else {
			ok++
		}
		return nil
	})
	t.Logf("%d of %d Sentinel queries parse", ok, n)
	if n != 14 {
		t.Errorf("found %d queries, want 14", n)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`SigninLogs | where ResourceDisplayName == "Device Registration Service" | where AuthenticationRequirement <> "multiFactorAuthentication"`,
		`let x = 1d; AuditLogs | where TimeGenerated > ago(x) | summarize count() by bin(TimeGenerated, 1h), OperationName`,
		`T | mv-apply x = arr on (where x.a in~ ("a", "b") | project y = tostring(x.b))`,
		`datatable(a:string)["x"] | join kind=leftanti (T) on $left.a == $right.b`,
		`T | parse kind=regex s with @"(\d+)" n:int`, `dynamic({"a":[1,2]})`, `let f=(a:int){a+1};T|extend b=f(1)`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		qq, err := Parse(q)
		if err != nil {
			var e *Error
			if !errorsAs(err, &e) || e.Pos.Line < 1 || e.Pos.Col < 1 {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		if qq.Body.Source == nil {
			t.Fatalf("parsed query without a source")
		}
	})
}

func errorsAs(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}
