package format

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/entrawatch/entrawatch/internal/jsonenc"
)

// WinXML reads Windows events as XML: the output of `wevtutil qe Security
// /f:xml` (a sequence of <Event> elements without a root), Event Viewer's
// "Save as XML" and PowerShell's ToXml() (possibly inside an <Events> root,
// with or without the event namespace and an XML declaration), in UTF-8 or
// UTF-16 with a byte-order mark. Each event becomes a record in the
// evtx_dump shape {"Event":{"System":{…},"EventData":{…}}}.
//
// The XML is read token by token with encoding/xml (never whole); a
// malformed event is reported with its line and reading goes on with the
// next <Event>.
type WinXML struct{}

func init() { Register(WinXML{}) }

// Name implements Reader.
func (WinXML) Name() string { return "winxml" }

// Sniff implements Reader: content that starts, after white space, an XML
// declaration and comments, with <Event or <Events.
func (WinXML) Sniff(_ string, head []byte) int {
	h := wxSniffText(head)
	for {
		h = bytes.TrimLeft(h, " \t\r\n")
		switch {
		case bytes.HasPrefix(h, []byte("<?")):
			i := bytes.Index(h, []byte("?>"))
			if i < 0 {
				return 0
			}
			h = h[i+2:]
			continue
		case bytes.HasPrefix(h, []byte("<!--")):
			i := bytes.Index(h[4:], []byte("-->"))
			if i < 0 {
				return 0
			}
			h = h[4+i+3:]
			continue
		}
		break
	}
	for _, tag := range []string{"<Events", "<Event"} {
		if len(h) > len(tag) && string(h[:len(tag)]) == tag && wxDelim(h[len(tag)]) {
			return 60
		}
	}
	return 0
}

// wxSniffText returns the start of head as single bytes: UTF-16 (with or
// without a byte-order mark) is narrowed, non-ASCII characters become '?'.
func wxSniffText(head []byte) []byte {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	be := false
	switch {
	case bytes.HasPrefix(head, []byte("\xff\xfe")):
		head = head[2:]
	case bytes.HasPrefix(head, []byte("\xfe\xff")):
		head, be = head[2:], true
	case len(head) >= 2 && head[0] != 0 && head[1] == 0:
	case len(head) >= 2 && head[0] == 0 && head[1] != 0:
		be = true
	default:
		return head
	}
	n := min(len(head)/2, 4096)
	out := make([]byte, n)
	for i := range n {
		u := uint16(head[2*i]) | uint16(head[2*i+1])<<8
		if be {
			u = uint16(head[2*i])<<8 | uint16(head[2*i+1])
		}
		if u < 0x80 {
			out[i] = byte(u)
		} else {
			out[i] = '?'
		}
	}
	return out
}

// wxDelim reports whether c may follow an element name in a start tag.
func wxDelim(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '>' || c == '/'
}

// Split implements Reader.
func (WinXML) Split(ctx context.Context, _ string, r io.Reader, opts Options, emit func(*Item) error) error {
	max := opts.MaxRecord
	if max <= 0 {
		max = 64 << 20
	}
	br := bufio.NewReaderSize(r, 64<<10)
	var in io.ByteReader = br
	if b, _ := br.Peek(3); len(b) >= 2 {
		switch {
		case len(b) == 3 && string(b) == "\xef\xbb\xbf":
			br.Discard(3)
		case b[0] == 0xff && b[1] == 0xfe:
			br.Discard(2)
			in = &wxUTF16{r: br}
		case b[0] == 0xfe && b[1] == 0xff:
			br.Discard(2)
			in = &wxUTF16{r: br, be: true}
		case b[0] == '<' && b[1] == 0:
			in = &wxUTF16{r: br}
		case b[0] == 0 && b[1] == '<':
			in = &wxUTF16{r: br, be: true}
		}
	}
	src := &wxSource{in: in, max: int64(max)}
	src.br, _ = in.(*bufio.Reader)
	p := &wxParser{src: src, max: max, emit: emit}
	p.newDecoder(nil, 1)
	return p.run(ctx)
}

// wxMaxDepth bounds the nesting of elements inside one event (Windows events
// nest five or six deep).
const wxMaxDepth = 64

// errWXTooBig is returned by wxSource once the current event (or, between
// events, the current token) is over the record size limit.
var errWXTooBig = errors.New("over the record size limit")

