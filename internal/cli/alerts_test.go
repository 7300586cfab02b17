package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/store"
	"github.com/entrawatch/entrawatch/internal/store/sqlite"
)

// alertsDB makes a store holding two alerts: a high one seen an hour ago
// and a low one seen ten days ago; it returns the path and their ids.
func alertsDB(t *testing.T) (string, string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "entrawatch.db")
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now().UTC()
	res, err := st.Commit(context.Background(), &store.Batch{
		Events: []store.Event{{Tenant: "contoso", Source: "graph/signins", Kind: "signin", ID: "s1", Time: now.Add(-time.Hour), Raw: []byte(`{"id":"s1"}`)}},
		Alerts: []store.NewAlert{
			{Alert: &alert.Alert{Rule: "noncompliant-device-signin", Title: "t", Severity: alert.High, Time: now.Add(-time.Hour), Summary: "alice signed in from a non-compliant device\x1b[31m"},
				Tenant: "contoso", Key: "k1", Group: "g1", EventIDs: []store.EventRef{{Kind: "signin", ID: "s1"}}},
			{Alert: &alert.Alert{Rule: "stale-device", Title: "t", Severity: alert.Low, Time: now.Add(-240 * time.Hour), Summary: "device X is stale"},
				Tenant: "contoso", Key: "k2", Group: "g2"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var high, low string
	for _, a := range res.Created {
		if a.Rule == "stale-device" {
			low = a.ID
		} else {
			high = a.ID
		}
	}
	return path, high, low
}

func TestAlertsCommands(t *testing.T) {
	db, high, low := alertsDB(t)
	code, out, errs := runCLI(t, "", "alerts", "list", "--db", db)
	if code != 0 || !strings.Contains(out, high) || !strings.Contains(out, low) {
		t.Fatalf("alerts list: %d\n%s%s", code, out, errs)
	}
	if strings.Contains(out, "\x1b") {
		t.Error("alerts list printed a raw escape character from a summary")
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--severity", "high"}, []string{high}},
		{[]string{"--since", "2d"}, []string{high}},
		{[]string{"--since", "24h", "--rule", "stale-device"}, nil},
		{[]string{"--rule", "stale-device,noncompliant-device-signin"}, []string{high, low}},
	} {
		code, out, errs := runCLI(t, "", append([]string{"alerts", "list", "--db", db, "-o", "json"}, c.args...)...)
		if code != 0 {
			t.Fatalf("%v: %d %s", c.args, code, errs)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if line == "" {
				continue
			}
			var a struct{ ID string }
			if err := json.Unmarshal([]byte(line), &a); err != nil {
				t.Fatalf("%v: %v in %q", c.args, err, line)
			}
			got = append(got, a.ID)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("alerts list %v = %v, want %v", c.args, got, c.want)
		}
	}
	if code, _, errs := runCLI(t, "", "alerts", "list", "--db", db, "--since", "yesterday"); code != 2 || !strings.Contains(errs, "yesterday") {
		t.Errorf("a bad --since: %d %s", code, errs)
	}

	if code, out, errs := runCLI(t, "", "alerts", "ack", "--db", db, "-m", "known kiosk", "--author", "sam", high); code != 0 || strings.TrimSpace(out) != high+" acknowledged" {
		t.Fatalf("alerts ack: %d %q %s", code, out, errs)
	}
	code, out, errs = runCLI(t, "", "alerts", "show", "--db", db, high)
	if code != 0 {
		t.Fatalf("alerts show: %d %s", code, errs)
	}
	var shown struct {
		Status   string `json:"status"`
		Notes    []store.Note
		Evidence []struct {
			Kind   string          `json:"kind"`
			ID     string          `json:"id"`
			Record json.RawMessage `json:"record"`
		} `json:"evidence"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatal(err)
	}
	if shown.Status != "acknowledged" || len(shown.Notes) != 1 || shown.Notes[0].Text != "known kiosk" || shown.Notes[0].Author != "sam" {
		t.Errorf("alerts show after ack: %+v", shown)
	}
	var rec bytes.Buffer
	if len(shown.Evidence) == 1 {
		json.Compact(&rec, shown.Evidence[0].Record)
	}
	if len(shown.Evidence) != 1 || shown.Evidence[0].ID != "s1" || rec.String() != `{"id":"s1"}` {
		t.Errorf("alerts show evidence: %+v", shown.Evidence)
	}
	if code, out, _ := runCLI(t, "", "alerts", "close", "--db", db, high, low); code != 0 || strings.Count(out, "closed") != 2 {
		t.Errorf("alerts close: %d %q", code, out)
	}
	if code, out, _ := runCLI(t, "", "alerts", "list", "--db", db, "--status", "new"); code != 0 || strings.Contains(out, high) {
		t.Errorf("closed alerts listed as new: %q", out)
	}
	if code, _, errs := runCLI(t, "", "alerts", "ack", "--db", db, "0000000000000000"); code != 1 || !strings.Contains(errs, "not found") {
		t.Errorf("an unknown id: %d %s", code, errs)
	}
	if code, _, errs := runCLI(t, "", "alerts", "list", "--db", filepath.Join(t.TempDir(), "none.db")); code != 2 || !strings.Contains(errs, "none.db") {
		t.Errorf("a missing store: %d %s", code, errs)
	}
}
