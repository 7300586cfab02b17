// Package graph is a small Microsoft Graph client on net/http: app-only
// credentials through azidentity, paged collection listing with nextLink and
// deltaLink handling, retries that honour Graph throttling, and errors that
// name the missing permission or licence.
package graph

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/valyala/fastjson"
)

// Defaults for Client.
const (
	DefaultMaxRetries       = 6
	DefaultMaxResponseBytes = 64 << 20 // per page
	DefaultUserAgent        = "entrawatch"

	backoffBase      = time.Second
	backoffCap       = 60 * time.Second
	maxRetryAfter    = 10 * time.Minute
	maxErrorBodySize = 64 << 10
	maxErrorText     = 512
)

// ErrResponseTooLarge is wrapped by the error returned when a response exceeds
// the configured size limit.
var ErrResponseTooLarge = errors.New("response too large")

// ErrForeignLink is wrapped by the error returned when a URL (a nextLink,
// deltaLink or absolute path) points away from the client's base scheme+host.
var ErrForeignLink = errors.New("link leaves the Graph host")

// Observer receives request metrics. Implementations must be safe for
// concurrent use. Paths are URL paths without the query.
type Observer interface {
	// Request is called once per HTTP attempt; status is 0 for transport errors.
	Request(path string, status int, dur time.Duration)
	// Throttled is called when Graph asks to back off (429, or a Retry-After header).
	Throttled(path string, retryAfter time.Duration)
}

// Client is a Microsoft Graph client. It is safe for concurrent use.
type Client struct {
	base       *url.URL // scheme://host[/prefix], no trailing slash
	baseStr    string
	tokens     TokenSource
	http       *http.Client
	userAgent  string
	maxRetries int
	maxBytes   int64
	sleep      func(ctx context.Context, d time.Duration) error
	now        func() time.Time
	observer   Observer
	jitter     func(n int64) int64 // uniform in [0, n)
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client. Redirects are never followed whatever
// its CheckRedirect says, so the bearer token cannot leave the Graph host.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			cp := *hc
			c.http = &cp
		}
	}
}

// WithUserAgent sets the User-Agent header, e.g. "entrawatch/1.4.0".
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithMaxRetries sets how many times a throttled or failed request is retried
// (default 6; 0 disables retries).
func WithMaxRetries(n int) Option {
	return func(c *Client) {
		if n >= 0 {
			c.maxRetries = n
		}
	}
}

// WithMaxResponseBytes bounds the size of one response (default 64 MiB).
func WithMaxResponseBytes(n int64) Option {
	return func(c *Client) {
		if n > 0 {
			c.maxBytes = n
		}
	}
}

// WithSleep replaces the wait between retries; it must return ctx.Err() if
// ctx ends first. Tests inject a recorder here.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) {
		if sleep != nil {
			c.sleep = sleep
		}
	}
}

// WithClock sets the clock used for Retry-After dates and request durations.
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// WithObserver registers metric hooks.
func WithObserver(o Observer) Option { return func(c *Client) { c.observer = o } }

// New returns a client for the Graph host base (e.g. "https://graph.microsoft.com";
// a path prefix is allowed). base must be https, or http on a loopback address.
func New(base string, tokens TokenSource, opts ...Option) (*Client, error) {
	if tokens == nil {
		return nil, errors.New("graph: New: token source is nil")
	}
	trimmed := strings.TrimRight(base, "/")
	u, err := url.Parse(trimmed)
	if err != nil {
		return nil, fmt.Errorf("graph: base URL %q: %w", base, err)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("graph: base URL %q must be scheme://host[/path] without query, fragment or credentials", base)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("graph: base URL %q: plain http is only allowed to a loopback address (the bearer token would travel in clear)", base)
		}
	default:
		return nil, fmt.Errorf("graph: base URL %q must be https", base)
	}
	c := &Client{
		base:       u,
		baseStr:    trimmed,
		tokens:     tokens,
		http:       &http.Client{Timeout: 5 * time.Minute},
		userAgent:  DefaultUserAgent,
		maxRetries: DefaultMaxRetries,
		maxBytes:   DefaultMaxResponseBytes,
		sleep:      sleepCtx,
		now:        time.Now,
		jitter:     rand.Int64N,
	}
	for _, o := range opts {
		o(c)
	}
	c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// resolve turns a "/path?query" or an absolute same-origin URL into the URL to