// wxSource is the byte stream the XML decoder reads, one byte at a time so
// that the position of an error is known exactly: it counts lines, bounds
// the bytes of one event, keeps the last bytes read for resynchronisation,
// maps Latin-1 or Windows-1252 to UTF-8 when the declaration asks, and
// replaces what XML cannot hold (invalid UTF-8, control characters other
// than tab and line ends, U+FFFE and U+FFFF) with U+FFFD rather than lose
// the event to a syntax error.
type wxSource struct {
	in         io.ByteReader
	br         *bufio.Reader // in, when it is one (the fast path)
	charset    uint8         // 0: UTF-8; 1: ISO-8859-1; 2: Windows-1252
	pend       [4]byte
	npend, ipd int
	look       [8]byte // input bytes read ahead and given back
	nlook      int
	line       int64 // newlines read
	count, max int64 // bytes read since the budget was reset, and the budget
	limit      bool
	hist       [8]byte // ring of the last bytes read
	hpos       int64   // bytes read in all
	ioErr      error
}

func (s *wxSource) reset() { s.count, s.limit = 0, true }

func (s *wxSource) over() bool { return s.limit && s.count >= s.max }

func (s *wxSource) ReadByte() (byte, error) {
	if s.over() {
		return 0, errWXTooBig
	}
	var c byte
	if s.ipd < s.npend {
		c = s.pend[s.ipd]
		s.ipd++
	} else {
		var err error
		if s.nlook == 0 && s.br != nil {
			c, err = s.br.ReadByte()
			if err != nil && err != io.EOF && s.ioErr == nil {
				s.ioErr = err
			}
		} else {
			c, err = s.raw()
		}
		if err != nil {
			return 0, err
		}
		if c < 0x20 || c >= 0x80 {
			s.decode(c)
			c = s.pend[0]
			s.ipd = 1
		}
	}
	s.count++
	if c == '\n' {
		s.line++
	}
	s.hist[s.hpos&7] = c
	s.hpos++
	return c, nil
}

func (s *wxSource) raw() (byte, error) {
	if s.nlook > 0 {
		c := s.look[0]
		copy(s.look[:], s.look[1:s.nlook])
		s.nlook--
		return c, nil
	}
	c, err := s.in.ReadByte()
	if err != nil && err != io.EOF && s.ioErr == nil {
		s.ioErr = err
	}
	return c, err
}

// unread gives bytes back to the input, in front of those given back
// already.
func (s *wxSource) unread(b []byte) {
	copy(s.look[len(b):], s.look[:s.nlook])
	copy(s.look[:], b)
	s.nlook += len(b)
}

// decode puts the character starting with byte c (a control character or
// not ASCII) into pend, reading its other bytes.
func (s *wxSource) decode(c byte) {
	s.npend = 1
	s.pend[0] = c
	switch {
	case c < 0x20:
		if c != '\t' && c != '\n' && c != '\r' {
			s.npend = copy(s.pend[:], "\ufffd")
		}
	case c < 0x80:
	case s.charset == 1:
		s.npend = utf8.EncodeRune(s.pend[:], rune(c))
	case s.charset == 2:
		r := rune(c)
		if c < 0xa0 {
			r = wxCP1252[c-0x80]
		}
		s.npend = utf8.EncodeRune(s.pend[:], r)
	default:
		n := 0
		switch {
		case 0xc2 <= c && c <= 0xdf:
			n = 2
		case 0xe0 <= c && c <= 0xef:
			n = 3
		case 0xf0 <= c && c <= 0xf4:
			n = 4
		}
		k := 1
		for k < n {
			d, err := s.raw()
			if err != nil {
				break
			}
			if d&0xc0 != 0x80 {
				s.unread([]byte{d})
				break
			}
			s.pend[k] = d
			k++
		}
		if n > 0 && k == n {
			if r, size := utf8.DecodeRune(s.pend[:n]); size == n {
				s.npend = n
				if r == 0xfffe || r == 0xffff {
					s.npend = copy(s.pend[:], "\ufffd")
				}
				return
			}
		}
		s.unread(s.pend[1:k])
		s.npend = copy(s.pend[:], "\ufffd")
	}
}

func (s *wxSource) Read(p []byte) (int, error) { return wxRead(s, p) }

