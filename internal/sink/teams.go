package sink

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
)

// Teams posts each alert to a Microsoft Teams Workflows webhook (the Power
// Automate trigger "When a Teams webhook request is received") as a message
// with one Adaptive Card 1.4 attachment:
//
//	{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive",
//	  "contentUrl":null,"content":{"type":"AdaptiveCard","version":"1.4","body":[…],"actions":[…]}}]}
//
// The card has a TextBlock with the severity and title, one with the
// summary, a FactSet (rule, tenant, user, device, IP, last seen, count,
// then the details) and an Action.OpenUrl "Open alert" when the alert has
// a link. Teams renders TextBlock and fact text as Markdown, so alert
// fields have the Markdown characters \ * _ [ ] ` ~ backslash-escaped (no
// injected links or formatting) and control characters replaced. The
// workflow answers 202 Accepted; any 2xx is success. The URL is a
// credential: errors show only its host.
type Teams struct {
	name string
	post *poster
}

// Bounds on Teams card text, in characters: the whole message must stay
// well under the ~28 KB Teams accepts.
const (
	teamsTextMax = 2000
	teamsFactMax = 500
	teamsFacts   = 24
)

func newTeams(cfg Config) (Sink, error) {
	p, err := newPoster(cfg, true)
	if err != nil {
		return nil, err
	}
	return &Teams{name: cfg.Name, post: p}, nil
}

// Name returns the sink's name.
func (t *Teams) Name() string { return t.name }

type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	ContentURL  *string   `json:"contentUrl"`
	Content     teamsCard `json:"content"`
}

type teamsCard struct {
	Schema  string        `json:"$schema"`
	Type    string        `json:"type"`
	Version string        `json:"version"`
	Body    []teamsItem   `json:"body"`
	Actions []teamsAction `json:"actions,omitempty"`
	MSTeams teamsWidth    `json:"msteams"`
}

type teamsWidth struct {
	Width string `json:"width"`
}

type teamsItem struct {
	Type   string      `json:"type"`
	Text   string      `json:"text,omitempty"`
	Size   string      `json:"size,omitempty"`
	Weight string      `json:"weight,omitempty"`
	Color  string      `json:"color,omitempty"`
	Wrap   bool        `json:"wrap,omitempty"`
	Facts  []teamsFact `json:"facts,omitempty"`
}

type teamsFact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type teamsAction struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

func newTeamsMessage(a *Payload) *teamsMessage {
	color := map[string]string{"high": "Attention", "medium": "Warning", "low": "Accent"}[a.Severity]
	card := teamsCard{
		Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
		Type:    "AdaptiveCard",
		Version: "1.4",
		Body: []teamsItem{{
			Type: "TextBlock", Text: markdown(strings.ToUpper(a.Severity)+": "+a.Title, teamsFactMax),
			Size: "Large", Weight: "Bolder", Color: color, Wrap: true,
		}},
		MSTeams: teamsWidth{Width: "Full"},
	}
	if a.Summary != "" {
		card.Body = append(card.Body, teamsItem{Type: "TextBlock", Text: markdown(a.Summary, teamsTextMax), Wrap: true})
	}
	var facts []teamsFact
	add := func(title, value string) {
		if value != "" && len(facts) < teamsFacts {
			facts = append(facts, teamsFact{Title: markdown(title, 100), Value: markdown(value, teamsFactMax)})
		}
	}
	add("Rule", a.Rule)
	add("Tenant", a.Tenant)
	add("User", a.Entities.User)
	add("Device", a.device())
	add("IP", a.Entities.IP)
	add("Last seen", timeText(a.LastSeen))
	add("Count", strconv.Itoa(a.Count))
	for _, d := range a.Details {
		add(d.Name, d.Value)
	}
	card.Body = append(card.Body, teamsItem{Type: "FactSet", Facts: facts})
	if a.Link != "" {
		card.Actions = []teamsAction{{Type: "Action.OpenUrl", Title: "Open alert", URL: a.Link}}
	}
	return &teamsMessage{Type: "message", Attachments: []teamsAttachment{{
		ContentType: "application/vnd.microsoft.card.adaptive", Content: card,
	}}}
}

// Send posts the alert.
func (t *Teams) Send(ctx context.Context, a *Payload) error {
	body, err := json.Marshal(newTeamsMessage(a))
	if err != nil {
		return newError(t.name, nil, "encoding alert "+a.ID+": "+err.Error(), nil)
	}
	_, err = t.post.post(ctx, body, nil)
	return err
}

// markdown makes s literal text in an Adaptive Card: control characters
// become spaces (a newline could start a list or heading), the Markdown
// characters are backslash-escaped, and it is cut to max characters.
func markdown(s string, max int) string {
	s = cutRunes(flatten(s), max)
	return mdEscaper.Replace(s)
}

var mdEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`, "`", "\\`", `~`, `\~`)

var _ Sink = (*Teams)(nil)
