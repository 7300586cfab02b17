package format

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/Velocidex/ordereddict"
	"www.velocidex.com/golang/evtx"
)

// EVTX reads binary Windows event log files (.evtx). The file is read from
// a plain io.Reader (it may be gzip-compressed) one 64 KiB chunk at a time,
// so memory is bounded by a chunk; each chunk is parsed with
// www.velocidex.com/golang/evtx and each event becomes a record in the same
// evtx_dump shape as the winxml reader writes.
//
// The library is not hardened against corrupt input, so each chunk is first
// walked without building anything (evSim) to bound the work and memory its
// parse will take; a chunk that fails that check, or whose parse panics, is
// reported with its number and offset and reading goes on with the next.
//
// The library gives typed values where the XML has text: EventData numbers
// are written back as decimal text, or as 0x… hexadecimal for the fields
// Windows types as HexInt (logon and process ids, status codes, access
// masks: see evHexName, since the library does not keep the type), GUIDs in
// braces, booleans as true/false, binary as upper-case hex, times in RFC 3339
// UTC. TimeCreated has the full 100 ns precision when it matches the record
// header's time, which it normally does (the library reports it as a float).
type EVTX struct{}

func init() { Register(EVTX{}) }

// Name implements Reader.
func (EVTX) Name() string { return "evtx" }

// Sniff implements Reader.
func (EVTX) Sniff(_ string, head []byte) int {
	if bytes.HasPrefix(head, []byte(evtx.EVTX_HEADER_MAGIC)) {
		return 90
	}
	return 0
}

const (
	evHeaderSize = 4096
	evChunkSize  = evtx.EVTX_CHUNK_SIZE
	evChunkHead  = evtx.EVTX_CHUNK_HEADER_SIZE
	evRecordHead = evtx.EVTX_EVENT_RECORD_SIZE

	// Bounds on the library's work per chunk. The chunks of the library's
	// testdata/Security.evtx take at most 11,500 steps, 124 KB and 6,700
	// values.
	evMaxSteps    = 1 << 20
	evMaxAlloc    = 16 << 20
	evMaxRetained = 128 << 10
	evMaxDepth    = 256
	// evMaxNodes bounds the elements of one converted record.
	evMaxNodes = 256 << 10
)

// Split implements Reader.
func (EVTX) Split(ctx context.Context, _ string, r io.Reader, opts Options, emit func(*Item) error) error {
	max := opts.MaxRecord
	if max <= 0 {
		max = 64 << 20
	}
	hdr := make([]byte, evHeaderSize)
	if n, err := io.ReadFull(r, hdr); err != nil {
		if err != io.EOF && err != io.ErrUnexpectedEOF {
			return err
		}
		if n >= 8 && string(hdr[:8]) == evtx.EVTX_HEADER_MAGIC {
			return fmt.Errorf("truncated EVTX file: %d bytes, the file header alone takes %d", n, evHeaderSize)
		}
		return errors.New("not an EVTX file (no ElfFile signature)")
	}
	if string(hdr[:8]) != evtx.EVTX_HEADER_MAGIC {
		return errors.New("not an EVTX file (no ElfFile signature)")
	}
	// Chunks start after the header block, 4 KiB in every known version.
	start := int64(evHeaderSize)
	if hbs := int64(binary.LittleEndian.Uint16(hdr[40:])); hbs > evHeaderSize {
		if _, err := io.CopyN(io.Discard, r, hbs-evHeaderSize); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		start = hbs
	}
	c := &evConv{max: max, emit: emit}
	buf := make([]byte, evChunkSize)
	for n := int64(0); ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		off := start + n*evChunkSize
		k, err := io.ReadFull(r, buf)
		if err == io.EOF {
			return nil
		}
		truncated := err == io.ErrUnexpectedEOF
		if err != nil && !truncated {
			return err
		}
		clear(buf[k:])
		if truncated && evZero(buf[:k]) {
			return nil
		}
		if err := c.chunk(buf, k, n, off); err != nil {
			return err
		}
		if truncated {
			return c.fail(n, off, fmt.Sprintf("truncated at %d of its %d bytes; the records after the cut are lost", k, evChunkSize))
		}
	}
}

func evZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// evConv converts records to JSON and emits them.
type evConv struct {
	max   int
	emit  func(*Item) error
	ord   int64 // records emitted so far (the ordinal of the last)
	t     wxTree
	out   []byte
	item  Item
	nodes int
	ft    uint64 // the record header's time, for TimeCreated
	recID uint64 // System.EventRecordID
	sim   evSim
}

// fail emits an error for chunk n at offset off.
func (c *evConv) fail(n, off int64, reason string) error {
	c.item = Item{Line: c.ord + 1, Index: c.ord + 1, Err: fmt.Errorf("chunk %d at offset %d: %s", n, off, reason)}
	return c.emit(&c.item)
}

// chunk parses one chunk, of which the first valid bytes were read, and
// emits its records. buf may be modified.
func (c *evConv) chunk(buf []byte, valid int, n, off int64) error {
	if valid < evChunkHead {
		return nil // truncated in its header: reported by the caller
	}
	if string(buf[:8]) != evtx.EVTX_CHUNK_HEADER_MAGIC {
		if evZero(buf) {
			return nil // a chunk never written
		}
		return c.fail(n, off, "no ElfChnk signature; skipped")
	}
	first, last := binary.LittleEndian.Uint64(buf[8:]), binary.LittleEndian.Uint64(buf[16:])
	if binary.LittleEndian.Uint64(buf[32:]) == math.MaxUint64 {
		return nil // a chunk never written (the library skips it too)
	}
	// Find the records: the library walks them by their sizes from the
	// header's first to last record number, with no end of its own.
	end := valid
	if free := int(binary.LittleEndian.Uint32(buf[48:])); free >= evChunkHead && free < end {
		end = free
	}
	want := -1
	if last >= first && last-first < evChunkSize/evRecordHead {
		want = int(last - first + 1)
	}
	var offs []int
	problem := ""
	for o := evChunkHead; o+evRecordHead <= end && (want < 0 || len(offs) < want); {
		if string(buf[o:o+4]) != evtx.EVTX_EVENT_RECORD_MAGIC {
			if want >= 0 {
				problem = fmt.Sprintf("no record signature at chunk offset %#x", o)
			}
			break
		}
		size := int(binary.LittleEndian.Uint32(buf[o+4:]))
		if size > valid-o && valid < evChunkSize {
			break // cut by the truncation
		}
		if size < evRecordHead+4 || size > evChunkSize-o {
			problem = fmt.Sprintf("record at chunk offset %#x has a bad size (%d)", o, size)
			break
		}
		offs = append(offs, o)
		o += size
	}
	switch {
	case problem != "" || valid < evChunkSize:
	case want < 0:
		problem = fmt.Sprintf("bad record numbers in the chunk header (%d to %d)", first, last)
	case len(offs) < want:
		problem = fmt.Sprintf("the chunk header announces %d records, %d found", want, len(offs))
	}
	// Bound the library's work: drop the records from the first one whose
	// parse would go over the bounds.
	if k, why := c.sim.check(buf, offs); k < len(offs) {
		id := binary.LittleEndian.Uint64(buf[offs[k]+8:])
		problem = fmt.Sprintf("record %d at chunk offset %#x: %s", id, offs[k], why)
		offs = offs[:k]
	}
	if len(offs) > 0 {
		binary.LittleEndian.PutUint64(buf[8:], 1)
		binary.LittleEndian.PutUint64(buf[16:], uint64(len(offs)))
		recs, err := evParse(buf)
		if err != nil {
			return c.fail(n, off, err.Error()+"; skipped")
		}
		for _, rec := range recs {
			if err := c.record(rec, n, off); err != nil {
				return err
			}
		}
	}
	if problem != "" {
		return c.fail(n, off, problem+"; the rest of the chunk is skipped")
	}
	return nil
}

// evParse runs the library on one chunk, turning a panic into an error.
func evParse(buf []byte) (recs []*evtx.EventRecord, err error) {
	defer func() {
		if x := recover(); x != nil {
			recs, err = nil, fmt.Errorf("the EVTX parser failed: %v", x)
		}
	}()
	ch, err := evtx.NewChunk(bytes.NewReader(buf), 0)
	if err != nil {
		return nil, fmt.Errorf("cannot read the chunk header: %v", err)
	}
	recs, err = ch.Parse(math.MinInt)
	if err != nil {
		return nil, fmt.Errorf("the EVTX parser failed: %v", err)
	}
	return recs, nil
}

