package sink

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

const ellipsis = "…"

// clean makes s valid UTF-8 and cuts it to at most max bytes.
func clean(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return cutBytes(s, max)
}

// cutBytes cuts s to at most max bytes on a rune boundary, ending it with
// an ellipsis when something was cut.
func cutBytes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	n := max - len(ellipsis)
	if n < 0 {
		n = 0
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + ellipsis
}

// cutRunes cuts s to at most max characters, ending it with an ellipsis
// when something was cut.
func cutRunes(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	i, n := 0, 0
	for i < len(s) && n < max-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return s[:i] + ellipsis
}

// dangerous reports whether r must not reach a terminal or a one-line
// format raw: control characters, and format characters such as the
// bidirectional overrides that make text read differently than it is.
func dangerous(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}

// escapeControl writes the dangerous characters of s as Go-style escapes
// (\n, \t, \x1b, \u202e) and a backslash as \\, so the text stays on one
// line and shows exactly what the field held.
func escapeControl(s string) string {
	clean := true
	for _, r := range s {
		if r == '\\' || r == utf8.RuneError || dangerous(r) {
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
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && dangerous(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case dangerous(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// flatten replaces dangerous characters with spaces: for formats where a
// field must stay on one line but escapes would be shown literally.
func flatten(s string) string {
	return strings.Map(func(r rune) rune {
		if dangerous(r) {
			return ' '
		}
		return r
	}, s)
}
