package catalog_test

import (
	"fmt"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	_ "github.com/entrawatch/entrawatch/internal/catalog"
	"github.com/entrawatch/entrawatch/internal/detect"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/valyala/fastjson"
)

func ExampleEngine() {
	eng, _ := detect.NewEngine(detect.Options{Now: time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)})
	var p fastjson.Parser
	v, _ := p.Parse(`{"activityDisplayName":"Read BitLocker key","activityDateTime":"2026-11-20T08:00:00Z","initiatedBy":{"user":{"userPrincipalName":"helpdesk@contoso.com","ipAddress":"198.51.100.7"}},"targetResources":[{"displayName":"b0a1c2d3-key","type":"Other"}]}`)
	r := &record.Record{Root: v}
	r.Classify()
	eng.Detect(r, func(a *alert.Alert) { fmt.Println(a.Rule, a.Severity, a.Summary) })
	// Output: bitlocker-key-read medium helpdesk@contoso.com read BitLocker recovery key b0a1c2d3-key of device unknown from 198.51.100.7
}
