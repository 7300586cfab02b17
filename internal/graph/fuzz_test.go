package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// bodyTransport answers every request with the same status and body.
type bodyTransport struct {
	status int
	header http.Header
	body   []byte
}

func (b *bodyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: b.status, Header: b.header.Clone(), Body: io.NopCloser(bytes.NewReader(b.body)), Request: r}, nil
}

const fuzzToken = "fuzz-bearer-token-7c1d"

// FuzzResponses feeds whatever a Graph endpoint (or something posing as
// one) may answer — any page body, error body, status and Retry-After
// headers — through the client: it must never panic, hand out anything but
// valid JSON items, wait longer than it allows, or show the bearer token.
func FuzzResponses(f *testing.F) {
	f.Add(200, []byte(`{"value":[{"id":"1"},{"id":"2"}]}`), "", "")
	f.Add(200, []byte(`{"value":[{"id":"1"}],"@odata.nextLink":"https://graph.example/v1.0/devices?$skiptoken=2"}`), "", "")
	f.Add(200, []byte(`{"value":[],"@odata.nextLink":"https://evil.example/steal"}`), "", "")
	f.Add(200, []byte(`{"value":{"id":"1"}}`), "", "")
	f.Add(403, []byte(`{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges `+fuzzToken+`","innerError":{"request-id":"r1"}}}`), "", "")
	f.Add(429, []byte(`{"error":{"code":"TooManyRequests"}}`), "2", "")
	f.Add(503, []byte("<html>down</html>"), "Wed, 21 Oct 2015 07:28:00 GMT", "1500")
	f.Add(200, []byte(`[1,2,3]`), "", "")
	f.Add(200, []byte(`{"value":[{"a":"\ud800"}]}`), "-1", "1e300")
	f.Fuzz(func(t *testing.T, status int, body []byte, retry, retryMS string) {
		if status < 100 || status > 599 {
			status = 200
		}
		h := http.Header{}
		h.Set("Retry-After", retry)
		h.Set("x-ms-retry-after-ms", retryMS)
		if d, ok := retryAfter(h, time.Unix(1_700_000_000, 0)); ok && (d < 0 || d > maxRetryAfter) {
			t.Fatalf("retryAfter(%q, %q) = %v, outside [0, %v]", retry, retryMS, d, maxRetryAfter)
		}
		e := newError(status, h, body, "/beta/auditLogs/signIns", fuzzToken)
		if strings.Contains(e.Error(), fuzzToken) {
			t.Fatalf("the token shows in the error: %s", e.Error())
		}
		var slept time.Duration
		c, err := New("https://graph.example", StaticToken(fuzzToken),
			WithHTTPClient(&http.Client{Transport: &bodyTransport{status: status, header: h, body: body}}),
			WithMaxRetries(2),
			WithSleep(func(ctx context.Context, d time.Duration) error { slept += d; return nil }))
		if err != nil {
			t.Fatal(err)
		}
		items := 0
		err = c.List(context.Background(), "/v1.0/devices", func(item []byte) error {
			if !json.Valid(item) {
				t.Fatalf("item is not valid JSON: %q", item)
			}
			if items++; items > 100_000 {
				t.Fatal("the listing does not end")
			}
			return nil
		})
		if err != nil && strings.Contains(err.Error(), fuzzToken) {
			t.Fatalf("the token shows in the error: %v", err)
		}
		if slept > 3*maxRetryAfter {
			t.Fatalf("slept %v over two retries", slept)
		}
	})
}
