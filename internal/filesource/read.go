package filesource

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/entrawatch/entrawatch/internal/format"
	"github.com/entrawatch/entrawatch/internal/input"
	"github.com/valyala/fastjson"
)

const (
	headSize = 64 << 10
	// jsonHeadMax bounds how far the first line of a JSON file is looked
	// for, to tell JSON lines from a document.
	jsonHeadMax = 1 << 20
)

// stopError carries an error from emit out of a reader's Split.
type stopError struct{ err error }

func (e *stopError) Error() string { return e.err.Error() }

// idle reports, from the listing's stat alone, that a file has nothing new
// to read, so it is not opened.
func (s *Source) idle(t *tracked, now time.Time) bool {
	if t.info == nil || t.moved || t.saved == "" && (t.st.Format != "" || t.st.Doc) && !t.hold.valid() && t.adopt == nil {
		return false
	}
	size, mod := t.info.Size(), t.info.ModTime().UnixNano()
	if size != t.seenSize || mod != t.seenMod || identityOf(t.info) != t.st.ident() {
		return false
	}
	quiet := now.Sub(t.changeAt) >= s.cfg.Quiet
	st := &t.st
	switch {
	case t.hold.valid():
		return true
	case t.adopt != nil:
		return !quiet
	case st.Format == "" && !st.Doc:
		return t.unknown
	case st.Doc:
		return st.Done && st.Size == size && st.MTime == mod || !quiet || now.Before(t.retryAt)
	}
	return st.Size == size && st.MTime == mod && (st.Off >= size && !st.Skip || size == t.waitSize && !quiet)
}

// process looks at one file and reads what is new in it.
func (s *Source) process(ctx context.Context, t *tracked, now time.Time, emit func(context.Context, *Batch) error) error {
	f, err := os.Open(t.path)
	if err != nil {
		if !os.IsNotExist(err) { // a file gone is seen at the next poll
			s.problemOnce(t, "cannot open: "+reasonOf(err), -1, 0)
		}
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.problemOnce(t, "cannot stat: "+reasonOf(err), -1, 0)
		return nil
	}
	id := identityOf(fi)
	if sid := t.st.ident(); sid.valid() && id != sid {
		return nil // replaced since the folder was listed: the next poll sees it
	}
	size, mod := fi.Size(), fi.ModTime().UnixNano()
	if t.seenSize < 0 {
		t.changeAt = fi.ModTime()
		if t.changeAt.After(now) {
			t.changeAt = now
		}
	} else if size != t.seenSize || mod != t.seenMod {
		t.changeAt = now
		t.unknown = false
	}
	t.seenSize, t.seenMod = size, mod
	quiet := now.Sub(t.changeAt) >= s.cfg.Quiet

	if st := &t.st; st.Doc && (st.Done || st.Items > 0) && (st.Size != size || st.MTime != mod) {
		// A document changed since it was read: read it whole again (the
		// records already seen are de-duplicated downstream by id), after
		// looking again at what it is.
		t.st = fileState{Dev: id.Dev, Ino: id.Ino}
		t.retryAt, t.reported = time.Time{}, ""
	}
	if t.st.Format == "" && !t.st.Doc {
		if !s.classify(t, f, size, mod, quiet) {
			return s.save(ctx, t, emit)
		}
	}
	if t.hold.valid() {
		return nil // a copy of a file still followed: that file delivers it
	}
	if t.st.Doc {
		if err := s.readDoc(ctx, t, f, id, size, mod, quiet, now, emit); err != nil {
			return err
		}
		return s.save(ctx, t, emit)
	}
	return s.followLines(ctx, t, f, size, mod, quiet, emit)
}

// problemOnce reports a problem with a whole file, once for each state of
// the file (size, modification time) and reason.
func (s *Source) problemOnce(t *tracked, reason string, size, mod int64) bool {
	key := reason + "\x00" + strconv.FormatInt(size, 10) + "\x00" + strconv.FormatInt(mod, 10)
	if t.reported == key {
		return false
	}
	t.reported = key
	s.pending = append(s.pending, Problem{File: t.path, Reason: reason})
	return true
}

