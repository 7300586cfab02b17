package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
	"github.com/entrawatch/entrawatch/internal/store"
)

// Commit stores a batch in one transaction: the events (a stored event is
// kept as it was), the alerts (a known Key is a duplicate; a new key whose
// Group has an open alert last seen within GroupWindow of the alert's time
// adds to that alert; otherwise a new alert, routed, with one pending
// outbox entry per sink) and the cursors. On any error nothing is stored.
func (s *Store) Commit(ctx context.Context, b *store.Batch) (*store.Result, error) {
	if b == nil {
		return nil, fmt.Errorf("store %s: commit of a nil batch", s.path)
	}
	for i, na := range b.Alerts {
		switch {
		case na.Alert == nil:
			return nil, fmt.Errorf("store %s: commit: alert %d of the batch is empty", s.path, i)
		case na.Key == "":
			return nil, fmt.Errorf("store %s: commit: alert %d of the batch (rule %s) has no key", s.path, i, quote(na.Rule))
		}
	}
	for i, c := range b.Cursors {
		if c.Name == "" {
			return nil, fmt.Errorf("store %s: commit: cursor %d of the batch has no name", s.path, i)
		}
	}
	now := b.Now
	if now.IsZero() {
		now = s.now()
	}
	c := &committer{ctx: ctx, b: b, now: now.UTC(), res: &store.Result{}, touched: map[string]*store.Alert{}}
	what := fmt.Sprintf("committing %d events, %d alerts and %d cursors", len(b.Events), len(b.Alerts), len(b.Cursors))
	if err := s.inTx(ctx, what, c.run); err != nil {
		return nil, err
	}
	return c.res, nil
}

// committer is the state of one Commit.
type committer struct {
	ctx context.Context
	tx  *sql.Tx
	b   *store.Batch
	now time.Time
	res *store.Result
	// touched are the alerts of the result by ID, so that an alert created
	// or grouped onto more than once in the batch is returned once, as it
	// ends up.
	touched map[string]*store.Alert
}

