// Package jsonstream splits a stream of JSON into records without parsing
// them: JSON lines, concatenated or pretty-printed documents, top-level
// arrays, and list envelopes whose "value" (Microsoft Graph) or "records"
// (Azure Monitor) array holds the records. It checks the structure as it goes
// (so that one broken record cannot swallow the records after it), bounds the
// memory a record may take, and reports every problem with its line.
package jsonstream

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Item is one record found in the stream, or one problem.
type Item struct {
	// Data holds the record's bytes; valid until the next call to Next.
	Data []byte
	// Line is the 1-based line on which the record starts.
	Line int64
	// Index is the 1-based number of the record in the stream.
	Index int64
	// OwnLine is true when the record is a whole line by itself (JSON lines),
	// false when it is an element of an array or a multi-line document.
	OwnLine bool
	// Err is set when the record could not be split out; Data is then nil.
	Err error
}

// ReadError is the Err of an Item when the underlying reader failed (a
// truncated gzip stream, say); it ends the stream.
type ReadError struct {
	Line int64
	Err  error
}

func (e *ReadError) Error() string { return fmt.Sprintf("line %d: read error: %v", e.Line, e.Err) }

// Unwrap returns the reader's error.
func (e *ReadError) Unwrap() error { return e.Err }

// ErrTooLarge is wrapped by errors about records over the size limit.
var ErrTooLarge = errors.New("record too large")

// Splitter reads records from a JSON stream.
type Splitter struct {
	r    io.Reader
	buf  []byte
	pos  int
	end  int
	eof  bool
	rerr error

	line      int64 // current line (1-based)
	lineStart bool  // only whitespace seen so far on the current line
	// lineMode is set once the input has shown itself to be JSON lines
	// (its first record was a whole line): from then on records are found
	// by their newlines alone, at memory speed, and validated by the parser
	// downstream.
	lineMode bool
	consumed int64
	max      int
	out      []byte
	index    int64

	mode        int
	expectComma bool
	sawElement  bool
	fatal       error
}

const (
	modeTop      = iota
	modeArray    // elements of a top-level array
	modeEnvelope // elements of a list envelope's "value" or "records" array
)

// New returns a Splitter reading from r. Records longer than maxRecord bytes
// are skipped with an error wrapping ErrTooLarge.
func New(r io.Reader, maxRecord int) *Splitter {
	if maxRecord <= 0 {
		maxRecord = 64 << 20
	}
	return &Splitter{r: r, buf: make([]byte, 256<<10), line: 1, lineStart: true, max: maxRecord}
}

// Line returns the line the splitter has reached.
func (s *Splitter) Line() int64 { return s.line }

func (s *Splitter) fill() bool {
	if s.eof {
		return false
	}
	if s.pos < s.end {
		return true
	}
	for {
		n, err := s.r.Read(s.buf)
		s.pos, s.end = 0, n
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.rerr = err
			}
		}
		if n > 0 {
			return true
		}
		if s.eof {
			return false
		}
	}
}

func (s *Splitter) peek() (byte, bool) {
	if s.pos >= s.end && !s.fill() {
		return 0, false
	}
	return s.buf[s.pos], true
}

func (s *Splitter) advance(c byte) {
	s.pos++
	s.consumed++
	if c == '\n' {
		s.line++
		s.lineStart = true
	} else if c != ' ' && c != '\t' && c != '\r' {
		s.lineStart = false
	}
}

// skipWS skips whitespace and returns the next byte without consuming it.
func (s *Splitter) skipWS() (byte, bool) {
	for {
		c, ok := s.peek()
		if !ok {
			return 0, false
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			s.advance(c)
		default:
			return c, true
		}
	}
}

// skipLine drops the rest of the current line, so that scanning resumes at
// the next line.
func (s *Splitter) skipLine() {
	for {
		c, ok := s.peek()
		if !ok {
			return
		}
		s.advance(c)
		if c == '\n' {
			return
		}
	}
}

