package sentinel

import (
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/kql"
	"github.com/entrawatch/entrawatch/internal/yamltree"
)

func TestIsRule(t *testing.T) {
	for _, tc := range []struct {
		name, yaml    string
		rule, hunting bool
	}{
		{"scheduled", "query: SigninLogs\nqueryFrequency: 1h\n", true, false},
		{"period only", "query: SigninLogs\nqueryPeriod: 1d\n", true, false},
		{"trigger only", "query: SigninLogs\ntriggerOperator: gt\n", true, false},
		{"kind only", "query: SigninLogs\nkind: NRT\n", true, false},
		{"hunting query", "name: hunt\nquery: |\n  SigninLogs\n", false, true},
		{"sigma rule", "title: t\nlogsource: {product: azure}\ndetection: {sel: {a: b}, condition: sel}\n", false, false},
		{"schedule without query", "queryFrequency: 1h\nqueryPeriod: 1d\n", false, false},
		{"a list", "- query: SigninLogs\n  kind: Scheduled\n", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs, err := yamltree.Parse([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if got := IsRule(docs[0]); got != tc.rule {
				t.Errorf("IsRule = %v, want %v", got, tc.rule)
			}
			if got := IsHuntingQuery(docs[0]); got != tc.hunting {
				t.Errorf("IsHuntingQuery = %v, want %v", got, tc.hunting)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{"5m", 5 * time.Minute, ""},
		{"1h", time.Hour, ""},
		{"14d", 14 * 24 * time.Hour, ""},
		{"30s", 30 * time.Second, ""},
		{" 1D ", 24 * time.Hour, ""},
		{"PT1H", time.Hour, ""},
		{"P14D", 14 * 24 * time.Hour, ""},
		{"P1DT12H30M", 36*time.Hour + 30*time.Minute, ""},
		{"PT5M", 5 * time.Minute, ""},
		{"0m", 0, "must be positive"},
		{"400d", 0, "longer than a year"},
		{"1w", 0, "is not a duration"},
		{"two weeks", 0, "is not a duration"},
		{"P1H", 0, "is not a duration"},
		{"PT", 0, "is not a duration"},
		{"", 0, "is not a duration"},
		{"99999999d", 0, "is not a duration"},
	} {
		got, err := ParseDuration(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParseDuration(%q) error %v, want one containing %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// ruleYAML is a valid rule; tests replace parts of it.
const ruleYAML = `id: 0b6e1f52-0000-4000-8000-000000000001
name: Test rule
severity: Informational
queryFrequency: 1h
queryPeriod: 1d
triggerOperator: GreaterThan
triggerThreshold: 2
tactics: [InitialAccess]
relevantTechniques: [T1078]
query: |

  SigninLogs
  | where ResultType != "0"
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: UserPrincipalName
eventGroupingSettings:
  aggregationKind: SingleAlert
kind: Scheduled
`

func TestLoad(t *testing.T) {
	rules, probs := Parse("r.yaml", []byte(ruleYAML))
	if len(probs) > 0 || len(rules) != 1 {
		t.Fatalf("rules %d, problems %v", len(rules), probs)
	}
	r := rules[0]
	checks := []struct {
		what      string
		got, want any
	}{
		{"alert id", r.AlertID(), "sentinel:0b6e1f52-0000-4000-8000-000000000001"},
		{"severity", r.Severity, "Informational"},
		{"alert severity", r.AlertSeverity(), alert.Low},
		{"frequency", r.QueryFrequency, time.Hour},
		{"period", r.QueryPeriod, 24 * time.Hour},
		{"operator", r.TriggerOperator, "gt"},
		{"threshold", r.TriggerThreshold, int64(2)},
		{"single alert", r.SingleAlert, true},
		{"tables", strings.Join(r.Tables, ","), "SigninLogs"},
		{"entity", r.Entities[0].Fields[0].Column, "UserPrincipalName"},
		{"line", r.Line, 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	nrt, probs := Parse("nrt.yaml", []byte("name: n\nseverity: High\nkind: NRT\nquery: AuditLogs\n"))
	if len(probs) > 0 || nrt[0].QueryFrequency != 5*time.Minute || nrt[0].QueryPeriod != 5*time.Minute || nrt[0].AlertID() != "sentinel:nrt" {
		t.Errorf("NRT rule %+v, problems %v", nrt, probs)
	}
}

// TestLoadProblems checks that each problem names the file, the line and
// the column of what is wrong, and a refused KQL construct its place in
// the file (the query's first line plus its own line).
func TestLoadProblems(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		want           string
	}{
		{"refused function in a block query", `| where ResultType != "0"`, `| where ResultType != "0"` + "\n  | extend d = replace_regex(UserPrincipalName, @\"@.*\", \"\")",
			`r.yaml:14:16: rule sentinel:0b6e1f52-0000-4000-8000-000000000001: query: KQL 4:14: function replace_regex() is not supported by entrawatch (docs/kql.md)`},
		{"unknown table", "  SigninLogs\n", "  SigninLogs\n  | join (IdentityInfo) on AccountUPN\n",
			`r.yaml:13:11: rule sentinel:0b6e1f52-0000-4000-8000-000000000001: query: KQL 3:9: unknown table "IdentityInfo"`},
		{"refused function in a quoted query", "query: |\n\n  SigninLogs\n  | where ResultType != \"0\"\n", "query: \"SigninLogs | extend x = percentiles(DurationMs, 50)\"\n",
			`r.yaml:10:33: rule sentinel:0b6e1f52-0000-4000-8000-000000000001: query: KQL 1:25: function percentiles() is not supported`},
		{"syntax error", `| where ResultType != "0"`, `| where ResultType != `,
			`r.yaml:14:3: rule sentinel:0b6e1f52-0000-4000-8000-000000000001: query: KQL 4:1: unexpected end of query`},
		{"severity", "severity: Informational", "severity: Critical", `r.yaml:3:11: rule sentinel:0b6e1f52-0000-4000-8000-000000000001: severity "Critical": want Informational, Low, Medium or High`},
		{"missing severity", "severity: Informational\n", "", `r.yaml:1:1: rule sentinel:0b6e1f52-0000-4000-8000-000000000001: severity is missing`},
		{"operator", "triggerOperator: GreaterThan", "triggerOperator: ge", `r.yaml:6:18: rule sentinel:0b6e1f52-0000-4000-8000-000000000001: triggerOperator "ge": want gt, lt, eq or ne`},
		{"threshold", "triggerThreshold: 2", "triggerThreshold: many", `r.yaml:7:19: rule sentinel:0b6e1f52-0000-4000-8000-000000000001: triggerThreshold must be a whole number`},
		{"frequency", "queryFrequency: 1h", "queryFrequency: 1w", `r.yaml:4:17: rule sentinel:0b6e1f52-0000-4000-8000-000000000001: queryFrequency: "1w" is not a duration`},
		{"missing period", "queryPeriod: 1d\n", "", `r.yaml:1:1: rule sentinel:0b6e1f52-0000-4000-8000-000000000001: queryPeriod is missing`},
		{"kind", "kind: Scheduled", "kind: MLBehaviorAnalytics", `r.yaml:21:7: rule sentinel:0b6e1f52-0000-4000-8000-000000000001: kind MLBehaviorAnalytics is not supported: entrawatch runs Scheduled and NRT rules only`},
		{"grouping", "aggregationKind: SingleAlert", "aggregationKind: Both", `r.yaml:20:20: rule sentinel:0b6e1f52-0000-4000-8000-000000000001: aggregationKind "Both": want SingleAlert or AlertPerResult`},
		{"field mapping", "        columnName: UserPrincipalName\n", "", `r.yaml:17:9: rule sentinel:0b6e1f52-0000-4000-8000-000000000001: a field mapping needs both identifier and columnName`},
		{"query not a string", "query: |\n\n  SigninLogs\n  | where ResultType != \"0\"\n", "query: [SigninLogs]\n", `r.yaml:10:8: rule sentinel:0b6e1f52-0000-4000-8000-000000000001: query must be a string of KQL`},
		{"yaml syntax", "name: Test rule", "name: [Test rule", `r.yaml:`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(ruleYAML, tc.old, tc.new, 1)
			if src == ruleYAML {
				t.Fatalf("%q is not in the rule", tc.old)
			}
			rules, probs := Parse("r.yaml", []byte(src))
			if len(rules) != 0 {
				t.Errorf("the rule loaded")
			}
			var msgs []string
			for _, p := range probs {
				msgs = append(msgs, p.Error())
			}
			if len(msgs) != 1 || !strings.HasPrefix(msgs[0], tc.want) {
				t.Errorf("problems:\n%s\nwant one starting with:\n%s", strings.Join(msgs, "\n"), tc.want)
			}
		})
	}
}

func TestUnique(t *testing.T) {
	a, _ := Parse("a.yaml", []byte(ruleYAML))
	b, _ := Parse("b.yaml", []byte(ruleYAML))
	rules, probs := Unique(append(a, b...))
	if len(rules) != 1 || rules[0].File != "a.yaml" || len(probs) != 1 || !strings.Contains(probs[0].Error(), "b.yaml:1:1: rule sentinel:0b6e1f52-0000-4000-8000-000000000001: duplicate rule id (also a.yaml:1)") {
		t.Errorf("rules %v, problems %v", rules, probs)
	}
}

func TestQueryTables(t *testing.T) {
	for _, tc := range []struct{ query, want string }{
		{"SigninLogs | take 1", "SigninLogs"},
		{"signinlogs | take 1", "SigninLogs"},
		{"union SigninLogs, (AADNonInteractiveUserSignInLogs | where true)", "AADNonInteractiveUserSignInLogs,SigninLogs"},
		{"let f = (T:(*)) { T | where true }; f(AuditLogs)", "AuditLogs"},
		{"let f = () { Syslog | take 1 }; f()", "Syslog"},
		{"let admins = AuditLogs | project Id; SigninLogs | where UserId in (admins)", "AuditLogs,SigninLogs"},
		{"SigninLogs | join kind=leftanti (AuditLogs | project CorrelationId) on CorrelationId", "AuditLogs,SigninLogs"},
		{"SecurityEvent | extend n = toscalar(Devices | count)", "Devices,SecurityEvent"},
		{"datatable(a:long) [1, 2]", ""},
	} {
		q, err := kql.Parse(tc.query)
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if got := strings.Join(queryTables(q), ","); got != tc.want {
			t.Errorf("%s: tables %q, want %q", tc.query, got, tc.want)
		}
	}
}

func TestTriggered(t *testing.T) {
	for _, tc := range []struct {
		op        string
		n, thresh int64
		want      bool
	}{
		{"gt", 1, 0, true}, {"gt", 0, 0, false}, {"gt", 3, 3, false},
		{"lt", 0, 1, true}, {"lt", 1, 1, false},
		{"eq", 2, 2, true}, {"eq", 1, 2, false},
		{"ne", 1, 2, true}, {"ne", 2, 2, false},
	} {
		if got := triggered(tc.op, tc.n, tc.thresh); got != tc.want {
			t.Errorf("%d %s %d = %v, want %v", tc.n, tc.op, tc.thresh, got, tc.want)
		}
	}
}

func TestEntities(t *testing.T) {
	for _, tc := range []struct {
		name string
		ids  map[string]string
		user string
	}{
		{"full name", map[string]string{"FullName": "a@contoso.com", "Name": "a", "UPNSuffix": "contoso.com"}, "a@contoso.com"},
		{"name and suffix", map[string]string{"Name": "a", "UPNSuffix": "contoso.com"}, "a@contoso.com"},
		{"domain account", map[string]string{"Name": "admin", "NTDomain": "CONTOSO"}, `CONTOSO\admin`},
		{"object id", map[string]string{"AadUserId": "b7a1…"}, "b7a1…"},
		{"nothing", map[string]string{"Sid": ""}, ""},
	} {
		if got, _ := account(tc.ids); got != tc.user {
			t.Errorf("%s: user %q, want %q", tc.name, got, tc.user)
		}
	}
	if h, _ := host(map[string]string{"HostName": "vm1", "DnsDomain": "contoso.com"}); h != "vm1.contoso.com" {
		t.Errorf("host %q", h)
	}
	if h, _ := host(map[string]string{"AzureID": "/subscriptions/…"}); h != "" {
		t.Errorf("an Azure resource id is not a host name: %q", h)
	}
}

func TestClip(t *testing.T) {
	if got := clip("ééé", 3); got != "é…" {
		t.Errorf("clip = %q", got)
	}
	if got := clip("abc", 3); got != "abc" {
		t.Errorf("clip = %q", got)
	}
}