func (c *committer) run(tx *sql.Tx) error {
	c.tx = tx
	if err := c.events(); err != nil {
		return err
	}
	for i := range c.b.Alerts {
		if err := c.alert(&c.b.Alerts[i]); err != nil {
			return fmt.Errorf("alert %d of the batch (rule %s): %w", i, quote(c.b.Alerts[i].Rule), err)
		}
	}
	if len(c.b.Cursors) > 0 {
		st, err := tx.PrepareContext(c.ctx, `INSERT INTO cursors (name, value, updated) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated = excluded.updated`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, cur := range c.b.Cursors {
			if _, err := st.ExecContext(c.ctx, cur.Name, cur.Value, nanos(c.now)); err != nil {
				return fmt.Errorf("cursor %s: %w", quote(cur.Name), err)
			}
		}
	}
	return nil
}

func (c *committer) events() error {
	if len(c.b.Events) == 0 {
		return nil
	}
	st, err := c.tx.PrepareContext(c.ctx, `INSERT INTO events (tenant, kind, id, source, time, received, raw)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
	if err != nil {
		return err
	}
	defer st.Close()
	recv := nanos(c.now)
	for i, e := range c.b.Events {
		r, err := st.ExecContext(c.ctx, e.Tenant, e.Kind, e.ID, e.Source, nanos(e.Time), recv, blob(e.Raw))
		if err != nil {
			return fmt.Errorf("event %d (kind %s, id %s): %w", i, quote(e.Kind), quote(e.ID), err)
		}
		if n, _ := r.RowsAffected(); n > 0 {
			c.res.NewEvents++
		}
	}
	return nil
}

func (c *committer) alert(na *store.NewAlert) error {
	var owner string
	err := c.tx.QueryRowContext(c.ctx, "SELECT alert_id FROM alert_keys WHERE key = ?", na.Key).Scan(&owner)
	switch {
	case err == nil:
		c.res.Duplicates++
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("looking up key: %w", err)
	}
	t := na.Time
	if t.IsZero() {
		t = c.now
	}
	t = t.UTC()
	if c.b.GroupWindow > 0 && na.Group != "" {
		var id string
		err := c.tx.QueryRowContext(c.ctx, `SELECT id FROM alerts
			WHERE group_key = ? AND status != 'closed' AND last_seen >= ?
			ORDER BY last_seen DESC, id DESC LIMIT 1`, na.Group, nanos(t.Add(-c.b.GroupWindow))).Scan(&id)
		switch {
		case err == nil:
			return c.group(id, na, t)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("looking up group: %w", err)
		}
	}
	return c.create(na, t)
}

// group adds a repeat to alert id.
func (c *committer) group(id string, na *store.NewAlert, t time.Time) error {
	if _, err := c.tx.ExecContext(c.ctx, `UPDATE alerts SET count = count + 1,
		last_seen = max(last_seen, ?1), first_seen = min(first_seen, ?1), updated = ?2 WHERE id = ?3`,
		nanos(t), nanos(c.now), id); err != nil {
		return fmt.Errorf("adding to alert %s: %w", id, err)
	}
	if err := c.link(id, na); err != nil {
		return err
	}
	a, err := scanAlert(c.tx.QueryRowContext(c.ctx, "SELECT "+alertCols+" FROM alerts WHERE id = ?", id), false)
	if err != nil {
		return fmt.Errorf("reading alert %s: %w", id, err)
	}
	if prev, ok := c.touched[id]; ok {
		*prev = *a // created or grouped earlier in the batch: keep one entry, as it is now
		return nil
	}
	c.touched[id] = a
	c.res.Grouped = append(c.res.Grouped, a)
	return nil
}

// create stores a new alert and its outbox entries.
func (c *committer) create(na *store.NewAlert, t time.Time) error {
	id, err := c.newID(na.Key)
	if err != nil {
		return err
	}
	a := &store.Alert{
		ID:        id,
		Rule:      na.Rule,
		Title:     na.Title,
		Severity:  na.Severity,
		Tenant:    na.Tenant,
		Status:    store.StatusNew,
		Summary:   na.Summary,
		Entities:  na.Entities,
		Details:   append([]alert.Detail(nil), na.Details...),
		FirstSeen: t,
		LastSeen:  t,
		Count:     1,
		Created:   c.now,
		Updated:   c.now,
		Group:     na.Group,
		Source:    sourceText(na.Alert),
		Record:    append([]byte(nil), na.Record...),
	}
	ent, det, err := encodeAlertJSON(a)
	if err != nil {
		return err
	}
	if _, err := c.tx.ExecContext(c.ctx, `INSERT INTO alerts (id, rule, title, severity, tenant, status, summary,
		entities, details, source, record, group_key, first_seen, last_seen, count, created, updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Rule, a.Title, int64(a.Severity), a.Tenant, string(a.Status), a.Summary,
		ent, det, a.Source, blob(a.Record), a.Group, nanos(a.FirstSeen), nanos(a.LastSeen), a.Count,
		nanos(a.Created), nanos(a.Updated)); err != nil {
		return fmt.Errorf("inserting alert %s: %w", id, err)
	}
	if err := c.link(id, na); err != nil {
		return err
	}
	if c.b.Route != nil {
		seen := map[string]bool{}
		for _, sink := range c.b.Route(a) {
			if sink == "" || seen[sink] {
				continue
			}
			seen[sink] = true
			if _, err := c.tx.ExecContext(c.ctx, `INSERT INTO outbox (alert_id, sink, state, attempts, next_try, created, updated)
				VALUES (?, ?, 'pending', 0, ?, ?, ?)`, id, sink, nanos(c.now), nanos(c.now), nanos(c.now)); err != nil {
				return fmt.Errorf("queueing alert %s for sink %s: %w", id, quote(sink), err)
			}
		}
	}
	c.touched[id] = a
	c.res.Created = append(c.res.Created, a)
	return nil
}

// newID derives an alert's ID from its key: the first 16 hex digits of the
// key's SHA-256, or more of them in the unlikely case those are taken.
func (c *committer) newID(key string) (string, error) {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	for _, n := range []int{16, 32, 64} {
		var one int
		err := c.tx.QueryRowContext(c.ctx, "SELECT 1 FROM alerts WHERE id = ?", h[:n]).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return h[:n], nil
		}
		if err != nil {
			return "", fmt.Errorf("choosing an alert id: %w", err)
		}
	}
	return "", fmt.Errorf("alert id %s is taken", h)
}

// link records an alert's key and evidence.
func (c *committer) link(id string, na *store.NewAlert) error {
	if _, err := c.tx.ExecContext(c.ctx, "INSERT INTO alert_keys (key, alert_id) VALUES (?, ?)", na.Key, id); err != nil {
		return fmt.Errorf("recording key of alert %s: %w", id, err)
	}
	for _, ref := range na.EventIDs {
		if _, err := c.tx.ExecContext(c.ctx, `INSERT INTO alert_events (alert_id, tenant, kind, event_id)
			VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, id, na.Tenant, ref.Kind, ref.ID); err != nil {
			return fmt.Errorf("linking event %s to alert %s: %w", quote(ref.ID), id, err)
		}
	}
	return nil
}

// SeenEvents returns which of ids (of one tenant and kind) are stored.
func (s *Store) SeenEvents(ctx context.Context, tenant, kind string, ids []string) (map[string]bool, error) {
	seen := map[string]bool{}
	const chunk = 500
	for len(ids) > 0 {
		part := ids[:min(chunk, len(ids))]
		ids = ids[len(part):]
		args := make([]any, 0, len(part)+2)
		args = append(args, tenant, kind)
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := s.r.QueryContext(ctx, "SELECT id FROM events WHERE tenant = ? AND kind = ? AND id IN ("+placeholders(len(part))+")", args...)
		if err != nil {
			return nil, fmt.Errorf("store %s: looking up events of kind %s: %w", s.path, quote(kind), err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store %s: looking up events: %w", s.path, err)
			}
			seen[id] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store %s: looking up events: %w", s.path, err)
		}
	}
	return seen, nil
}

// Cursor returns the stored cursor name.
func (s *Store) Cursor(ctx context.Context, name string) (string, bool, error) {
	var v string
	err := s.r.QueryRowContext(ctx, "SELECT value FROM cursors WHERE name = ?", name).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("store %s: reading cursor %s: %w", s.path, quote(name), err)
	}
	return v, true, nil
}

// sourceText is where an alert's record came from, as "file:line".
func sourceText(a *alert.Alert) string {
	if a.Source.File == "" {
		return ""
	}
	if a.Source.Line <= 0 {
		return a.Source.File
	}
	return a.Source.File + ":" + strconv.FormatInt(a.Source.Line, 10)
}

// blob is b as a BLOB parameter: nil stays NULL, empty is an empty BLOB.
func blob(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

// detailJSON is how a detail is stored.
type detailJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func encodeAlertJSON(a *store.Alert) (entities, details string, err error) {
	e, err := json.Marshal(a.Entities)
	if err != nil {
		return "", "", fmt.Errorf("encoding entities: %w", err)
	}
	list := make([]detailJSON, len(a.Details))
	for i, d := range a.Details {
		list[i] = detailJSON(d)
	}
	d, err := json.Marshal(list)
	if err != nil {
		return "", "", fmt.Errorf("encoding details: %w", err)
	}
	return string(e), string(d), nil
}
