package sink

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// request is what a test receiver got.
type request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// receiver is an HTTP endpoint answering with a fixed status, headers and
// body, recording each request.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	got     []request
	status  int
	headers map[string]string
	body    string
}

func newReceiver(t *testing.T, status int, body string) *receiver {
	r := &receiver{status: status, body: body}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		data, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, request{req.Method, req.URL.RequestURI(), req.Header.Clone(), data})
		status, headers, body := r.status, r.headers, r.body
		r.mu.Unlock()
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) last(t *testing.T) request {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.got) == 0 {
		t.Fatal("receiver got no request")
	}
	return r.got[len(r.got)-1]
}

func TestWebhookWireFormat(t *testing.T) {
	r := newReceiver(t, http.StatusNoContent, "")
	secret := "whsec_0123456789"
	s := newSink(t, "webhook", Config{Name: "soc", URL: r.URL + "/hooks/entrawatch?x=1", Secret: secret,
		Headers: map[string]string{"X-Team": "blue"}})
	ctx := WithDelivery(context.Background(), "17")
	if err := s.Send(ctx, samplePayload()); err != nil {
		t.Fatal(err)
	}
	req := r.last(t)
	golden(t, "webhook.json", req.Body)
	for k, want := range map[string]string{
		"Content-Type":         "application/json",
		"User-Agent":           "entrawatch/1.2.3",
		"X-Team":               "blue",
		HeaderDelivery:         "17",
		HeaderTimestamp:        strconv.FormatInt(fixedNow.Unix(), 10),
		"X-Entrawatch-Unknown": "",
	} {
		if got := req.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	if req.Method != http.MethodPost || req.Path != "/hooks/entrawatch?x=1" {
		t.Errorf("request %s %s, want POST /hooks/entrawatch?x=1", req.Method, req.Path)
	}

	// A receiver following the documented scheme by hand.
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(req.Header.Get(HeaderTimestamp) + "." + string(req.Body)))
	if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); req.Header.Get(HeaderSignature) != want {
		t.Errorf("signature %q, want %q", req.Header.Get(HeaderSignature), want)
	}
	// And with VerifySignature.
	if err := VerifySignature([]byte(secret), req.Header, req.Body, fixedNow.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("VerifySignature: %v", err)
	}
	tampered := append([]byte{}, req.Body...)
	tampered[len(tampered)-2] ^= 1
	for name, check := range map[string]error{
		"tampered body": VerifySignature([]byte(secret), req.Header, tampered, fixedNow, 5*time.Minute),
		"wrong secret":  VerifySignature([]byte("other"), req.Header, req.Body, fixedNow, 5*time.Minute),
		"replayed late": VerifySignature([]byte(secret), req.Header, req.Body, fixedNow.Add(time.Hour), 5*time.Minute),
	} {
		if check == nil {
			t.Errorf("VerifySignature accepted a %s", name)
		}
	}
}

func TestWebhookWithoutSecret(t *testing.T) {
	r := newReceiver(t, http.StatusOK, "ok")
	s := newSink(t, "webhook", Config{URL: r.URL})
	if err := s.Send(context.Background(), samplePayload()); err != nil {
		t.Fatal(err)
	}
	req := r.last(t)
	if req.Header.Get(HeaderSignature) != "" || req.Header.Get(HeaderDelivery) != "" {
		t.Errorf("unsigned request without delivery id carries %v", req.Header)
	}
}

