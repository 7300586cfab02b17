package filesource

import (
	"bytes"
	"io"

	"github.com/entrawatch/entrawatch/internal/format"
)

// feed hands a section of a growing file to a format reader: only whole
// lines (whole records, for CSV, whose quoted fields may hold line breaks),
// so a record being written is never read half. A line longer than max is
// dropped without being held in memory and noted in long; a blank line
// stands in for each line break it held, so that the reader's line numbers
// stay those of the file. The feed knows the file offset where each line it
// delivered starts, so a record's line number gives a cursor position.
type feed struct {
	src   io.Reader
	csv   bool
	max   int
	final bool // deliver a trailing partial line at the end, as the last line

	buf         []byte
	bufOff      int64 // file offset of buf[0]
	r, ready, w int   // buf[r:ready] is deliverable; buf[ready:w] not yet
	scanned     int   // CSV: buf[:scanned] has been through the state machine
	state       format.CSVState
	eof         bool
	err         error // the source's read error
	skipping    bool  // inside an overlong line, dropping bytes to its end
	synth       int   // blank lines to deliver for dropped line breaks
	tailSent    bool
	tailBreak   bool

	at       io.ReaderAt // the file, to find line starts not kept
	start    int64       // file offset of the section's first line
	lines    int64       // line breaks delivered (real or standing in)
	starts   []int64     // starts[head+i] is where section line first+i starts
	head     int
	first    int64
	cpLine   int64   // a section line whose start is known…
	cpOff    int64   // …at this offset
	consumed int64   // offset through which bytes were delivered or dropped
	long     []int64 // section lines dropped as overlong
}

func newFeed(src io.Reader, at io.ReaderAt, start int64, max int, csv, skipping, final bool, buf []byte) *feed {
	if cap(buf) < 64<<10 {
		buf = make([]byte, 64<<10)
	}
	return &feed{src: src, csv: csv, max: max, final: final, skipping: skipping,
		buf: buf[:cap(buf)], at: at, bufOff: start, start: start, consumed: start, cpLine: 1, cpOff: start}
}

// limit is the most bytes of one line the feed holds.
func (f *feed) limit() int { return f.max + 2 }

func (f *feed) Read(p []byte) (int, error) {
	for {
		if f.synth > 0 {
			n := min(len(p), f.synth)
			for i := range n {
				p[i] = '\n'
			}
			f.synth -= n
			return n, nil
		}
		if f.r < f.ready {
			n := copy(p, f.buf[f.r:f.ready])
			f.account(f.buf[f.r:f.r+n], f.bufOff+int64(f.r))
			f.r += n
			return n, nil
		}
		if f.tailBreak {
			// The trailing partial line, delivered, ends at the file's end.
			f.tailBreak = false
			f.lineBreak(f.bufOff + int64(f.w))
			f.synth++
			continue
		}
		if f.eof {
			if f.final && !f.tailSent && f.err == nil {
				// A trailing partial line that stopped growing is final.
				f.tailSent = true
				if f.skipping {
					f.skipping = false
					f.tailBreak = true
					continue
				}
				if f.r < f.w {
					f.ready, f.tailBreak = f.w, true
					continue
				}
			}
			return 0, io.EOF
		}
		f.fill()
	}
}

// account records the line starts in delivered bytes.
func (f *feed) account(b []byte, off int64) {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
		f.lineBreak(off + int64(i))
	}
	f.consumed = off + int64(len(b))
}

// lineBreak notes that a line ended just before off: the next line starts
// there. Line starts are kept for the lines delivered since the last record
// (bounded: past maxStarts, lineStart finds them by reading the file).
func (f *feed) lineBreak(off int64) {
	f.lines++
	n := int64(len(f.starts) - f.head)
	switch {
	case n == 0:
		f.starts, f.head, f.first = f.starts[:0], 0, f.lines+1
	case n >= maxStarts || f.first+n != f.lines+1:
		return
	}
	f.starts = append(f.starts, off)
}