func wxRead(r io.ByteReader, p []byte) (int, error) {
	for i := range p {
		c, err := r.ReadByte()
		if err != nil {
			if i > 0 {
				return i, nil
			}
			return 0, err
		}
		p[i] = c
	}
	return len(p), nil
}

// wxCP1252 maps Windows-1252 bytes 0x80–0x9F.
var wxCP1252 = [32]rune{
	0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
	0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178,
}

// wxUTF16 transcodes UTF-16 to UTF-8; unpaired surrogates and an odd last
// byte become U+FFFD.
type wxUTF16 struct {
	r      *bufio.Reader
	be     bool
	buf    [4]byte
	n, i   int
	back   bool
	unit   uint16
	err    error
	oddEnd bool
}

func (u *wxUTF16) ReadByte() (byte, error) {
	if u.i < u.n {
		c := u.buf[u.i]
		u.i++
		return c, nil
	}
	if u.err != nil {
		return 0, u.err
	}
	r, err := u.next()
	if err != nil {
		u.err = err
		return 0, err
	}
	u.n, u.i = utf8.EncodeRune(u.buf[:], r), 1
	return u.buf[0], nil
}

func (u *wxUTF16) Read(p []byte) (int, error) { return wxRead(u, p) }

func (u *wxUTF16) unit16() (uint16, error) {
	if u.back {
		u.back = false
		return u.unit, nil
	}
	if u.oddEnd {
		return 0, io.EOF
	}
	a, err := u.r.ReadByte()
	if err != nil {
		return 0, err
	}
	b, err := u.r.ReadByte()
	if err == io.EOF {
		u.oddEnd = true
		return 0xFFFD, nil
	}
	if err != nil {
		return 0, err
	}
	if u.be {
		return uint16(a)<<8 | uint16(b), nil
	}
	return uint16(b)<<8 | uint16(a), nil
}

func (u *wxUTF16) next() (rune, error) {
	c, err := u.unit16()
	if err != nil {
		return 0, err
	}
	if !utf16.IsSurrogate(rune(c)) {
		return rune(c), nil
	}
	if c < 0xdc00 {
		d, err := u.unit16()
		if err == nil {
			if 0xdc00 <= d && d < 0xe000 {
				return utf16.DecodeRune(rune(c), rune(d)), nil
			}
			u.back, u.unit = true, d
		} else if err != io.EOF {
			return 0, err
		}
	}
	return utf8.RuneError, nil
}

// wxPrefixed feeds the decoder a few bytes already read from the source
// (the "<Event" found when resynchronising) before the source itself.
type wxPrefixed struct {
	pre  [8]byte
	n, i int
	src  *wxSource
}

func (p *wxPrefixed) ReadByte() (byte, error) {
	if p.i < p.n {
		c := p.pre[p.i]
		p.i++
		return c, nil
	}
	return p.src.ReadByte()
}

func (p *wxPrefixed) Read(b []byte) (int, error) { return wxRead(p, b) }

// Parser states.
const (
	wxTop  = iota // between events
	wxIn          // inside an event
	wxSkip        // inside an event already reported as malformed
)

type wxParser struct {
	src      *wxSource
	dec      *xml.Decoder
	lineBase int64 // absolute line of the decoder's line 1, minus one
	hstart   int64 // src.hpos when the decoder started
	max      int
	emit     func(*Item) error
	state    int
	wrap     int // open wrapper elements (<Events>) around events
	t        wxTree
	stack    []int32
	evLine   int64
	n        int64
	out      []byte
	item     Item
}

func (p *wxParser) newDecoder(pre []byte, line int64) {
	var in io.Reader = p.src
	if len(pre) > 0 {
		w := &wxPrefixed{src: p.src}
		w.n = copy(w.pre[:], pre)
		in = w
	}
	d := xml.NewDecoder(in)
	d.Strict = true
	d.CharsetReader = p.charset
	p.dec, p.lineBase, p.hstart = d, line-1, p.src.hpos
}

// charset accepts the encodings a Windows event file declares. The input
// was transcoded from UTF-16 already when it had a byte-order mark.
func (p *wxParser) charset(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii", "utf-16", "utf-16le", "utf-16be", "unicode", "ucs-2":
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1":
		if _, ok := p.src.in.(*wxUTF16); !ok {
			p.src.charset = 1
		}
	case "windows-1252", "cp1252":
		if _, ok := p.src.in.(*wxUTF16); !ok {
			p.src.charset = 2
		}
	default:
		return nil, fmt.Errorf("unsupported encoding %q", label)
	}
	return in, nil
}

