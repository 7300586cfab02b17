package sink

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Stdout writes one line per alert for a person to read:
//
//	2026-11-27T10:00:00Z HIGH noncompliant-device-signin contoso  summary [link]
//
// that is the last-seen time, the severity, the rule and the tenant, two
// spaces, the summary, and the link when there is one. Control and
// bidirectional-format characters in fields are written as escapes (\n,
// \x1b, \u202e) and backslashes doubled, so a field cannot break the line
// or drive the terminal.
type Stdout struct {
	name string
	mu   sync.Mutex
	w    io.Writer
}

func newStdout(cfg Config) (Sink, error) {
	w := cfg.Out
	if w == nil {
		w = os.Stdout
	}
	return &Stdout{name: cfg.Name, w: w}, nil
}

// Name returns the sink's name.
func (s *Stdout) Name() string { return s.name }

// Send writes the alert's line.
func (s *Stdout) Send(ctx context.Context, a *Payload) error {
	var b strings.Builder
	b.WriteString(a.LastSeen.UTC().Format(time.RFC3339))
	b.WriteByte(' ')
	b.WriteString(strings.ToUpper(a.Severity))
	for _, f := range []string{a.Rule, a.Tenant} {
		b.WriteByte(' ')
		b.WriteString(escapeControl(f))
	}
	b.WriteString("  ")
	b.WriteString(escapeControl(a.Summary))
	if a.Link != "" {
		b.WriteByte(' ')
		b.WriteString(escapeControl(a.Link))
	}
	b.WriteByte('\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := io.WriteString(s.w, b.String()); err != nil {
		return fmt.Errorf("sink %q: writing alert %s: %w", s.name, a.ID, err)
	}
	return nil
}

var _ Sink = (*Stdout)(nil)