// maxStarts bounds the line starts a feed keeps.
const maxStarts = 1 << 16

// forget drops the line starts before section line j: the reader has gone
// past them.
func (f *feed) forget(j int64) {
	for f.head < len(f.starts) && f.first < j {
		f.cpLine, f.cpOff = f.first, f.starts[f.head]
		f.head++
		f.first++
	}
	if f.head == len(f.starts) {
		f.starts, f.head = f.starts[:0], 0
	} else if f.head > 4096 && f.head > len(f.starts)/2 {
		n := copy(f.starts, f.starts[f.head:])
		f.starts, f.head = f.starts[:n], 0
	}
}

// lineStart returns the file offset where section line j (1-based) starts.
// Lines are asked for in increasing order.
func (f *feed) lineStart(j int64) int64 {
	if j <= 1 {
		return f.start
	}
	f.forget(j)
	if f.head < len(f.starts) && f.first == j {
		return f.starts[f.head]
	}
	// Not kept: count line breaks in the file from a known line start.
	off, line := f.cpOff, f.cpLine
	buf := make([]byte, 64<<10)
	for line < j && off < f.consumed {
		n, err := f.at.ReadAt(buf[:min(int64(len(buf)), f.consumed-off)], off)
		b := buf[:n]
		for line < j {
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				off += int64(len(b))
				break
			}
			off += int64(i) + 1
			b = b[i+1:]
			line++
		}
		if err != nil && line < j {
			return f.consumed
		}
	}
	f.cpLine, f.cpOff = line, off
	return off
}

// fill reads more of the source and finds the new deliverable end.
func (f *feed) fill() {
	if f.r > 0 {
		n := copy(f.buf, f.buf[f.r:f.w])
		f.bufOff += int64(f.r)
		f.ready -= f.r
		f.scanned -= f.r
		f.w, f.r = n, 0
	}
	if f.w == len(f.buf) && len(f.buf) < f.limit() {
		nb := make([]byte, min(2*len(f.buf), f.limit()))
		copy(nb, f.buf[:f.w])
		f.buf = nb
	}
	if f.w == len(f.buf) {
		// A full buffer without a line end: the line is overlong. Drop it,
		// with the line breaks a CSV record may hold, and skip to its end.
		f.long = append(f.long, f.lines+1)
		f.drop(f.w)
		f.skipping = true
		return
	}
	n, err := f.src.Read(f.buf[f.w:])
	if err != nil {
		f.eof = true
		if err != io.EOF {
			f.err = err
		}
	}
	old := f.w
	f.w += n
	if f.skipping {
		i := bytes.IndexByte(f.buf[:f.w], '\n')
		if i < 0 {
			f.drop(f.w)
			return
		}
		f.drop(i + 1)
		f.skipping = false
		f.state = format.CSVState(0)
		f.scanned = 0
		old = 0
	}
	if !f.csv {
		if i := bytes.LastIndexByte(f.buf[old:f.w], '\n'); i >= 0 {
			f.ready = old + i + 1
		}
		return
	}
	for i := f.scanned; i < f.w; i++ {
		var end bool
		f.state, end = f.state.Next(f.buf[i])
		if end {
			f.ready = i + 1
		}
	}
	f.scanned = f.w
}

// drop discards buf[:n] (which holds nothing deliverable), standing in a
// blank line for each line break in it.
func (f *feed) drop(n int) {
	for i := 0; ; {
		j := bytes.IndexByte(f.buf[i:n], '\n')
		if j < 0 {
			break
		}
		i += j + 1
		f.lineBreak(f.bufOff + int64(i))
		f.synth++
	}
	m := copy(f.buf, f.buf[n:f.w])
	f.bufOff += int64(n)
	f.consumed = f.bufOff
	f.w, f.r, f.ready, f.scanned = m, 0, 0, 0
}