func (p *wxParser) run(ctx context.Context) error {
	for tokens := 0; ; tokens++ {
		if tokens&255 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if p.state != wxIn {
			p.src.reset()
		}
		l, _ := p.dec.InputPos()
		line := p.lineBase + int64(l)
		tok, err := p.dec.RawToken()
		if err != nil {
			if p.src.ioErr != nil {
				return p.src.ioErr
			}
			if err == io.EOF {
				if p.state == wxIn {
					return p.fail("the event is not closed at the end of the input")
				}
				return nil
			}
			reason, at := p.reason(err)
			switch p.state {
			case wxIn:
				switch {
				case errors.Is(err, errWXTooBig):
					err = p.fail(fmt.Sprintf("the event is %s (%d bytes); skipped", reason, p.max))
				case at > 0:
					err = p.fail(fmt.Sprintf("%s on line %d", reason, at))
				default:
					err = p.fail(reason)
				}
			case wxTop:
				if errors.Is(err, errWXTooBig) {
					reason = fmt.Sprintf("content outside any event is %s (%d bytes); skipped", reason, p.max)
				}
				line = max(line, at)
				p.item = Item{Line: line, Err: fmt.Errorf("line %d: %s", line, reason)}
				err = p.emit(&p.item)
			default:
				err = nil
			}
			if err != nil {
				return err
			}
			if !p.resync(ctx) {
				if p.src.ioErr != nil {
					return p.src.ioErr
				}
				return ctx.Err()
			}
			continue
		}
		if err := p.token(tok, line); err != nil {
			return err
		}
	}
}

// reason describes a decoding error, and gives its absolute line when
// known.
func (p *wxParser) reason(err error) (string, int64) {
	var se *xml.SyntaxError
	switch {
	case errors.As(err, &se):
		return se.Msg, p.lineBase + int64(se.Line)
	case errors.Is(err, errWXTooBig):
		return "over the record size limit", 0
	}
	return strings.TrimPrefix(err.Error(), "xml: "), 0
}

// fail reports the current event as malformed and skips the rest of it.
func (p *wxParser) fail(reason string) error {
	p.state = wxSkip
	p.item = Item{Line: p.evLine, Index: p.n, Err: fmt.Errorf("line %d: malformed event: %s", p.evLine, reason)}
	return p.emit(&p.item)
}

func (p *wxParser) token(tok xml.Token, line int64) error {
	switch tok := tok.(type) {
	case xml.StartElement:
		isEvent := tok.Name.Local == "Event"
		switch {
		case p.state == wxTop && !isEvent:
			p.wrap++
			return nil
		case p.state == wxIn && isEvent:
			if err := p.fail(fmt.Sprintf("the event is not closed before the next <Event> on line %d", line)); err != nil {
				return err
			}
			fallthrough
		case isEvent:
			p.t.reset()
			p.stack = append(p.stack[:0], p.t.add(-1, "Event", nil))
			p.state, p.evLine = wxIn, line
			p.n++
			return nil
		case p.state == wxSkip:
			return nil
		case len(p.stack) >= wxMaxDepth:
			return p.fail(fmt.Sprintf("elements nested deeper than %d on line %d", wxMaxDepth, line))
		}
		p.stack = append(p.stack, p.t.add(p.stack[len(p.stack)-1], tok.Name.Local, tok.Attr))
	case xml.EndElement:
		switch p.state {
		case wxTop:
			if p.wrap > 0 {
				p.wrap--
			}
			return nil
		case wxSkip:
			if tok.Name.Local == "Event" {
				p.state = wxTop
			}
			return nil
		}
		top := p.stack[len(p.stack)-1]
		if name := p.t.nodes[top].name; name != tok.Name.Local {
			if tok.Name.Local == "Event" {
				err := p.fail(fmt.Sprintf("element <%s> is not closed before </Event> on line %d", name, line))
				p.state = wxTop
				return err
			}
			return p.fail(fmt.Sprintf("element <%s> closed by </%s> on line %d", name, tok.Name.Local, line))
		}
		p.stack = p.stack[:len(p.stack)-1]
		if len(p.stack) == 0 {
			p.state = wxTop
			return p.finish()
		}
	case xml.CharData:
		switch p.state {
		case wxIn:
			p.t.addText(p.stack[len(p.stack)-1], string(tok))
		case wxTop:
			if p.src.over() {
				return nil // cut short by the size limit, reported next
			}
			i := bytes.IndexFunc(tok, func(r rune) bool { return r != ' ' && r != '\t' && r != '\r' && r != '\n' })
			if i < 0 {
				return nil
			}
			// The decoder turns a lone CR into LF: stay within the lines
			// the token spans.
			end, _ := p.dec.InputPos()
			line = min(line+int64(bytes.Count(tok[:i], []byte{'\n'})), p.lineBase+int64(end))
			text := tok[i:]
			if len(text) > 40 {
				text = append(text[:37:37], "..."...)
			}
			p.item = Item{Line: line, Err: fmt.Errorf("line %d: text outside any <Event>: %q", line, text)}
			return p.emit(&p.item)
		}
	}
	return nil
}