// record converts one event record and emits it.
func (c *evConv) record(rec *evtx.EventRecord, n, off int64) error {
	c.ord++
	c.ft, c.recID, c.nodes = rec.Header.FileTime, 0, 0
	idx := c.ord
	err := c.build(rec)
	if err == nil {
		if c.recID == 0 {
			c.recID = rec.Header.RecordID
		}
		if c.recID > 0 && c.recID <= math.MaxInt64 {
			idx = int64(c.recID)
		}
		c.out, err = c.t.appendEvent(c.out[:0], 0, c.max)
	}
	if err != nil {
		c.item = Item{Line: c.ord, Index: idx, Err: fmt.Errorf("record %d (chunk %d at offset %d): %v", rec.Header.RecordID, n, off, err)}
	} else {
		c.item = Item{Data: c.out, Format: "evtx", Line: c.ord, Index: idx}
	}
	return c.emit(&c.item)
}

var errEVTooDeep = fmt.Errorf("elements nested deeper than %d", wxMaxDepth)

var errEVTooBig = errors.New("too many elements")

// build turns the library's dictionaries into c.t.
func (c *evConv) build(rec *evtx.EventRecord) error {
	c.t.reset()
	d, _ := rec.Event.(*ordereddict.Dict)
	if d == nil {
		return errors.New("no event in the record")
	}
	v, _ := d.Get("Event")
	ev, _ := v.(*ordereddict.Dict)
	if ev == nil {
		return errors.New("no <Event> element in the record")
	}
	root := c.t.add(-1, "Event", nil)
	for _, k := range ev.Keys() {
		v, _ := ev.Get(k)
		var err error
		switch k {
		case "System":
			err = c.system(root, v)
		case "EventData":
			err = c.eventData(root, v)
		default:
			err = c.elem(root, k, v, 1, false)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *evConv) node(parent int32, name string, depth int) (int32, error) {
	if depth > wxMaxDepth {
		return -1, errEVTooDeep
	}
	if c.nodes++; c.nodes > evMaxNodes {
		return -1, errEVTooBig
	}
	return c.t.add(parent, name, nil), nil
}

func evScalar(v any) bool {
	switch v.(type) {
	case *ordereddict.Dict, []any:
		return false
	}
	return true
}

// elem adds element name with value v under parent: a dictionary becomes an
// element with children (its scalars as attributes when attrs is set, as
// the library merges both), a list repeated elements, a scalar text.
func (c *evConv) elem(parent int32, name string, v any, depth int, attrs bool) error {
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			if err := c.elem(parent, name, x, depth, attrs); err != nil {
				return err
			}
		}
		return nil
	case *ordereddict.Dict:
		i, err := c.node(parent, name, depth)
		if err != nil {
			return err
		}
		keys := v.Keys()
		for _, k := range keys {
			x, _ := v.Get(k)
			switch {
			case !evScalar(x):
			case k == "Value":
				c.t.addText(i, c.render(name, x))
			case attrs:
				c.t.attrs = append(c.t.attrs, wxAttr{k, c.render(k, x)})
				c.t.nodes[i].a1 = int32(len(c.t.attrs))
			}
		}
		for _, k := range keys {
			x, _ := v.Get(k)
			if (attrs || k == "Value") && evScalar(x) {
				continue
			}
			if err := c.elem(i, k, x, depth+1, false); err != nil {
				return err
			}
		}
		return nil
	}
	i, err := c.node(parent, name, depth)
	if err != nil {
		return err
	}
	c.t.addText(i, c.render(name, v))
	return nil
}

func (c *evConv) system(parent int32, v any) error {
	d, ok := v.(*ordereddict.Dict)
	if !ok {
		return c.elem(parent, "System", v, 1, false)
	}
	si, err := c.node(parent, "System", 1)
	if err != nil {
		return err
	}
	for _, k := range d.Keys() {
		x, _ := d.Get(k)
		if k == "EventRecordID" {
			c.recID = evUint(x)
		}
		if err := c.elem(si, k, x, 2, true); err != nil {
			return err
		}
	}
	return nil
}

