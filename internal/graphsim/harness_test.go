package graphsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// start is the fake clock's start in every test.
var start = time.Date(2026, 11, 20, 9, 0, 0, 123456700, time.UTC)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// harness serves a tenant on a fake clock over plain HTTP.
type harness struct {
	t      *testing.T
	ten    *Tenant
	clock  *fakeClock
	srv    *httptest.Server
	bearer string
	issued time.Time // of bearer
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	c := &fakeClock{now: start}
	opts.Clock = c.Now
	if opts.Seed == 0 {
		opts.Seed = 42
	}
	h := &harness{t: t, ten: New(opts), clock: c}
	h.srv = httptest.NewServer(h.ten.Handler())
	t.Cleanup(h.srv.Close)
	h.bearer = h.token()
	return h
}

// at sets the clock to start+d, and gets a new token when the current one
// is about to expire.
func (h *harness) at(d time.Duration) {
	h.clock.Set(start.Add(d))
	if now := h.clock.Now(); now.Sub(h.issued) > TokenLifetime-10*time.Minute || now.Before(h.issued) {
		h.bearer = h.token()
	}
}

// token gets an access token with the tenant's credentials.
func (h *harness) token() string {
	h.t.Helper()
	o := h.ten.Options()
	st, body := h.post("/"+o.TenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {o.ClientID}, "client_secret": {o.ClientSecret},
		"scope": {"https://graph.microsoft.com/.default"},
	})
	if st != http.StatusOK {
		h.t.Fatalf("token: %d %s", st, body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		h.t.Fatalf("token response %s: %v", body, err)
	}
	h.issued = h.clock.Now()
	return tok.AccessToken
}

func (h *harness) post(path string, form url.Values) (int, []byte) {
	h.t.Helper()
	resp, err := http.Post(h.srv.URL+path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// get requests a path (or absolute URL) with the harness's token; query
// is "k=v" pairs, encoded.
func (h *harness) get(pathOrURL string, query ...string) (*http.Response, []byte) {
	h.t.Helper()
	return h.getAuth(pathOrURL, "Bearer "+h.bearer, query...)
}

func (h *harness) getAuth(pathOrURL, auth string, query ...string) (*http.Response, []byte) {
	h.t.Helper()
	u := pathOrURL
	if !strings.HasPrefix(u, "http") {
		u = h.srv.URL + u
	}
	if len(query) > 0 {
		v := url.Values{}
		for i := 0; i+1 < len(query); i += 2 {
			v.Set(query[i], query[i+1])
		}
		u += "?" + v.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp, b
}

// page is a Graph collection page.
type page struct {
	Context   string            `json:"@odata.context"`
	NextLink  string            `json:"@odata.nextLink"`
	DeltaLink string            `json:"@odata.deltaLink"`
	Value     []json.RawMessage `json:"value"`
}

// list follows a list's nextLinks and returns every page.
func (h *harness) list(path string, query ...string) []page {
	h.t.Helper()
	var out []page
	resp, body := h.get(path, query...)
	for n := 0; ; n++ {
		if resp.StatusCode != http.StatusOK {
			h.t.Fatalf("GET %s: %d %s", resp.Request.URL, resp.StatusCode, body)
		}
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			h.t.Fatalf("GET %s: %v in %s", resp.Request.URL, err, body)
		}
		out = append(out, p)
		if p.NextLink == "" {
			return out
		}
		if n > 10000 {
			h.t.Fatal("too many pages")
		}
		resp, body = h.get(p.NextLink)
	}
}

// all is the records of every page of a list.
func (h *harness) all(path string, query ...string) []json.RawMessage {
	h.t.Helper()
	var out []json.RawMessage
	for _, p := range h.list(path, query...) {
		out = append(out, p.Value...)
	}
	return out
}

// field reads a top-level string field of a record.
func field(t *testing.T, raw json.RawMessage, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	s, _ := m[name].(string)
	return s
}

// window is a $filter on a time field between two offsets from start.
func window(field string, from, to time.Duration) string {
	return field + " ge " + start.Add(from).Format(time.RFC3339Nano) + " and " + field + " le " + start.Add(to).Format(time.RFC3339Nano)
}
