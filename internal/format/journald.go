package format

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/valyala/fastjson"
)

// Journald reads `journalctl -o json` exports (one JSON object per line,
// with __REALTIME_TIMESTAMP, _HOSTNAME, SYSLOG_IDENTIFIER, MESSAGE…) into
// the same Syslog-shaped records as the syslog reader, pairing SSH logins
// with the Entra login module's verdicts the same way.
type Journald struct{}

func init() { Register(Journald{}) }

// Name implements Reader.
func (Journald) Name() string { return "journald" }

// Sniff implements Reader.
func (Journald) Sniff(_ string, head []byte) int {
	first := head
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	first = bytes.TrimSpace(first)
	if len(first) > 0 && first[0] == '{' && (bytes.Contains(first, []byte(`"__REALTIME_TIMESTAMP"`)) || bytes.Contains(first, []byte(`"__CURSOR"`))) {
		return 70
	}
	return 0
}

// journalString reads a journal field: a string, or an array of byte
// values (how journalctl writes non-UTF-8 data).
func journalString(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return string(b)
	case fastjson.TypeArray:
		a, _ := v.Array()
		b := make([]byte, 0, len(a))
		for _, x := range a {
			n, err := x.Int()
			if err != nil || n < 0 || n > 255 {
				return ""
			}
			b = append(b, byte(n))
		}
		return string(b)
	case fastjson.TypeNumber:
		return string(v.MarshalTo(nil))
	}
	return ""
}

// Split implements Reader.
func (Journald) Split(ctx context.Context, _ string, r io.Reader, opts Options, emit func(*Item) error) error {
	var p fastjson.Parser
	return splitAuthLines(ctx, r, opts, "journald", emit, func(b []byte, n int64) (syslogLine, []byte, error) {
		var l syslogLine
		v, err := p.ParseBytes(b)
		if err != nil || v.Type() != fastjson.TypeObject {
			reason := "not a JSON object"
			if err != nil {
				reason = err.Error()
				if len(reason) > 200 {
					reason = reason[:200] + "…"
				}
			}
			return l, nil, fmt.Errorf("line %d: invalid journal entry: %s", n, reason)
		}
		us, err := strconv.ParseInt(journalString(v.Get("__REALTIME_TIMESTAMP")), 10, 64)
		if err != nil {
			return l, nil, fmt.Errorf("line %d: journal entry without a valid __REALTIME_TIMESTAMP", n)
		}
		l.t = time.UnixMicro(us).UTC()
		l.host = journalString(v.Get("_HOSTNAME"))
		l.prog = journalString(v.Get("SYSLOG_IDENTIFIER"))
		if l.prog == "" {
			l.prog = journalString(v.Get("_COMM"))
		}
		l.pid = journalString(v.Get("SYSLOG_PID"))
		if l.pid == "" {
			l.pid = journalString(v.Get("_PID"))
		}
		l.msg = journalString(v.Get("MESSAGE"))
		quoted := fmt.Appendf(nil, "%s %s %s[%s]: %s", l.t.Format(time.RFC3339Nano), l.host, l.prog, l.pid, l.msg)
		return l, quoted, nil
	})
}

var _ Reader = Journald{}
