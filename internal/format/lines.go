package format

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// lineScanner reads lines with a bound on their length: a longer line is
// reported (tooLong) and skipped without being held in memory.
type lineScanner struct {
	br   *bufio.Reader
	max  int
	line int64
	buf  []byte
}

func newLineScanner(r io.Reader, max int) *lineScanner {
	if max <= 0 {
		max = 64 << 20
	}
	return &lineScanner{br: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next line without its line ending, and its 1-based
// number. At the end of input err is io.EOF.
func (l *lineScanner) next() (b []byte, n int64, tooLong bool, err error) {
	l.buf = l.buf[:0]
	for {
		chunk, e := l.br.ReadSlice('\n')
		if !tooLong {
			if len(l.buf)+len(chunk) > l.max+2 {
				tooLong = true
				l.buf = l.buf[:0]
			} else {
				l.buf = append(l.buf, chunk...)
			}
		}
		if errors.Is(e, bufio.ErrBufferFull) {
			continue
		}
		if e != nil && e != io.EOF {
			return nil, l.line + 1, false, e
		}
		if e == io.EOF && len(chunk) == 0 && len(l.buf) == 0 && !tooLong {
			return nil, l.line, false, io.EOF
		}
		l.line++
		b = bytes.TrimRight(l.buf, "\r\n")
		return b, l.line, tooLong, nil
	}
}