// eventData adds EventData as <Data Name=…> elements: the library gives
// them as a dictionary by name, or, when it could not (a value missing,
// unnamed data), as a "Data" list of {"Name","Value"} or of values.
func (c *evConv) eventData(parent int32, v any) error {
	ei, err := c.node(parent, "EventData", 1)
	if err != nil {
		return err
	}
	d, ok := v.(*ordereddict.Dict)
	if !ok {
		return c.dataItem(ei, v)
	}
	for _, k := range d.Keys() {
		x, _ := d.Get(k)
		if k == "Data" {
			if l, ok := x.([]any); ok {
				for _, y := range l {
					if err := c.dataItem(ei, y); err != nil {
						return err
					}
				}
				continue
			}
			if err := c.dataItem(ei, x); err != nil {
				return err
			}
			continue
		}
		if err := c.data(ei, k, x); err != nil {
			return err
		}
	}
	return nil
}

// dataItem adds one item of a "Data" list.
func (c *evConv) dataItem(ei int32, x any) error {
	if d, ok := x.(*ordereddict.Dict); ok {
		if nv, _ := d.Get("Name"); nv != nil {
			if name, ok := nv.(string); ok {
				val, _ := d.Get("Value")
				return c.data(ei, name, val)
			}
		}
		return c.elem(ei, "Data", x, 2, false)
	}
	return c.data(ei, "", x)
}

// data adds <Data Name=name> (unnamed when name is empty) with value x.
func (c *evConv) data(ei int32, name string, x any) error {
	i, err := c.node(ei, "Data", 2)
	if err != nil {
		return err
	}
	if name != "" {
		c.t.attrs = append(c.t.attrs, wxAttr{"Name", name})
		c.t.nodes[i].a1 = int32(len(c.t.attrs))
	}
	if evScalar(x) {
		c.t.addText(i, c.render(name, x))
		return nil
	}
	if l, ok := x.([]any); ok {
		return c.elem(i, "Value", l, 3, false)
	}
	for _, k := range x.(*ordereddict.Dict).Keys() {
		y, _ := x.(*ordereddict.Dict).Get(k)
		if err := c.elem(i, k, y, 3, false); err != nil {
			return err
		}
	}
	return nil
}

func evUint(v any) uint64 {
	switch v := v.(type) {
	case uint64:
		return v
	case uint32:
		return uint64(v)
	case uint16:
		return uint64(v)
	case uint8:
		return uint64(v)
	}
	return 0
}

// evHexSet lists the EventData fields of Security events that Windows types
// as HexInt32/HexInt64 and renders as 0x…; the library reads them as plain
// integers.
var evHexSet = map[string]bool{
	"Keywords": true, "Status": true, "SubStatus": true, "AccessMask": true, "HandleId": true, "OldUacValue": true,
	"NewUacValue": true, "TicketOptions": true, "TicketEncryptionType": true, "FailureCode": true, "ProcessId": true,
	"NewProcessId": true, "LogonId": true, "SubjectLogonId": true, "TargetLogonId": true, "TargetLinkedLogonId": true,
	"CallerProcessId": true, "TargetProcessId": true, "SourceProcessId": true, "ReturnCode": true, "ResultCode": true,
}

func evHexName(name string) bool {
	return evHexSet[name] || strings.HasSuffix(name, "LogonId") || strings.HasSuffix(name, "ProcessId")
}

// render returns a library value as the text Windows' XML rendering gives.
func (c *evConv) render(name string, v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		if evGUID(v) {
			return "{" + v + "}"
		}
		return v
	case uint8, uint16, uint32, uint64:
		u := evUint(v)
		if evHexName(name) {
			return "0x" + strconv.FormatUint(u, 16)
		}
		return strconv.FormatUint(u, 10)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case bool:
		return strconv.FormatBool(v)
	case float64:
		if name == "SystemTime" && c.ft != 0 && evFiletimeFloat(c.ft) == v {
			return evFiletime(c.ft)
		}
		return evFloatTime(v)
	case []byte:
		return strings.ToUpper(hex.EncodeToString(v))
	case []string:
		return strings.Join(v, "\n")
	}
	return fmt.Sprint(v)
}

