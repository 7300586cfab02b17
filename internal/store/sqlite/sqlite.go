// Package sqlite is the embedded store of `entrawatch serve`: a store.Store
// in one SQLite database file (modernc.org/sqlite, pure Go).
//
// The database runs in WAL mode. All writes go through one connection, each
// Commit in one transaction, so a crash leaves every batch whole or absent;
// reads use a separate pool and never wait for the writer. The schema is
// migrated at Open from the migrations embedded in the binary. Times are
// stored as unix nanoseconds and returned in UTC.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/entrawatch/entrawatch/internal/store"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Bounds of what Alert and DeviceHistory return, so that one alert grouped
// a million times cannot exhaust memory.
const (
	// MaxEvidence is how many evidence events Alert returns (the earliest).
	MaxEvidence = 100
	// MaxNotes is how many notes Alert returns (the latest, in order).
	MaxNotes = 1000
	// MaxHistory is how many changes DeviceHistory returns (the latest, in
	// order).
	MaxHistory = 1000
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options tune a store. The zero value is usable.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock held by another
	// process (default 5s).
	BusyTimeout time.Duration
	// ReadConns bounds the read pool (default 4).
	ReadConns int
	// Now is the clock for notes, device updates and deliveries (default
	// time.Now).
	Now func() time.Time
}

// Store is a store.Store in a SQLite database. It is safe for concurrent
// use.
type Store struct {
	path string
	w    *sql.DB // the one writer connection
	r    *sql.DB // the read pool
	now  func() time.Time

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if needed) the database at path and brings its
// schema up to date. A database written by a newer entrawatch is an error.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("opening store %q: want the path of a database file", path)
	}
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	if opts.ReadConns <= 0 {
		opts.ReadConns = 4
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Store{path: path, now: opts.Now}
	busy := strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10)
	base := "file:" + escapePath(path) + "?_busy_timeout=" + busy + "&_foreign_keys=on&_synchronous=NORMAL"

	w, err := sql.Open("sqlite", base+"&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	s.w = w
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	var mode string
	if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		w.Close()
		return nil, fmt.Errorf("opening store %s: reading journal mode: %w", path, err)
	}
	if !strings.EqualFold(mode, "wal") {
		w.Close()
		return nil, fmt.Errorf("opening store %s: journal mode is %q, not WAL (is it on a file system without shared memory?)", path, mode)
	}
	if err := migrate(ctx, w, path); err != nil {
		w.Close()
		return nil, err
	}

	r, err := sql.Open("sqlite", base+"&_query_only=on")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("opening store %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(opts.ReadConns)
	r.SetMaxIdleConns(opts.ReadConns)
	r.SetConnMaxIdleTime(5 * time.Minute)
	if err := r.PingContext(ctx); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("opening store %s for reading: %w", path, err)
	}
	s.r = r
	return s, nil
}

// Close closes the database. Closing twice is harmless.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		err := s.r.Close()
		if werr := s.w.Close(); err == nil {
			err = werr
		}
		if err != nil {
			s.closeErr = fmt.Errorf("closing store %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// escapePath makes a file path safe inside a SQLite URI ("file:" + path):
// '%', '?' and '#' are percent-encoded.
func escapePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '%', '?', '#':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// migration is one embedded schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations reads the embedded migrations, in version order.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var list []migration
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name does not start with a version number and '_'", n)
		}
		b, err := migrationFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		list = append(list, migration{version: v, name: base, sql: string(b)})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].version < list[j].version })
	for i, m := range list {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: want version %d (versions must run 1, 2, 3… without gaps)", m.name, i+1)
		}
	}
	return list, nil
}

// SchemaVersion is the newest schema version this binary knows.
func SchemaVersion() int {
	list, err := migrations()
	if err != nil {
		return 0
	}
	return len(list)
}

// migrate applies the migrations the database lacks, each in its own
// transaction.
func migrate(ctx context.Context, db *sql.DB, path string) error {
	list, err := migrations()
	if err != nil {
		return fmt.Errorf("store %s: embedded migrations: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name    TEXT    NOT NULL,
		applied INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("store %s: creating schema_migrations: %w", path, err)
	}
	for _, m := range list {
		if err := applyMigration(ctx, db, m, len(list)); err != nil {
			return fmt.Errorf("store %s: %w", path, err)
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration, latest int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	defer tx.Rollback()
	var have sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&have); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if int(have.Int64) > latest {
		return fmt.Errorf("database has schema version %d, newer than this entrawatch knows (%d): upgrade entrawatch or use another database", have.Int64, latest)
	}
	if int(have.Int64) >= m.version {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("migration %s: %w", m.name, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied) VALUES (?, ?, ?)", m.version, m.name, time.Now().UnixNano()); err != nil {
		return fmt.Errorf("migration %s: recording it: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migration %s: committing: %w", m.name, err)
	}
	return nil
}

// Times are stored as unix nanoseconds; 0 is the zero time. Times beyond
// what int64 nanoseconds hold (years before 1678 or after 2261) are
// clamped.
var (
	minTime = time.Unix(0, -1<<63+1)
	maxTime = time.Unix(0, 1<<63-1)
)

func nanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(minTime):
		return minTime.UnixNano()
	case t.After(maxTime):
		return maxTime.UnixNano()
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// quote quotes attacker-controlled text for an error message, bounded.
func quote(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return strconv.Quote(s)
}

// notFound wraps store.ErrNotFound with what was not found.
func notFound(what, id string) error {
	return fmt.Errorf("%s %s: %w", what, quote(id), store.ErrNotFound)
}

// inTx runs f in a write transaction and commits it.
func (s *Store) inTx(ctx context.Context, what string, f func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store %s: %s: beginning transaction: %w", s.path, what, err)
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return fmt.Errorf("store %s: %s: %w", s.path, what, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store %s: %s: %w", s.path, what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store %s: %s: committing: %w", s.path, what, err)
	}
	return nil
}

// readTx runs f in a read transaction (one consistent snapshot).
func (s *Store) readTx(ctx context.Context, what string, f func(tx *sql.Tx) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("store %s: %s: %w", s.path, what, err)
	}
	defer tx.Rollback()
	if err := f(tx); err != nil {
		return fmt.Errorf("store %s: %s: %w", s.path, what, err)
	}
	return nil
}

// clampLimit applies the default (100) and maximum (1000) page size.
func clampLimit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}

// placeholders returns "?, ?, …" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