// finish converts the event just read and emits it.
func (p *wxParser) finish() error {
	var err error
	p.out, err = p.t.appendEvent(p.out[:0], 0, p.max)
	if err != nil {
		p.item = Item{Line: p.evLine, Index: p.n, Err: fmt.Errorf("line %d: %v", p.evLine, err)}
	} else {
		p.item = Item{Data: p.out, Format: "windows-xml", Line: p.evLine, Index: p.n}
	}
	return p.emit(&p.item)
}

// resync drops the decoder after an error, finds the next "<Event" in the
// source and starts a new decoder there. It returns false at the end of the
// input.
func (p *wxParser) resync(ctx context.Context) bool {
	const pat = "<Event"
	s := p.src
	s.limit = false
	// The decoder may have read the start of the next event already.
	st := 0
	for k := min(int(s.hpos-p.hstart), len(pat)-1); k >= 1; k-- {
		ok := true
		for j := range k {
			if s.hist[(s.hpos-int64(k)+int64(j))&7] != pat[j] {
				ok = false
				break
			}
		}
		if ok {
			st = k
			break
		}
	}
	lineLT := s.line + 1
	for n := 1; ; n++ {
		if n&0xffff == 0 && ctx.Err() != nil {
			return false
		}
		c, err := s.ReadByte()
		if err != nil {
			return false
		}
		switch {
		case st == len(pat) && wxDelim(c):
			p.newDecoder([]byte{'<', 'E', 'v', 'e', 'n', 't', c}, lineLT)
			p.state = wxTop
			return true
		case st < len(pat) && c == pat[st]:
			if st == 0 {
				lineLT = s.line + 1
			}
			st++
		case c == '<':
			st, lineLT = 1, s.line+1
		default:
			st = 0
		}
	}
}

// wxTree is one event as a tree of elements, reused from event to event.
// The EVTX reader builds the same tree from the library's dictionaries, so
// that both readers write the same JSON.
type wxTree struct {
	nodes []wxNode
	attrs []wxAttr
	segs  []wxSeg
}

type wxNode struct {
	name                string
	a0, a1              int32 // attributes: attrs[a0:a1]
	seg0, segN          int32 // text segments (a list through segs), -1 for none
	first, last, next   int32 // children and next sibling, -1 for none
	nchild              int32
	textNonSpace, multi bool
}

type wxAttr struct{ name, value string }

type wxSeg struct {
	s    string
	next int32
}

func (t *wxTree) reset() {
	t.nodes, t.attrs, t.segs = t.nodes[:0], t.attrs[:0], t.segs[:0]
}

// add appends an element under parent (-1 for the root) and returns it.
// Namespace declarations are dropped.
func (t *wxTree) add(parent int32, name string, attrs []xml.Attr) int32 {
	i := int32(len(t.nodes))
	a0 := int32(len(t.attrs))
	for _, a := range attrs {
		if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
			continue
		}
		t.attrs = append(t.attrs, wxAttr{a.Name.Local, a.Value})
	}
	t.nodes = append(t.nodes, wxNode{name: name, a0: a0, a1: int32(len(t.attrs)), seg0: -1, segN: -1, first: -1, last: -1, next: -1})
	t.link(parent, i)
	return i
}

func (t *wxTree) link(parent, i int32) {
	if parent < 0 {
		return
	}
	pn := &t.nodes[parent]
	if pn.last >= 0 {
		t.nodes[pn.last].next = i
	} else {
		pn.first = i
	}
	pn.last = i
	pn.nchild++
}

