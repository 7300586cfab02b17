package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/entrawatch/entrawatch/internal/store"
)

// Events calls fn with each stored event of tenant whose time is in
// [since, until), oldest first (then by kind and ID), Raw included. Events
// stored without a time are never listed. The rows are read from one
// snapshot; an error from fn stops the listing and is returned as is.
func (s *Store) Events(ctx context.Context, tenant string, since, until time.Time, fn func(store.Event) error) error {
	lo, hi := nanos(since), nanos(until)
	if since.IsZero() {
		lo = 1 // times are stored as 0 when unknown
	}
	if until.IsZero() || hi <= lo {
		return nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT kind, id, source, time, raw FROM events
		WHERE tenant = ? AND time >= ? AND time < ? ORDER BY time, kind, id`, tenant, lo, hi)
	if err != nil {
		return fmt.Errorf("store %s: listing events of tenant %s: %w", s.path, quote(tenant), err)
	}
	defer rows.Close()
	for rows.Next() {
		e := store.Event{Tenant: tenant}
		var t int64
		if err := rows.Scan(&e.Kind, &e.ID, &e.Source, &t, &e.Raw); err != nil {
			return fmt.Errorf("store %s: listing events of tenant %s: %w", s.path, quote(tenant), err)
		}
		e.Time = fromNanos(t)
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store %s: listing events of tenant %s: %w", s.path, quote(tenant), err)
	}
	return nil
}
