package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const secretToken = "eyJ0eXAi.SECRET-BEARER-TOKEN.sig"

// recorder records the waits a Client asks for instead of sleeping.
type recorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.sleeps = append(r.sleeps, d)
	r.mu.Unlock()
	return ctx.Err()
}

type fakeObserver struct {
	mu        sync.Mutex
	requests  []string
	throttled []time.Duration
}

func (o *fakeObserver) Request(path string, status int, _ time.Duration) {
	o.mu.Lock()
	o.requests = append(o.requests, fmt.Sprintf("%s %d", path, status))
	o.mu.Unlock()
}

func (o *fakeObserver) Throttled(_ string, d time.Duration) {
	o.mu.Lock()
	o.throttled = append(o.throttled, d)
	o.mu.Unlock()
}

// newTestClient starts h on a loopback server and returns a client for it
// whose waits are recorded, not slept.
func newTestClient(t *testing.T, h http.HandlerFunc, opts ...Option) (*Client, *httptest.Server, *recorder) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	rec := &recorder{}
	all := append([]Option{WithSleep(rec.sleep), WithHTTPClient(srv.Client()), WithUserAgent("entrawatch/test")}, opts...)
	c, err := New(srv.URL, StaticToken(secretToken), all...)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv, rec
}

func collect(items *[]string) func([]byte) error {
	return func(b []byte) error { *items = append(*items, string(b)); return nil }
}

func TestListFollowsNextLinkAcrossPages(t *testing.T) {
	var got []string
	var srvURL string
	c, srv, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+secretToken || r.Header.Get("User-Agent") != "entrawatch/test" {
			t.Errorf("headers: %v", r.Header)
		}
		got = append(got, r.URL.RequestURI())
		switch r.URL.Query().Get("$skiptoken") {
		case "":
			fmt.Fprintf(w, `{"@odata.context":"x","value":[{"id":"1", "n": 1 },{"id":"2"}],"@odata.nextLink":"%s/beta/auditLogs/signIns?$top=2&$skiptoken=abc%%3D%%3D"}`, srvURL)
		case "abc==":
			fmt.Fprintf(w, `{"value":[{"id":"3"}],"@odata.nextLink":"%s/beta/auditLogs/signIns?$top=2&$skiptoken=page3"}`, srvURL)
		case "page3":
			fmt.Fprint(w, `{"value":[{"id":"4","s":"caf\u00e9 \"q\""}]}`)
		}
	})
	srvURL = srv.URL
	var items []string
	if err := c.List(context.Background(), "/beta/auditLogs/signIns?$top=2", collect(&items)); err != nil {
		t.Fatal(err)
	}
	wantItems := []string{`{"id":"1","n":1}`, `{"id":"2"}`, `{"id":"3"}`, `{"id":"4","s":"caf\u00e9 \"q\""}`}
	if strings.Join(items, "\n") != strings.Join(wantItems, "\n") {
		t.Errorf("items:\n%s\nwant\n%s", strings.Join(items, "\n"), strings.Join(wantItems, "\n"))
	}
	wantURIs := []string{"/beta/auditLogs/signIns?$top=2", "/beta/auditLogs/signIns?$top=2&$skiptoken=abc%3D%3D", "/beta/auditLogs/signIns?$top=2&$skiptoken=page3"}
	if strings.Join(got, "\n") != strings.Join(wantURIs, "\n") {
		t.Errorf("requests (nextLink must be followed verbatim):\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantURIs, "\n"))
	}
}

func TestListStopsOnCallbackError(t *testing.T) {
	calls := 0
	c, _, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		fmt.Fprint(w, `{"value":[{"id":"1"},{"id":"2"}],"@odata.nextLink":"/never"}`)
	})
	stop := errors.New("stop here")
	n := 0
	err := c.List(context.Background(), "/v1.0/devices", func([]byte) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 || calls != 1 {
		t.Errorf("err=%v items=%d calls=%d, want the callback's error after 1 item and 1 call", err, n, calls)
	}
}