type syntaxError struct {
	line int64
	msg  string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// Next returns the next record or problem; ok is false at the end of the
// stream.
func (s *Splitter) Next() (it Item, ok bool) {
	for {
		if s.fatal != nil {
			return Item{}, false
		}
		if s.lineMode {
			return s.nextLine()
		}
		if s.mode != modeTop {
			it, ok := s.nextElement()
			if !ok {
				continue
			}
			return it, true
		}
		c, more := s.skipWS()
		if !more {
			if s.rerr != nil {
				s.fatal = s.rerr
				return Item{Line: s.line, Err: &ReadError{Line: s.line, Err: s.rerr}}, true
			}
			return Item{}, false
		}
		startLine := s.line
		switch c {
		case '[':
			s.advance(c)
			s.mode, s.expectComma = modeArray, false
			continue
		case '{':
			it, handled := s.topObject(startLine)
			if handled {
				if it.OwnLine && it.Err == nil {
					s.lineMode = true
				}
				return it, true
			}
			continue
		default:
			s.skipLine()
			return Item{Line: startLine, Err: &syntaxError{line: startLine, msg: "not JSON: unexpected " + describe(c)}}, true
		}
	}
}

// nextLine returns the next non-blank line in line mode.
func (s *Splitter) nextLine() (Item, bool) {
	for {
		if s.pos >= s.end && !s.fill() {
			if s.rerr != nil {
				s.fatal = s.rerr
				return Item{Line: s.line, Err: &ReadError{Line: s.line, Err: s.rerr}}, true
			}
			return Item{}, false
		}
		line := s.line
		var data []byte
		tooBig := false
		if i := bytes.IndexByte(s.buf[s.pos:s.end], '\n'); i >= 0 {
			data = s.buf[s.pos : s.pos+i]
			s.pos += i + 1
		} else {
			// The line crosses the buffer: gather it, bounded.
			s.out = s.out[:0]
			for {
				chunk := s.buf[s.pos:s.end]
				i := bytes.IndexByte(chunk, '\n')
				if i >= 0 {
					chunk = chunk[:i]
				}
				if !tooBig {
					if len(s.out)+len(chunk) > s.max {
						tooBig = true
						s.out = s.out[:0]
					} else {
						s.out = append(s.out, chunk...)
					}
				}
				s.consumed += int64(len(chunk))
				if i >= 0 {
					s.pos += i + 1
					break
				}
				s.pos = s.end
				if !s.fill() {
					break
				}
			}
			data = s.out
		}
		s.consumed += int64(len(data)) + 1
		s.line++
		s.lineStart = true
		data = bytes.TrimSpace(data)
		if tooBig {
			s.index++
			return Item{Line: line, Index: s.index, OwnLine: true, Err: fmt.Errorf("line %d: %w: over %d bytes, skipped", line, ErrTooLarge, s.max)}, true
		}
		if len(data) == 0 {
			continue
		}
		s.index++
		if len(data) > s.max {
			return Item{Line: line, Index: s.index, OwnLine: true, Err: fmt.Errorf("line %d: %w: over %d bytes, skipped", line, ErrTooLarge, s.max)}, true
		}
		return Item{Data: data, Line: line, Index: s.index, OwnLine: true}, true
	}
}

// nextElement returns the next element of a streamed array; ok is false
// when the array has ended (the splitter is then back at the top level).
func (s *Splitter) nextElement() (it Item, ok bool) {
	for {
		c, more := s.skipWS()
		if !more {
			s.mode = modeTop
			return Item{Line: s.line, Err: &syntaxError{line: s.line, msg: "unexpected end of input inside an array"}}, true
		}
		if c == ']' {
			s.advance(c)
			trailing := !s.expectComma && s.sawElement
			line := s.line
			if s.mode == modeEnvelope {
				if err := s.skipEnvelopeTail(); err != nil {
					s.mode = modeTop
					return Item{Line: s.line, Err: &syntaxError{line: s.line, msg: err.Error()}}, true
				}
			}
			s.mode, s.sawElement = modeTop, false
			if trailing {
				return Item{Line: line, Err: &syntaxError{line: line, msg: "trailing comma before ']'"}}, true
			}
			return Item{}, false
		}
		if s.expectComma {
			if c != ',' {
				// A broken separator: report it and carry on with the next
				// element so that one slip loses nothing else.
				s.expectComma = false
				return Item{Line: s.line, Err: &syntaxError{line: s.line, msg: "expected ',' or ']' between array elements, found " + describe(c)}}, true
			}
			s.advance(c)
			s.expectComma = false
			continue
		}
		if c == ',' {
			s.advance(c)
			return Item{Line: s.line, Err: &syntaxError{line: s.line, msg: "unexpected ',' (empty array element)"}}, true
		}
		startLine := s.line
		s.index++
		idx := s.index
		s.expectComma, s.sawElement = true, true
		before := s.consumed
		if err := s.readValue(); err != nil {
			if s.consumed == before {
				s.advance(c) // always make progress
			}
			return Item{Line: startLine, Index: idx, Err: err}, true
		}
		return Item{Data: s.out, Line: startLine, Index: idx}, true
	}
}

// skipEnvelopeTail skips the members of a list envelope that follow its
// record array, up to and including the envelope's closing brace.
func (s *Splitter) skipEnvelopeTail() error {
	discard := &sink{s: s, discard: true}
	for {
		c, ok := s.skipWS()
		if !ok {
			return errors.New("unexpected end of input inside the list envelope")
		}
		switch c {
		case '}':
			s.advance(c)
			return nil
		case ',':
			s.advance(c)
			if c, ok = s.skipWS(); !ok || c != '"' {
				return errors.New("expected a member name in the list envelope")
			}
			if err := s.copyString(discard); err != nil {
				return err
			}
			if c, ok = s.skipWS(); !ok || c != ':' {
				return errors.New("expected ':' in the list envelope")
			}
			s.advance(c)
			if err := s.copyValue(discard); err != nil {
				return err
			}
		default:
			return fmt.Errorf("unexpected %s after the record array", describe(c))
		}
	}
}

// topObject reads a top-level object. When it holds a "value" or "records"
// array, the splitter switches to streaming that array's elements and
// handled is false; otherwise the object is one record.
func (s *Splitter) topObject(startLine int64) (it Item, handled bool) {
	ownLine := s.lineStart
	s.out = s.out[:0]
	put := &sink{s: s}
	c, _ := s.peek()
	put.add(c)
	s.advance(c) // '{'
	first := true
	for {
		c, more := s.skipWS()
		if !more {
			return s.fail(startLine, "unexpected end of input inside an object"), true
		}
		if c == '}' {
			put.add(c)
			s.advance(c)
			break
		}
		if !first {
			if c != ',' {
				return s.fail(startLine, fmt.Sprintf("expected ',' or '}' after an object member, found %s on line %d", describe(c), s.line)), true
			}
			put.add(c)
			s.advance(c)
			if c, more = s.skipWS(); !more {
				return s.fail(startLine, "unexpected end of input inside an object"), true
			}
		}
		first = false
		if c != '"' {
			return s.fail(startLine, fmt.Sprintf("expected a member name, found %s on line %d", describe(c), s.line)), true
		}
		keyStart := len(s.out)
		if err := s.copyString(put); err != nil {
			return s.fail(startLine, err.Error()), true
		}
		key := ""
		if !put.tooBig && len(s.out) > keyStart+1 {
			key = string(s.out[keyStart+1 : len(s.out)-1])
		}
		if c, more = s.skipWS(); !more || c != ':' {
			return s.fail(startLine, fmt.Sprintf("expected ':' after member name %q on line %d", key, s.line)), true
		}
		put.add(c)
		s.advance(c)
		if c, more = s.skipWS(); !more {
			return s.fail(startLine, "unexpected end of input inside an object"), true
		}
		if c == '[' && (equalFold(key, "value") || equalFold(key, "records")) {
			s.advance(c)
			s.mode, s.expectComma, s.sawElement = modeEnvelope, false, false
			return Item{}, false
		}
		if err := s.copyValue(put); err != nil {
			return s.fail(startLine, err.Error()), true
		}
	}
	s.index++
	if put.tooBig {
		return Item{Line: startLine, Index: s.index, Err: fmt.Errorf("line %d: %w: over %d bytes, skipped", startLine, ErrTooLarge, s.max)}, true
	}
	return Item{Data: s.out, Line: startLine, Index: s.index, OwnLine: ownLine && s.line == startLine && s.endsLine()}, true
}

// endsLine reports whether only whitespace follows on the current line.
func (s *Splitter) endsLine() bool {
	for {
		c, ok := s.peek()
		if !ok {
			return true
		}
		switch c {
		case ' ', '\t', '\r':
			s.advance(c)
		case '\n':
			return true
		default:
			return false
		}
	}
}

func (s *Splitter) fail(startLine int64, msg string) Item {
	s.index++
	// Resynchronise at the start of the line where the problem showed.
	if !s.lineStart {
		s.skipLine()
	}
	return Item{Line: startLine, Index: s.index, Err: &syntaxError{line: startLine, msg: msg}}
}

func (s *Splitter) readValue() error {
	s.out = s.out[:0]
	put := &sink{s: s}
	start := s.line
	if err := s.copyValue(put); err != nil {
		if s.mode == modeTop && !s.lineStart {
			s.skipLine()
		}
		return &syntaxError{line: start, msg: err.Error()}
	}
	if put.tooBig {
		return fmt.Errorf("line %d: %w: over %d bytes, skipped", start, ErrTooLarge, s.max)
	}
	return nil
}

// sink collects the bytes of the record being copied, up to the size
// limit; past it, the record is only scanned.
type sink struct {
	s       *Splitter
	tooBig  bool
	discard bool
}

func (k *sink) add(c byte) {
	if k.tooBig || k.discard {
		return
	}
	if len(k.s.out) >= k.s.max {
		k.tooBig = true
		k.s.out = k.s.out[:0]
		return
	}
	k.s.out = append(k.s.out, c)
}

func (k *sink) addAll(b []byte) {
	if k.tooBig || k.discard {
		return
	}
	if len(k.s.out)+len(b) > k.s.max {
		k.tooBig = true
		k.s.out = k.s.out[:0]
		return
	}
	k.s.out = append(k.s.out, b...)
}

// copyString copies a JSON string starting at '"'.
func (s *Splitter) copyString(put *sink) error {
	c, _ := s.peek()
	put.add(c)
	s.advance(c)
	esc := false
	for {
		if !esc && s.pos < s.end {
			// Fast path: copy the run of plain bytes up to the next quote,
			// backslash or line break in one go.
			chunk := s.buf[s.pos:s.end]
			n := 0
			for n < len(chunk) {
				c := chunk[n]
				if c == '"' || c == '\\' || c == '\n' {
					break
				}
				n++
			}
			if n > 0 {
				put.addAll(chunk[:n])
				s.pos += n
				s.consumed += int64(n)
				s.lineStart = false
				continue
			}
		}
		c, ok := s.peek()
		if !ok {
			return fmt.Errorf("unexpected end of input inside a string on line %d", s.line)
		}
		if c == '\n' {
			return fmt.Errorf("line break inside a string on line %d", s.line)
		}
		put.add(c)
		s.advance(c)
		if esc {
			esc = false
			continue
		}
		switch c {
		case '\\':
			esc = true
		case '"':
			return nil
		}
	}
}

// copyValue copies one JSON value, checking its structure.
func (s *Splitter) copyValue(put *sink) error {
	c, ok := s.skipWS()
	if !ok {
		return errors.New("unexpected end of input, expected a value")
	}
	switch c {
	case '"':
		return s.copyString(put)
	case '{', '[':
		return s.copyContainer(put)
	case '}', ']', ',', ':':
		return fmt.Errorf("unexpected %s on line %d, expected a value", describe(c), s.line)
	}
	// number or literal
	n := 0
	for {
		c, ok := s.peek()
		if !ok {
			break
		}
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			break
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '-' || c == '+' || c == '.' || c == 'E') {
			return fmt.Errorf("unexpected %s on line %d", describe(c), s.line)
		}
		put.add(c)
		s.advance(c)
		n++
		if n > 4096 {
			return fmt.Errorf("literal too long on line %d", s.line)
		}
	}
	return nil
}

