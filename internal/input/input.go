// Package input turns the paths given on the command line into readable
// inputs: files, directories walked recursively in a stable order
// (including the storage-account export layout), and "-" for standard
// input; gzip is decompressed transparently and a UTF-8 byte-order mark
// dropped.
package input

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Input is one file (or standard input) to read.
type Input struct {
	// Name is the path as shown in alerts and messages.
	Name string
	// Explicit is true when the user named the file itself rather than a
	// directory holding it.
	Explicit bool
	ModTime  time.Time
	Size     int64
	stdin    io.Reader
}

// Expand lists the inputs under paths. Directories are walked recursively
// in lexical order; hidden files and directories are skipped. Problems
// (a missing path, an unreadable directory) are returned beside the inputs
// found.
func Expand(paths []string, stdin io.Reader) ([]Input, []error) {
	var out []Input
	var errs []error
	for _, p := range paths {
		if p == "-" {
			out = append(out, Input{Name: "-", Explicit: true, stdin: stdin, ModTime: time.Now()})
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p, unwrapPath(err)))
			continue
		}
		if !st.IsDir() {
			out = append(out, Input{Name: p, Explicit: true, ModTime: st.ModTime(), Size: st.Size()})
			continue
		}
		var found []Input
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", path, unwrapPath(err)))
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			name := d.Name()
			if path != p && strings.HasPrefix(name, ".") {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", path, unwrapPath(err)))
				return nil
			}
			found = append(found, Input{Name: path, ModTime: info.ModTime(), Size: info.Size()})
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
		sort.Slice(found, func(i, j int) bool { return found[i].Name < found[j].Name })
		out = append(out, found...)
	}
	return out, errs
}

func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// Opened is an input ready to read: decompressed, byte-order mark removed.
type Opened struct {
	io.Reader
	// Head holds the first bytes of the content, for sniffing.
	Head []byte
	// Gzip is true when the input was gzip-compressed.
	Gzip bool
	// UTF16 is true when the input was UTF-16 (with a byte-order mark) and
	// is read transcoded to UTF-8.
	UTF16  bool
	closer func() error
	// Counter counts the compressed bytes read, for progress.
	Counter *Counter
}

// Close closes the underlying file.
func (o *Opened) Close() error {
	if o.closer != nil {
		return o.closer()
	}
	return nil
}

// Counter counts bytes passing through a reader.
type Counter struct {
	R io.Reader
	N int64
}

func (c *Counter) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}

const headSize = 64 << 10

// ErrTruncatedGzip is the read error of a gzip file that ends before its
// compressed data does.
var ErrTruncatedGzip = errors.New("truncated gzip file: the compressed data ends early (an interrupted download or copy?)")

// gzipErrors names the error of a truncated gzip stream, which the gzip
// reader reports as a bare io.ErrUnexpectedEOF.
type gzipErrors struct{ r io.Reader }

func (g gzipErrors) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err == io.ErrUnexpectedEOF {
		err = ErrTruncatedGzip
	}
	return n, err
}

// Open opens an input for reading.
func Open(in Input) (*Opened, error) {
	var f io.Reader
	closer := func() error { return nil }
	if in.stdin != nil {
		f = in.stdin
	} else {
		file, err := os.Open(in.Name)
		if err != nil {
			return nil, unwrapPath(err)
		}
		f, closer = file, file.Close
	}
	cnt := &Counter{R: f}
	br := bufio.NewReaderSize(cnt, headSize)
	o := &Opened{closer: closer, Counter: cnt}
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			closer()
			return nil, fmt.Errorf("not a valid gzip file: %w", err)
		}
		o.Gzip = true
		r = bufio.NewReaderSize(gzipErrors{zr}, headSize)
	}
	b := r.(*bufio.Reader)
	head, err := b.Peek(headSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		if len(head) == 0 {
			closer()
			return nil, fmt.Errorf("read error: %w", err)
		}
	}
	if bytes.HasPrefix(head, []byte("\xef\xbb\xbf")) {
		b.Discard(3)
		head = head[3:]
	} else if len(head) >= 2 && (head[0] == 0xff && head[1] == 0xfe || head[0] == 0xfe && head[1] == 0xff) {
		// UTF-16 with a byte-order mark, as Windows PowerShell's Out-File
		// writes by default: read it as UTF-8 like everything else.
		be := head[0] == 0xfe
		b.Discard(2)
		o.UTF16 = true
		b = bufio.NewReaderSize(&utf16Reader{r: b, be: be}, headSize)
		head, _ = b.Peek(headSize)
	}
	o.Head = head
	o.Reader = b
	return o, nil
}

// utf16Reader transcodes UTF-16 to UTF-8. Unpaired surrogates and an odd
// last byte become U+FFFD.
type utf16Reader struct {
	r       *bufio.Reader
	be      bool
	pending []byte
	held    int32 // a high surrogate waiting for its pair, or -1
	err     error
	started bool
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	if !u.started {
		u.held, u.started = -1, true
	}
	n := 0
	for n < len(p) {
		if len(u.pending) > 0 {
			c := copy(p[n:], u.pending)
			u.pending = u.pending[c:]
			n += c
			continue
		}
		if u.err != nil {
			break
		}
		var pair [2]byte
		m, err := io.ReadFull(u.r, pair[:])
		if err != nil {
			u.err = err
			if err == io.ErrUnexpectedEOF || m == 1 {
				u.err = io.EOF
				u.pending = utf8.AppendRune(u.pending[:0], utf8.RuneError)
			}
			if u.held >= 0 {
				u.pending = append(utf8.AppendRune(nil, utf8.RuneError), u.pending...)
				u.held = -1
			}
			continue
		}
		c := rune(pair[0]) | rune(pair[1])<<8
		if u.be {
			c = rune(pair[1]) | rune(pair[0])<<8
		}
		var out []byte
		switch {
		case u.held >= 0 && 0xdc00 <= c && c < 0xe000:
			out = utf8.AppendRune(nil, utf16.DecodeRune(rune(u.held), c))
			u.held = -1
		case 0xd800 <= c && c < 0xdc00:
			if u.held >= 0 {
				out = utf8.AppendRune(nil, utf8.RuneError)
			}
			u.held = int32(c)
		default:
			if u.held >= 0 {
				out = utf8.AppendRune(nil, utf8.RuneError)
				u.held = -1
			}
			if 0xdc00 <= c && c < 0xe000 {
				c = utf8.RuneError
			}
			out = utf8.AppendRune(out, c)
		}
		u.pending = out
	}
	if n == 0 && u.err != nil {
		return 0, u.err
	}
	return n, nil
}