// classify decides how a new file is read: its format, and whether it is a
// line file or a whole document. It returns false to wait (an empty file,
// a first line still being written, a format not known).
func (s *Source) classify(t *tracked, f *os.File, size, mod int64, quiet bool) bool {
	if size == 0 {
		return false
	}
	head, err := readAt(f, 0, headSize)
	if err != nil {
		s.problemOnce(t, "read error: "+reasonOf(err), size, mod)
		return false
	}
	if len(head) >= 2 && (head[0] == 0x1f && head[1] == 0x8b || head[0] == 0xff && head[1] == 0xfe || head[0] == 0xfe && head[1] == 0xff) {
		// gzip and UTF-16 files are read whole, transcoded.
		t.st.Doc = true
		return true
	}
	var start int64
	body := head
	if bytes.HasPrefix(body, []byte("\xef\xbb\xbf")) {
		start, body = 3, body[3:]
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return false
	}
	if bytes.IndexByte(body, '\n') < 0 && int64(len(head)) == size && !quiet {
		return false // the first line is still being written
	}
	r := s.forced
	if r == nil {
		r = format.Sniff(t.path, body)
	}
	if r == nil {
		if t.explicit || !isDocument(t.path) {
			s.problemOnce(t, "skipped: not a log format entrawatch reads (set the source's format to force one)", size, mod)
		}
		t.unknown = true
		return false
	}
	name := r.Name()
	lines := false
	switch name {
	case "syslog", "journald", "csv":
		lines = true
	case "json":
		if bytes.IndexByte(bytes.TrimLeft(body, " \t\r\n"), '\n') < 0 && int64(len(head)) < size {
			if more, err := readAt(f, start, jsonHeadMax); err == nil {
				body = more
			}
		}
		lines = jsonLines(body)
	}
	t.st.Format = name
	if !lines {
		t.st.Doc = true
		return true
	}
	t.st.Off, t.st.Ctx, t.st.Line, t.st.FPOff = start, start, 0, start
	if name == "csv" {
		header, end, ok := readHeader(f, start)
		if !ok {
			if size-start > maxHeader {
				// Too long to keep: read the file whole instead.
				t.st.Doc = true
				return true
			}
			t.st.Format = ""
			return false // the header is still being written
		}
		t.st.Header, t.st.FPOff = header, end
	}
	s.findCopy(t, f, size)
	return true
}

// jsonLines reports whether a JSON file's head is JSON lines (one record
// per line, appended to) rather than one document (a Graph page, an array,
// pretty-printed JSON). A list envelope on a line counts as JSON lines only
// when another line follows it (an Event Hubs capture).
func jsonLines(body []byte) bool {
	b := bytes.TrimLeft(body, " \t\r\n")
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return false
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(bytes.TrimSpace(b[:i]))
	if err != nil || v.Type() != fastjson.TypeObject {
		return false
	}
	if !isEnvelope(v) {
		return true
	}
	rest := bytes.TrimLeft(b[i+1:], " \t\r\n")
	return len(rest) > 0 && rest[0] == '{'
}

// isEnvelope reports whether an object is a list envelope: a "value" or
// "records" array beside only "@…" keys.
func isEnvelope(v *fastjson.Value) bool {
	o, _ := v.Object()
	found, other := false, false
	o.Visit(func(k []byte, val *fastjson.Value) {
		switch {
		case (string(k) == "value" || string(k) == "records") && val.Type() == fastjson.TypeArray:
			found = true
		case len(k) > 0 && k[0] == '@':
		default:
			other = true
		}
	})
	return found && !other
}

// readHeader returns a CSV file's header line (the first non-blank one)
// and the offset after it.
func readHeader(f io.ReaderAt, start int64) (string, int64, bool) {
	b, err := readAt(f, start, maxHeader+64)
	if err != nil {
		return "", 0, false
	}
	off := 0
	for off < len(b) && (b[off] == '\n' || b[off] == '\r') {
		off++
	}
	i := bytes.IndexByte(b[off:], '\n')
	if i < 0 || i > maxHeader {
		return "", 0, false
	}
	h := bytes.TrimRight(b[off:off+i], "\r")
	return string(h), start + int64(off+i+1), true
}

