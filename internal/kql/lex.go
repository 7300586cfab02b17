// Package kql parses the subset of the Kusto Query Language that
// Microsoft's guide and Sentinel's analytic rules use, into a closed AST
// whose every node carries its position. Anything outside the subset is
// refused at parse time with its line and column: never a wrong answer.
package kql

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Pos is a position in the query text (1-based).
type Pos struct{ Line, Col int }

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Error is a problem at a position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Pos, e.Msg) }

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber // integer or real literal, possibly with a timespan unit suffix
	tPunct  // operators and punctuation
)

type token struct {
	kind tokKind
	text string // identifier/punctuation text, or the decoded string value
	raw  string // the literal as written
	pos  Pos
	off  int // byte offset in the query
	end  int // byte offset just after the token
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of query"
	case tString:
		return fmt.Sprintf("string %q", t.text)
	}
	return fmt.Sprintf("%q", t.raw)
}

// punctuation, longest first.
var puncts = []string{
	"!contains_cs", "!startswith_cs", "!endswith_cs", "!has_cs",
	"!contains", "!startswith", "!endswith", "!has", "!between", "!in~", "!in", "!~",
	"==", "!=", "<>", "<=", ">=", "=~", "=>",
	"..", "|", "(", ")", "[", "]", "{", "}", ",", ";", ":", ".", "=", "<", ">", "+", "-", "*", "/", "%", "!", "~", "$",
}

func lex(src string) ([]token, error) {
	var toks []token
	line, col := 1, 1
	i := 0
	start := 0
	adv := func(n int) {
		for k := 0; k < n && i < len(src); k++ {
			if src[i] == '\n' {
				line++
				col = 1
			} else if src[i]&0xc0 != 0x80 {
				col++
			}
			i++
		}
	}
	for i < len(src) {
		if n := len(toks); n > 0 && toks[n-1].end == -1 {
			toks[n-1].end = i
		}
		c := src[i]
		pos := Pos{line, col}
		start = i
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			adv(1)
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				adv(1)
			}
		case c == '"' || c == '\'':
			s, n, err := lexString(src[i:], false)
			if err != nil {
				return nil, &Error{pos, err.Error()}
			}
			toks = append(toks, token{off: start, end: -1, kind: tString, text: s, raw: src[i : i+n], pos: pos})
			adv(n)
		case (c == '@' || c == 'h' || c == 'H') && i+1 < len(src) && (src[i+1] == '"' || src[i+1] == '\'') ||
			(c == 'h' || c == 'H') && i+2 < len(src) && src[i+1] == '@' && (src[i+2] == '"' || src[i+2] == '\''):
			// @"verbatim", h"obfuscated", h@"both"
			j := i
			verbatim := false
			for src[j] != '"' && src[j] != '\'' {
				if src[j] == '@' {
					verbatim = true
				}
				j++
			}
			s, n, err := lexString(src[j:], verbatim)
			if err != nil {
				return nil, &Error{pos, err.Error()}
			}
			toks = append(toks, token{off: start, end: -1, kind: tString, text: s, raw: src[i : j+n], pos: pos})
			adv(j - i + n)
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.' || src[j] == 'e' || src[j] == 'E' ||
				(src[j] == '+' || src[j] == '-') && j > i && (src[j-1] == 'e' || src[j-1] == 'E')) {
				j++
			}
			// timespan units and 0x… hex
			for j < len(src) && (src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z' || src[j] >= '0' && src[j] <= '9') {
				j++
			}
			toks = append(toks, token{off: start, end: -1, kind: tNumber, text: src[i:j], raw: src[i:j], pos: pos})
			adv(j - i)
		case isIdentStart(c) || c >= utf8.RuneSelf:
			j := i
			for j < len(src) {
				r, size := utf8.DecodeRuneInString(src[j:])
				if r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' && j > i && isIdentCont(src, j) {
					j += size
					continue
				}
				break
			}
			if j == i {
				return nil, &Error{pos, fmt.Sprintf("unexpected character %q", src[i:i+1])}
			}
			toks = append(toks, token{off: start, end: -1, kind: tIdent, text: src[i:j], raw: src[i:j], pos: pos})
			adv(j - i)
		case c == '[' && i+1 < len(src) && (src[i+1] == '\'' || src[i+1] == '"'):
			// ['quoted identifier'] is lexed as punctuation + string + punctuation
			toks = append(toks, token{off: start, end: -1, kind: tPunct, text: "[", raw: "[", pos: pos})
			adv(1)
		default:
			matched := false
			for _, p := range puncts {
				if strings.HasPrefix(src[i:], p) {
					// "!contains" etc. must not swallow an identifier prefix.
					if len(p) > 2 && p[0] == '!' && i+len(p) < len(src) && isIdentByte(src[i+len(p)]) {
						continue
					}
					toks = append(toks, token{off: start, end: -1, kind: tPunct, text: p, raw: p, pos: pos})
					adv(len(p))
					matched = true
					break
				}
			}
			if !matched {
				return nil, &Error{pos, fmt.Sprintf("unexpected character %q", src[i:i+1])}
			}
		}
	}
	if n := len(toks); n > 0 && toks[n-1].end == -1 {
		toks[n-1].end = i
	}
	toks = append(toks, token{kind: tEOF, pos: Pos{line, col}, off: len(src), end: len(src)})
	return toks, nil
}

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
func isIdentByte(c byte) bool { return isIdentStart(c) || '0' <= c && c <= '9' }

// isIdentCont allows "-" inside operator names such as project-away and
// mv-expand (a minus between identifiers needs spaces in KQL anyway).
func isIdentCont(src string, j int) bool {
	if j+1 >= len(src) || !isIdentStart(src[j+1]) {
		return false
	}
	word := src[:j]
	if k := strings.LastIndexFunc(word, func(r rune) bool { return !(r == '_' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) }); k >= 0 {
		word = word[k+1:]
	}
	switch strings.ToLower(word) {
	case "project", "mv", "make", "project-keep", "order", "top":
		return true
	}
	return false
}

// lexString reads a quoted string; verbatim strings take backslashes
// literally. It returns the value and the bytes consumed.
func lexString(s string, verbatim bool) (string, int, error) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q:
			if verbatim && i+1 < len(s) && s[i+1] == q { // "" inside @"…"
				b.WriteByte(q)
				i++
				continue
			}
			return b.String(), i + 1, nil
		case c == '\n':
			return "", 0, fmt.Errorf("line break inside a string")
		case c == '\\' && !verbatim:
			if i+1 >= len(s) {
				return "", 0, fmt.Errorf("unterminated string")
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '\\', '"', '\'':
				b.WriteByte(s[i])
			default:
				b.WriteByte('\\')
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated string")
}
