package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/store"
)

func TestNewUnknownType(t *testing.T) {
	_, err := New("pagerduty", Config{Name: "oncall"})
	if err == nil {
		t.Fatal("New(pagerduty) succeeded")
	}
	for _, want := range []string{`"oncall"`, `"pagerduty"`, "file, slack, splunk, stdout, syslog, teams, webhook"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("registering webhook twice did not panic")
		}
	}()
	Register("webhook", newWebhook)
}

func TestNewConfigErrors(t *testing.T) {
	tests := []struct {
		typ  string
		cfg  Config
		want string
	}{
		{"file", Config{}, "path is required"},
		{"file", Config{Path: filepath.Join(t.TempDir(), "no", "such", "dir", "x")}, "no such file"},
		{"webhook", Config{URL: "ftp://x/y"}, "want an absolute http or https URL"},
		{"webhook", Config{URL: "https://h/p", Headers: map[string]string{"X-A": "a\r\nInjected: 1"}}, `header "X-A"`},
		{"slack", Config{URL: "hooks.slack.com/services/T0/B0/SECRETPATH"}, "want an absolute"},
		{"syslog", Config{Network: "sctp", Address: "h:514"}, `network "sctp"`},
		{"syslog", Config{Network: "tcp", Address: "nohostport"}, "want host:port"},
		{"syslog", Config{Network: "tls", Address: "h:6514", CAFile: "/nonexistent/ca.pem"}, "ca_file"},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"/"+tt.want, func(t *testing.T) {
			_, err := New(tt.typ, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New(%s) error = %v, want one containing %q", tt.typ, err, tt.want)
			}
			if strings.Contains(err.Error(), "SECRETPATH") {
				t.Errorf("error shows the secret URL: %v", err)
			}
		})
	}
}

func TestPayloadJSON(t *testing.T) {
	body, err := json.Marshal(samplePayload())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "payload.json", body)
}

func TestNewPayloadBounds(t *testing.T) {
	a := sampleAlert()
	a.Summary = strings.Repeat("é", MaxSummaryBytes) // 2 bytes each
	a.Entities.User = "bad\xffutf8"
	for range 100 {
		a.Details = append(a.Details, alert.Detail{Name: "n", Value: "v"})
	}
	p := NewPayload(a, "")
	if len(p.Summary) > MaxSummaryBytes || !strings.HasSuffix(p.Summary, "…") {
		t.Errorf("summary is %d bytes, want at most %d ending in an ellipsis", len(p.Summary), MaxSummaryBytes)
	}
	if p.Entities.User != "bad\uFFFDutf8" {
		t.Errorf("user = %q, want invalid UTF-8 replaced", p.Entities.User)
	}
	if len(p.Details) != MaxDetails {
		t.Errorf("%d details kept, want %d", len(p.Details), MaxDetails)
	}
	if p.Details[0].Name != "app" || p.Details[1].Name != "conditional_access" {
		t.Errorf("details out of order: %v", p.Details[:2])
	}
	if empty := NewPayload(&store.Alert{}, ""); empty.Details == nil {
		t.Error("details of an alert without any are null, want []")
	}
}

func TestErrors(t *testing.T) {
	e := &Error{Sink: "s", Permanent: true, msg: "boom"}
	wrapped := fmt.Errorf("outer: %w", e)
	if !IsPermanent(wrapped) {
		t.Error("IsPermanent(wrapped permanent Error) = false")
	}
	if IsPermanent(errors.New("x")) || IsPermanent(nil) {
		t.Error("IsPermanent of a plain error = true")
	}
	if !IsPermanent(Permanent(errors.New("bad config"))) {
		t.Error("IsPermanent(Permanent(err)) = false")
	}
	if _, ok := RetryAfter(wrapped); ok {
		t.Error("RetryAfter of an Error without one reported one")
	}
	r := &Error{Sink: "s", RetryAfter: 30 * time.Second, msg: "busy"}
	if d, ok := RetryAfter(fmt.Errorf("x: %w", r)); !ok || d != 30*time.Second {
		t.Errorf("RetryAfter = %v, %v; want 30s, true", d, ok)
	}
	if got := r.Error(); got != `sink "s": busy (retry after 30s)` {
		t.Errorf("Error() = %q", got)
	}
	c := newError("s", []string{"tok3n"}, "bad tok3n here", fmt.Errorf("x: %w", context.Canceled))
	if !errors.Is(c, context.Canceled) || strings.Contains(c.Error(), "tok3n") {
		t.Errorf("newError = %q (is Canceled: %v), want secret replaced and Canceled kept", c, errors.Is(c, context.Canceled))
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{" 5 ", 5 * time.Second},
		{"0", 0},
		{"-3", 0},
		{"999999999999", MaxRetryAfter},
		{"Fri, 27 Nov 2026 10:01:30 GMT", 90 * time.Second},
		{"Fri, 27 Nov 2026 09:00:00 GMT", 0},
		{"Fri, 27 Nov 2099 09:00:00 GMT", MaxRetryAfter},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.in, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestDeliveryContext(t *testing.T) {
	if id := DeliveryID(context.Background()); id != "" {
		t.Errorf("DeliveryID(empty) = %q", id)
	}
	if id := DeliveryID(WithDelivery(context.Background(), "42")); id != "42" {
		t.Errorf("DeliveryID = %q, want 42", id)
	}
}

func TestStdout(t *testing.T) {
	var out strings.Builder
	s := newSink(t, "stdout", Config{Out: &out})
	if err := s.Send(context.Background(), samplePayload()); err != nil {
		t.Fatal(err)
	}
	want := "2026-11-27T10:00:00Z HIGH noncompliant-device-signin contoso  alice@contoso.com signed in to Office 365 from non-compliant device LAPTOP-7 https://entrawatch.example.com/alerts/a-01JDX9Q7ZK\n"
	if out.String() != want {
		t.Errorf("stdout line\n got %q\nwant %q", out.String(), want)
	}
	if s.Name() != "stdout" {
		t.Errorf("Name() = %q, want the type when no name is set", s.Name())
	}
}

func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "alerts.jsonl")
	if err := os.WriteFile(path, []byte("{\"earlier\":true}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, "file", Config{Name: "archive", Path: path})
	for range 2 {
		if err := s.Send(context.Background(), samplePayload()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.(*File).Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 || lines[0] != `{"earlier":true}` {
		t.Fatalf("file holds %d lines, want the earlier one and 2 appended:\n%s", len(lines), data)
	}
	var p Payload
	if err := json.Unmarshal([]byte(lines[2]), &p); err != nil || p.ID != "a-01JDX9Q7ZK" || p.Count != 2 {
		t.Errorf("line 3 = %s (%v), want the alert", lines[2], err)
	}
	path2 := filepath.Join(t.TempDir(), "new.jsonl")
	newSink(t, "file", Config{Path: path2})
	if fi, err := os.Stat(path2); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("new file mode = %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if err := s.Send(context.Background(), samplePayload()); err == nil || !IsPermanent(err) {
		t.Errorf("Send after Close = %v, want a permanent error", err)
	}
}