// readAt reads up to n bytes at off.
func readAt(f io.ReaderAt, off int64, n int) ([]byte, error) {
	b := make([]byte, n)
	m, err := f.ReadAt(b, off)
	if err != nil && err != io.EOF {
		return nil, err
	}
	return b[:m], nil
}

// findCopy looks for content this new file starts with that was already
// read under another name: a file no longer followed (the file it is a
// copy of was truncated, rotated away or deleted: start after what was
// read), or a file still followed (a copy of it: wait, since that file
// delivers the content).
func (s *Source) findCopy(t *tracked, f io.ReaderAt, size int64) {
	hashes := map[[2]int64]string{}
	hash := func(off, n int64) string {
		k := [2]int64{off, n}
		if h, ok := hashes[k]; ok {
			return h
		}
		h := fpAt(f, off, n)
		hashes[k] = h
		return h
	}
	s.matchCopy(t, hash)
}

// matchCopy is findCopy over a hash function of the new file's content.
func (s *Source) matchCopy(t *tracked, hash func(off, n int64) string) {
	var best *consumed
	for i := len(s.retired) - 1; i >= 0; i-- {
		c := &s.retired[i]
		if c.fpLen > 0 && (t.st.Format == "" || c.format == t.st.Format) && hash(c.fpOff, c.fpLen) == c.fp {
			if best == nil || c.off > best.off {
				best = c
			}
		}
	}
	if best != nil {
		c := *best
		t.adopt = &c
		return
	}
	for _, u := range s.files {
		if u == t || u.st.Doc || u.st.FP == "" || u.hold.valid() || u.adopt != nil || !u.st.ident().valid() || u.st.ident() == t.st.ident() {
			continue
		}
		if (t.st.Format == "" || u.st.Format == t.st.Format) && hash(u.st.FPOff, u.st.FPLen) == u.st.FP {
			t.hold, t.holdFP = u.st.ident(), u.st.FP
			return
		}
	}
}

// followLines reads the complete lines added to a line file.
func (s *Source) followLines(ctx context.Context, t *tracked, f *os.File, size, mod int64, quiet bool, emit func(context.Context, *Batch) error) error {
	st := &t.st
	changed := size != st.Size || mod != st.MTime
	if size < st.Off || st.FPLen > 0 && changed && fpAt(f, st.FPOff, st.FPLen) != st.FP {
		// Truncated (copytruncate) or rewritten: what was read is kept for
		// its copies, and the file is read again from the start.
		if st.FP != "" {
			s.remember(consumed{id: st.ident(), fp: st.FP, fpOff: st.FPOff, fpLen: st.FPLen, off: st.Off, line: st.Line, format: st.Format, header: st.Header})
		}
		t.st = fileState{Dev: st.Dev, Ino: st.Ino}
		t.adopt, t.hold, t.waitSize = nil, identity{}, -1
		if !s.classify(t, f, size, mod, quiet) {
			return s.save(ctx, t, emit)
		}
		if t.st.Doc {
			return nil // read whole once quiet, at a later poll
		}
		if t.hold.valid() {
			return nil
		}
		st = &t.st
	}
	if c := t.adopt; c != nil {
		switch {
		case size >= c.off:
			st.Off, st.Line, st.Ctx = c.off, c.line, c.off
		case quiet:
			// A copy shorter than what was read: all of it was read.
			n, err := countLines(f, size)
			if err != nil {
				s.problemOnce(t, "read error: "+reasonOf(err), size, mod)
				return nil
			}
			st.Off, st.Line, st.Ctx = size, n, size
		default:
			return nil // still being copied
		}
		if c.header != "" {
			st.Header = c.header
		}
		st.FP, st.FPOff, st.FPLen = c.fp, c.fpOff, c.fpLen
		t.adopt = nil
	}
	if st.FPLen < fpSize && size > st.FPOff+st.FPLen {
		n := min(int64(fpSize), size-st.FPOff)
		if h := fpAt(f, st.FPOff, n); h != "" {
			st.FP, st.FPLen = h, n
		}
	}
	final := quiet
	if size <= st.Off && !(st.Skip && final) || size == t.waitSize && !final {
		if err := s.save(ctx, t, emit); err != nil {
			return err
		}
	} else if err := s.readSection(ctx, t, f, size, mod, final, emit); err != nil {
		return err
	}
	if t.orphan && t.st.Off >= size && quiet {
		s.retire(t) // a rotated file, read to its end and quiet: done
	}
	return nil
}

