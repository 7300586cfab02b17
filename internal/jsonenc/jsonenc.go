// Package jsonenc appends JSON strings and objects to byte slices without
// reflection, for the output paths that run per record or per alert.
package jsonenc

import "unicode/utf8"

const hex = "0123456789abcdef"

// AppendString appends s as a JSON string literal. Invalid UTF-8 becomes
// U+FFFD; control characters and the line separators U+2028/U+2029 are
// escaped, so the output is safe in JSON lines and in HTML script contexts.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// ValidParsed reports whether b, which a JSON parser has already accepted
// structurally (balanced brackets, commas and colons in place), is also
// strict JSON: valid UTF-8, no raw control characters or unknown escapes in
// strings, and numbers and literals as the grammar spells them. Lenient
// parsers (fastjson among them) accept all of these; output must not. It is
// several times faster than encoding/json.Valid.
func ValidParsed(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			i++
			for {
				if i >= len(b) {
					return false
				}
				c = b[i]
				if c == '"' {
					i++
					break
				}
				if c < 0x20 {
					return false
				}
				if c == '\\' {
					if i+1 >= len(b) {
						return false
					}
					switch b[i+1] {
					case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
						i += 2
						continue
					case 'u':
						if i+6 > len(b) {
							return false
						}
						for _, h := range b[i+2 : i+6] {
							if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
								return false
							}
						}
						i += 6
						continue
					}
					return false
				}
				i++
			}
		case c == '-' || '0' <= c && c <= '9':
			n := numberLen(b[i:])
			if n == 0 {
				return false
			}
			i += n
		case c == 't' || c == 'f' || c == 'n':
			var lit string
			switch c {
			case 't':
				lit = "true"
			case 'f':
				lit = "false"
			default:
				lit = "null"
			}
			if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
				return false
			}
			i += len(lit)
		case c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		default:
			return false
		}
	}
	return true
}

// numberLen returns the length of the JSON number at the start of b, or 0
// when it is not one.
func numberLen(b []byte) int {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return 0
	}
	if i < len(b) && b[i] == '.' {
		i++
		j := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == j {
			return 0
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == j {
			return 0
		}
	}
	if i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
		default:
			return 0
		}
	}
	return i
}
