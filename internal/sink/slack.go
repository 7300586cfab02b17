package sink

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Slack posts each alert to a Slack incoming webhook: a text fallback (for
// notifications) and Block Kit blocks: a header with the severity and
// title, the summary, fields for rule, tenant, user, device, IP, last-seen
// time and count (empty ones left out), the details, and an "Open alert"
// button when the alert has a link. Alert fields in mrkdwn text have &, <
// and > escaped, so they cannot mention (<!channel>) or link; the header
// is plain_text, which Slack does not parse. Texts are cut to Slack's
// limits. The URL is a credential: errors show only its host.
type Slack struct {
	name string
	post *poster
}

// Slack Block Kit limits, in characters.
const (
	slackHeaderMax  = 150
	slackSectionMax = 3000
	slackFieldMax   = 2000
	slackURLMax     = 3000
)

func newSlack(cfg Config) (Sink, error) {
	p, err := newPoster(cfg, true)
	if err != nil {
		return nil, err
	}
	return &Slack{name: cfg.Name, post: p}, nil
}

// Name returns the sink's name.
func (s *Slack) Name() string { return s.name }

type slackText struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Emoji *bool  `json:"emoji,omitempty"`
}

type slackElement struct {
	Type string    `json:"type"`
	Text slackText `json:"text"`
	URL  string    `json:"url"`
}

type slackBlock struct {
	Type     string         `json:"type"`
	Text     *slackText     `json:"text,omitempty"`
	Fields   []slackText    `json:"fields,omitempty"`
	Elements []slackElement `json:"elements,omitempty"`
}

type slackMessage struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

// slackMessage builds the message of an alert.
func newSlackMessage(a *Payload) *slackMessage {
	sev := strings.ToUpper(a.Severity)
	no := false
	m := &slackMessage{
		Text: mrkdwn(sev+": "+a.Title+" ("+a.Tenant+"): "+a.Summary, slackSectionMax),
		Blocks: []slackBlock{{
			Type: "header",
			Text: &slackText{Type: "plain_text", Text: cutRunes(flatten(sev+": "+a.Title), slackHeaderMax), Emoji: &no},
		}},
	}
	if a.Summary != "" {
		m.Blocks = append(m.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: mrkdwn(a.Summary, slackSectionMax)}})
	}
	var fields []slackText
	for _, f := range []struct{ name, value string }{
		{"Rule", a.Rule},
		{"Tenant", a.Tenant},
		{"User", a.Entities.User},
		{"Device", a.device()},
		{"IP", a.Entities.IP},
		{"Time", timeText(a.LastSeen)},
		{"Count", strconv.Itoa(a.Count)},
	} {
		if f.value == "" {
			continue
		}
		fields = append(fields, slackText{Type: "mrkdwn", Text: "*" + f.name + "*\n" + mrkdwn(f.value, slackFieldMax-len(f.name)-3)})
	}
	m.Blocks = append(m.Blocks, slackBlock{Type: "section", Fields: fields})
	if len(a.Details) > 0 {
		var b strings.Builder
		for _, d := range a.Details {
			b.WriteString("*" + mrkdwn(flatten(d.Name), 200) + "*: " + mrkdwn(flatten(d.Value), 500) + "\n")
		}
		m.Blocks = append(m.Blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: cutMrkdwn(strings.TrimSuffix(b.String(), "\n"), slackSectionMax)}})
	}
	if a.Link != "" && utf8.RuneCountInString(a.Link) <= slackURLMax {
		m.Blocks = append(m.Blocks, slackBlock{Type: "actions", Elements: []slackElement{{
			Type: "button", Text: slackText{Type: "plain_text", Text: "Open alert"}, URL: a.Link,
		}}})
	}
	return m
}

// timeText formats a time for chat messages ("" when zero).
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Send posts the alert.
func (s *Slack) Send(ctx context.Context, a *Payload) error {
	body, err := json.Marshal(newSlackMessage(a))
	if err != nil {
		return newError(s.name, nil, "encoding alert "+a.ID+": "+err.Error(), nil)
	}
	_, err = s.post.post(ctx, body, nil)
	return err
}

// mrkdwn escapes s for Slack mrkdwn (&, <, >; control characters other
// than newline and tab become spaces) and cuts the result to at most max
// characters without splitting an escape.
func mrkdwn(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if dangerous(r) && r != '\n' && r != '\t' {
			return ' '
		}
		return r
	}, s)
	s = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
	return cutMrkdwn(s, max)
}

// cutMrkdwn cuts already escaped mrkdwn to max characters, not inside an
// escape.
func cutMrkdwn(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	s = cutRunes(s, max)
	s = strings.TrimSuffix(s, ellipsis)
	if i := strings.LastIndexByte(s, '&'); i >= 0 && !strings.Contains(s[i:], ";") {
		s = s[:i]
	}
	return s + ellipsis
}

var _ Sink = (*Slack)(nil)
