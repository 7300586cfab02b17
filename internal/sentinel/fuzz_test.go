package sentinel

import (
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/valyala/fastjson"
)

// fuzzRecords are records of the tables the seeds read.
var fuzzRecords = []string{
	`{"createdDateTime":"2026-11-20T10:00:00Z","userPrincipalName":"admin@contoso.com","ipAddress":"203.0.113.7","status":{"errorCode":50126},"deviceDetail":{"deviceId":"d1","isCompliant":false}}`,
	`{"TimeGenerated":"2026-11-20T11:00:00Z","Type":"AuditLogs","OperationName":"Read BitLocker key","InitiatedBy":"{\"user\":{\"userPrincipalName\":\"a@contoso.com\"}}","TargetResources":"[]"}`,
	`{"TimeGenerated":"2026-11-20T12:00:00Z","Type":"Syslog","Computer":"vm1","ProcessName":"sshd","SyslogMessage":"Accepted password for root from 192.0.2.1 port 22 ssh2"}`,
}

// FuzzRule reads arbitrary bytes as a Sentinel rule file: loading never
// panics, every problem names its file, a position and what is wrong, and
// every rule that loads runs over records of each table without panicking.
func FuzzRule(f *testing.F) {
	f.Add([]byte(ruleYAML))
	f.Add([]byte("id: x\nname: n\nseverity: High\nkind: NRT\nquery: |\n  AuditLogs\n  | extend u = tostring(InitiatedBy.user.userPrincipalName)\nentityMappings:\n  - entityType: Account\n    fieldMappings:\n      - identifier: FullName\n        columnName: u\nalertDetailsOverride:\n  alertDisplayNameFormat: '{{u}} {{'\n"))
	f.Add([]byte("severity: Low\nqueryFrequency: PT5M\nqueryPeriod: P1D\ntriggerOperator: lt\ntriggerThreshold: 1\nquery: \"Syslog | summarize count() by Computer\"\neventGroupingSettings: {aggregationKind: SingleAlert}\n"))
	f.Add([]byte("query: x\nkind: [a]\n---\n- 1\n"))
	var recs []*record.Record
	for _, s := range fuzzRecords {
		var p fastjson.Parser
		v, err := p.Parse(s)
		if err != nil {
			f.Fatal(err)
		}
		r := &record.Record{Root: v, Raw: []byte(s)}
		r.Classify()
		r.Source = record.Source{File: "records.json", Line: int64(len(recs) + 1)}
		recs = append(recs, r)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rules, probs := Parse("fuzz.yaml", b)
		for _, p := range probs {
			if p.File != "fuzz.yaml" || strings.TrimSpace(p.Msg) == "" || p.Line < 0 || p.Col < 0 {
				t.Fatalf("problem without a file, a message or a position: %#v", p)
			}
		}
		rules, _ = Unique(rules)
		if len(rules) == 0 {
			return
		}
		set := NewSet(rules, Options{Now: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)})
		for _, d := range set.Detectors() {
			for _, r := range recs {
				d.Detect(r, func(*alert.Alert) {})
			}
		}
		for _, d := range set.Detectors() {
			d.Finish(func(a *alert.Alert) {
				if a.Rule != d.Info().ID || a.Severity == 0 {
					t.Fatalf("alert %+v of rule %s", a, d.Info().ID)
				}
			})
		}
	})
}
