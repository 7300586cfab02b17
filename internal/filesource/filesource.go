// Package filesource is the file source of "entrawatch serve": it watches
// files, folders (recursively, including the storage-account export layout
// insights-logs-<category>/…/y=/m=/d=/h=/m=00/PT1H.json) and glob patterns
// by polling, follows appended lines, survives rotation (rename, copytruncate,
// compression of the rotated file), picks up new files, and hands records to
// the service in batches together with the cursors that say how far each
// file was read, so that a restart neither re-reads nor loses records.
//
// Line files (JSON lines, syslog auth.log/secure, journald JSON, CSV with a
// header) are read from the stored offset to their last complete line; a
// trailing partial line waits for the rest (or, once it has not grown for
// Config.Quiet, is read as final). Whole-document files (a Graph page
// {"value":[…]}, a JSON array, EVTX, Windows XML, any gzip file) are read
// once they have not changed for Config.Quiet; a change after that re-reads
// the document whole, and the records already seen are de-duplicated
// downstream by their id.
package filesource

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"
	"time"

	"github.com/entrawatch/entrawatch/internal/format"
)

// Record is one record read from a file.
type Record struct {
	// Data is the record as JSON, for the pipeline; the receiver owns it. A
	// JSON line may hold a list envelope ({"records":[…]}), whose elements
	// the pipeline takes as the records, as scan does.
	Data []byte
	// Raw is the original record when it differs from Data (a CSV row);
	// nil means Data.
	Raw []byte
	// Format names the record's format; empty lets the pipeline name it
	// from the record's shape.
	Format string
	// File is the absolute path read; Line the 1-based line the record
	// starts on (its number, for EVTX, which has no lines).
	File string
	Line int64
}

// Problem is a record that could not be read (skipped), or a file or
// folder that could not be read (retried; reported once per change).
type Problem struct {
	File string
	// Line is the record's line; 0 for a problem with the whole file.
	Line   int64
	Reason string
}

// Cursor is a named position to store with what a batch's records produce.
type Cursor struct {
	Name, Value string
}

// Batch is what Run hands over at once: records, problems, and the cursors
// that reflect exactly the position after the batch's last record.
type Batch struct {
	// Source is Config.Name.
	Source   string
	Records  []Record
	Problems []Problem
	Cursors  []Cursor
}

// Cursors gives the stored value of a cursor ("" and false when none).
type Cursors interface {
	Cursor(ctx context.Context, name string) (string, bool, error)
}

// Config configures a file source.
type Config struct {
	// Name names the source; it is part of every cursor's name.
	Name string
	// Paths are files, folders (watched recursively) and filepath.Glob
	// patterns.
	Paths []string
	// Format forces a reader by name; empty sniffs each file.
	Format string
	// Poll is how often files are looked at (default 2s).
	Poll time.Duration
	// Year is the year of syslog timestamps that carry none (0: from the
	// file's modification time).
	Year int
	// MaxRecord bounds one record in bytes (default 16 MiB); longer lines
	// are skipped with a problem.
	MaxRecord int
	// Quiet is how long a document must stay unchanged before it is read,
	// and a trailing partial line before it is read as final (default 30s).
	Quiet time.Duration
	// Clock gives the time (default time.Now).
	Clock func() time.Time
}

// Stats counts what a source has read.
type Stats struct {
	// Files is how many files are tracked.
	Files int64
	// Records and Problems count what was delivered; Batches the batches
	// stored.
	Records, Problems, Batches int64
}

const (
	batchRecords = 500
	batchBytes   = 1 << 20
	maxRetired   = 4096
	// ctxBytes bounds the lines before a line file's offset that are read
	// again, unreported, so that the syslog reader pairs a login with the
	// Entra login module's verdict logged just before it.
	ctxBytes = 4 << 10
)

// Source watches files. It is used by one goroutine; Stats may be called
// from any.
type Source struct {
	cfg     Config
	cursors Cursors
	forced  format.Reader
	paths   []string
	now     func() time.Time

	files   map[string]*tracked // by the path the file is at now
	loaded  map[string]bool     // paths whose cursor was looked up
	retired []consumed          // content read under names no longer followed
	pathErr map[string]string   // discovery problems reported, by path
	pending []Problem           // problems waiting for the next batch
	buf     []byte              // feed buffer, reused

	nFiles, nRecords, nProblems, nBatches atomic.Int64
}

