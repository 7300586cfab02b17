package sink_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/sink"
	"github.com/entrawatch/entrawatch/internal/store"
)

func ExampleNew() {
	s, err := sink.New("stdout", sink.Config{Name: "console", Out: os.Stdout})
	if err != nil {
		fmt.Println(err)
		return
	}
	a := &store.Alert{
		ID: "a1", Rule: "noncompliant-device-signin", Severity: alert.High, Tenant: "contoso",
		Summary:  "alice signed in from non-compliant device LAPTOP-7\x1b[2J",
		LastSeen: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
	}
	if err := s.Send(context.Background(), sink.NewPayload(a, "")); err != nil {
		fmt.Println(err)
	}
	_, err = sink.New("pagerduty", sink.Config{Name: "oncall"})
	fmt.Println(err)
	// Output:
	// 2026-11-27T10:00:00Z HIGH noncompliant-device-signin contoso  alice signed in from non-compliant device LAPTOP-7\x1b[2J
	// sink "oncall": unknown type "pagerduty" (registered: file, slack, splunk, stdout, syslog, teams, webhook)
}

func ExampleVerifySignature() {
	// What a receiver does with a webhook request.
	secret := []byte("whsec_0123456789")
	body := []byte(`{"id":"a1"}`)
	now := time.Unix(1795773600, 0)
	header := map[string][]string{
		sink.HeaderTimestamp: {"1795773600"},
		sink.HeaderSignature: {sink.Sign(secret, 1795773600, body)},
	}
	fmt.Println(header[sink.HeaderSignature][0])
	fmt.Println(sink.VerifySignature(secret, header, body, now, 5*time.Minute))
	fmt.Println(sink.VerifySignature(secret, header, []byte(`{"id":"a2"}`), now, 5*time.Minute))
	// Output:
	// sha256=97d11465c55ac9bfa969b535ced562166019f5504b8529999538a095a87342f3
	// <nil>
	// X-Entrawatch-Signature: does not match the body
}
