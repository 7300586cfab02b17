package sink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
)

// Syslog sends each alert as an RFC 5424 message whose MSG is an ArcSight
// CEF event, over udp (one message per datagram, RFC 5426), tcp
// (octet-counting framing "LEN SP MSG", RFC 6587) or tls (RFC 5425, same
// framing; CAFile and InsecureSkipVerify apply). It keeps one connection
// and reconnects when it fails. Close closes it.
//
// The RFC 5424 header is
//
//	<PRI>1 TIMESTAMP HOSTNAME entrawatch - MSGID - MSG
//
// with facility security/authorization (authpriv, 10) and severity high →
// crit (2), medium → err (3), low → warning (4), so PRI is 82, 83 or 84;
// TIMESTAMP the send time in UTC with milliseconds; HOSTNAME Config.Hostname;
// MSGID the rule name (printable ASCII, at most 32 characters; "-" when
// empty); no PROCID and no structured data. MSG is
//
//	CEF:0|entrawatch|entrawatch|VERSION|RULE|TITLE|SEVERITY|EXTENSION
//
// with CEF severity low 3, medium 6, high 9, and the extension
//
//	rt=<last seen, unix ms> start=<first seen, unix ms> cnt=<count>
//	suser=<user> shost=<device name> dhost=<host> src=<IP> dvchost=<this host>
//	cs1Label=tenant cs1=… cs2Label=alertId cs2=… cs3Label=deviceId cs3=…
//	cs4Label=link cs4=… cs5Label=status cs5=… msg=<summary>
//
// leaving out empty fields (the device is the Entra device, so it is the
// source host; dvchost is, as CEF means it, the machine reporting the
// event). CEF escaping: \ and | in header fields as \\ and \|, \ and = in
// extension values as \\ and \=, newlines as \n and \r; other control
// characters become spaces. The message therefore never holds a raw
// newline, and the octet count frames it whatever it holds.
type Syslog struct {
	name     string
	network  string
	address  string
	hostname string
	version  string
	timeout  time.Duration
	clock    func() time.Time
	tls      *tls.Config

	mu   sync.Mutex
	conn net.Conn
}

func newSyslog(cfg Config) (Sink, error) {
	s := &Syslog{name: cfg.Name, network: cfg.Network, address: cfg.Address, version: cfg.Version,
		timeout: cfg.Timeout, clock: cfg.Clock}
	switch s.network {
	case "":
		s.network = "udp"
	case "udp", "tcp", "tls":
	default:
		return nil, fmt.Errorf("sink %q (syslog): network %q: want udp, tcp or tls", cfg.Name, cfg.Network)
	}
	host, _, err := net.SplitHostPort(cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("sink %q (syslog): address %q: want host:port: %w", cfg.Name, cfg.Address, err)
	}
	if s.network == "tls" {
		if s.tls, err = tlsConfig(cfg, host); err != nil {
			return nil, err
		}
	}
	s.hostname = cfg.Hostname
	if s.hostname == "" {
		s.hostname, _ = os.Hostname()
	}
	return s, nil
}

// Name returns the sink's name.
func (s *Syslog) Name() string { return s.name }

