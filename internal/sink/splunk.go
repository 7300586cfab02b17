package sink

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strconv"
)

// Splunk sends each alert to a Splunk HTTP Event Collector. URL is the
// collector endpoint (…/services/collector/event; a URL without a path
// gets that path), Secret the HEC token, sent as "Authorization: Splunk
// <token>". The body is
//
//	{"time":<last seen, unix seconds with milliseconds>,"host":<Hostname>,
//	 "source":"entrawatch","sourcetype":<SourceType>,"index":<Index>,"event":<Payload>}
//
// with sourcetype "entrawatch:alert" by default and index left out when
// empty. HEC answers {"text":"Success","code":0}; a 2xx answer with
// another code is a (retryable) error, and HTTP statuses are judged as for
// Webhook. The token never appears in errors.
type Splunk struct {
	name       string
	post       *poster
	auth       http.Header
	host       string
	sourceType string
	index      string
}

func newSplunk(cfg Config) (Sink, error) {
	if u, err := url.Parse(cfg.URL); err == nil && (u.Path == "" || u.Path == "/") {
		u.Path = "/services/collector/event"
		cfg.URL = u.String()
	}
	p, err := newPoster(cfg, false)
	if err != nil {
		return nil, err
	}
	s := &Splunk{name: cfg.Name, post: p, auth: http.Header{}, host: cfg.Hostname,
		sourceType: cfg.SourceType, index: cfg.Index}
	for k, v := range cfg.Headers {
		s.auth.Set(k, v)
	}
	if cfg.Secret != "" {
		s.auth.Set("Authorization", "Splunk "+cfg.Secret)
	}
	if s.host == "" {
		s.host, _ = os.Hostname()
	}
	if s.sourceType == "" {
		s.sourceType = "entrawatch:alert"
	}
	return s, nil
}

// Name returns the sink's name.
func (s *Splunk) Name() string { return s.name }

type hecEvent struct {
	Time       json.Number `json:"time"`
	Host       string      `json:"host,omitempty"`
	Source     string      `json:"source"`
	SourceType string      `json:"sourcetype"`
	Index      string      `json:"index,omitempty"`
	Event      *Payload    `json:"event"`
}

type hecAnswer struct {
	Text string `json:"text"`
	Code *int   `json:"code"`
}

// Send posts the alert as one HEC event.
func (s *Splunk) Send(ctx context.Context, a *Payload) error {
	t := a.LastSeen
	if t.IsZero() {
		t = s.post.clock()
	}
	ev := hecEvent{
		Time:       json.Number(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)),
		Host:       s.host,
		Source:     "entrawatch",
		SourceType: s.sourceType,
		Index:      s.index,
		Event:      a,
	}
	body, err := json.Marshal(&ev)
	if err != nil {
		return newError(s.name, nil, "encoding alert "+a.ID+": "+err.Error(), nil)
	}
	data, err := s.post.post(ctx, body, s.auth)
	if err != nil {
		return err
	}
	var ans hecAnswer
	if json.Unmarshal(data, &ans) == nil && ans.Code != nil && *ans.Code != 0 {
		return newError(s.name, s.post.secrets, "POST "+s.post.shown+": HEC code "+strconv.Itoa(*ans.Code)+answer([]byte(ans.Text)), nil)
	}
	return nil
}

var _ Sink = (*Splunk)(nil)