// copyContainer copies an object or array with an explicit stack (no
// recursion, so deep nesting cannot exhaust the goroutine stack). Inside a
// streamed array a grammar slip (a trailing comma, say) is reported after
// the rest of the element has been consumed by bracket depth alone, so that
// the next element is found again.
func (s *Splitter) copyContainer(put *sink) error {
	var stackArr [64]byte
	stack := stackArr[:0]
	err := s.copyContainerStack(put, &stack)
	if err != nil && s.mode != modeTop && len(stack) > 0 {
		s.skipDepth(stack)
	}
	return err
}

// skipDepth consumes input until the open brackets in stack are closed.
func (s *Splitter) skipDepth(stack []byte) {
	depth := len(stack)
	inStr, esc := false, false
	for depth > 0 {
		c, ok := s.peek()
		if !ok {
			return
		}
		s.advance(c)
		switch {
		case inStr:
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' || c == '\n' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
	}
}

func (s *Splitter) copyContainerStack(put *sink, stackp *[]byte) error {
	stack := *stackp
	defer func() { *stackp = stack }()
	const (
		wantValueOrClose = iota // just after '[' or '{'
		wantValue               // after ',' in array or ':' in object
		wantKey                 // after ',' in object
		wantCommaOrClose        // after a value
	)
	state := wantValueOrClose
	for {
		c, ok := s.skipWS()
		if !ok {
			return errors.New("unexpected end of input inside a value")
		}
		top := byte(0)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch state {
		case wantCommaOrClose:
			switch {
			case c == ',' && top != 0:
				put.add(c)
				s.advance(c)
				if top == '{' {
					state = wantKey
				} else {
					state = wantValue
				}
				continue
			case c == '}' && top == '{' || c == ']' && top == '[':
				put.add(c)
				s.advance(c)
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return nil
				}
				continue
			default:
				return fmt.Errorf("unexpected %s on line %d, expected ',' or a closing bracket", describe(c), s.line)
			}
		case wantKey:
			if c != '"' {
				if c == '}' {
					return fmt.Errorf("trailing comma before '}' on line %d", s.line)
				}
				return fmt.Errorf("unexpected %s on line %d, expected a member name", describe(c), s.line)
			}
		}
		if state == wantValueOrClose && (c == '}' && top == '{' || c == ']' && top == '[') {
			put.add(c)
			s.advance(c)
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return nil
			}
			state = wantCommaOrClose
			continue
		}
		if state == wantValueOrClose && top == '{' {
			state = wantKey
		}
		if state == wantKey {
			if c != '"' {
				return fmt.Errorf("unexpected %s on line %d, expected a member name", describe(c), s.line)
			}
			if err := s.copyString(put); err != nil {
				return err
			}
			c, ok = s.skipWS()
			if !ok || c != ':' {
				return fmt.Errorf("expected ':' after a member name on line %d", s.line)
			}
			put.add(c)
			s.advance(c)
			state = wantValue
			continue
		}
		// want a value
		switch c {
		case '{', '[':
			if len(stack) >= 10000 {
				return fmt.Errorf("nesting deeper than 10000 levels on line %d", s.line)
			}
			stack = append(stack, c)
			put.add(c)
			s.advance(c)
			state = wantValueOrClose
			continue
		case ']':
			if top == '[' && state == wantValue {
				return fmt.Errorf("trailing comma before ']' on line %d", s.line)
			}
			return fmt.Errorf("unexpected %s on line %d", describe(c), s.line)
		case '}', ',', ':':
			return fmt.Errorf("unexpected %s on line %d, expected a value", describe(c), s.line)
		case '"':
			if err := s.copyString(put); err != nil {
				return err
			}
		default:
			if len(stack) == 0 {
				return fmt.Errorf("unexpected %s on line %d", describe(c), s.line)
			}
			if err := s.copyValue(put); err != nil {
				return err
			}
		}
		state = wantCommaOrClose
	}
}

func describe(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
