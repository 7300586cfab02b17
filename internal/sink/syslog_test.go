package sink

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readFrame reads one octet-counted message (RFC 6587).
func readFrame(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	msg, err := frame(r)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func frame(r *bufio.Reader) (string, error) {
	n, err := r.ReadString(' ')
	if err != nil {
		return "", fmt.Errorf("reading frame length: %w", err)
	}
	size, err := strconv.Atoi(strings.TrimSuffix(n, " "))
	if err != nil || size <= 0 {
		return "", fmt.Errorf("frame length %q: %v", n, err)
	}
	msg := make([]byte, size)
	if _, err := io.ReadFull(r, msg); err != nil {
		return "", fmt.Errorf("reading %d-byte frame: %w", size, err)
	}
	return string(msg), nil
}

// guard makes Accept fail instead of hanging if a message never comes.
func guard(ln net.Listener) {
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(10 * time.Second))
}

// syslogMessage is a parsed RFC 5424 message.
type syslogMessage struct {
	PRI, Version, Timestamp, Host, App, ProcID, MsgID, SD, Msg string
}

func parse5424(t *testing.T, s string) syslogMessage {
	t.Helper()
	if !strings.HasPrefix(s, "<") {
		t.Fatalf("message %q does not start with <PRI>", s)
	}
	end := strings.IndexByte(s, '>')
	parts := strings.SplitN(s[end+1:], " ", 8)
	if end < 0 || len(parts) != 8 {
		t.Fatalf("message %q is not RFC 5424", s)
	}
	return syslogMessage{s[1:end], parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], parts[6], parts[7]}
}

