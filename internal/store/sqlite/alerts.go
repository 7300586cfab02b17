package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/store"
)

// alertCols are the columns scanAlert reads, without the record.
const alertCols = "id, rule, title, severity, tenant, status, summary, entities, details, source, group_key, first_seen, last_seen, count, created, updated"

// MaxNoteBytes bounds the text of a note.
const MaxNoteBytes = 64 << 10

type scanner interface {
	Scan(dest ...any) error
}

// scanAlert reads alertCols (and, withRecord, the record after them).
func scanAlert(sc scanner, withRecord bool) (*store.Alert, error) {
	var (
		a                             store.Alert
		sev                           int64
		status, ent, det              string
		first, last, created, updated int64
		record                        []byte
		dest                          = []any{&a.ID, &a.Rule, &a.Title, &sev, &a.Tenant, &status, &a.Summary, &ent, &det, &a.Source, &a.Group, &first, &last, &a.Count, &created, &updated}
	)
	if withRecord {
		dest = append(dest, &record)
	}
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	a.Severity = alert.Severity(sev)
	a.Status = store.Status(status)
	a.FirstSeen, a.LastSeen = fromNanos(first), fromNanos(last)
	a.Created, a.Updated = fromNanos(created), fromNanos(updated)
	a.Record = record
	if err := json.Unmarshal([]byte(ent), &a.Entities); err != nil {
		return nil, fmt.Errorf("alert %s: stored entities: %w", a.ID, err)
	}
	var list []detailJSON
	if err := json.Unmarshal([]byte(det), &list); err != nil {
		return nil, fmt.Errorf("alert %s: stored details: %w", a.ID, err)
	}
	if len(list) > 0 {
		a.Details = make([]alert.Detail, len(list))
		for i, d := range list {
			a.Details[i] = alert.Detail(d)
		}
	}
	return &a, nil
}

// pageCursor is the position after an alert in the newest-first order.
type pageCursor struct {
	LastSeen int64  `json:"t"`
	ID       string `json:"id"`
}

func encodeCursor(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor encodeCursor wrote into v.
func decodeCursor(s string, v any) error {
	if len(s) > 4096 {
		return store.Invalid(fmt.Errorf("invalid page cursor (%d bytes long)", len(s)))
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.DisallowUnknownFields()
		err = d.Decode(v)
	}
	if err != nil {
		return store.Invalid(fmt.Errorf("invalid page cursor %s: %v", quote(s), err))
	}
	return nil
}

// Alerts lists alerts newest first by (LastSeen, ID). Listed alerts carry
// no Record, Notes or Evidence.
func (s *Store) Alerts(ctx context.Context, f store.AlertFilter) (*store.Page, error) {
	var (
		where []string
		args  []any
	)
	if len(f.Status) > 0 {
		seen := map[store.Status]bool{}
		for _, st := range f.Status {
			if _, err := store.ParseStatus(string(st)); err != nil {
				return nil, fmt.Errorf("listing alerts: %w", err)
			}
			if !seen[st] {
				seen[st] = true
				args = append(args, string(st))
			}
		}
		where = append(where, "status IN ("+placeholders(len(seen))+")")
	}
	if f.MinSeverity > 0 {
		where = append(where, "severity >= ?")
		args = append(args, int64(f.MinSeverity))
	}
	if len(f.Rule) > 0 {
		if len(f.Rule) > 1000 {
			return nil, fmt.Errorf("listing alerts: %d rules given, at most 1000", len(f.Rule))
		}
		where = append(where, "rule IN ("+placeholders(len(f.Rule))+")")
		for _, r := range f.Rule {
			args = append(args, r)
		}
	}
	if f.Tenant != "" {
		where = append(where, "tenant = ?")
		args = append(args, f.Tenant)
	}
	if !f.Since.IsZero() {
		where = append(where, "last_seen >= ?")
		args = append(args, nanos(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "last_seen < ?")
		args = append(args, nanos(f.Until))
	}
	if f.After != "" {
		var c pageCursor
		if err := decodeCursor(f.After, &c); err != nil {
			return nil, fmt.Errorf("listing alerts: %w", err)
		}
		if c.ID == "" {
			return nil, store.Invalid(fmt.Errorf("listing alerts: invalid page cursor %s: no alert id", quote(f.After)))
		}
		where = append(where, "(last_seen < ? OR (last_seen = ? AND id < ?))")
		args = append(args, c.LastSeen, c.LastSeen, c.ID)
	}
	limit := clampLimit(f.Limit)
	q := "SELECT " + alertCols + " FROM alerts"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY last_seen DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store %s: listing alerts: %w", s.path, err)
	}
	defer rows.Close()
	page := &store.Page{}
	for rows.Next() {
		a, err := scanAlert(rows, false)
		if err != nil {
			return nil, fmt.Errorf("store %s: listing alerts: %w", s.path, err)
		}
		page.Alerts = append(page.Alerts, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store %s: listing alerts: %w", s.path, err)
	}
	if len(page.Alerts) > limit {
		page.Alerts = page.Alerts[:limit]
		last := page.Alerts[limit-1]
		page.Next = encodeCursor(pageCursor{LastSeen: nanos(last.LastSeen), ID: last.ID})
	}
	return page, nil
}

// Alert returns one alert with its record, its latest MaxNotes notes (in
// order) and its first MaxEvidence evidence events (by time; an event
// pruned or never stored has only its tenant, kind and ID).
func (s *Store) Alert(ctx context.Context, id string) (*store.Alert, error) {
	var a *store.Alert
	err := s.readTx(ctx, "reading alert "+quote(id), func(tx *sql.Tx) error {
		var err error
		a, err = readAlert(ctx, tx, id)
		return err
	})
	return a, err
}

func readAlert(ctx context.Context, tx *sql.Tx, id string) (*store.Alert, error) {
	a, err := scanAlert(tx.QueryRowContext(ctx, "SELECT "+alertCols+", record FROM alerts WHERE id = ?", id), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("alert", id)
	}
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT time, author, status, text FROM
		(SELECT id, time, author, status, text FROM alert_notes WHERE alert_id = ? ORDER BY id DESC LIMIT ?)
		ORDER BY id`, id, MaxNotes)
	if err != nil {
		return nil, fmt.Errorf("notes: %w", err)
	}
	for rows.Next() {
		var (
			n      store.Note
			t      int64
			status string
		)
		if err := rows.Scan(&t, &n.Author, &status, &n.Text); err != nil {
			rows.Close()
			return nil, fmt.Errorf("notes: %w", err)
		}
		n.Time, n.Status = fromNanos(t), store.Status(status)
		a.Notes = append(a.Notes, n)
	}
	err = rows.Err()
	rows.Close()
	if err != nil {
		return nil, fmt.Errorf("notes: %w", err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT ae.tenant, ae.kind, ae.event_id, e.source, e.time, e.raw
		FROM alert_events ae LEFT JOIN events e ON e.tenant = ae.tenant AND e.kind = ae.kind AND e.id = ae.event_id
		WHERE ae.alert_id = ? ORDER BY coalesce(e.time, 0), ae.tenant, ae.kind, ae.event_id LIMIT ?`, id, MaxEvidence)
	if err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			e      store.Event
			source sql.NullString
			t      sql.NullInt64
		)
		if err := rows.Scan(&e.Tenant, &e.Kind, &e.ID, &source, &t, &e.Raw); err != nil {
			return nil, fmt.Errorf("evidence: %w", err)
		}
		e.Source, e.Time = source.String, fromNanos(t.Int64)
		a.Evidence = append(a.Evidence, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("evidence: %w", err)
	}
	return a, nil
}