func TestListDeltaReturnsDeltaLink(t *testing.T) {
	var srvURL string
	var uris []string
	c, srv, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		uris = append(uris, r.URL.RequestURI())
		if r.URL.Query().Get("$skiptoken") == "" && r.URL.Query().Get("$deltatoken") == "" {
			fmt.Fprintf(w, `{"value":[{"id":"d1"}],"@odata.nextLink":"%s/v1.0/devices/delta?$skiptoken=s1"}`, srvURL)
			return
		}
		fmt.Fprintf(w, `{"value":[{"id":"d2","@removed":{"reason":"deleted"}}],"@odata.deltaLink":"%s/v1.0/devices/delta?$deltatoken=tok9"}`, srvURL)
	})
	srvURL = srv.URL
	var items []string
	dl, err := c.DevicesDelta(context.Background(), "", collect(&items))
	if err != nil {
		t.Fatal(err)
	}
	if dl != srv.URL+"/v1.0/devices/delta?$deltatoken=tok9" || len(items) != 2 {
		t.Errorf("deltaLink=%q items=%v", dl, items)
	}
	if !strings.HasPrefix(uris[0], "/v1.0/devices/delta?$select=id%2CdeviceId") {
		t.Errorf("first delta request %q lacks $select", uris[0])
	}
	// The next round starts from the deltaLink verbatim.
	uris = nil
	if _, err := c.DevicesDelta(context.Background(), dl, collect(&items)); err != nil {
		t.Fatal(err)
	}
	if uris[0] != "/v1.0/devices/delta?$deltatoken=tok9" {
		t.Errorf("second round requested %q", uris[0])
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header [2]string
		want   time.Duration
	}{
		{"seconds", [2]string{"Retry-After", "2"}, 2 * time.Second},
		{"http date", [2]string{"Retry-After", now.Add(7 * time.Second).Format(http.TimeFormat)}, 7 * time.Second},
		{"milliseconds", [2]string{"x-ms-retry-after-ms", "1500"}, 1500 * time.Millisecond},
		{"huge is capped", [2]string{"Retry-After", "86400"}, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			obs := &fakeObserver{}
			c, _, rec := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				calls++
				if calls == 1 {
					w.Header().Set(tt.header[0], tt.header[1])
					w.WriteHeader(http.StatusTooManyRequests)
					fmt.Fprint(w, `{"error":{"code":"TooManyRequests","message":"Too many requests"}}`)
					return
				}
				fmt.Fprint(w, `{"id":"deviceRegistrationPolicy"}`)
			}, WithClock(func() time.Time { return now }), WithObserver(obs))
			body, err := c.Get(context.Background(), "/beta/policies/deviceRegistrationPolicy")
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != `{"id":"deviceRegistrationPolicy"}` {
				t.Errorf("body %s", body)
			}
			if len(rec.sleeps) != 1 || rec.sleeps[0] != tt.want {
				t.Errorf("sleeps = %v, want [%v]", rec.sleeps, tt.want)
			}
			if len(obs.throttled) != 1 || obs.throttled[0] != tt.want {
				t.Errorf("Throttled hook saw %v", obs.throttled)
			}
			if want := "/beta/policies/deviceRegistrationPolicy 429,/beta/policies/deviceRegistrationPolicy 200"; strings.Join(obs.requests, ",") != want {
				t.Errorf("Request hook saw %v", obs.requests)
			}
		})
	}
}

func TestRetryGivesUpAfterMaxRetries(t *testing.T) {
	calls := 0
	c, _, rec := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("request-id", "req-503")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":{"code":"serviceNotAvailable","message":"The service is temporarily unavailable."}}`)
	}, WithMaxRetries(3))
	err := c.List(context.Background(), "/v1.0/devices?$top=999", func([]byte) error { return nil })
	var gerr *Error
	if !errors.As(err, &gerr) {
		t.Fatalf("err = %v, want *Error", err)
	}
	if calls != 4 || gerr.Status != 503 || gerr.Attempts != 4 || gerr.RequestID != "req-503" {
		t.Errorf("calls=%d err=%+v", calls, gerr)
	}
	want := "graph: GET /v1.0/devices: 503 serviceNotAvailable: The service is temporarily unavailable. [request-id req-503] (gave up after 4 attempts)"
	if err.Error() != want {
		t.Errorf("error text\n%s\nwant\n%s", err, want)
	}
	// Exponential backoff with jitter: attempt i waits within [2^i s / 2, 2^i s].
	if len(rec.sleeps) != 3 {
		t.Fatalf("sleeps = %v", rec.sleeps)
	}
	for i, d := range rec.sleeps {
		hi := time.Second << i
		if d < hi/2 || d > hi {
			t.Errorf("sleep %d = %v, want within [%v, %v]", i, d, hi/2, hi)
		}
	}
}