// save stores a file's state when it changed without records (blank lines
// read, a header, a rename).
func (s *Source) save(ctx context.Context, t *tracked, emit func(context.Context, *Batch) error) error {
	if t.st.Format == "" && !t.st.Doc || t.hold.valid() || t.adopt != nil {
		return nil
	}
	v := encodeState(&t.st)
	if v == t.saved {
		return nil
	}
	b := &Batch{Source: s.cfg.Name, Cursors: []Cursor{{Name: s.CursorName(t.path), Value: v}}}
	if err := s.emit(ctx, b, emit); err != nil {
		return err
	}
	t.saved = v
	return nil
}

// countLines counts the line breaks in the first n bytes of r.
func countLines(r io.ReaderAt, n int64) (int64, error) {
	br := bufio.NewReaderSize(io.NewSectionReader(r, 0, n), 64<<10)
	var lines int64
	for {
		b, err := br.ReadSlice('\n')
		if len(b) > 0 && b[len(b)-1] == '\n' {
			lines++
		}
		if err == io.EOF {
			return lines, nil
		}
		if err != nil && err != bufio.ErrBufferFull {
			return lines, err
		}
	}
}

// contextStart returns where the lines re-read before off for context
// start: the first line start within ctxBytes before off.
func contextStart(f io.ReaderAt, off int64) int64 {
	if off == 0 {
		return 0
	}
	from := max(0, off-ctxBytes)
	b, err := readAt(f, from, int(off-from))
	if err != nil || len(b) != int(off-from) || b[len(b)-1] != '\n' {
		return off
	}
	if from == 0 {
		return 0
	}
	// b[0] starts a line only if the byte before it ends one; look for the
	// first break inside instead.
	i := bytes.IndexByte(b, '\n')
	return from + int64(i) + 1
}

// batcher builds batches.
type batcher struct {
	b        *Batch
	arena    []byte
	bytes    int
	validate bool // check that records are JSON
}

func (bb *batcher) reset(name string) {
	bb.b = &Batch{Source: name}
	bb.arena, bb.bytes = nil, 0
}

func (bb *batcher) full() bool {
	return len(bb.b.Records)+len(bb.b.Problems) >= batchRecords || bb.bytes >= batchBytes
}

func (bb *batcher) empty() bool { return len(bb.b.Records)+len(bb.b.Problems) == 0 }

// own copies b into the batch's memory.
func (bb *batcher) own(b []byte) []byte {
	if b == nil {
		return nil
	}
	if cap(bb.arena)-len(bb.arena) < len(b) {
		bb.arena = make([]byte, 0, max(64<<10, len(b)))
	}
	i := len(bb.arena)
	bb.arena = append(bb.arena, b...)
	return bb.arena[i:len(bb.arena):len(bb.arena)]
}

func (bb *batcher) add(it *format.Item, file string, line int64, mapLine func(int64) int64) {
	if it.Err != nil {
		bb.b.Problems = append(bb.b.Problems, Problem{File: file, Line: line, Reason: cleanReason(it.Err.Error(), mapLine)})
		return
	}
	if bb.validate {
		// The JSON reader splits JSON lines without parsing them.
		if err := fastjson.ValidateBytes(it.Data); err != nil {
			bb.b.Problems = append(bb.b.Problems, Problem{File: file, Line: line, Reason: cleanReason("invalid JSON record: "+strings.TrimPrefix(err.Error(), "cannot parse JSON: "), nil)})
			return
		}
	}
	bb.b.Records = append(bb.b.Records, Record{Data: bb.own(it.Data), Raw: bb.own(it.Raw), Format: it.Format, File: file, Line: line})
	bb.bytes += len(it.Data) + len(it.Raw)
}