func (t *wxTree) addText(i int32, s string) {
	if s == "" {
		return
	}
	n := &t.nodes[i]
	if !n.textNonSpace && strings.TrimLeft(s, " \t\r\n") != "" {
		n.textNonSpace = true
	}
	k := int32(len(t.segs))
	t.segs = append(t.segs, wxSeg{s: s, next: -1})
	if n.segN >= 0 {
		t.segs[n.segN].next = k
		n.multi = true
	} else {
		n.seg0 = k
	}
	n.segN = k
}

// text returns an element's character data.
func (t *wxTree) text(i int32) string {
	n := &t.nodes[i]
	if n.seg0 < 0 {
		return ""
	}
	if !n.multi {
		return t.segs[n.seg0].s
	}
	var b strings.Builder
	for k := n.seg0; k >= 0; k = t.segs[k].next {
		b.WriteString(t.segs[k].s)
	}
	return b.String()
}

func (t *wxTree) attr(i int32, name string) (string, bool) {
	n := &t.nodes[i]
	for a := n.a0; a < n.a1; a++ {
		if t.attrs[a].name == name {
			return t.attrs[a].value, true
		}
	}
	return "", false
}

func (t *wxTree) child(i int32, name string) int32 {
	for c := t.nodes[i].first; c >= 0; c = t.nodes[c].next {
		if t.nodes[c].name == name {
			return c
		}
	}
	return -1
}

// wxLegacyLogon names the insertion strings of the legacy logon events 528
// and 540 (Windows 2000/2003, provider "Security"), whose <Data> elements
// carry no names, with the labels of their message.
var wxLegacyLogon = []string{
	"User Name", "Domain", "Logon ID", "Logon Type", "Logon Process", "Authentication Package", "Workstation Name",
	"Logon GUID", "Caller User Name", "Caller Domain", "Caller Logon ID", "Caller Process ID", "Transited Services",
	"Source Network Address", "Source Port",
}

// wxEnc writes a tree as JSON and fails once the output passes max bytes.
type wxEnc struct {
	t   *wxTree
	b   []byte
	max int
	err error
}

var errWXOutput = errors.New("over the record size limit once converted to JSON")

// appendEvent writes the event rooted at root in the evtx_dump shape.
func (t *wxTree) appendEvent(b []byte, root int32, max int) ([]byte, error) {
	e := wxEnc{t: t, b: b, max: max}
	legacy := false
	if sys := t.child(root, "System"); sys >= 0 {
		id := ""
		if c := t.child(sys, "EventID"); c >= 0 {
			id = strings.TrimSpace(t.text(c))
		}
		prov := ""
		if c := t.child(sys, "Provider"); c >= 0 {
			prov, _ = t.attr(c, "Name")
		}
		legacy = (id == "528" || id == "540") && (prov == "" || strings.EqualFold(prov, "Security"))
	}
	e.b = append(e.b, `{"Event":{`...)
	var ks wxKeys
	for c := t.nodes[root].first; c >= 0; c = t.nodes[c].next {
		n := &t.nodes[c]
		e.key(&ks, n.name, c == t.nodes[root].first)
		switch n.name {
		case "System":
			e.system(c)
		case "EventData":
			e.eventData(c, legacy)
		default:
			e.value(c)
		}
		if e.check() {
			return e.b, e.err
		}
	}
	e.b = append(e.b, "}}"...)
	e.check()
	return e.b, e.err
}

func (e *wxEnc) check() bool {
	if e.err == nil && len(e.b) > e.max {
		e.err = errWXOutput
	}
	return e.err != nil
}

func (e *wxEnc) key(ks *wxKeys, name string, first bool) {
	if !first {
		e.b = append(e.b, ',')
	}
	e.b = jsonenc.AppendString(e.b, ks.unique(name))
	e.b = append(e.b, ':')
}

