package alert

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/entrawatch/entrawatch/internal/jsonenc"
)

// Writer prints alerts in one output format.
type Writer interface {
	Write(a *Alert) error
	// Close flushes buffered output.
	Close() error
}

// NewWriter returns the writer for format "json", "csv" or "table".
func NewWriter(format string, w io.Writer) (Writer, error) {
	switch format {
	case "json":
		return &jsonWriter{w: bufio.NewWriterSize(w, 64<<10)}, nil
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(csvHeader); err != nil {
			return nil, err
		}
		return &csvWriter{w: cw}, nil
	case "table":
		return &tableWriter{w: bufio.NewWriter(w)}, nil
	}
	return nil, fmt.Errorf("unknown output format %q (want table, json or csv)", format)
}

// AppendJSON appends the alert as one line of JSON (without newline).
func AppendJSON(b []byte, a *Alert) []byte {
	b = append(b, `{"rule":`...)
	b = jsonenc.AppendString(b, a.Rule)
	b = append(b, `,"title":`...)
	b = jsonenc.AppendString(b, a.Title)
	b = append(b, `,"severity":`...)
	b = jsonenc.AppendString(b, a.Severity.String())
	b = append(b, `,"time":`...)
	if a.Time.IsZero() {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = a.Time.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = append(b, `,"summary":`...)
	b = jsonenc.AppendString(b, a.Summary)
	b = append(b, `,"entities":{`...)
	first := true
	for _, kv := range [...][2]string{{"user", a.Entities.User}, {"device_id", a.Entities.DeviceID}, {"device_name", a.Entities.DeviceName}, {"ip", a.Entities.IP}, {"host", a.Entities.Host}} {
		if kv[1] == "" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = jsonenc.AppendString(b, kv[0])
		b = append(b, ':')
		b = jsonenc.AppendString(b, kv[1])
	}
	b = append(b, '}')
	if len(a.Details) > 0 {
		b = append(b, `,"details":{`...)
		for i, d := range a.Details {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, d.Name)
			b = append(b, ':')
			b = jsonenc.AppendString(b, d.Value)
		}
		b = append(b, '}')
	}
	b = append(b, `,"source":{"file":`...)
	b = jsonenc.AppendString(b, a.Source.File)
	b = append(b, `,"line":`...)
	b = strconv.AppendInt(b, a.Source.Line, 10)
	b = append(b, `,"format":`...)
	b = jsonenc.AppendString(b, a.Source.Format)
	b = append(b, `},"record":`...)
	switch {
	case len(a.Record) == 0:
		b = append(b, "null"...)
	case jsonenc.ValidParsed(a.Record):
		b = append(b, a.Record...)
	default:
		// The parser accepts what strict JSON does not (raw control
		// characters in strings, numbers such as 1-2, invalid UTF-8): give
		// such a record as a string so that the line stays valid JSON.
		b = jsonenc.AppendString(b, string(a.Record))
	}
	return append(b, '}')
}

type jsonWriter struct {
	w   *bufio.Writer
	buf []byte
}

func (j *jsonWriter) Write(a *Alert) error {
	j.buf = AppendJSON(j.buf[:0], a)
	j.buf = append(j.buf, '\n')
	_, err := j.w.Write(j.buf)
	return err
}

func (j *jsonWriter) Close() error { return j.w.Flush() }

var csvHeader = []string{"time", "severity", "rule", "title", "summary", "user", "device_id", "device_name", "ip", "host", "file", "line", "format"}

type csvWriter struct{ w *csv.Writer }

// CSVCell neutralises a cell that a spreadsheet would run as a formula.
func CSVCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '|', '%':
		return "'" + s
	}
	return s
}

func (c *csvWriter) Write(a *Alert) error {
	t := ""
	if !a.Time.IsZero() {
		t = a.Time.UTC().Format(time.RFC3339Nano)
	}
	row := []string{t, a.Severity.String(), a.Rule, a.Title, a.Summary, a.Entities.User, a.Entities.DeviceID, a.Entities.DeviceName, a.Entities.IP, a.Entities.Host, a.Source.File, strconv.FormatInt(a.Source.Line, 10), a.Source.Format}
	for i := range row {
		row[i] = CSVCell(row[i])
	}
	return c.w.Write(row)
}

func (c *csvWriter) Close() error { c.w.Flush(); return c.w.Error() }

type tableWriter struct {
	w    *bufio.Writer
	rows int
}

// Terminal makes s safe to print on a terminal: control characters
// (escape sequences an attacker may plant in a device name) become visible
// escapes, and invalid UTF-8 becomes U+FFFD.
func Terminal(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

func (t *tableWriter) Write(a *Alert) error {
	if t.rows == 0 {
		fmt.Fprintf(t.w, "%-20s  %-6s  %-36s  %-28s  %s\n", "TIME", "SEV", "RULE", "SOURCE", "SUMMARY")
	}
	t.rows++
	ts := "-"
	if !a.Time.IsZero() {
		ts = a.Time.UTC().Format("2006-01-02T15:04:05Z")
	}
	src := a.Source.File
	if i := strings.LastIndexAny(src, `/\`); i >= 0 && len(src)-i > 1 {
		src = src[i+1:]
	}
	src = fmt.Sprintf("%s:%d", src, a.Source.Line)
	_, err := fmt.Fprintf(t.w, "%-20s  %-6s  %-36s  %-28s  %s\n", ts, a.Severity.String(), Terminal(a.Rule), Terminal(src), Terminal(a.Summary))
	return err
}

func (t *tableWriter) Close() error {
	if t.rows == 0 {
		fmt.Fprintln(t.w, "no alerts")
	}
	return t.w.Flush()
}
