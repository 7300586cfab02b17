package format

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/jsonenc"
	"github.com/entrawatch/entrawatch/internal/sshlog"
)

// Syslog reads Linux syslog files such as /var/log/auth.log (Debian,
// Ubuntu) and /var/log/secure (Red Hat), rotated or gzip-compressed, with
// classic timestamps ("May  9 23:49:39", no year) or RFC 3339 ones
// ("2026-01-12T11:15:58.792703+00:00", rsyslog's default on current Debian
// and Ubuntu). Each line becomes a record in the shape of the Log Analytics
// Syslog table; an accepted SSH login that the Microsoft Entra login module
// declared, just before, not to be an Entra account carries that module line
// as EntraLoginCheck.
type Syslog struct{}

func init() { Register(Syslog{}) }

// Name implements Reader.
func (Syslog) Name() string { return "syslog" }

var (
	classicRE = regexp.MustCompile(`^(?:<\d{1,3}>)?(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(\.\d+)? +(\S+) (.*)$`)
	rfc3339RE = regexp.MustCompile(`^(?:<\d{1,3}>1? ?)?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) +(\S+) (.*)$`)
)

var months = map[string]time.Month{"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6, "Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}

// Sniff implements Reader.
func (Syslog) Sniff(name string, head []byte) int {
	line := head
	for len(line) > 0 {
		i := bytes.IndexByte(line, '\n')
		first := line
		if i >= 0 {
			first, line = line[:i], line[i+1:]
		} else {
			line = nil
		}
		first = bytes.TrimRight(first, "\r")
		if len(bytes.TrimSpace(first)) == 0 {
			continue
		}
		if classicRE.Match(first) || rfc3339RE.Match(first) {
			return 45
		}
		break
	}
	base := strings.ToLower(filepath.Base(name))
	for _, n := range []string{"auth.log", "secure", "syslog", "messages"} {
		if strings.HasPrefix(base, n) {
			return 10
		}
	}
	return 0
}

// syslogLine is one parsed syslog line.
type syslogLine struct {
	t                  time.Time
	host, prog, pid    string
	msg                string
	hasTime, hasHeader bool
}

// yearGuesser assigns years to classic timestamps.
type yearGuesser struct {
	fixed     int // --year
	modTime   time.Time
	prevMonth time.Month
	year      int
}

func (y *yearGuesser) at(mon time.Month, day, h, m, s, nsec int) time.Time {
	if y.fixed > 0 {
		if y.year == 0 {
			y.year = y.fixed
		}
		// A December-to-January step inside one file is the new year.
		if y.prevMonth >= 11 && mon <= 2 {
			y.year++
		}
		y.prevMonth = mon
		return time.Date(y.year, mon, day, h, m, s, nsec, time.UTC)
	}
	ref := y.modTime
	if ref.IsZero() {
		ref = time.Now().UTC()
	}
	t := time.Date(ref.Year(), mon, day, h, m, s, nsec, time.UTC)
	// A line after the file's last write is from the year before (a file
	// written in January holding December lines).
	if t.After(ref.Add(48 * time.Hour)) {
		t = t.AddDate(-1, 0, 0)
	}
	return t
}

func parseSyslog(b []byte, years *yearGuesser) (syslogLine, bool) {
	var l syslogLine
	var rest string
	if m := classicRE.FindSubmatch(b); m != nil {
		day, _ := strconv.Atoi(string(m[2]))
		h, _ := strconv.Atoi(string(m[3]))
		mi, _ := strconv.Atoi(string(m[4]))
		s, _ := strconv.Atoi(string(m[5]))
		nsec := 0
		if len(m[6]) > 1 {
			frac := string(m[6][1:])
			for len(frac) < 9 {
				frac += "0"
			}
			nsec, _ = strconv.Atoi(frac[:9])
		}
		if day < 1 || day > 31 || h > 23 || mi > 59 || s > 60 {
			return l, false
		}
		l.t = years.at(months[string(m[1])], day, h, mi, s, nsec)
		l.host, rest = string(m[7]), string(m[8])
	} else if m := rfc3339RE.FindSubmatch(b); m != nil {
		ts := strings.Replace(string(m[1]), " ", "T", 1)
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			if t, err = time.Parse("2006-01-02T15:04:05.999999999", ts); err != nil {
				return l, false
			}
		}
		l.t = t.UTC()
		l.host, rest = string(m[2]), string(m[3])
	} else {
		return l, false
	}
	l.hasTime = true
	// TAG: "prog[pid]: msg" or "prog: msg".
	if i := strings.Index(rest, ": "); i > 0 && !strings.ContainsAny(rest[:i], " \t") {
		tag := rest[:i]
		l.msg = rest[i+2:]
		if j := strings.IndexByte(tag, '['); j > 0 && strings.HasSuffix(tag, "]") {
			l.prog, l.pid = tag[:j], tag[j+1:len(tag)-1]
		} else {
			l.prog = tag
		}
		l.hasHeader = true
	} else {
		l.msg = rest
	}
	return l, true
}