func TestBackoffIsCapped(t *testing.T) {
	c, err := New("https://graph.microsoft.com", StaticToken("x"))
	if err != nil {
		t.Fatal(err)
	}
	c.jitter = func(n int64) int64 { return n - 1 } // maximum jitter
	tests := []struct {
		attempt int
		want    time.Duration
	}{{0, time.Second}, {1, 2 * time.Second}, {2, 4 * time.Second}, {5, 32 * time.Second}, {6, 60 * time.Second}, {40, 60 * time.Second}}
	for _, tt := range tests {
		if got := c.backoff(tt.attempt); got != tt.want {
			t.Errorf("backoff(%d) = %v, want %v", tt.attempt, got, tt.want)
		}
	}
}

func TestTransportErrorsAreRetried(t *testing.T) {
	calls := 0
	c, _, rec := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls < 3 {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close() // drop the connection: a transport error
			return
		}
		fmt.Fprint(w, `{"value":[]}`)
	})
	if err := c.List(context.Background(), "/v1.0/devices", func([]byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if calls != 3 || len(rec.sleeps) != 2 {
		t.Errorf("calls=%d sleeps=%v", calls, rec.sleeps)
	}
}

func TestErrorsNameWhatIsMissing(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		call     func(c *Client) error
		wantText []string
	}{
		{
			name:   "signIns 403 permission",
			status: 403,
			body:   `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"date":"2026-03-01T12:00:00","request-id":"rid-1","client-request-id":"rid-1"}}}`,
			call: func(c *Client) error {
				return c.SignIns(context.Background(), time.Unix(0, 0), time.Unix(3600, 0), nil, func([]byte) error { return nil })
			},
			wantText: []string{"graph: GET /beta/auditLogs/signIns: 403 Authorization_RequestDenied: Insufficient privileges to complete the operation. [request-id rid-1]", "AuditLog.Read.All", "Directory.Read.All", "P1 or P2 licence"},
		},
		{
			name:   "non-premium tenant",
			status: 403,
			body:   `{"error":{"code":"Authentication_RequestFromNonPremiumTenantOrB2CTenant","message":"Neither tenant is B2C or tenant doesn't have premium license","innerError":{"request-id":"rid-2"}}}`,
			call: func(c *Client) error {
				return c.SignIns(context.Background(), time.Unix(0, 0), time.Unix(3600, 0), nil, func([]byte) error { return nil })
			},
			wantText: []string{"403 Authentication_RequestFromNonPremiumTenantOrB2CTenant", "needs a Microsoft Entra ID P1 or P2 licence"},
		},
		{
			name:     "devices 403",
			status:   403,
			body:     `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}`,
			call:     func(c *Client) error { return c.Devices(context.Background(), func([]byte) error { return nil }) },
			wantText: []string{"GET /v1.0/devices: 403", "needs Device.Read.All"},
		},
		{
			name:   "audits 403",
			status: 403,
			body:   `{"error":{"code":"Authorization_RequestDenied","message":"x"}}`,
			call: func(c *Client) error {
				return c.DirectoryAudits(context.Background(), time.Unix(0, 0), time.Unix(1, 0), func([]byte) error { return nil })
			},
			wantText: []string{"needs AuditLog.Read.All"},
		},
		{
			name:   "CA policies 403",
			status: 403,
			body:   `{"error":{"code":"AccessDenied","message":"x"}}`,
			call: func(c *Client) error {
				return c.ConditionalAccessPolicies(context.Background(), func([]byte) error { return nil })
			},
			wantText: []string{"needs Policy.Read.All"},
		},
		{
			name:   "device registration policy 403",
			status: 403,
			body:   `{"error":{"code":"accessDenied","message":"x"}}`,
			call: func(c *Client) error {
				_, err := c.DeviceRegistrationPolicy(context.Background())
				return err
			},
			wantText: []string{"needs Policy.Read.DeviceConfiguration"},
		},
		{
			name:   "role assignments 401",
			status: 401,
			body:   `{"error":{"code":"InvalidAuthenticationToken","message":"Access token validation failure. Invalid audience."}}`,
			call: func(c *Client) error {
				return c.RoleAssignments(context.Background(), func([]byte) error { return nil })
			},
			wantText: []string{"401 InvalidAuthenticationToken", "token was rejected", "RoleManagement.Read.Directory"},
		},
		{
			name:   "PIM 403",
			status: 403,
			body:   `{"error":{"code":"AadPremiumLicenseRequired","message":"x"}}`,
			call: func(c *Client) error {
				return c.RoleEligibilitySchedules(context.Background(), func([]byte) error { return nil })
			},
			wantText: []string{"RoleManagement.Read.Directory", "P2 licence"},
		},
		{
			name:   "non-JSON 400 body",
			status: 400,
			body:   "<html>\r\nbad\x00request</html>",
			call: func(c *Client) error {
				return c.List(context.Background(), "/v1.0/devices?$filter=bad", func([]byte) error { return nil })
			},
			wantText: []string{"400 Bad Request: <html>  bad request</html>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, rec := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			})
			err := tt.call(c)
			var gerr *Error
			if !errors.As(err, &gerr) || gerr.Status != tt.status {
				t.Fatalf("err = %v, want *Error with status %d", err, tt.status)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			if len(rec.sleeps) != 0 {
				t.Errorf("a %d was retried", tt.status)
			}
		})
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	c, _, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		// A hostile or buggy server echoing the Authorization header back.
		w.Header().Set("request-id", r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"code":"%s","message":"bad token %s"}}`, r.Header.Get("Authorization"), r.Header.Get("Authorization"))
	})
	err := c.List(context.Background(), "/v1.0/devices", func([]byte) error { return nil })
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "SECRET-BEARER-TOKEN") || strings.Contains(fmt.Sprintf("%+v", err), "SECRET-BEARER-TOKEN") {
		t.Errorf("token leaked: %v", err)
	}
	if !strings.Contains(err.Error(), "[redacted token]") {
		t.Errorf("error %v does not show the redaction", err)
	}
}

func TestRefusesForeignLinks(t *testing.T) {
	var hits []string
	c, _, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, r.URL.RequestURI())
		fmt.Fprint(w, `{"value":[{"id":"1"}],"@odata.nextLink":"https://evil.example/v1.0/devices?$skiptoken=steal"}`)
	})
	var items []string
	err := c.List(context.Background(), "/v1.0/devices", collect(&items))
	if !errors.Is(err, ErrForeignLink) {
		t.Fatalf("err = %v, want ErrForeignLink", err)
	}
	for _, want := range []string{"@odata.nextLink", "https://evil.example", "page 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if len(hits) != 1 || len(items) != 1 {
		t.Errorf("hits=%v items=%v", hits, items)
	}
	// A deltaLink or absolute path to another host is refused before any request.
	if _, err := c.ListDelta(context.Background(), "https://evil.example/v1.0/devices/delta?$deltatoken=x", func([]byte) error { return nil }); !errors.Is(err, ErrForeignLink) {
		t.Errorf("foreign deltaLink: err = %v", err)
	}
	if _, err := c.Get(context.Background(), "//evil.example/x"); err == nil {
		t.Error("scheme-relative path accepted")
	}
	if len(hits) != 1 {
		t.Errorf("requests were sent to follow foreign links: %v", hits)
	}
}

func TestRefusesRedirects(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("redirect followed, Authorization=%q", r.Header.Get("Authorization"))
	}))
	defer other.Close()
	c, _, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	})
	var gerr *Error
	if _, err := c.Get(context.Background(), "/v1.0/devices/x"); !errors.As(err, &gerr) || gerr.Status != http.StatusFound {
		t.Errorf("err = %v, want a 302 *Error", err)
	}
}

func TestRefusesHugePages(t *testing.T) {
	tests := []struct {
		name          string
		contentLength bool
	}{{"declared length", true}, {"chunked", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, rec := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				body := `{"value":[{"pad":"` + strings.Repeat("A", 2048) + `"}]}`
				if tt.contentLength {
					w.Header().Set("Content-Length", fmt.Sprint(len(body)))
				} else {
					w.(http.Flusher).Flush() // forces chunked encoding, no length
				}
				fmt.Fprint(w, body)
			}, WithMaxResponseBytes(1024))
			called := false
			err := c.List(context.Background(), "/beta/auditLogs/signIns", func([]byte) error { called = true; return nil })
			if !errors.Is(err, ErrResponseTooLarge) || !strings.Contains(err.Error(), "1024-byte limit") || !strings.Contains(err.Error(), "/beta/auditLogs/signIns") {
				t.Errorf("err = %v", err)
			}
			if called || len(rec.sleeps) != 0 {
				t.Errorf("items delivered=%v retries=%v", called, rec.sleeps)
			}
		})
	}
}

func TestMalformedPages(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"value":[1,`, "page 1 is not valid JSON"},
		{`{"items":[]}`, `no "value" array`},
		{`{"value":{}}`, `no "value" array`},
		{`{"value":[],"@odata.nextLink":42}`, "@odata.nextLink is not a non-empty string"},
		{`[` + strings.Repeat(`[`, 400) + `]`, "not valid JSON"},
	}
	for _, tt := range tests {
		c, _, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, tt.body) })
		err := c.List(context.Background(), "/v1.0/devices", func([]byte) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "GET /v1.0/devices") {
			t.Errorf("body %.30q: err = %v, want %q", tt.body, err, tt.want)
		}
	}
}

