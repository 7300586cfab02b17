package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// File appends each alert as one line of Payload JSON to a file (created
// 0600), syncing it to disk before Send returns. A line is written with a
// single write on an O_APPEND descriptor, so lines of several writers do
// not interleave. Close closes the file.
type File struct {
	name string
	path string
	mu   sync.Mutex
	f    *os.File
}

func newFile(cfg Config) (Sink, error) {
	if cfg.Path == "" {
		return nil, fmt.Errorf("sink %q (file): path is required", cfg.Name)
	}
	f, err := os.OpenFile(cfg.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sink %q (file): %w", cfg.Name, err)
	}
	return &File{name: cfg.Name, path: cfg.Path, f: f}, nil
}

// Name returns the sink's name.
func (s *File) Name() string { return s.name }

// Send appends the alert's line and syncs the file.
func (s *File) Send(ctx context.Context, a *Payload) error {
	line, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("sink %q: encoding alert %s: %w", s.name, a.ID, err)
	}
	line = append(line, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return Permanent(fmt.Errorf("sink %q: %s: %w", s.name, s.path, os.ErrClosed))
	}
	if _, err := s.f.Write(line); err != nil {
		return fmt.Errorf("sink %q: writing alert %s: %w", s.name, a.ID, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("sink %q: syncing %s: %w", s.name, s.path, err)
	}
	return nil
}

// Close closes the file.
func (s *File) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	if err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("sink %q: closing %s: %w", s.name, s.path, err)
	}
	return nil
}

var (
	_ Sink      = (*File)(nil)
	_ io.Closer = (*File)(nil)
)