func (bb *batcher) problem(file string, line int64, reason string) {
	bb.b.Problems = append(bb.b.Problems, Problem{File: file, Line: line, Reason: reason})
}

// flush stores the batch with the file's cursor at st, then makes st the
// file's state.
func (s *Source) flush(ctx context.Context, t *tracked, bb *batcher, st fileState, emit func(context.Context, *Batch) error) error {
	v := encodeState(&st)
	if bb.empty() && v == t.saved {
		t.st = st
		return nil
	}
	bb.b.Cursors = []Cursor{{Name: s.CursorName(t.path), Value: v}}
	if err := s.emit(ctx, bb.b, emit); err != nil {
		return err
	}
	t.st, t.saved = st, v
	bb.reset(s.cfg.Name)
	return nil
}

var (
	lineRefRE  = regexp.MustCompile(`\bline (\d+)`)
	linePrefRE = regexp.MustCompile(`^line \d+: `)
)

// cleanReason renders a reader's message for a Problem: without the
// leading "line N: " (the Problem has the line), with the line numbers it
// cites turned into the file's, bounded in length.
func cleanReason(msg string, mapLine func(int64) int64) string {
	msg = linePrefRE.ReplaceAllString(msg, "")
	if mapLine != nil {
		msg = lineRefRE.ReplaceAllStringFunc(msg, func(m string) string {
			n, err := strconv.ParseInt(m[len("line "):], 10, 64)
			if err != nil {
				return m
			}
			return "line " + strconv.FormatInt(mapLine(n), 10)
		})
	}
	const max = 300
	if len(msg) > max {
		i := max
		for i > 0 && !utf8.RuneStart(msg[i]) {
			i--
		}
		msg = msg[:i] + "…"
	}
	return msg
}

// readSection reads a line file from its offset to its last complete line
// (to its end when final), in batches.
func (s *Source) readSection(ctx context.Context, t *tracked, f *os.File, size, mod int64, final bool, emit func(context.Context, *Batch) error) error {
	st := t.st
	r, err := format.Lookup(st.Format)
	if err != nil {
		return fmt.Errorf("file source %s: %s: %w", s.cfg.Name, t.path, err)
	}
	var prefix []byte
	switch st.Format {
	case "csv":
		if st.Header != "" && st.Off >= st.FPOff {
			prefix = append([]byte(st.Header), '\n')
		}
	case "syslog", "journald":
		if st.Ctx < st.Off && st.Off-st.Ctx <= ctxBytes {
			if b, err := readAt(f, st.Ctx, int(st.Off-st.Ctx)); err == nil && len(b) > 0 && b[len(b)-1] == '\n' {
				prefix = b
			}
		}
	}
	p := int64(bytes.Count(prefix, []byte{'\n'}))
	base := st.Line
	fd := newFeed(io.NewSectionReader(f, st.Off, size-st.Off), f, st.Off, s.cfg.MaxRecord, st.Format == "csv", st.Skip, final, s.buf)
	defer func() {
		if cap(fd.buf) <= 1<<20 {
			s.buf = fd.buf
		}
	}()
	mapLine := func(k int64) int64 { return base + k - p }
	split := r.Split
	if st.Format == "json" {
		split = splitJSONLines
	}
	var bb batcher
	bb.reset(s.cfg.Name)
	longProblems := func(j int64) {
		for len(fd.long) > 0 && fd.long[0] < j {
			bb.problem(t.path, base+fd.long[0], fmt.Sprintf("line too long (over %d bytes), skipped", s.cfg.MaxRecord))
			fd.long = fd.long[1:]
		}
	}
	cursorAt := func(off, line int64, skip bool) fileState {
		cur := t.st
		cur.Off, cur.Line, cur.Skip, cur.Size, cur.MTime = off, line, skip, size, mod
		cur.Ctx = off
		if !skip && (cur.Format == "syslog" || cur.Format == "journald") {
			cur.Ctx = contextStart(f, off)
		}
		return cur
	}
	var last int64
	opts := format.Options{MaxRecord: s.cfg.MaxRecord, Year: s.cfg.Year, ModTime: mod / int64(time.Second)}
	err = split(ctx, t.path, io.MultiReader(bytes.NewReader(prefix), fd), opts, func(it *format.Item) error {
		if it.Line <= p {
			return nil // context read again
		}
		j := it.Line - p
		fd.forget(j)
		longProblems(j)
		// Cut between lines only, so a cursor never falls inside a line
		// holding several records.
		if bb.full() && j > last {
			if err := s.flush(ctx, t, &bb, cursorAt(fd.lineStart(j), base+j-1, false), emit); err != nil {
				return &stopError{err}
			}
		}
		bb.add(it, t.path, base+j, mapLine)
		last = j
		return nil
	})
	var stop *stopError
	switch {
	case errors.As(err, &stop):
		return stop.err
	case ctx.Err() != nil:
		return ctx.Err()
	case fd.err != nil:
		// A read error: what was not stored is read again at a later poll.
		s.problemOnce(t, "read error: "+reasonOf(fd.err), size, mod)
		return nil
	case err != nil:
		// The reader gave up on the rest of the section (a CSV record it
		// cannot bound): report it and go on after the section.
		bb.problem(t.path, 0, cleanReason(err.Error(), mapLine))
		if _, err := io.Copy(io.Discard, fd); err != nil {
			s.problemOnce(t, "read error: "+reasonOf(err), size, mod)
			return nil
		}
	}
	longProblems(1 << 62)
	t.waitSize = -1
	if fd.consumed < size && !fd.skipping {
		t.waitSize = size
	}
	return s.flush(ctx, t, &bb, cursorAt(fd.consumed, base+fd.lines, fd.skipping), emit)
}