// request. Absolute URLs are used verbatim.
func (c *Client) resolve(p string) (string, error) {
	if strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") {
		return c.baseStr + p, nil
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", fmt.Errorf("graph: %q must be a path starting with / or an absolute URL on %s", clip(p, 200), c.origin())
	}
	if !strings.EqualFold(u.Scheme, c.base.Scheme) || !strings.EqualFold(u.Host, c.base.Host) {
		return "", fmt.Errorf("graph: refusing to follow a link to %s://%s (client base is %s): %w",
			clip(u.Scheme, 20), clip(u.Host, 200), c.origin(), ErrForeignLink)
	}
	return p, nil
}

func (c *Client) origin() string { return c.base.Scheme + "://" + c.base.Host }

// Get fetches a single object (path like "/v1.0/devices/{id}", or an absolute
// URL on the base host) and returns the raw JSON body.
func (c *Client) Get(ctx context.Context, path string) ([]byte, error) {
	u, err := c.resolve(path)
	if err != nil {
		return nil, err
	}
	return c.fetch(ctx, u)
}

// List GETs a collection and calls fn with each element of "value" as compact
// raw JSON (fn owns the slice), following @odata.nextLink verbatim until the
// last page. A nextLink to another scheme or host is refused. An error from fn
// stops the listing and is returned as is.
func (c *Client) List(ctx context.Context, pathAndQuery string, fn func(item []byte) error) error {
	_, err := c.list(ctx, pathAndQuery, fn, false)
	return err
}

// ListDelta is List for delta queries: pathOrDeltaLink is either the initial
// delta path (e.g. "/v1.0/devices/delta") or a deltaLink returned earlier, and
// the @odata.deltaLink of the last page is returned for the next round.
// A *Error with Status 410 means the delta state expired: start again from
// the initial path.
func (c *Client) ListDelta(ctx context.Context, pathOrDeltaLink string, fn func(item []byte) error) (deltaLink string, err error) {
	return c.list(ctx, pathOrDeltaLink, fn, true)
}

func (c *Client) list(ctx context.Context, start string, fn func([]byte) error, wantDelta bool) (string, error) {
	if fn == nil {
		return "", errors.New("graph: list callback is nil")
	}
	next, err := c.resolve(start)
	if err != nil {
		return "", err
	}
	var p fastjson.Parser
	for page := 1; ; page++ {
		body, err := c.fetch(ctx, next)
		if err != nil {
			return "", err
		}
		label := pathOf(next)
		v, err := p.ParseBytes(body)
		if err != nil {
			return "", fmt.Errorf("graph: GET %s: page %d is not valid JSON: %v", label, page, err)
		}
		arr := v.Get("value")
		if arr == nil || arr.Type() != fastjson.TypeArray {
			return "", fmt.Errorf("graph: GET %s: page %d has no \"value\" array (not a collection?)", label, page)
		}
		items, _ := arr.Array()
		for _, it := range items {
			if err := fn(it.MarshalTo(nil)); err != nil {
				return "", err
			}
		}
		if nl := v.Get("@odata.nextLink"); nl != nil {
			s, err := nl.StringBytes()
			if err != nil || len(s) == 0 {
				return "", fmt.Errorf("graph: GET %s: page %d: @odata.nextLink is not a non-empty string", label, page)
			}
			link := string(s)
			if link == next {
				return "", fmt.Errorf("graph: GET %s: page %d: @odata.nextLink points to the same page (loop)", label, page)
			}
			if next, err = c.resolve(link); err != nil {
				return "", fmt.Errorf("graph: GET %s: page %d: @odata.nextLink: %w", label, page, err)
			}
			continue
		}
		if !wantDelta {
			return "", nil
		}
		dl := v.GetStringBytes("@odata.deltaLink")
		if len(dl) == 0 {
			return "", fmt.Errorf("graph: GET %s: last page (%d) has neither @odata.nextLink nor @odata.deltaLink", label, page)
		}
		if _, err := c.resolve(string(dl)); err != nil {
			return "", fmt.Errorf("graph: GET %s: @odata.deltaLink: %w", label, err)
		}
		return string(dl), nil
	}
}