// parseCEF splits a CEF event into its 7 header fields and extension,
// undoing the escapes.
func parseCEF(t *testing.T, s string) ([]string, map[string]string) {
	t.Helper()
	var fields []string
	var cur strings.Builder
	i := 0
	for ; i < len(s) && len(fields) < 7; i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == '|':
			fields = append(fields, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	if len(fields) != 7 || fields[0] != "CEF:0" {
		t.Fatalf("CEF header of %q: %q", s, fields)
	}
	ext := s[i:]
	// Keys end at an unescaped '='; a value runs to the space before the next key.
	type kv struct{ key, start, eq int }
	var keys []kv
	for j := 0; j < len(ext); j++ {
		if ext[j] == '\\' {
			j++
			continue
		}
		if ext[j] == '=' {
			start := strings.LastIndexByte(ext[:j], ' ') + 1
			keys = append(keys, kv{start: start, eq: j})
		}
	}
	out := map[string]string{}
	unescape := strings.NewReplacer(`\\`, `\`, `\=`, `=`, `\n`, "\n", `\r`, "\r")
	for k, p := range keys {
		end := len(ext)
		if k+1 < len(keys) {
			end = keys[k+1].start - 1
		}
		key := ext[p.start:p.eq]
		if _, dup := out[key]; dup {
			t.Errorf("CEF key %s twice in %q", key, ext)
		}
		out[key] = unescape.Replace(ext[p.eq+1 : end])
	}
	return fields, out
}

func TestSyslogTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	guard(ln)
	defer ln.Close()
	s := newSink(t, "syslog", Config{Network: "tcp", Address: ln.Addr().String()})
	defer s.(*Syslog).Close()
	if err := s.Send(context.Background(), samplePayload()); err != nil {
		t.Fatal(err)
	}
	conn, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	m := parse5424(t, readFrame(t, bufio.NewReader(conn)))
	want := syslogMessage{"82", "1", "2026-11-27T10:00:05.000Z", "ew-host", "entrawatch", "-", "noncompliant-device-signin", "-", m.Msg}
	if m != want {
		t.Errorf("header\n got %+v\nwant %+v", m, want)
	}
	fields, ext := parseCEF(t, m.Msg)
	wantFields := []string{"CEF:0", "entrawatch", "entrawatch", "1.2.3", "noncompliant-device-signin", "Sign-in from a non-compliant device", "9"}
	if strings.Join(fields, "|") != strings.Join(wantFields, "|") {
		t.Errorf("CEF header %q, want %q", fields, wantFields)
	}
	wantExt := map[string]string{
		"rt": "1795773600000", "start": "1795773480000", "cnt": "2",
		"suser": "alice@contoso.com", "shost": "LAPTOP-7", "src": "203.0.113.9", "dvchost": "ew-host",
		"cs1Label": "tenant", "cs1": "contoso", "cs2Label": "alertId", "cs2": "a-01JDX9Q7ZK",
		"cs3Label": "deviceId", "cs3": "3f2a9c1e-0000-4000-8000-00000000abcd",
		"cs4Label": "link", "cs4": "https://entrawatch.example.com/alerts/a-01JDX9Q7ZK",
		"cs5Label": "status", "cs5": "new",
		"msg": "alice@contoso.com signed in to Office 365 from non-compliant device LAPTOP-7",
	}
	if len(ext) != len(wantExt) {
		t.Errorf("CEF extension has %d keys, want %d: %v", len(ext), len(wantExt), ext)
	}
	for k, v := range wantExt {
		if ext[k] != v {
			t.Errorf("CEF %s = %q, want %q", k, ext[k], v)
		}
	}
}

func TestSyslogPRI(t *testing.T) {
	for sev, want := range map[string]string{"high": "<82>", "medium": "<83>", "low": "<84>"} {
		p := samplePayload()
		p.Severity = sev
		s := &Syslog{hostname: "h", version: "v", clock: fixedClock}
		msg := string(s.message(p))
		if !strings.HasPrefix(msg, want) {
			t.Errorf("%s: message starts %q, want %s", sev, msg[:5], want)
		}
		cefSev := map[string]string{"high": "|9|", "medium": "|6|", "low": "|3|"}[sev]
		if !strings.Contains(msg, cefSev) {
			t.Errorf("%s: CEF severity %s missing in %q", sev, cefSev, msg)
		}
	}
}

func TestSyslogUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s := newSink(t, "syslog", Config{Address: pc.LocalAddr().String()}) // udp is the default
	defer s.(*Syslog).Close()
	if err := s.Send(context.Background(), samplePayload()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	m := parse5424(t, string(buf[:n]))
	if m.PRI != "82" || !strings.HasPrefix(m.Msg, "CEF:0|") {
		t.Errorf("datagram %q: want one unframed RFC 5424 message", buf[:n])
	}
}

func TestSyslogTLS(t *testing.T) {
	// Borrow httptest's certificate for 127.0.0.1.
	hs := httptest.NewUnstartedServer(nil)
	hs.StartTLS()
	cert, raw := hs.TLS.Certificates[0], hs.Certificate().Raw
	hs.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 2)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		for range 2 {
			msg, err := frame(r)
			if err != nil {
				msg = err.Error()
			}
			got <- msg
		}
		for { // let later clients fail their handshake
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.(*tls.Conn).Handshake()
			conn.Close()
		}
	}()
	s := newSink(t, "syslog", Config{Network: "tls", Address: ln.Addr().String(), CAFile: ca})
	defer s.(*Syslog).Close()
	for range 2 {
		if err := s.Send(context.Background(), samplePayload()); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if m := parse5424(t, <-got); m.PRI != "82" {
			t.Errorf("TLS message PRI %s", m.PRI)
		}
	}

	// Without the CA the server is not trusted.
	untrusted := newSink(t, "syslog", Config{Network: "tls", Address: ln.Addr().String()})
	if err := untrusted.Send(context.Background(), samplePayload()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("Send to an untrusted server = %v, want a certificate error", err)
	}
}

func TestSyslogReconnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	guard(ln)
	addr := ln.Addr().String()
	s := newSink(t, "syslog", Config{Name: "siem", Network: "tcp", Address: addr})
	defer s.(*Syslog).Close()

	// The receiver takes one message and drops the connection.
	if err := s.Send(context.Background(), samplePayload()); err != nil {
		t.Fatal(err)
	}
	c1, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	readFrame(t, bufio.NewReader(c1))
	c1.Close()

	// The next alert arrives on a new connection.
	if err := s.Send(context.Background(), samplePayload()); err != nil {
		t.Fatal(err)
	}
	c2, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	readFrame(t, bufio.NewReader(c2))
	c2.Close()

	// Receiver down: a retryable error naming it.
	ln.Close()
	err = s.Send(context.Background(), samplePayload())
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), `sink "siem": syslog tcp `+addr) {
		t.Fatalf("Send to a closed port = %v, want a retryable error naming the receiver", err)
	}
	// Receiver back: delivered again.
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	defer ln2.Close()
	guard(ln2)
	if err := s.Send(context.Background(), samplePayload()); err != nil {
		t.Fatalf("Send after the receiver came back: %v", err)
	}
	c3, err := ln2.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	readFrame(t, bufio.NewReader(c3))
}