// readDoc reads a whole-document file once it is quiet, and again whole
// when it changes.
func (s *Source) readDoc(ctx context.Context, t *tracked, f *os.File, id identity, size, mod int64, quiet bool, now time.Time, emit func(context.Context, *Batch) error) error {
	st := t.st
	unchanged := st.Size == size && st.MTime == mod && st.ident() == id
	if st.Done && unchanged || !quiet {
		return nil
	}
	if !unchanged {
		// First read (a document read before and changed since was reset
		// by process).
		st.Size, st.MTime, st.Dev, st.Ino = size, mod, id.Dev, id.Ino
		t.st = st
		t.retryAt = time.Time{}
	} else if now.Before(t.retryAt) {
		return nil
	}
	magic, _ := readAt(f, 0, 2)
	gz := len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	if gz && st.Items == 0 && st.From == 0 && !st.Done {
		// A compressed copy of content already read (a rotated auth.log.1
		// compressed to auth.log.1.gz) is read only past that content.
		head, err := gunzipHead(f, maxHeader+fpSize+64)
		if err != nil {
			s.problemOnce(t, err.Error(), size, mod)
			t.retryAt = now.Add(max(s.cfg.Quiet, time.Minute))
			return nil
		}
		probe := &tracked{st: fileState{Dev: id.Dev, Ino: id.Ino}}
		s.matchCopy(probe, func(off, n int64) string {
			if off < 0 || off+n > int64(len(head)) {
				return ""
			}
			return fingerprint(head[off : off+n])
		})
		switch {
		case probe.adopt != nil:
			st.From, st.FromLine, st.Format, st.Header = probe.adopt.off, probe.adopt.line, probe.adopt.format, probe.adopt.header
		case probe.hold.valid():
			st.Done = true // a copy of a file still followed
			t.st = st
			return s.save(ctx, t, emit)
		}
		t.st = st
	}

	var src io.Reader
	var r format.Reader
	var prefix []byte
	var head []byte
	if st.From > 0 {
		zr, err := gzip.NewReader(bufio.NewReaderSize(io.NewSectionReader(f, 0, size), 64<<10))
		if err != nil {
			s.problemOnce(t, "not a valid gzip file: "+reasonOf(err), size, mod)
			t.retryAt = now.Add(max(s.cfg.Quiet, time.Minute))
			return nil
		}
		if n, err := io.CopyN(io.Discard, zr, st.From); err != nil {
			if err == io.EOF && n < st.From {
				st.Done = true // all of it was read under its former name
				t.st = st
				return s.save(ctx, t, emit)
			}
			s.problemOnce(t, "read error: "+reasonOf(err), size, mod)
			t.retryAt = now.Add(max(s.cfg.Quiet, time.Minute))
			return nil
		}
		src = zr
		if r, err = format.Lookup(st.Format); err != nil {
			return fmt.Errorf("file source %s: %s: %w", s.cfg.Name, t.path, err)
		}
		if st.Format == "csv" && st.Header != "" {
			prefix = append([]byte(st.Header), '\n')
		}
	} else {
		o, err := input.Open(input.Input{Name: t.path})
		if err != nil {
			s.problemOnce(t, reasonOf(err), size, mod)
			t.retryAt = now.Add(max(s.cfg.Quiet, time.Minute))
			return nil
		}
		defer o.Close()
		r = s.forced
		if r == nil {
			r = format.Sniff(t.path, o.Head)
		}
		if r == nil {
			st.Done = true
			t.st = st
			if len(bytes.TrimSpace(o.Head)) > 0 && (t.explicit || !isDocument(t.path)) {
				s.problemOnce(t, "skipped: not a log format entrawatch reads (set the source's format to force one)", size, mod)
			}
			return s.save(ctx, t, emit)
		}
		src, head = o, o.Head
		st.Format = r.Name()
		t.st.Format = st.Format
	}
	split := r.Split
	if st.Format == "json" && (st.From > 0 || jsonLines(head)) {
		split = splitJSONLines // JSON lines compressed or in UTF-16
	}

	p := int64(bytes.Count(prefix, []byte{'\n'}))
	mapLine := func(k int64) int64 {
		if st.From > 0 {
			return st.FromLine + k - p
		}
		return k
	}
	bb := batcher{validate: r.Name() == "json"}
	bb.reset(s.cfg.Name)
	skip := st.Items
	var items int64
	cursor := func(n int64, done bool) fileState {
		cur := t.st
		cur.Items, cur.Done = n, done
		return cur
	}
	opts := format.Options{MaxRecord: s.cfg.MaxRecord, Year: s.cfg.Year, ModTime: mod / int64(time.Second)}
	err := split(ctx, t.path, io.MultiReader(bytes.NewReader(prefix), src), opts, func(it *format.Item) error {
		if p > 0 && it.Line <= p {
			return nil
		}
		items++
		if items <= skip {
			return nil
		}
		if bb.full() {
			if err := s.flush(ctx, t, &bb, cursor(items-1, false), emit); err != nil {
				return &stopError{err}
			}
		}
		line := it.Line
		if line <= 0 {
			line = it.Index
		} else {
			line = mapLine(line)
		}
		bb.add(it, t.path, line, mapLine)
		return nil
	})
	var stop *stopError
	switch {
	case errors.As(err, &stop):
		return stop.err
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		// Unreadable past some point (a gzip file cut short): deliver what
		// was read, report once, and try again later.
		s.problemOnce(t, cleanReason(err.Error(), mapLine), size, mod)
		t.retryAt = now.Add(max(s.cfg.Quiet, time.Minute))
		return s.flush(ctx, t, &bb, cursor(max(items, skip), false), emit)
	}
	return s.flush(ctx, t, &bb, cursor(max(items, skip), true), emit)
}

// gunzipHead returns up to n bytes of a gzip file's decompressed content.
func gunzipHead(f io.ReaderAt, n int) ([]byte, error) {
	zr, err := gzip.NewReader(bufio.NewReader(io.NewSectionReader(f, 0, 1<<62)))
	if err != nil {
		return nil, fmt.Errorf("not a valid gzip file: %v", err)
	}
	b := make([]byte, n)
	m, err := io.ReadFull(zr, b)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("read error: %v", err)
	}
	return b[:m], nil
}