func pathOf(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil {
		return u.Path
	}
	return clip(rawURL, 200)
}

// fetch GETs rawURL with retries and returns the body of a 2xx answer.
func (c *Client) fetch(ctx context.Context, rawURL string) ([]byte, error) {
	path := pathOf(rawURL)
	var last error
	for attempt := 0; ; attempt++ {
		tok, err := c.tokens.Token(ctx)
		if err != nil {
			return nil, fmt.Errorf("graph: GET %s: %w", path, err)
		}
		status, hdr, body, err := c.once(ctx, rawURL, path, tok)
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, fmt.Errorf("graph: GET %s: %w", path, ctx.Err())
			}
			if errors.Is(err, ErrResponseTooLarge) {
				return nil, fmt.Errorf("graph: GET %s: %w", path, err)
			}
			last = fmt.Errorf("graph: GET %s: %s", path, redact(err.Error(), tok))
			if attempt >= c.maxRetries {
				return nil, fmt.Errorf("%w (gave up after %d attempts)", last, attempt+1)
			}
			wait = c.backoff(attempt)
		case status >= 200 && status < 300:
			return body, nil
		default:
			gerr := newError(status, hdr, body, path, tok)
			gerr.Attempts = attempt + 1
			if !retryable(status) || attempt >= c.maxRetries {
				return nil, gerr
			}
			last = gerr
			ra, ok := retryAfter(hdr, c.now())
			if ok {
				wait = ra
			} else {
				wait = c.backoff(attempt)
			}
			if c.observer != nil && (status == http.StatusTooManyRequests || ok) {
				c.observer.Throttled(path, wait)
			}
		}
		if err := c.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%v (retry abandoned while waiting %v: %w)", last, wait, err)
		}
	}
}

// once performs one HTTP attempt. A non-nil error means no usable response.
func (c *Client) once(ctx context.Context, rawURL, path, tok string) (int, http.Header, []byte, error) {
	start := c.now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		c.observe(path, 0, start)
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	limit := c.maxBytes
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		limit = maxErrorBodySize // only the error envelope is needed; truncation is fine
	} else if resp.ContentLength > limit {
		c.observe(path, resp.StatusCode, start)
		return 0, nil, nil, fmt.Errorf("%w: Content-Length %d exceeds the %d-byte limit", ErrResponseTooLarge, resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	c.observe(path, resp.StatusCode, start)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read %d response: %w", resp.StatusCode, err)
	}
	if int64(len(body)) > limit {
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return 0, nil, nil, fmt.Errorf("%w: body exceeds the %d-byte limit", ErrResponseTooLarge, limit)
		}
		body = body[:limit]
	}
	return resp.StatusCode, resp.Header, body, nil
}

func (c *Client) observe(path string, status int, start time.Time) {
	if c.observer != nil {
		c.observer.Request(path, status, c.now().Sub(start))
	}
}

func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// backoff returns an exponential delay (1s, 2s, 4s… capped at 60s) with
// "equal jitter": uniformly in [d/2, d].
func (c *Client) backoff(attempt int) time.Duration {
	d := backoffCap
	if attempt < 6 {
		d = min(backoffBase<<attempt, backoffCap)
	}
	half := int64(d / 2)
	return time.Duration(half + c.jitter(half+1))
}

// retryAfter reads x-ms-retry-after-ms or Retry-After (seconds or HTTP date),
// capped at 10 minutes.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := strings.TrimSpace(h.Get("x-ms-retry-after-ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && ms < float64(maxRetryAfter/time.Millisecond) {
			return time.Duration(ms * float64(time.Millisecond)), true
		} else if err == nil && ms >= 0 {
			return maxRetryAfter, true
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s < 0 {
			return 0, false
		}
		if s > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter), true
	}
	return 0, false
}

// redact removes the bearer token from text that may echo it.
func redact(s, tok string) string {
	if tok == "" {
		return s
	}
	return strings.ReplaceAll(s, tok, "[redacted token]")
}

// clip makes attacker-controlled text safe to show: control characters become
// spaces and the result is at most n runes.
func clip(s string, n int) string {
	var b strings.Builder
	i := 0
	for _, r := range s {
		if i == n {
			b.WriteString("…")
			break
		}
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			r = ' '
		}
		b.WriteRune(r)
		i++
	}
	return b.String()
}
