package sentinel_test

import (
	"fmt"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/sentinel"
	"github.com/valyala/fastjson"
)

func ExampleNewSet() {
	rules, problems := sentinel.Parse("bitlocker.yaml", []byte(`id: 5e471f1a-0001-4000-8000-000000000001
name: BitLocker key read
severity: Medium
queryFrequency: 1h
queryPeriod: 14d
triggerOperator: gt
triggerThreshold: 0
query: |
  AuditLogs
  | where OperationName =~ "Read BitLocker key"
  | extend Initiator = tostring(InitiatedBy.user.userPrincipalName)
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: Initiator
`))
	fmt.Println(len(rules), "rule,", len(problems), "problems; reads", rules[0].Tables)

	set := sentinel.NewSet(rules, sentinel.Options{Now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)})
	var p fastjson.Parser
	v, _ := p.Parse(`{"activityDisplayName":"Read BitLocker key","activityDateTime":"2026-11-20T08:00:00Z","initiatedBy":{"user":{"userPrincipalName":"helpdesk@contoso.com"}}}`)
	r := &record.Record{Root: v, Source: record.Source{File: "audit.json", Line: 1}}
	r.Classify()
	for _, d := range set.Detectors() {
		d.Detect(r, nil) // as the scan engine does, for every record
	}
	for _, d := range set.Detectors() {
		d.Finish(func(a *alert.Alert) { // once every record is read
			fmt.Println(a.Rule, a.Severity, a.Time.Format(time.RFC3339), a.Entities.User, a.Source.File)
		})
	}
	// Output:
	// 1 rule, 0 problems; reads [AuditLogs]
	// sentinel:5e471f1a-0001-4000-8000-000000000001 medium 2026-11-20T08:00:00Z helpdesk@contoso.com audit.json
}