// appendSyslogRecord writes a line as a record in the Log Analytics Syslog
// shape.
func appendSyslogRecord(b []byte, l *syslogLine, raw []byte, check string) []byte {
	b = append(b, `{"TimeGenerated":"`...)
	b = l.t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","Computer":`...)
	b = jsonenc.AppendString(b, l.host)
	b = append(b, `,"HostName":`...)
	b = jsonenc.AppendString(b, l.host)
	b = append(b, `,"ProcessName":`...)
	b = jsonenc.AppendString(b, l.prog)
	b = append(b, `,"ProcessID":`...)
	b = jsonenc.AppendString(b, l.pid)
	b = append(b, `,"SyslogMessage":`...)
	b = jsonenc.AppendString(b, l.msg)
	if check != "" {
		b = append(b, `,"EntraLoginCheck":`...)
		b = jsonenc.AppendString(b, check)
	}
	b = append(b, `,"RawLine":`...)
	b = jsonenc.AppendString(b, string(raw))
	return append(b, `,"Type":"Syslog"}`...)
}

// Split implements Reader.
func (Syslog) Split(ctx context.Context, name string, r io.Reader, opts Options, emit func(*Item) error) error {
	years := &yearGuesser{fixed: opts.Year}
	if opts.ModTime > 0 {
		years.modTime = time.Unix(opts.ModTime, 0).UTC()
	}
	return splitAuthLines(ctx, r, opts, "syslog", emit, func(b []byte, n int64) (syslogLine, []byte, error) {
		l, ok := parseSyslog(b, years)
		if !ok {
			return l, nil, fmt.Errorf("line %d: not a syslog line (expected \"Mon dd hh:mm:ss host program[pid]: message\" or an RFC 3339 timestamp)", n)
		}
		return l, b, nil
	})
}

// splitAuthLines is the line loop of the syslog and journald readers: it
// bounds line length, skips blank lines, turns each line into a syslog line
// with parse (which also returns the text the Entra login module's verdict
// is quoted by), pairs SSH logins with the module's verdicts, and emits the
// Syslog-shaped records.
func splitAuthLines(ctx context.Context, r io.Reader, opts Options, format string, emit func(*Item) error,
	parse func(b []byte, n int64) (syslogLine, []byte, error)) error {
	ls := newLineScanner(r, opts.MaxRecord)
	var pair sshlog.Pairer
	var out []byte
	var it Item
	var index int64
	for {
		b, n, tooLong, err := ls.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("line %d: read error: %w", n, err)
		}
		if n&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if len(bytes.TrimSpace(b)) == 0 && !tooLong {
			continue
		}
		index++
		if tooLong {
			it = Item{Line: n, Index: index, OwnLine: true, Err: fmt.Errorf("line %d: %w (over %d bytes), skipped", n, ErrLineTooLong, ls.max)}
			if err := emit(&it); err != nil {
				return err
			}
			continue
		}
		l, quoted, err := parse(b, n)
		if err != nil {
			it = Item{Line: n, Index: index, OwnLine: true, Err: err}
			if err := emit(&it); err != nil {
				return err
			}
			continue
		}
		check := pair.Observe(l.host, l.prog, l.msg, l.t, quoted)
		out = appendSyslogRecord(out[:0], &l, b, check)
		it = Item{Data: out, Line: n, Index: index, OwnLine: true, Format: format}
		if err := emit(&it); err != nil {
			return err
		}
	}
}

var _ Reader = Syslog{}
