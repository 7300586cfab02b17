package sink

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// maxResponse bounds how much of a receiver's answer is read.
const maxResponse = 64 << 10

// poster POSTs JSON bodies to one URL for the HTTP sinks.
type poster struct {
	sink    string
	client  *http.Client
	url     string
	shown   string   // the URL as errors show it
	secrets []string // strings never to show
	timeout time.Duration
	clock   func() time.Time
	agent   string
}

// newPoster checks cfg.URL and builds the client. secretURL says the URL
// itself is a credential (Slack, Teams): errors then show only its scheme
// and host.
func newPoster(cfg Config, secretURL bool) (*poster, error) {
	p := &poster{sink: cfg.Name, url: cfg.URL, timeout: cfg.Timeout, clock: cfg.Clock,
		agent: "entrawatch/" + cfg.Version}
	if cfg.Secret != "" {
		p.secrets = append(p.secrets, cfg.Secret)
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		// url.Parse errors quote the URL, which may be a credential.
		return nil, fmt.Errorf("sink %q (%s): url: want an absolute http or https URL", cfg.Name, cfg.Type)
	}
	if secretURL {
		p.secrets = append(p.secrets, cfg.URL)
		if len(u.EscapedPath()) > 1 {
			p.secrets = append(p.secrets, u.EscapedPath(), u.Path)
		}
		if u.RawQuery != "" {
			p.secrets = append(p.secrets, u.RawQuery)
		}
		p.shown = u.Scheme + "://" + u.Host + "/REDACTED"
	} else {
		if u.RawQuery != "" {
			p.secrets = append(p.secrets, u.RawQuery)
		}
		if pw, ok := u.User.Password(); ok {
			p.secrets = append(p.secrets, pw)
		}
		shown := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
		p.shown = shown.String()
		if u.RawQuery != "" {
			p.shown += "?REDACTED"
		}
	}
	for k, v := range cfg.Headers {
		if !validHeader(k, v) {
			return nil, fmt.Errorf("sink %q (%s): header %q: invalid name or value", cfg.Name, cfg.Type, k)
		}
	}
	if p.client, err = httpClient(cfg); err != nil {
		return nil, err
	}
	return p, nil
}

func validHeader(k, v string) bool {
	if k == "" || strings.ContainsAny(v, "\r\n\x00") {
		return false
	}
	for _, c := range k {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	return true
}

// httpClient returns cfg.HTTPClient or a client trusting cfg.CAFile, in
// both cases never following redirects: a POST must not turn into a GET
// or carry its body and headers to another host.
func httpClient(cfg Config) (*http.Client, error) {
	var c http.Client
	if cfg.HTTPClient != nil {
		c = *cfg.HTTPClient
	} else {
		tc, err := tlsConfig(cfg, "")
		if err != nil {
			return nil, err
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tc
		c.Transport = tr
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c, nil
}

// tlsConfig returns the TLS settings of cfg for a server name.
func tlsConfig(cfg Config, serverName string) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName, InsecureSkipVerify: cfg.InsecureSkipVerify}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("sink %q (%s): ca_file: %w", cfg.Name, cfg.Type, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("sink %q (%s): ca_file %s: no PEM certificates", cfg.Name, cfg.Type, cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// post sends body and returns the 2xx answer's body. Other answers and
// transport failures are *Error: 3xx and 4xx (but 408 and 429) permanent,
// the rest retryable, with the Retry-After of a 429 or 503.
func (p *poster) post(ctx context.Context, body []byte, hdr http.Header) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return nil, newError(p.sink, p.secrets, "POST "+p.shown+": cannot build request", nil)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", p.agent)
	resp, err := p.client.Do(req)
	if err != nil {
		// *url.Error quotes the whole URL: report only what went wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		msg := err.Error()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			msg = "no answer within " + p.timeout.String()
		}
		return nil, newError(p.sink, p.secrets, "POST "+p.shown+": "+msg, err)
	}
	defer resp.Body.Close()
	data, rerr := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse)) // let the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return data, nil // a cut answer still says the alert arrived
	}
	e := newError(p.sink, p.secrets, "POST "+p.shown+": "+resp.Status+answer(data), rerr)
	e.Status = resp.StatusCode
	switch {
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests:
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		e.Permanent = true
		e.msg += " (redirects are not followed)"
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		e.Permanent = true
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), p.clock())
	}
	return nil, e
}

// answer quotes the start of a receiver's answer for an error message.
func answer(data []byte) string {
	s := strings.TrimSpace(clean(string(data), 200))
	if s == "" {
		return ""
	}
	return ": " + strconv.Quote(s)
}

// retryAfter reads a Retry-After header (seconds or an HTTP date), capped
// at MaxRetryAfter; 0 when absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), MaxRetryAfter)
}