// tracked is a file being followed.
type tracked struct {
	path     string
	st       fileState
	saved    string      // the cursor value last stored
	explicit bool        // named by the configuration
	info     fs.FileInfo // as listed this poll; nil for a rotated file outside the paths
	orphan   bool        // rotated to a name outside the watched paths
	moved    bool        // found under a new name this poll

	seenSize, seenMod int64
	changeAt          time.Time // when size or modification time last changed
	waitSize          int64     // size at which a partial line was left waiting (-1: none)
	reported          string    // the problem last reported for this file
	unknown           bool      // not a log format at seenSize, seenMod
	retryAt           time.Time // after a read error, when to try again unchanged

	hold   identity  // a copy of this live file's content: not read while it lives
	holdFP string    // the live file's fingerprint when the copy was found
	adopt  *consumed // content already read under another name, to start after
}

// consumed is content read under a name no longer followed: a rotated,
// truncated or deleted file. A copy of it (the copy copytruncate makes, a
// compressed rotation) starts where the reading stopped.
type consumed struct {
	id             identity
	fp             string
	fpOff, fpLen   int64
	off, line      int64
	format, header string
}

// New returns a source for cfg, resuming from the positions in cursors
// (nil: from the start of every file).
func New(cfg Config, cursors Cursors) (*Source, error) {
	if cfg.Name == "" {
		return nil, errors.New("file source: a name is required (it keys the stored positions)")
	}
	if len(cfg.Paths) == 0 {
		return nil, fmt.Errorf("file source %s: no paths to watch", cfg.Name)
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 2 * time.Second
	}
	if cfg.Quiet <= 0 {
		cfg.Quiet = 30 * time.Second
	}
	if cfg.MaxRecord <= 0 {
		cfg.MaxRecord = 16 << 20
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	s := &Source{cfg: cfg, cursors: cursors, now: cfg.Clock, files: map[string]*tracked{},
		loaded: map[string]bool{}, pathErr: map[string]string{}}
	if cfg.Format != "" {
		r, err := format.Lookup(cfg.Format)
		if err != nil {
			return nil, fmt.Errorf("file source %s: %w", cfg.Name, err)
		}
		s.forced = r
	}
	for _, p := range cfg.Paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("file source %s: path %q: %w", cfg.Name, p, err)
		}
		if isGlob(abs) {
			if _, err := filepath.Match(abs, ""); err != nil {
				return nil, fmt.Errorf("file source %s: pattern %q: %w", cfg.Name, p, err)
			}
		}
		s.paths = append(s.paths, abs)
	}
	return s, nil
}

// CursorName is the name of the cursor of the file at an absolute path.
func (s *Source) CursorName(path string) string {
	return "file:" + s.cfg.Name + ":" + path
}

// Stats returns the counts so far.
func (s *Source) Stats() Stats {
	return Stats{Files: s.nFiles.Load(), Records: s.nRecords.Load(), Problems: s.nProblems.Load(), Batches: s.nBatches.Load()}
}

// Run watches until ctx ends, then returns nil. emit must return only after
// the batch (records and cursors) is durably stored; Run then continues. An
// emit error stops Run with it.
func (s *Source) Run(ctx context.Context, emit func(ctx context.Context, b *Batch) error) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := s.PollOnce(ctx, emit); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		t.Reset(s.cfg.Poll)
	}
}

// PollOnce looks at every watched file once and delivers what is new, as
// Run does every Config.Poll; tests call it to step the source.
func (s *Source) PollOnce(ctx context.Context, emit func(ctx context.Context, b *Batch) error) error {
	now := s.now()
	cands, problems := discover(s.paths)
	s.pathProblems(problems)

	for _, c := range cands {
		if s.files[c.path] != nil || s.loaded[c.path] {
			continue
		}
		s.loaded[c.path] = true
		t, err := s.load(ctx, c.path)
		if err != nil {
			return err
		}
		if t != nil {
			s.files[c.path] = t
		}
	}
	s.match(cands, now)
	s.nFiles.Store(int64(len(s.files)))

	order := make([]*tracked, 0, len(s.files))
	for _, t := range s.files {
		order = append(order, t)
	}
	// Rotated files first: their last lines come before the new file's.
	sort.Slice(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if ra, rb := a.moved || a.orphan, b.moved || b.orphan; ra != rb {
			return ra
		}
		return a.path < b.path
	})
	for _, t := range order {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.files[t.path] != t {
			continue // retired while another file was read
		}
		if s.idle(t, now) {
			continue
		}
		if err := s.process(ctx, t, now, emit); err != nil {
			return err
		}
		t.moved = false
	}
	s.nFiles.Store(int64(len(s.files)))
	if len(s.pending) > 0 {
		b := &Batch{Source: s.cfg.Name, Problems: s.pending}
		if err := s.emit(ctx, b, emit); err != nil {
			return err
		}
		s.pending = nil
	}
	return nil
}

