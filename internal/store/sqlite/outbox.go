package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/entrawatch/entrawatch/internal/store"
)

// MaxErrorBytes bounds the last error kept with a delivery.
const MaxErrorBytes = 4096

const deliveryCols = "id, sink, alert_id, attempts, state, next_try, last_error, created"

func scanDeliveries(rows *sql.Rows) ([]store.Delivery, error) {
	defer rows.Close()
	var list []store.Delivery
	for rows.Next() {
		var (
			d             store.Delivery
			state         string
			next, created int64
		)
		if err := rows.Scan(&d.ID, &d.Sink, &d.AlertID, &d.Attempts, &state, &next, &d.LastError, &created); err != nil {
			return nil, err
		}
		d.State, d.NextTry, d.Created = store.DeliveryState(state), fromNanos(next), fromNanos(created)
		list = append(list, d)
	}
	return list, rows.Err()
}

// Due returns up to limit (default 100, at most 1000) pending deliveries
// whose next try is at or before now, earliest first.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+deliveryCols+` FROM outbox
		WHERE state = 'pending' AND next_try <= ? ORDER BY next_try, id LIMIT ?`, nanos(now), clampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store %s: reading due deliveries: %w", s.path, err)
	}
	list, err := scanDeliveries(rows)
	if err != nil {
		return nil, fmt.Errorf("store %s: reading due deliveries: %w", s.path, err)
	}
	return list, nil
}

// Delivered marks delivery id done.
func (s *Store) Delivered(ctx context.Context, id int64) error {
	return s.inTx(ctx, "marking delivery "+strconv.FormatInt(id, 10)+" delivered", func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, "UPDATE outbox SET state = 'delivered', updated = ? WHERE id = ?", nanos(s.now()), id)
		return deliveryUpdated(r, err, id)
	})
}

// Failed records a failed attempt of delivery id (its error bounded to
// MaxErrorBytes): with dead, it moves to the dead-letter state; otherwise
// it is tried again at next.
func (s *Store) Failed(ctx context.Context, id int64, errText string, next time.Time, dead bool) error {
	if len(errText) > MaxErrorBytes {
		cut := MaxErrorBytes
		for cut > 0 && !utf8.RuneStart(errText[cut]) {
			cut--
		}
		errText = errText[:cut] + "…"
	}
	state := store.DeliveryPending
	if dead {
		state = store.DeliveryDead
	}
	return s.inTx(ctx, "recording failed delivery "+strconv.FormatInt(id, 10), func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_try = ?,
			state = ?, updated = ? WHERE id = ?`, errText, nanos(next), string(state), nanos(s.now()), id)
		return deliveryUpdated(r, err, id)
	})
}

func deliveryUpdated(r sql.Result, err error, id int64) error {
	if err != nil {
		return err
	}
	if n, err := r.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return notFound("delivery", strconv.FormatInt(id, 10))
	}
	return nil
}

// OutboxStats counts outbox entries per sink and state.
func (s *Store) OutboxStats(ctx context.Context) (store.OutboxStats, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT sink, state, count(*) FROM outbox GROUP BY sink, state")
	if err != nil {
		return nil, fmt.Errorf("store %s: counting deliveries: %w", s.path, err)
	}
	defer rows.Close()
	stats := store.OutboxStats{}
	for rows.Next() {
		var (
			sink, state string
			n           int
		)
		if err := rows.Scan(&sink, &state, &n); err != nil {
			return nil, fmt.Errorf("store %s: counting deliveries: %w", s.path, err)
		}
		if stats[sink] == nil {
			stats[sink] = map[store.DeliveryState]int{}
		}
		stats[sink][store.DeliveryState(state)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store %s: counting deliveries: %w", s.path, err)
	}
	return stats, nil
}

// Deliveries lists an alert's outbox entries in the order they were made.
// An unknown alert is store.ErrNotFound.
func (s *Store) Deliveries(ctx context.Context, alertID string) ([]store.Delivery, error) {
	var list []store.Delivery
	err := s.readTx(ctx, "reading deliveries of alert "+quote(alertID), func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM alerts WHERE id = ?", alertID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("alert", alertID)
		}
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+deliveryCols+" FROM outbox WHERE alert_id = ? ORDER BY id", alertID)
		if err != nil {
			return err
		}
		list, err = scanDeliveries(rows)
		return err
	})
	return list, err
}

// pruneChunk is how many rows one Prune transaction deletes, so that the
// writer is never held long.
const pruneChunk = 5000

// Prune deletes events received before before that no alert refers to,
// and deliveries done before before; it returns how many rows it deleted.
// It works in transactions of at most pruneChunk rows.
func (s *Store) Prune(ctx context.Context, before time.Time) (int64, error) {
	cut := nanos(before)
	var total int64
	for _, q := range []struct{ what, sql string }{
		{"pruning events", `DELETE FROM events WHERE rowid IN (SELECT e.rowid FROM events e
			WHERE e.received < ? AND NOT EXISTS (SELECT 1 FROM alert_events ae
				WHERE ae.tenant = e.tenant AND ae.kind = e.kind AND ae.event_id = e.id)
			LIMIT ?)`},
		{"pruning deliveries", `DELETE FROM outbox WHERE id IN (SELECT id FROM outbox
			WHERE state = 'delivered' AND updated < ? LIMIT ?)`},
	} {
		for {
			var n int64
			err := s.inTx(ctx, q.what, func(tx *sql.Tx) error {
				r, err := tx.ExecContext(ctx, q.sql, cut, pruneChunk)
				if err != nil {
					return err
				}
				n, err = r.RowsAffected()
				return err
			})
			if err != nil {
				return total, err
			}
			total += n
			if n < pruneChunk {
				break
			}
		}
	}
	return total, nil
}