// SetStatus changes an alert's status and records a note of the change
// with text. Setting the status an alert already has changes nothing but
// keeps text, if any, as a comment.
func (s *Store) SetStatus(ctx context.Context, id string, st store.Status, author, text string) (*store.Alert, error) {
	if _, err := store.ParseStatus(string(st)); err != nil {
		return nil, fmt.Errorf("setting status of alert %s: %w", quote(id), err)
	}
	if err := checkNote(author, text); err != nil {
		return nil, fmt.Errorf("setting status of alert %s: %w", quote(id), err)
	}
	err := s.inTx(ctx, "setting status of alert "+quote(id), func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx, "SELECT status FROM alerts WHERE id = ?", id).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("alert", id)
		}
		if err != nil {
			return err
		}
		now := nanos(s.now())
		if store.Status(cur) == st {
			if text == "" {
				return nil
			}
			return addNote(ctx, tx, id, now, author, "", text)
		}
		if _, err := tx.ExecContext(ctx, "UPDATE alerts SET status = ?, updated = ? WHERE id = ?", string(st), now, id); err != nil {
			return err
		}
		return addNote(ctx, tx, id, now, author, st, text)
	})
	if err != nil {
		return nil, err
	}
	return s.Alert(ctx, id)
}

// AddNote records a comment on an alert.
func (s *Store) AddNote(ctx context.Context, id string, author, text string) (*store.Alert, error) {
	if text == "" {
		return nil, store.Invalid(fmt.Errorf("adding a note to alert %s: the note is empty", quote(id)))
	}
	if err := checkNote(author, text); err != nil {
		return nil, fmt.Errorf("adding a note to alert %s: %w", quote(id), err)
	}
	err := s.inTx(ctx, "adding a note to alert "+quote(id), func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM alerts WHERE id = ?", id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("alert", id)
		}
		if err != nil {
			return err
		}
		now := nanos(s.now())
		if _, err := tx.ExecContext(ctx, "UPDATE alerts SET updated = ? WHERE id = ?", now, id); err != nil {
			return err
		}
		return addNote(ctx, tx, id, now, author, "", text)
	})
	if err != nil {
		return nil, err
	}
	return s.Alert(ctx, id)
}

func checkNote(author, text string) error {
	if len(text) > MaxNoteBytes {
		return store.Invalid(fmt.Errorf("the note is %d bytes long, at most %d", len(text), MaxNoteBytes))
	}
	if len(author) > 1024 {
		return store.Invalid(fmt.Errorf("the author is %d bytes long, at most 1024", len(author)))
	}
	return nil
}

func addNote(ctx context.Context, tx *sql.Tx, id string, now int64, author string, st store.Status, text string) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO alert_notes (alert_id, time, author, status, text) VALUES (?, ?, ?, ?, ?)",
		id, now, author, string(st), text)
	return err
}
