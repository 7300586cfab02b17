package sink

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInjection sends an alert whose free-text fields hold every character
// with a meaning in some format (| = newline CR < > & \ * [ ] ESC and a
// bidi override) through every sink, and checks each format keeps them as
// data: framing intact, no markup, and the value recoverable where the
// format allows.
func TestInjection(t *testing.T) {
	p := evilPayload()
	ctx := context.Background()

	checkJSON := func(t *testing.T, body []byte, event func(map[string]any) map[string]any) {
		t.Helper()
		if bytes.ContainsAny(body, "\n\r\x1b<>") {
			t.Errorf("JSON body holds a raw newline, ESC or angle bracket: %q", body)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("body is not JSON: %v", err)
		}
		ev := event(m)
		ent := ev["entities"].(map[string]any)
		if ent["device_name"] != evil || ev["summary"] != evil {
			t.Errorf("device name %q, summary %q: want them back exactly", ent["device_name"], ev["summary"])
		}
	}
	self := func(m map[string]any) map[string]any { return m }

	t.Run("webhook", func(t *testing.T) {
		r := newReceiver(t, 200, "")
		if err := newSink(t, "webhook", Config{URL: r.URL, Secret: "k"}).Send(ctx, p); err != nil {
			t.Fatal(err)
		}
		checkJSON(t, r.last(t).Body, self)
	})
	t.Run("splunk", func(t *testing.T) {
		r := newReceiver(t, 200, `{"text":"Success","code":0}`)
		if err := newSink(t, "splunk", Config{URL: r.URL, Secret: "k"}).Send(ctx, p); err != nil {
			t.Fatal(err)
		}
		checkJSON(t, r.last(t).Body, func(m map[string]any) map[string]any { return m["event"].(map[string]any) })
	})
	t.Run("file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "a.jsonl")
		if err := newSink(t, "file", Config{Path: path}).Send(ctx, p); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(path)
		if bytes.Count(data, []byte("\n")) != 1 || !bytes.HasSuffix(data, []byte("\n")) {
			t.Fatalf("file holds %q, want exactly one line", data)
		}
		checkJSON(t, bytes.TrimSuffix(data, []byte("\n")), self)
	})
	t.Run("slack", func(t *testing.T) {
		r := newReceiver(t, 200, "ok")
		if err := newSink(t, "slack", Config{URL: r.URL}).Send(ctx, p); err != nil {
			t.Fatal(err)
		}
		var m slackMessage
		if err := json.Unmarshal(r.last(t).Body, &m); err != nil {
			t.Fatal(err)
		}
		texts := []string{m.Text}
		for _, b := range m.Blocks {
			if b.Text != nil && b.Text.Type == "mrkdwn" {
				texts = append(texts, b.Text.Text)
			}
			for _, f := range b.Fields {
				texts = append(texts, f.Text)
			}
		}
		for _, s := range texts {
			if strings.ContainsAny(s, "<>\x1b\r\u202e") || strings.Contains(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(s, "&amp;", ""), "&lt;", ""), "&gt;", ""), "&") {
				t.Errorf("mrkdwn text %q holds a raw <, >, &, ESC, CR or bidi override", s)
			}
		}
		if !strings.Contains(texts[1], "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("summary %q: want the script tag escaped", texts[1])
		}
		if h := m.Blocks[0].Text.Text; strings.ContainsAny(h, "\n\r\x1b\u202e") {
			t.Errorf("header %q holds control characters", h)
		}
	})
	t.Run("teams", func(t *testing.T) {
		r := newReceiver(t, 202, "")
		if err := newSink(t, "teams", Config{URL: r.URL}).Send(ctx, p); err != nil {
			t.Fatal(err)
		}
		var m teamsMessage
		if err := json.Unmarshal(r.last(t).Body, &m); err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, it := range m.Attachments[0].Content.Body {
			texts = append(texts, it.Text)
			for _, f := range it.Facts {
				texts = append(texts, f.Title, f.Value)
			}
		}
		for _, s := range texts {
			if strings.ContainsAny(s, "\n\r\x1b\u202e") {
				t.Errorf("card text %q holds control characters", s)
			}
			if strings.Contains(s, "[l]") || strings.Contains(s, " *b*") {
				t.Errorf("card text %q holds live Markdown", s)
			}
		}
		if want := `\*b\* \[l\](http://x)`; !strings.Contains(texts[1], want) {
			t.Errorf("summary %q: want Markdown escaped as %s", texts[1], want)
		}
	})
	t.Run("syslog", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		s := newSink(t, "syslog", Config{Network: "tcp", Address: ln.Addr().String()})
		defer s.(*Syslog).Close()
		for range 2 {
			if err := s.Send(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for range 2 { // the second frame starts where the first one's count said
			msg := readFrame(t, br)
			if strings.ContainsAny(msg, "\n\r\x1b\u202e") {
				t.Fatalf("syslog message holds a raw control character: %q", msg)
			}
			m := parse5424(t, msg)
			if m.MsgID != "rule|evil|x=y_z_<script>alert(1)" {
				t.Errorf("MSGID %q", m.MsgID)
			}
			fields, ext := parseCEF(t, m.Msg)
			flat := "evil|x=y z <script>alert(1)</script>\\ & *b* [l](http://x)  [31m "
			if fields[4] != "rule|"+flat || fields[5] != flat {
				t.Errorf("CEF name fields %q, %q: want %q", fields[4], fields[5], flat)
			}
			// Extension values keep newlines (as \n, \r escapes); ESC and the override become spaces.
			want := "evil|x=y\nz\r<script>alert(1)</script>\\ & *b* [l](http://x)  [31m "
			for _, k := range []string{"suser", "shost", "msg", "cs1"} {
				if ext[k] != want {
					t.Errorf("CEF %s = %q, want %q", k, ext[k], want)
				}
			}
			if ext["cs2"] != "a-01JDX9Q7ZK" || ext["src"] != "203.0.113.9" {
				t.Errorf("fields after the evil ones moved: cs2=%q src=%q", ext["cs2"], ext["src"])
			}
		}
	})
	t.Run("stdout", func(t *testing.T) {
		var out strings.Builder
		if err := newSink(t, "stdout", Config{Out: &out}).Send(ctx, p); err != nil {
			t.Fatal(err)
		}
		line := out.String()
		if strings.Count(line, "\n") != 1 || strings.ContainsAny(strings.TrimSuffix(line, "\n"), "\r\x1b\u202e") {
			t.Fatalf("stdout wrote %q, want one line without raw control characters", line)
		}
		if want := `evil|x=y\nz\r<script>alert(1)</script>\\ & *b* [l](http://x) \x1b[31m\u202e`; !strings.Contains(line, want) {
			t.Errorf("stdout line %q does not show the field escaped as %s", line, want)
		}
	})
}