func TestNextLinkLoopDetected(t *testing.T) {
	var srvURL string
	c, srv, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"value":[],"@odata.nextLink":"%s/v1.0/devices?$skiptoken=same"}`, srvURL)
	})
	srvURL = srv.URL
	err := c.List(context.Background(), srv.URL+"/v1.0/devices?$skiptoken=same", func([]byte) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "same page") {
		t.Errorf("err = %v", err)
	}
}

func TestContextCancelDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	// The caller gives up just as the client starts its hour-long wait; the
	// real sleep must return at once.
	c, err := New(srv.URL, StaticToken(secretToken), WithObserver(cancelOnThrottle(cancel)))
	if err != nil {
		t.Fatal(err)
	}
	err = c.List(ctx, "/beta/auditLogs/signIns", func([]byte) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if calls != 1 || !strings.Contains(err.Error(), "429") || !strings.Contains(err.Error(), "waiting 10m0s") {
		t.Errorf("calls=%d err=%v", calls, err)
	}
}

type cancelOnThrottle context.CancelFunc

func (cancelOnThrottle) Request(string, int, time.Duration) {}
func (c cancelOnThrottle) Throttled(string, time.Duration)  { c() }

func TestNewValidatesBase(t *testing.T) {
	tests := []struct {
		base string
		ok   bool
	}{
		{"https://graph.microsoft.com", true},
		{"https://graph.microsoft.com/", true},
		{"https://demo.example/graph", true},
		{"http://127.0.0.1:8080", true},
		{"http://localhost:8080", true},
		{"http://graph.example", false},
		{"ftp://graph.example", false},
		{"graph.microsoft.com", false},
		{"https://graph.microsoft.com/?x=1", false},
		{"https://user:pw@graph.microsoft.com", false},
	}
	for _, tt := range tests {
		_, err := New(tt.base, StaticToken("x"))
		if (err == nil) != tt.ok {
			t.Errorf("New(%q) err = %v, want ok=%v", tt.base, err, tt.ok)
		}
	}
	if _, err := New("https://graph.microsoft.com", nil); err == nil {
		t.Error("nil token source accepted")
	}
}

func TestTokenSourceErrorIsReported(t *testing.T) {
	c, err := New("https://graph.microsoft.com", failingTokens{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(context.Background(), "/v1.0/devices/x")
	if err == nil || !strings.Contains(err.Error(), "GET /v1.0/devices/x") || !strings.Contains(err.Error(), "AADSTS700016") {
		t.Errorf("err = %v", err)
	}
}

type failingTokens struct{}

func (failingTokens) Token(context.Context) (string, error) {
	return "", errors.New("AADSTS700016: application not found")
}