// value writes an element: its text when it has neither attributes nor
// children, else an object of its attributes, its children (repeated names
// as arrays) and its non-blank text as "Value".
func (e *wxEnc) value(i int32) {
	t := e.t
	n := &t.nodes[i]
	if n.a0 == n.a1 && n.first < 0 {
		e.b = jsonenc.AppendString(e.b, t.text(i))
		return
	}
	if e.check() {
		return
	}
	e.b = append(e.b, '{')
	var ks wxKeys
	first := true
	for a := n.a0; a < n.a1; a++ {
		e.key(&ks, t.attrs[a].name, first)
		first = false
		e.b = jsonenc.AppendString(e.b, t.attrs[a].value)
	}
	first = e.children(i, &ks, first)
	if n.textNonSpace {
		e.key(&ks, "Value", first)
		e.b = jsonenc.AppendString(e.b, t.text(i))
	}
	e.b = append(e.b, '}')
}

// children writes the children of i as object members, grouping repeated
// names into arrays in the order of their first appearance.
func (e *wxEnc) children(i int32, ks *wxKeys, first bool) bool {
	t := e.t
	n := &t.nodes[i]
	if n.nchild == 0 {
		return first
	}
	var groups map[string][]int32
	if n.nchild > 16 {
		groups = make(map[string][]int32)
		for c := n.first; c >= 0; c = t.nodes[c].next {
			groups[t.nodes[c].name] = append(groups[t.nodes[c].name], c)
		}
	}
	for c := n.first; c >= 0; c = t.nodes[c].next {
		name := t.nodes[c].name
		var same []int32
		if groups != nil {
			same = groups[name]
			if same[0] != c {
				continue
			}
		} else {
			seen := false
			for d := n.first; d != c; d = t.nodes[d].next {
				if t.nodes[d].name == name {
					seen = true
					break
				}
			}
			if seen {
				continue
			}
			for d := c; d >= 0; d = t.nodes[d].next {
				if t.nodes[d].name == name {
					same = append(same, d)
				}
			}
		}
		e.key(ks, name, first)
		first = false
		if len(same) == 1 {
			e.value(c)
		} else {
			e.b = append(e.b, '[')
			for k, d := range same {
				if k > 0 {
					e.b = append(e.b, ',')
				}
				e.value(d)
			}
			e.b = append(e.b, ']')
		}
		if e.check() {
			return first
		}
	}
	return first
}

// system writes the System element: numbers for the numeric values, objects
// for the elements that carry only attributes, the time in RFC 3339 UTC.
func (e *wxEnc) system(i int32) {
	t := e.t
	n := &t.nodes[i]
	if n.first < 0 && n.a0 == n.a1 {
		e.b = append(e.b, "{}"...)
		return
	}
	e.b = append(e.b, '{')
	var ks wxKeys
	first := true
	for a := n.a0; a < n.a1; a++ {
		e.key(&ks, t.attrs[a].name, first)
		first = false
		e.b = jsonenc.AppendString(e.b, t.attrs[a].value)
	}
	for c := n.first; c >= 0; c = t.nodes[c].next {
		cn := &t.nodes[c]
		e.key(&ks, cn.name, first)
		first = false
		leaf := cn.first < 0
		switch cn.name {
		case "EventID":
			if !leaf {
				e.value(c)
				break
			}
			e.number(t.text(c))
			if q, ok := t.attr(c, "Qualifiers"); ok {
				e.key(&ks, "Qualifiers", false)
				e.number(q)
			}
		case "Version", "Level", "Task", "Opcode", "EventRecordID":
			if leaf && cn.a0 == cn.a1 {
				e.number(t.text(c))
			} else {
				e.value(c)
			}
		case "Provider", "TimeCreated", "Correlation", "Execution", "Security":
			e.b = append(e.b, '{')
			var ks2 wxKeys
			f2 := true
			for a := cn.a0; a < cn.a1; a++ {
				at := &t.attrs[a]
				e.key(&ks2, at.name, f2)
				f2 = false
				switch at.name {
				case "SystemTime":
					e.b = jsonenc.AppendString(e.b, wxTime(at.value))
				case "ProcessID", "ThreadID":
					e.number(at.value)
				default:
					e.b = jsonenc.AppendString(e.b, at.value)
				}
			}
			f2 = e.children(c, &ks2, f2)
			if cn.textNonSpace {
				e.key(&ks2, "Value", f2)
				e.b = jsonenc.AppendString(e.b, t.text(c))
			}
			e.b = append(e.b, '}')
		default:
			e.value(c)
		}
		if e.check() {
			return
		}
	}
	e.b = append(e.b, '}')
}

