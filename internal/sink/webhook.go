package sink

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook request headers.
const (
	HeaderSignature = "X-Entrawatch-Signature"
	HeaderTimestamp = "X-Entrawatch-Timestamp"
	HeaderDelivery  = "X-Entrawatch-Delivery"
)

// Webhook POSTs each alert as its Payload JSON to a URL.
//
// Signing: when Secret is set, every request carries
//
//	X-Entrawatch-Timestamp: <t>            (unix seconds, decimal)
//	X-Entrawatch-Signature: sha256=<hex>   (lower-case hex)
//
// where <hex> is HMAC-SHA256 with key Secret (its UTF-8 bytes) over the
// bytes of <t>, a full stop, and the raw request body exactly as received:
// HMAC(Secret, t + "." + body). A receiver recomputes it over the body it
// read (before any JSON parsing), compares with a constant-time comparison
// (hmac.Equal), and rejects requests whose t is more than a few minutes
// from its own clock, which stops replays. VerifySignature does all this.
// The timestamp is sent without a secret too.
//
// X-Entrawatch-Delivery carries the delivery id, "<alert id>/<sink name>"
// (see WithDelivery), the same on every retry: receivers de-duplicate on
// it, as delivery is at-least-once. A 2xx answer is success; 408, 429 and 5xx are retried
// (honouring Retry-After on 429 and 503); other answers are permanent.
type Webhook struct {
	name    string
	secret  []byte
	headers http.Header
	post    *poster
}

func newWebhook(cfg Config) (Sink, error) {
	p, err := newPoster(cfg, false)
	if err != nil {
		return nil, err
	}
	w := &Webhook{name: cfg.Name, post: p, headers: http.Header{}}
	if cfg.Secret != "" {
		w.secret = []byte(cfg.Secret)
	}
	for k, v := range cfg.Headers {
		w.headers.Set(k, v)
	}
	return w, nil
}

// Name returns the sink's name.
func (w *Webhook) Name() string { return w.name }

// Send POSTs the alert.
func (w *Webhook) Send(ctx context.Context, a *Payload) error {
	body, err := json.Marshal(a)
	if err != nil {
		return newError(w.name, nil, "encoding alert "+a.ID+": "+err.Error(), nil)
	}
	hdr := w.headers.Clone()
	ts := w.post.clock().Unix()
	hdr.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	if w.secret != nil {
		hdr.Set(HeaderSignature, Sign(w.secret, ts, body))
	}
	if id := DeliveryID(ctx); id != "" {
		hdr.Set(HeaderDelivery, id)
	}
	_, err = w.post.post(ctx, body, hdr)
	return err
}

// Sign returns the X-Entrawatch-Signature value of a body sent at unix
// time ts: "sha256=" + hex(HMAC-SHA256(secret, ts + "." + body)).
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(strconv.AppendInt(nil, ts, 10))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature checks a webhook request as a receiver should: the
// signature of header over body with secret, and a timestamp within
// tolerance of now.
func VerifySignature(secret []byte, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(header.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return fmt.Errorf("%s: not unix seconds", HeaderTimestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%s: %d is %s away from now (tolerance %s)", HeaderTimestamp, ts, d.Round(time.Second), tolerance)
	}
	got := header.Get(HeaderSignature)
	if !strings.HasPrefix(got, "sha256=") {
		return fmt.Errorf("%s: want sha256=<hex>", HeaderSignature)
	}
	if !hmac.Equal([]byte(got), []byte(Sign(secret, ts, body))) {
		return errors.New(HeaderSignature + ": does not match the body")
	}
	return nil
}

var _ Sink = (*Webhook)(nil)