func TestHTTPStatuses(t *testing.T) {
	tests := []struct {
		status     int
		retryAfter string
		wantErr    bool
		permanent  bool
		wait       time.Duration
	}{
		{200, "", false, false, 0},
		{202, "", false, false, 0},
		{204, "", false, false, 0},
		{301, "", true, true, 0},
		{400, "", true, true, 0},
		{401, "", true, true, 0},
		{404, "", true, true, 0},
		{408, "", true, false, 0},
		{410, "", true, true, 0},
		{429, "30", true, false, 30 * time.Second},
		{429, "", true, false, 0},
		{500, "", true, false, 0},
		{502, "", true, false, 0},
		{503, "Fri, 27 Nov 2026 10:02:05 GMT", true, false, 2 * time.Minute},
		{500, "60", true, false, 0}, // Retry-After only counts on 429 and 503
	}
	for _, typ := range []string{"webhook", "slack", "teams", "splunk"} {
		for _, tt := range tests {
			t.Run(typ+"/"+strconv.Itoa(tt.status)+tt.retryAfter, func(t *testing.T) {
				body := "nope"
				if typ == "splunk" && tt.status < 300 {
					body = `{"text":"Success","code":0}`
				}
				r := newReceiver(t, tt.status, body)
				r.headers = map[string]string{"Location": "https://elsewhere.example/", "Retry-After": tt.retryAfter}
				s := newSink(t, typ, Config{Name: "n", URL: r.URL + "/services/collector/event", Secret: "s3cret-token"})
				err := s.Send(context.Background(), samplePayload())
				if (err != nil) != tt.wantErr {
					t.Fatalf("Send error = %v, want error: %v", err, tt.wantErr)
				}
				if err == nil {
					return
				}
				if IsPermanent(err) != tt.permanent {
					t.Errorf("IsPermanent(%v) = %v, want %v", err, !tt.permanent, tt.permanent)
				}
				if d, _ := RetryAfter(err); d != tt.wait {
					t.Errorf("RetryAfter(%v) = %v, want %v", err, d, tt.wait)
				}
				if !strings.Contains(err.Error(), strconv.Itoa(tt.status)) || !strings.Contains(err.Error(), `"nope"`) {
					t.Errorf("error %q does not show the status and answer", err)
				}
				if len(r.got) != 1 {
					t.Errorf("receiver got %d requests, want 1 (no redirect followed)", len(r.got))
				}
			})
		}
	}
}

// refusingClient fails every connection as a receiver that is down does.
func refusingClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	}}}
}

func TestSecretsNotInErrors(t *testing.T) {
	const token = "0f1e2d3c-splunk-hec-token"
	const secretPath = "/services/T0001/B0002/XXXXsecretXXXX"
	// A receiver that echoes what it was sent, credentials included.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, "denied: "+r.Header.Get("Authorization")+" "+r.URL.String())
	}))
	defer echo.Close()
	tests := []struct {
		typ     string
		cfg     Config
		secrets []string
	}{
		{"splunk", Config{URL: echo.URL + "/services/collector/event", Secret: token}, []string{token}},
		{"webhook", Config{URL: echo.URL + "/hook?key=XXXXqueryXXXX", Secret: token}, []string{token, "XXXXqueryXXXX"}},
		{"slack", Config{URL: echo.URL + secretPath}, []string{"XXXXsecretXXXX", "T0001"}},
		{"teams", Config{URL: echo.URL + "/workflows/abc123def/triggers/manual/paths/invoke?api-version=1&sig=XXXXsigXXXX"},
			[]string{"XXXXsigXXXX", "abc123def"}},
		{"slack", Config{URL: "https://hooks.slack.example" + secretPath, HTTPClient: refusingClient()}, []string{"XXXXsecretXXXX"}},
		{"teams", Config{URL: "https://prod.flow.example/workflows/abc123def?sig=XXXXsigXXXX", HTTPClient: refusingClient()},
			[]string{"XXXXsigXXXX", "abc123def"}},
		{"splunk", Config{URL: "https://splunk.example:8088", Secret: token, HTTPClient: refusingClient()}, []string{token}},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			s := newSink(t, tt.typ, tt.cfg)
			err := s.Send(context.Background(), samplePayload())
			if err == nil {
				t.Fatal("Send succeeded")
			}
			for _, secret := range tt.secrets {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error shows secret %q: %v", secret, err)
				}
			}
			if !strings.Contains(err.Error(), "REDACTED") && !strings.Contains(err.Error(), "refused") {
				t.Errorf("error %q says neither what was redacted nor why it failed", err)
			}
		})
	}
}

func TestSendTimeout(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	s := newSink(t, "webhook", Config{URL: srv.URL, Timeout: 20 * time.Millisecond})
	err := s.Send(context.Background(), samplePayload())
	if err == nil || IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no answer within 20ms") {
		t.Errorf("Send to a hung receiver = %v, want a retryable timeout", err)
	}
}

