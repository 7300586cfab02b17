package kql_test

import (
	"context"
	"fmt"
	"os"

	"github.com/entrawatch/entrawatch/internal/kql"
)

// A query over one table is evaluated while the records are read: only
// the rows that come out are held.
func ExampleExecWrite() {
	q, err := kql.Parse(`SigninLogs | where DeviceDetail.isCompliant == false | project Id, UserPrincipalName`)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := kql.LoadConfig{Paths: []string{"../../testdata/kql/fixtures"}}
	if _, err := kql.ExecWrite(context.Background(), q, cfg, os.Stdout, "json"); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"Id":"si-1","UserPrincipalName":"adele.vance@contoso.com"}
	// {"Id":"si-3","UserPrincipalName":"adele.vance@contoso.com"}
}

// Exec returns the result as a table; summarize aggregates the rows as
// they come.
func ExampleExec() {
	q, err := kql.Parse(`SigninLogs | where ConditionalAccessStatus == "success" | summarize Signins = count() by UserPrincipalName | order by UserPrincipalName asc`)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, _, err := kql.Exec(context.Background(), q, kql.LoadConfig{Paths: []string{"../../testdata/kql/fixtures"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Rows {
		fmt.Println(r[0].Text(), r[1].Text())
	}
	// Output:
	// adele.vance@contoso.com 1
	// alex.wilber@contoso.com 1
}
