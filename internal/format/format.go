// Package format holds entrawatch's input readers, registered by name. A
// reader splits an input stream into records (as JSON in the shape the field
// view understands) and reports bad records with their line; parsing and
// detection happen downstream, in parallel.
package format

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// Item is one record split out of an input, or one problem.
type Item struct {
	// Data is the record as JSON, to be parsed by the pipeline.
	Data []byte
	// Raw is the original record for output when it differs from Data
	// (a CSV row, say); nil means Data.
	Raw []byte
	// Format names the record's format ("portal-csv"…); empty lets the
	// pipeline name it from the record's shape.
	Format string
	// Line is the 1-based line the record starts on; Index its 1-based
	// number in the input.
	Line, Index int64
	// OwnLine is true for line formats, whose records are cited by line.
	OwnLine bool
	// Err reports a record that could not be read; the reader goes on.
	Err error
}

// Options bound what a reader may do.
type Options struct {
	// MaxRecord is the largest record, in bytes, a reader keeps in memory.
	MaxRecord int
	// Year is the year of syslog timestamps that carry none (0: from the
	// file's modification time).
	Year int
	// ModTime is the input's modification time, when known (Unix seconds).
	ModTime int64
}

// Reader reads one input format.
type Reader interface {
	// Name is the format's name, as given to --input-format.
	Name() string
	// Sniff scores how well head, the first bytes of an input (decompressed,
	// byte-order mark removed), fits the format: 0 for not at all.
	Sniff(name string, head []byte) int
	// Split reads records from r and calls emit for each record or
	// problem. The Item's slices are valid only during the call. An error
	// from emit stops Split and is returned; an error reading r is returned.
	Split(ctx context.Context, name string, r io.Reader, opts Options, emit func(*Item) error) error
}

var (
	mu      sync.RWMutex
	readers = map[string]Reader{}
)

// Register adds a reader. It panics on a duplicate name, a programming error.
func Register(r Reader) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := readers[r.Name()]; dup {
		panic("format: duplicate reader " + r.Name())
	}
	readers[r.Name()] = r
}

// Lookup returns the reader registered under name.
func Lookup(name string) (Reader, error) {
	mu.RLock()
	defer mu.RUnlock()
	if r, ok := readers[name]; ok {
		return r, nil
	}
	return nil, fmt.Errorf("unknown input format %q (known: %s)", name, strings.Join(namesLocked(), ", "))
}

// Names lists the registered formats.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	out := make([]string, 0, len(readers))
	for n := range readers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Sniff picks the reader that best fits an input from its name and first
// bytes, or nil when none does.
func Sniff(name string, head []byte) Reader {
	mu.RLock()
	defer mu.RUnlock()
	var best Reader
	score := 0
	for _, n := range namesLocked() {
		r := readers[n]
		if s := r.Sniff(name, head); s > score {
			best, score = r, s
		}
	}
	return best
}