func TestSlackWireFormat(t *testing.T) {
	r := newReceiver(t, http.StatusOK, "ok")
	s := newSink(t, "slack", Config{URL: r.URL + "/services/T0/B0/x"})
	if err := s.Send(context.Background(), samplePayload()); err != nil {
		t.Fatal(err)
	}
	golden(t, "slack.json", r.last(t).Body)

	p := samplePayload()
	p.Link = ""
	p.Details = nil
	p.Entities.IP = ""
	if err := s.Send(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	var m slackMessage
	if err := json.Unmarshal(r.last(t).Body, &m); err != nil {
		t.Fatal(err)
	}
	for _, b := range m.Blocks {
		if b.Type == "actions" {
			t.Error("message without a link has a button")
		}
		for _, f := range b.Fields {
			if strings.HasPrefix(f.Text, "*IP*") {
				t.Error("empty IP has a field")
			}
		}
	}
}

func TestSlackLimits(t *testing.T) {
	p := samplePayload()
	p.Title = strings.Repeat("<", 400)
	p.Summary = strings.Repeat("&", 4000)
	p.Rule = strings.Repeat("r", 5000)
	m := newSlackMessage(p)
	if n := len([]rune(m.Blocks[0].Text.Text)); n > slackHeaderMax {
		t.Errorf("header has %d characters, Slack allows %d", n, slackHeaderMax)
	}
	sum := m.Blocks[1].Text.Text
	if n := len([]rune(sum)); n > slackSectionMax || !strings.HasSuffix(sum, "&amp;…") {
		t.Errorf("summary has %d characters ending %q, want at most %d ending in a whole escape", n, sum[len(sum)-12:], slackSectionMax)
	}
	for _, f := range m.Blocks[2].Fields {
		if n := len([]rune(f.Text)); n > slackFieldMax {
			t.Errorf("field has %d characters, Slack allows %d", n, slackFieldMax)
		}
	}
}

func TestTeamsWireFormat(t *testing.T) {
	r := newReceiver(t, http.StatusAccepted, "")
	s := newSink(t, "teams", Config{URL: r.URL + "/workflows/x/triggers/manual/paths/invoke?sig=y"})
	if err := s.Send(context.Background(), samplePayload()); err != nil {
		t.Fatal(err)
	}
	golden(t, "teams.json", r.last(t).Body)
	p := samplePayload()
	p.Link = ""
	if strings.Contains(string(mustJSON(t, newTeamsMessage(p))), "Action.OpenUrl") {
		t.Error("card without a link has an Action.OpenUrl")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSplunkWireFormat(t *testing.T) {
	r := newReceiver(t, http.StatusOK, `{"text":"Success","code":0}`)
	s := newSink(t, "splunk", Config{URL: r.URL, Secret: "tok", Index: "security"})
	if err := s.Send(context.Background(), samplePayload()); err != nil {
		t.Fatal(err)
	}
	req := r.last(t)
	golden(t, "splunk.json", req.Body)
	if req.Path != "/services/collector/event" {
		t.Errorf("path %q, want the HEC event endpoint added", req.Path)
	}
	if got := req.Header.Get("Authorization"); got != "Splunk tok" {
		t.Errorf("Authorization = %q, want Splunk tok", got)
	}
	var ev map[string]any
	json.Unmarshal(req.Body, &ev)
	if ev["time"] != float64(time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC).Unix()) || ev["sourcetype"] != "entrawatch:alert" {
		t.Errorf("time, sourcetype = %v, %v", ev["time"], ev["sourcetype"])
	}

	noIndex := newSink(t, "splunk", Config{URL: r.URL + "/services/collector/event", Secret: "tok", SourceType: "custom"})
	if err := noIndex.Send(context.Background(), samplePayload()); err != nil {
		t.Fatal(err)
	}
	if b := string(r.last(t).Body); strings.Contains(b, `"index"`) || !strings.Contains(b, `"sourcetype":"custom"`) {
		t.Errorf("body %s: want no index and sourcetype custom", b)
	}

	r.body = `{"text":"Incorrect index","code":7}`
	if err := s.Send(context.Background(), samplePayload()); err == nil || !strings.Contains(err.Error(), "HEC code 7") || !strings.Contains(err.Error(), "Incorrect index") {
		t.Errorf("HEC code 7 with HTTP 200 gave %v, want an error naming it", err)
	}
}