// evGUID reports whether s is a GUID as the library formats one (upper
// case, no braces).
func evGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// evFiletimeFloat is the library's conversion of a FILETIME to Unix seconds.
func evFiletimeFloat(ft uint64) float64 {
	return (float64(ft) - 11644473600000*10000) / 10000000
}

// evFiletime formats a FILETIME (100 ns since 1601) in RFC 3339 UTC.
func evFiletime(ft uint64) string {
	t := time.Unix(int64(ft/1e7)-11644473600, int64(ft%1e7)*100)
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		return strconv.FormatUint(ft, 10)
	}
	return wxFormatUTC(t, 7)
}

// evFloatTime formats Unix seconds as a float in RFC 3339 UTC to the
// microsecond, about the precision the float keeps.
func evFloatTime(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) || f < -62135596800 || f > 253402300799 {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	sec := math.Floor(f)
	us := math.Round((f - sec) * 1e6)
	if us >= 1e6 {
		sec, us = sec+1, us-1e6
	}
	return wxFormatUTC(time.Unix(int64(sec), int64(us)*1000), 6)
}

// evSim replays the library's walk over a chunk's binary XML (evtx.go of
// www.velocidex.com/golang/evtx v0.2.0: ParseBinXML and the functions it
// calls, with the same reads, skips and template cache) without building
// anything, and counts what the real parse will cost: token steps,
// template expansions, bytes allocated and values kept. The library has no
// bounds of its own: a template instance may announce four billion
// arguments, a SID argument be read in quadratic time, and binary-XML
// arguments re-parse the same bytes exponentially often.
type evSim struct {
	buf                    []byte
	known                  map[uint32]*int64
	steps, alloc, retained int64
	depth                  int
	why                    string
}

// evCtx mirrors the library's ParseContext: an offset and a stack of the
// elements open, each with the number of values set on it.
type evCtx struct {
	off   int
	stack []int64
	owner *int64 // size of the template being built
}

// check returns how many of the records at offs parse within the bounds,
// and why the next one does not.
func (s *evSim) check(buf []byte, offs []int) (int, string) {
	s.buf, s.steps, s.alloc, s.retained, s.depth, s.why = buf, 0, 0, 0, 0, ""
	clear(s.known)
	if s.known == nil {
		s.known = map[uint32]*int64{}
	}
	for k, o := range offs {
		var size int64
		c := &evCtx{off: o + evRecordHead, stack: []int64{0}, owner: &size}
		s.binXML(c)
		s.steps += size
		s.retained += size
		if s.why == "" {
			s.over()
		}
		if s.why != "" {
			return k, s.why
		}
	}
	return len(offs), ""
}

func (s *evSim) over() bool {
	switch {
	case s.why != "":
	case s.steps > evMaxSteps:
		s.why = "too complex to parse safely (corrupt?)"
	case s.alloc > evMaxAlloc:
		s.why = "would take too much memory to parse (corrupt?)"
	case s.retained > evMaxRetained:
		s.why = "too many values (corrupt?)"
	default:
		return false
	}
	return true
}

func (s *evSim) u8(c *evCtx) uint8 {
	if len(s.buf) < c.off+1 {
		return 0
	}
	c.off++
	return s.buf[c.off-1]
}

func (s *evSim) u16(c *evCtx) uint16 {
	if len(s.buf) < c.off+2 {
		return 0
	}
	c.off += 2
	return binary.LittleEndian.Uint16(s.buf[c.off-2:])
}

func (s *evSim) u32(c *evCtx) uint32 {
	if len(s.buf) < c.off+4 {
		return 0
	}
	c.off += 4
	return binary.LittleEndian.Uint32(s.buf[c.off-4:])
}

func (s *evSim) u64(c *evCtx) {
	if len(s.buf) >= c.off+8 {
		c.off += 8
	}
}

// bytes mirrors ConsumeBytes: out of range it allocates n zero bytes and
// does not move.
func (s *evSim) bytes(c *evCtx, n int) {
	if c.off+n > len(s.buf) {
		s.alloc += int64(n)
		return
	}
	c.off += n
}

// set counts a value set on the current element (a map insert, or a linear
// removal when the key repeats).
func (s *evSim) set(c *evCtx) {
	*c.owner++
	if len(c.stack) == 0 {
		s.steps++
		return
	}
	top := &c.stack[len(c.stack)-1]
	*top++
	s.steps += 1 + *top/16
}