// Send sends the alert's message, reconnecting once if the kept
// connection fails.
func (s *Syslog) Send(ctx context.Context, a *Payload) error {
	msg := s.message(a)
	if s.network != "udp" {
		msg = append(strconv.AppendInt(nil, int64(len(msg)), 10), append([]byte{' '}, msg...)...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	for try := 0; try < 2; try++ {
		if s.conn == nil || !s.alive() {
			s.closeConn()
			if err = s.dial(ctx); err != nil {
				break
			}
		}
		deadline := time.Now().Add(s.timeout)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		s.conn.SetWriteDeadline(deadline)
		if _, err = s.conn.Write(msg); err == nil {
			return nil
		}
		s.closeConn()
	}
	return fmt.Errorf("sink %q: syslog %s %s: %w", s.name, s.network, s.address, err)
}

func (s *Syslog) dial(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var err error
	switch s.network {
	case "tls":
		d := tls.Dialer{Config: s.tls}
		s.conn, err = d.DialContext(ctx, "tcp", s.address)
	default:
		var d net.Dialer
		s.conn, err = d.DialContext(ctx, s.network, s.address)
	}
	return err
}

// alive reports whether a stream connection is still open: syslog
// receivers never write, so a read that does not time out at once means
// the peer closed (or broke) the connection, and a message written to it
// would be lost. (Data a receiver did send is dropped.)
func (s *Syslog) alive() bool {
	if s.network == "udp" {
		return true
	}
	// A deadline already past would fail the read without trying it.
	s.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	var b [1]byte
	_, err := s.conn.Read(b[:])
	var ne net.Error
	return err == nil || errors.As(err, &ne) && ne.Timeout()
}

func (s *Syslog) closeConn() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

// Close closes the connection.
func (s *Syslog) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeConn()
	return nil
}

// syslogSeverity maps alert severity to the RFC 5424 severity.
func syslogSeverity(sev alert.Severity) int {
	switch sev {
	case alert.High:
		return 2 // crit
	case alert.Medium:
		return 3 // err
	}
	return 4 // warning
}

// cefSeverity maps alert severity to CEF's 0–10 scale.
func cefSeverity(sev alert.Severity) int {
	switch sev {
	case alert.High:
		return 9
	case alert.Medium:
		return 6
	}
	return 3
}

const facilityAuthpriv = 10

// message returns the RFC 5424 message of an alert, without framing.
func (s *Syslog) message(a *Payload) []byte {
	sev := a.severity()
	var b []byte
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(facilityAuthpriv*8+syslogSeverity(sev)), 10)
	b = append(b, ">1 "...)
	b = s.clock().UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, ' ')
	b = append(b, headerToken(s.hostname, 255)...)
	b = append(b, " entrawatch - "...)
	b = append(b, headerToken(a.Rule, 32)...)
	b = append(b, " - "...)
	return appendCEF(b, a, s.version, s.hostname)
}

// headerToken makes s an RFC 5424 header field: printable ASCII without
// spaces, at most max bytes, "-" when empty.
func headerToken(s string, max int) string {
	t := strings.Map(func(r rune) rune {
		if r > ' ' && r < 0x7f {
			return r
		}
		return '_'
	}, s)
	if len(t) > max {
		t = t[:max]
	}
	if t == "" {
		return "-"
	}
	return t
}

// appendCEF appends the CEF event of an alert.
func appendCEF(b []byte, a *Payload, version, host string) []byte {
	b = append(b, "CEF:0|entrawatch|entrawatch|"...)
	for _, f := range []string{version, a.Rule, a.Title} {
		b = appendCEFHeader(b, f)
		b = append(b, '|')
	}
	b = strconv.AppendInt(b, int64(cefSeverity(a.severity())), 10)
	b = append(b, '|')
	first := true
	ext := func(key, value string) {
		if value == "" {
			return
		}
		if !first {
			b = append(b, ' ')
		}
		first = false
		b = append(b, key...)
		b = append(b, '=')
		b = appendCEFValue(b, value)
	}
	ms := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return strconv.FormatInt(t.UnixMilli(), 10)
	}
	ext("rt", ms(a.LastSeen))
	ext("start", ms(a.FirstSeen))
	ext("cnt", strconv.Itoa(a.Count))
	ext("suser", a.Entities.User)
	ext("shost", a.Entities.DeviceName)
	ext("dhost", a.Entities.Host)
	ext("src", a.Entities.IP)
	ext("dvchost", host)
	for i, f := range []struct{ label, value string }{
		{"tenant", a.Tenant}, {"alertId", a.ID}, {"deviceId", a.Entities.DeviceID}, {"link", a.Link}, {"status", a.Status},
	} {
		if f.value == "" {
			continue
		}
		n := strconv.Itoa(i + 1)
		ext("cs"+n+"Label", f.label)
		ext("cs"+n, f.value)
	}
	ext("msg", a.Summary)
	return b
}

// appendCEFHeader appends a CEF header field: \ and | escaped, control
// characters as spaces.
func appendCEFHeader(b []byte, s string) []byte {
	for _, r := range s {
		switch {
		case r == '\\' || r == '|':
			b = append(b, '\\', byte(r))
		case dangerous(r):
			b = append(b, ' ')
		default:
			b = append(b, string(r)...)
		}
	}
	return b
}

// appendCEFValue appends a CEF extension value: \ and = escaped, newlines
// as \n and \r, other control characters as spaces.
func appendCEFValue(b []byte, s string) []byte {
	for _, r := range s {
		switch {
		case r == '\\' || r == '=':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case dangerous(r):
			b = append(b, ' ')
		default:
			b = append(b, string(r)...)
		}
	}
	return b
}

var (
	_ Sink      = (*Syslog)(nil)
	_ io.Closer = (*Syslog)(nil)
)
