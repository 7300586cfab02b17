package kql

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestStreamOverManyRecords runs queries over 2,000 generated sign-ins,
// many batches spread over scan's workers: streamed, loaded and written
// as JSON by the workers, they give what Run gives over Load's database,
// errors included — the error of the earliest operator pass that fails,
// at its first row, wherever the workers met errors first.
func TestStreamOverManyRecords(t *testing.T) {
	path := genSignins(t, t.TempDir(), 2000, 7)
	cfg := LoadConfig{Paths: []string{path}, Now: goldenNow}
	db, _, err := Load(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	db.Now = goldenNow
	for _, src := range []string{
		`SigninLogs | where DeviceDetail.isCompliant == false | where ConditionalAccessStatus == "success"`,
		`SigninLogs | where isempty(DeviceDetail.deviceId) | where AuthenticationRequirement == "singleFactorAuthentication" | where ResultType == "0" | where NetworkLocationDetails == "[]"`,
		`SigninLogs | where ResourceDisplayName == "Device Registration Service" | where ConditionalAccessStatus == "success" | where AuthenticationRequirement <> "multiFactorAuthentication"`,
		`SigninLogs | summarize count() by bin(TimeGenerated, 1h), UserPrincipalName`,
		`AADNonInteractiveUserSignInLogs | summarize arg_max(TimeGenerated, *) by UserPrincipalName | order by UserPrincipalName asc | take 20`,
		`SigninLogs | top 7 by DeviceDetail.deviceId desc nulls first`,
		`SigninLogs | order by UserPrincipalName asc, TimeGenerated desc | take 9 | project UserPrincipalName, TimeGenerated, Id`,
		`SigninLogs | order by TimeGenerated asc | project Id, UserPrincipalName, DeviceDetail | take 30`,
		`SigninLogs | where TimeGenerated > ago(1d) | summarize dcount(UserPrincipalName), make_list(Id, 3)`,
		`SigninLogs | project Id, UserPrincipalName, Status | where Status.errorCode != 0 | take 40`,
		`SigninLogs | distinct UserPrincipalName, ResultType | count`,
		// errors: each where fails on other rows; the first where's error
		// comes first, wherever its first failing row is
		`SigninLogs | where iff(ResultType == "50126", Identity > 1, true) | where iff(DeviceDetail.isCompliant == false, Identity < 1, true)`,
		`SigninLogs | where iff(DeviceDetail.isCompliant == false, Identity < 1, true) | where iff(ResultType == "50126", Identity > 1, true)`,
		`SigninLogs | extend A = iff(UserPrincipalName == "user499@contoso.com", Identity + 1, 0), B = iff(ResultType == "50126", Identity * 2, 0)`,
		`SigninLogs | where iff(UserPrincipalName == "user498@contoso.com", Identity > 1, true) | summarize sum(iff(ResultType == "50126", Identity, ""))`,
		`SigninLogs | summarize sum(iff(ResultType == "50126", Identity, "")) | where iff(true, Identity > 1, true)`,
		`SigninLogs | top 3 by iff(ResultType == "50126", Identity + 1, 0)`,
	} {
		q, err := Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		want := outcome(Run(q, db))
		if got := outcome3(Exec(context.Background(), q, cfg)); got != want {
			t.Errorf("%s\nExec:\n%.2000s\nwant:\n%.2000s", src, got, want)
		}
		if table, ok := analyze(q).streamSource(q); !ok {
			t.Errorf("%s: not streamed", src)
		} else if res, _, err := execStream(context.Background(), q, analyze(q), table, cfg, goldenNow, true); jsonOnly(outcomeOf(res, err)) != jsonOnly(want) {
			got := outcomeOf(res, err)
			t.Errorf("%s\nstreamed as JSON:\n%.2000s\nwant:\n%.2000s", src, got, want)
		}
		if got := outcome3(execLoaded(context.Background(), q, analyze(q), cfg, goldenNow)); got != want {
			t.Errorf("%s\nloaded:\n%.2000s\nwant:\n%.2000s", src, got, want)
		}
	}
}

// TestTakeStopsEarly checks that take stops reading once it has its rows,
// and that a where over the records it read still applies.
func TestTakeStopsEarly(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2)) // scan keeps 2 batches per worker in flight
	const n = 50000
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"Type":"SigninLogs","TimeGenerated":"2026-11-20T10:00:00Z","Id":"r%d","ResultType":"%d"}`+"\n", i, i%3)
	}
	path := filepath.Join(t.TempDir(), "many.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		query, want string
		maxRead     int64
	}{
		{`SigninLogs | take 5 | project Id`, "r0 r1 r2 r3 r4", n / 5},
		{`SigninLogs | where ResultType == "2" | take 3 | project Id`, "r2 r5 r8", n / 5},
		{`SigninLogs | where Id == "r49999" | take 1 | project Id`, "r49999", n},
	} {
		q, err := Parse(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		res, stats, err := Exec(context.Background(), q, LoadConfig{Paths: []string{path}})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range res.Rows {
			ids = append(ids, r[0].S)
		}
		if got := strings.Join(ids, " "); got != tt.want || stats.Records > tt.maxRead {
			t.Errorf("%s: rows %q after reading %d of %d records, want %q reading at most %d", tt.query, got, stats.Records, n, tt.want, tt.maxRead)
		}
	}
}