// emit hands a batch over and counts it.
func (s *Source) emit(ctx context.Context, b *Batch, emit func(context.Context, *Batch) error) error {
	if err := emit(ctx, b); err != nil {
		return fmt.Errorf("file source %s: storing a batch: %w", s.cfg.Name, err)
	}
	s.nBatches.Add(1)
	s.nRecords.Add(int64(len(b.Records)))
	s.nProblems.Add(int64(len(b.Problems)))
	return nil
}

// pathProblems reports discovery problems once each.
func (s *Source) pathProblems(problems map[string]string) {
	for p, reason := range problems {
		if s.pathErr[p] != reason {
			s.pathErr[p] = reason
			s.pending = append(s.pending, Problem{File: p, Reason: reason})
		}
	}
	for p := range s.pathErr {
		if _, ok := problems[p]; !ok {
			delete(s.pathErr, p)
		}
	}
}

// load reads the stored cursor of a path; a damaged one is reported and the
// file read from the start.
func (s *Source) load(ctx context.Context, path string) (*tracked, error) {
	if s.cursors == nil {
		return nil, nil
	}
	name := s.CursorName(path)
	v, ok, err := s.cursors.Cursor(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("file source %s: reading cursor %s: %w", s.cfg.Name, name, err)
	}
	if !ok {
		return nil, nil
	}
	st, err := decodeState(v)
	if err != nil {
		s.pending = append(s.pending, Problem{File: path, Reason: "stored position ignored, reading from the start: " + err.Error()})
		return nil, nil
	}
	return &tracked{path: path, st: *st, saved: v, seenSize: -1, waitSize: -1}, nil
}

// match pairs the files found with the tracked ones by identity (so a
// renamed file keeps its position), follows files rotated out of the
// watched paths, and retires the rest.
func (s *Source) match(cands []candidate, now time.Time) {
	byID := map[identity]*tracked{}
	for _, t := range s.files {
		id := t.st.ident()
		if !id.valid() {
			continue
		}
		// Two cursors claim a file after a crash between a rename and the
		// next write: the further one is the newer.
		if u := byID[id]; u == nil || t.st.Off > u.st.Off || t.st.Off == u.st.Off && t.path < u.path {
			byID[id] = t
		}
	}
	next := make(map[string]*tracked, len(cands))
	claimed := map[*tracked]bool{}
	for _, c := range cands {
		var t *tracked
		if c.id.valid() {
			if u := byID[c.id]; u != nil && !claimed[u] {
				t = u
			}
		} else if u := s.files[c.path]; u != nil && !claimed[u] {
			t = u
		}
		if t == nil {
			t = &tracked{path: c.path, seenSize: -1, waitSize: -1}
			t.st.Dev, t.st.Ino = c.id.Dev, c.id.Ino
		}
		if t.path != c.path {
			// Stored under the new name at once: the old name's cursor is
			// soon another file's.
			t.path, t.moved, t.saved = c.path, true, ""
		}
		t.orphan = false
		t.explicit = c.explicit
		t.info = c.info
		claimed[t] = true
		next[c.path] = t
	}
	for _, t := range s.files {
		if claimed[t] {
			continue
		}
		// The file is gone from the watched paths, or replaced. A line file
		// rotated within its folder is followed under its new name until
		// it has been quiet.
		id := t.st.ident()
		if !t.st.Doc && t.st.Format != "" && id.valid() {
			q := ""
			if fi, err := os.Stat(t.path); err == nil && identityOf(fi) == id {
				q = t.path
			} else if p, _, ok := findIdentity(filepath.Dir(t.path), id); ok {
				q = p
			}
			if q != "" && next[q] == nil {
				if q != t.path {
					t.path, t.moved, t.saved = q, true, ""
				}
				t.orphan, t.info = true, nil
				next[q] = t
				continue
			}
		}
		s.retire(t)
	}
	s.files = next
}

// retire forgets a file, keeping what was read of it so that a copy is not
// read again.
func (s *Source) retire(t *tracked) {
	if s.files[t.path] == t {
		delete(s.files, t.path)
	}
	if t.st.Doc || t.st.FP == "" || t.adopt != nil || t.hold.valid() {
		return
	}
	c := consumed{id: t.st.ident(), fp: t.st.FP, fpOff: t.st.FPOff, fpLen: t.st.FPLen,
		off: t.st.Off, line: t.st.Line, format: t.st.Format, header: t.st.Header}
	s.remember(c)
}

// remember keeps consumed content and starts the copies that waited on it.
func (s *Source) remember(c consumed) {
	if len(s.retired) >= maxRetired {
		s.retired = append(s.retired[:0], s.retired[len(s.retired)-maxRetired/2:]...)
	}
	s.retired = append(s.retired, c)
	for _, u := range s.files {
		if c.id.valid() && u.hold == c.id && u.holdFP == c.fp {
			u.hold, u.holdFP = identity{}, ""
			cc := c
			u.adopt = &cc
		}
	}
}
