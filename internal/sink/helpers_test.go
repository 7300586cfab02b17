package sink

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixedNow is the clock of every test sink.
var fixedNow = time.Date(2026, 11, 27, 10, 0, 5, 0, time.UTC)

func fixedClock() time.Time { return fixedNow }

func sampleAlert() *store.Alert {
	return &store.Alert{
		ID:       "a-01JDX9Q7ZK",
		Rule:     "noncompliant-device-signin",
		Title:    "Sign-in from a non-compliant device",
		Severity: alert.High,
		Tenant:   "contoso",
		Status:   store.StatusNew,
		Summary:  "alice@contoso.com signed in to Office 365 from non-compliant device LAPTOP-7",
		Entities: alert.Entities{User: "alice@contoso.com", DeviceID: "3f2a9c1e-0000-4000-8000-00000000abcd",
			DeviceName: "LAPTOP-7", IP: "203.0.113.9"},
		Details:   []alert.Detail{{Name: "app", Value: "Office 365"}, {Name: "conditional_access", Value: "notApplied"}},
		FirstSeen: time.Date(2026, 11, 27, 9, 58, 0, 0, time.UTC),
		LastSeen:  time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
		Count:     2,
		Source:    "graph/signins",
	}
}

func samplePayload() *Payload {
	return NewPayload(sampleAlert(), "https://entrawatch.example.com/alerts/a-01JDX9Q7ZK")
}

// evil holds every character that has a meaning in one of the formats.
const evil = "evil|x=y\nz\r<script>alert(1)</script>\\ & *b* [l](http://x) \x1b[31m\u202e"

// evilPayload is the sample with attacker-chosen text in every free field.
func evilPayload() *Payload {
	a := sampleAlert()
	a.Entities.DeviceName = evil
	a.Entities.User = evil
	a.Title = evil
	a.Rule = "rule|" + evil
	a.Tenant = evil
	a.Summary = evil
	a.Details = []alert.Detail{{Name: evil, Value: evil}}
	return NewPayload(a, "")
}

// golden compares a JSON body, indented, with testdata/name.
func golden(t *testing.T, name string, body []byte) {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, body, "", "  "); err != nil {
		t.Fatalf("%s: body is not JSON: %v\n%s", name, err, body)
	}
	out.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("%s differs from golden file:\n got: %s\nwant: %s", name, out.Bytes(), want)
	}
}

// newSink builds a sink of typ or fails the test.
func newSink(t *testing.T, typ string, cfg Config) Sink {
	t.Helper()
	if cfg.Clock == nil {
		cfg.Clock = fixedClock
	}
	if cfg.Hostname == "" {
		cfg.Hostname = "ew-host"
	}
	if cfg.Version == "" {
		cfg.Version = "1.2.3"
	}
	s, err := New(typ, cfg)
	if err != nil {
		t.Fatalf("New(%q): %v", typ, err)
	}
	return s
}