func (s *evSim) name(c *evCtx) {
	at := int(s.u32(c))
	if at != c.off {
		t := &evCtx{off: at}
		t.off += 6
		s.prefixed(t, true)
		return
	}
	c.off += 6
	s.prefixed(c, true)
}

func (s *evSim) prefixed(c *evCtx, nulTerm bool) {
	n := int(s.u16(c))
	if nulTerm {
		n++
	}
	s.bytes(c, 2*n)
	s.alloc += int64(4 * n)
}

func (s *evSim) binXML(c *evCtx) {
	for !s.over() {
		s.steps++
		switch tag := s.u8(c); tag {
		case 0x00:
			return
		case 0x01, 0x41:
			c.off += 6
			s.name(c)
			if tag == 0x41 {
				s.u32(c)
			}
			s.set(c)
			c.stack = append(c.stack, 0)
		case 0x02:
		case 0x03, 0x04:
			if len(c.stack) > 0 {
				c.stack = c.stack[:len(c.stack)-1]
			}
		case 0x05, 0x45:
			s.u8(c)
			s.prefixed(c, false)
			s.set(c)
		case 0x06, 0x46:
			s.name(c)
		case 0x07, 0x47, 0x08, 0x48, 0x09, 0x49, 0x0a, 0x0b:
		case 0x0c:
			if !s.instance(c) {
				return
			}
		case 0x0d, 0x0e:
			s.u16(c)
			if s.u8(c) == 0 {
				s.u8(c)
			}
			s.set(c)
		case 0x0f:
			c.off += 3
		default:
			return
		}
	}
}

// instance mirrors ParseTemplateInstance.
func (s *evSim) instance(c *evCtx) bool {
	if s.u8(c) != 1 {
		return false
	}
	id := s.u32(c)
	if id == 0 {
		return false
	}
	c.off += 4
	nargs := s.u32(c)
	size, ok := s.known[id]
	if !ok {
		c.off += 16
		body := int(s.u32(c))
		size = new(int64)
		s.known[id] = size
		if !s.enter() {
			return false
		}
		s.binXML(&evCtx{off: c.off, stack: []int64{0}, owner: size})
		s.depth--
		c.off += body
		nargs = s.u32(c)
	}
	if room := max(len(s.buf)-c.off, 0); uint64(nargs)*4 > uint64(room) {
		s.why = fmt.Sprintf("a template instance announces %d arguments (corrupt)", nargs)
		return false
	}
	s.steps += int64(nargs)
	type arg struct{ n, typ uint16 }
	args := make([]arg, nargs)
	for i := range args {
		args[i] = arg{s.u16(c), s.u16(c)}
	}
	for _, a := range args {
		if s.over() {
			return false
		}
		n := int(a.n)
		switch a.typ {
		case 0x00:
			c.off += n
		case 0x04:
			s.u8(c)
		case 0x06:
			s.u16(c)
		case 0x08, 0x14:
			s.u32(c)
		case 0x0a, 0x15, 0x11:
			s.u64(c)
		case 0x0d:
			switch n {
			case 8:
				s.u64(c)
			case 4:
				s.u32(c)
			case 2:
				s.u16(c)
			case 1:
				s.u8(c)
			}
		case 0x13:
			s.u8(c)
			s.u8(c)
			s.bytes(c, 6)
			m := int64(0)
			for i := 0; i < n-8; i += 4 {
				s.u32(c)
				m++
			}
			s.steps += m + m*m/32 // string concatenation: quadratic
			s.alloc += 11 * m
		case 0x21:
			if !s.enter() {
				return false
			}
			var size int64
			s.binXML(&evCtx{off: c.off, stack: []int64{0}, owner: &size})
			s.depth--
			s.steps += size
			s.retained += size
			c.off += n
		default:
			s.bytes(c, n)
			s.alloc += int64(3 * n)
		}
	}
	s.steps += *size
	s.retained += *size
	s.set(c)
	return s.why == ""
}

func (s *evSim) enter() bool {
	if s.depth++; s.depth > evMaxDepth {
		s.why = "binary XML nested too deep (corrupt?)"
		return false
	}
	return true
}

var _ Reader = EVTX{}
