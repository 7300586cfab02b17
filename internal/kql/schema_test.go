package kql

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestRowConversion checks the column conversions over records of different
// shapes: a Graph sign-in (numeric errorCode, arrays as arrays) and a Log
// Analytics row whose dynamic columns are JSON text.
func TestRowConversion(t *testing.T) {
	dir := t.TempDir()
	graph := `{"value":[{"id":"g1","createdDateTime":"2026-11-20T10:00:00.1234567Z","userPrincipalName":"a@contoso.com","status":{"errorCode":0},"networkLocationDetails":[],"deviceDetail":{"deviceId":"","isCompliant":"false"},"isInteractive":true,"conditionalAccessStatus":"success"}]}`
	la := `{"Type":"SigninLogs","TimeGenerated":"11/20/2026, 9:14:03.512 AM","Id":"l1","ResultType":"50126","DeviceDetail":"{\"deviceId\":\"d1\",\"isCompliant\":true}","NetworkLocationDetails":"[]","DurationMs":"12","IsInteractive":"True"}`
	if err := os.WriteFile(filepath.Join(dir, "graph.json"), []byte(graph), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "la.jsonl"), []byte(la+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db, _, err := Load(context.Background(), LoadConfig{Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse(`SigninLogs | project Id, TimeGenerated, ResultType, NetworkLocationDetails, DeviceDetail, DurationMs, IsInteractive, Type,
		Compliant = DeviceDetail.isCompliant, Missing = UserAgent | order by Id asc`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(q, db)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"Id":"g1","TimeGenerated":"2026-11-20T10:00:00.1234567Z","ResultType":"0","NetworkLocationDetails":"[]","DeviceDetail":{"deviceId":"","isCompliant":false},"DurationMs":null,"IsInteractive":true,"Type":"SigninLogs","Compliant":false,"Missing":""}`,
		`{"Id":"l1","TimeGenerated":"2026-11-20T09:14:03.512Z","ResultType":"50126","NetworkLocationDetails":"[]","DeviceDetail":{"deviceId":"d1","isCompliant":true},"DurationMs":12,"IsInteractive":true,"Type":"SigninLogs","Compliant":true,"Missing":""}`,
	}
	if len(res.Rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(res.Rows), len(want))
	}
	for i, r := range res.Rows {
		b := []byte{'{'}
		for j, c := range res.Columns {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, c.Name)
			b = append(b, ':')
			b = r[j].AppendJSON(b)
		}
		b = append(b, '}')
		if string(b) != want[i] {
			t.Errorf("row %d:\n got %s\nwant %s", i, b, want[i])
		}
	}
}
