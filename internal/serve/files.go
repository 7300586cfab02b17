package serve

import (
	"context"
	"time"

	"github.com/entrawatch/entrawatch/internal/filesource"
	"github.com/entrawatch/entrawatch/internal/record"
	"github.com/entrawatch/entrawatch/internal/store"
)

// FileWatcher follows files and folders (internal/filesource.Source).
type FileWatcher interface {
	Run(ctx context.Context, emit func(ctx context.Context, b *filesource.Batch) error) error
}

// FileSource is a watched set of files.
type FileSource struct {
	Name    string
	Watcher FileWatcher
}

// runFiles feeds a file source's batches through the pipeline; the
// source's offsets are stored with the batch's records and alerts. A failed
// source is restarted with backoff.
func (s *Service) runFiles(ctx context.Context, f FileSource) {
	name := "file/" + f.Name
	backoff := time.Second
	for ctx.Err() == nil {
		err := f.Watcher.Run(ctx, func(ctx context.Context, b *filesource.Batch) error {
			in := &Ingest{Tenant: f.Name, Source: name, SkipSeen: true}
			for _, r := range b.Records {
				in.Items = append(in.Items, Item{Data: r.Data, Raw: r.Raw, Source: record.Source{File: r.File, Line: r.Line, Format: r.Format}})
			}
			for _, p := range b.Problems {
				s.metrics.badRecords.WithLabelValues(name, f.Name).Inc()
				s.log.Warn("bad record", "source", name, "file", p.File, "line", p.Line, "reason", p.Reason)
			}
			for _, c := range b.Cursors {
				in.Cursors = append(in.Cursors, store.Cursor{Name: c.Name, Value: c.Value})
			}
			res, err := s.ingest(ctx, in)
			if err != nil {
				return err
			}
			s.noted(f.Name, name, res, res.Newest)
			st := s.status(f.Name, name)
			s.stMu.Lock()
			st.LastPoll, st.LastSuccess = s.now(), s.now()
			s.stMu.Unlock()
			return nil
		})
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			st := s.status(f.Name, name)
			s.stMu.Lock()
			st.Failures++
			st.LastError = err.Error()
			s.stMu.Unlock()
			s.metrics.sourceErrors.WithLabelValues(name, f.Name).Inc()
			s.log.Warn("file source failed", "source", name, "error", err.Error(), "retry_in", backoff.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < time.Minute {
			backoff *= 2
		}
	}
}