// eventData writes EventData as an object of its <Data> values by name
// (unnamed ones as Data1, Data2…, or with the message labels of the legacy
// logon events), other children as by value.
func (e *wxEnc) eventData(i int32, legacy bool) {
	t := e.t
	n := &t.nodes[i]
	if legacy {
		unnamed := 0
		for c := n.first; c >= 0; c = t.nodes[c].next {
			if t.nodes[c].name == "Data" {
				if name, _ := t.attr(c, "Name"); name != "" {
					legacy = false
					break
				}
				unnamed++
			}
		}
		legacy = legacy && unnamed <= len(wxLegacyLogon)
	}
	e.b = append(e.b, '{')
	var ks wxKeys
	first := true
	k := 0
	for c := n.first; c >= 0; c = t.nodes[c].next {
		cn := &t.nodes[c]
		if cn.name != "Data" {
			e.key(&ks, cn.name, first)
			e.value(c)
		} else {
			name, _ := t.attr(c, "Name")
			if name == "" {
				k++
				if legacy {
					name = wxLegacyLogon[k-1]
				} else {
					name = "Data" + strconv.Itoa(k)
				}
			}
			e.key(&ks, name, first)
			if cn.first < 0 {
				e.b = jsonenc.AppendString(e.b, t.text(c))
			} else {
				e.value(c)
			}
		}
		first = false
		if e.check() {
			return
		}
	}
	if n.textNonSpace {
		e.key(&ks, "Value", first)
		e.b = jsonenc.AppendString(e.b, t.text(i))
	}
	e.b = append(e.b, '}')
}

// number writes s as a JSON number when it is a decimal integer, else as a
// string.
func (e *wxEnc) number(s string) {
	v := strings.TrimSpace(s)
	if len(v) > 0 && len(v) <= 20 && strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' }) < 0 {
		if u, err := strconv.ParseUint(v, 10, 64); err == nil {
			e.b = strconv.AppendUint(e.b, u, 10)
			return
		}
	}
	e.b = jsonenc.AppendString(e.b, s)
}

// wxKeys makes the keys of one JSON object unique: a repeated key gets a
// suffix _2, _3…
type wxKeys struct {
	small [16]string
	n     int
	m     map[string]int
}

func (k *wxKeys) has(s string) bool {
	if k.m != nil {
		_, ok := k.m[s]
		return ok
	}
	for _, x := range k.small[:k.n] {
		if x == s {
			return true
		}
	}
	return false
}

func (k *wxKeys) add(s string) {
	if k.m == nil && k.n < len(k.small) {
		k.small[k.n] = s
		k.n++
		return
	}
	if k.m == nil {
		k.m = make(map[string]int, 2*len(k.small))
		for _, x := range k.small[:k.n] {
			k.m[x] = 1
		}
	}
	k.m[s] = 1
}

func (k *wxKeys) unique(s string) string {
	if !k.has(s) {
		k.add(s)
		return s
	}
	start := 2
	if k.m != nil {
		start = max(k.m[s]+1, 2)
	}
	for j := start; ; j++ {
		c := s + "_" + strconv.Itoa(j)
		if !k.has(c) {
			k.add(c)
			if k.m != nil {
				k.m[s] = j
			}
			return c
		}
	}
}

// wxTime returns a TimeCreated value in RFC 3339 UTC with the source's
// fractional digits; a value it cannot read is kept as it is.
func wxTime(s string) string {
	v := strings.TrimSpace(s)
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		if t, err = time.Parse("2006-01-02T15:04:05.999999999", v); err != nil {
			return s
		}
	}
	digits := 0
	if len(v) > 19 && v[19] == '.' {
		for _, c := range v[20:] {
			if c < '0' || c > '9' {
				break
			}
			digits++
		}
	}
	return wxFormatUTC(t, digits)
}

// wxFormatUTC formats t in RFC 3339 UTC with digits fractional digits (at
// most 9).
func wxFormatUTC(t time.Time, digits int) string {
	t = t.UTC()
	b := make([]byte, 0, 32)
	b = t.AppendFormat(b, "2006-01-02T15:04:05")
	if digits > 0 {
		digits = min(digits, 9)
		var frac [9]byte
		ns := t.Nanosecond()
		for k := 8; k >= 0; k-- {
			frac[k] = byte('0' + ns%10)
			ns /= 10
		}
		b = append(b, '.')
		b = append(b, frac[:digits]...)
	}
	return string(append(b, 'Z'))
}

var _ Reader = WinXML{}
