package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/entrawatch/entrawatch/internal/store"
)

const deviceCols = `tenant, id, device_id, display_name, operating_system, operating_system_version, trust_type,
	account_enabled, is_compliant, is_managed, approximate_last_sign_in, registered, deleted, stale, updated, raw`

func scanDevice(sc scanner) (*store.Device, error) {
	var (
		d                               store.Device
		compliant, managed              sql.NullBool
		lastSignIn, registered, updated int64
	)
	if err := sc.Scan(&d.Tenant, &d.ID, &d.DeviceID, &d.DisplayName, &d.OS, &d.OSVersion, &d.TrustType,
		&d.Enabled, &compliant, &managed, &lastSignIn, &registered, &d.Deleted, &d.Stale, &updated, &d.Raw); err != nil {
		return nil, err
	}
	if compliant.Valid {
		d.Compliant = &compliant.Bool
	}
	if managed.Valid {
		d.Managed = &managed.Bool
	}
	d.LastSignIn, d.Registered, d.Updated = fromNanos(lastSignIn), fromNanos(registered), fromNanos(updated)
	return &d, nil
}

// tracked are the device fields whose changes DeviceHistory records, with
// their values as history text ("" for unknown).
func tracked(d *store.Device) [9][2]string {
	return [9][2]string{
		{"display_name", d.DisplayName},
		{"trust_type", d.TrustType},
		{"account_enabled", strconv.FormatBool(d.Enabled)},
		{"is_compliant", optBool(d.Compliant)},
		{"is_managed", optBool(d.Managed)},
		{"operating_system", d.OS},
		{"operating_system_version", d.OSVersion},
		{"approximate_last_sign_in", timeText(d.LastSignIn)},
		{"deleted", strconv.FormatBool(d.Deleted)},
	}
}

func optBool(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

func nullBool(b *bool) any {
	if b == nil {
		return nil
	}
	return *b
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// PutDevices stores a tenant's devices. A new device gets a "created"
// history entry; a change of a tracked field (display name, trust type,
// enabled, compliant, managed, OS and version, last sign-in, deleted) gets
// one entry per field. A device marked Deleted that is already stored is
// only marked deleted (a delta's removal carries no other fields). With
// full, stored devices of the tenant absent from devs are marked deleted.
// Each device's Updated is set to the time of the call.
func (s *Store) PutDevices(ctx context.Context, tenant string, devs []store.Device, full bool) error {
	if tenant == "" {
		return fmt.Errorf("store %s: storing devices: no tenant", s.path)
	}
	for i := range devs {
		d := &devs[i]
		if d.ID == "" {
			return fmt.Errorf("store %s: storing devices of tenant %s: device %d has no id", s.path, quote(tenant), i)
		}
		if d.Tenant != "" && d.Tenant != tenant {
			return fmt.Errorf("store %s: storing devices of tenant %s: device %s belongs to tenant %s", s.path, quote(tenant), quote(d.ID), quote(d.Tenant))
		}
	}
	what := fmt.Sprintf("storing %d devices of tenant %s", len(devs), quote(tenant))
	return s.inTx(ctx, what, func(tx *sql.Tx) error {
		now := nanos(s.now())
		get, err := tx.PrepareContext(ctx, "SELECT "+deviceCols+" FROM devices WHERE tenant = ? AND id = ?")
		if err != nil {
			return err
		}
		defer get.Close()
		put, err := tx.PrepareContext(ctx, `INSERT INTO devices (`+deviceCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant, id) DO UPDATE SET device_id = excluded.device_id, display_name = excluded.display_name,
				operating_system = excluded.operating_system, operating_system_version = excluded.operating_system_version,
				trust_type = excluded.trust_type, account_enabled = excluded.account_enabled,
				is_compliant = excluded.is_compliant, is_managed = excluded.is_managed,
				approximate_last_sign_in = excluded.approximate_last_sign_in, registered = excluded.registered,
				deleted = excluded.deleted, stale = excluded.stale, updated = excluded.updated, raw = excluded.raw`)
		if err != nil {
			return err
		}
		defer put.Close()
		hist, err := tx.PrepareContext(ctx, "INSERT INTO device_history (tenant, device, time, field, old, new) VALUES (?, ?, ?, ?, ?, ?)")
		if err != nil {
			return err
		}
		defer hist.Close()
		present := make(map[string]bool, len(devs))
		for i := range devs {
			d := devs[i]
			d.Tenant = tenant
			present[d.ID] = true
			old, err := scanDevice(get.QueryRowContext(ctx, tenant, d.ID))
			switch {
			case errors.Is(err, sql.ErrNoRows):
				if _, err := hist.ExecContext(ctx, tenant, d.ID, now, "created", "", d.DisplayName); err != nil {
					return fmt.Errorf("device %s: %w", quote(d.ID), err)
				}
			case err != nil:
				return fmt.Errorf("device %s: %w", quote(d.ID), err)
			default:
				if d.Deleted {
					if err := markDeleted(ctx, tx, hist, old, now); err != nil {
						return err
					}
					continue
				}
				was, is := tracked(old), tracked(&d)
				for j := range was {
					if was[j][1] == is[j][1] {
						continue
					}
					if _, err := hist.ExecContext(ctx, tenant, d.ID, now, is[j][0], was[j][1], is[j][1]); err != nil {
						return fmt.Errorf("device %s: %w", quote(d.ID), err)
					}
				}
			}
			if _, err := put.ExecContext(ctx, tenant, d.ID, d.DeviceID, d.DisplayName, d.OS, d.OSVersion, d.TrustType,
				d.Enabled, nullBool(d.Compliant), nullBool(d.Managed), nanos(d.LastSignIn), nanos(d.Registered),
				d.Deleted, d.Stale, now, blob(d.Raw)); err != nil {
				return fmt.Errorf("device %s: %w", quote(d.ID), err)
			}
		}
		if !full {
			return nil
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+deviceCols+" FROM devices WHERE tenant = ? AND deleted = 0", tenant)
		if err != nil {
			return fmt.Errorf("finding devices absent from the snapshot: %w", err)
		}
		var gone []*store.Device
		for rows.Next() {
			d, err := scanDevice(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("finding devices absent from the snapshot: %w", err)
			}
			if !present[d.ID] {
				d.Raw = nil
				gone = append(gone, d)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("finding devices absent from the snapshot: %w", err)
		}
		for _, d := range gone {
			if err := markDeleted(ctx, tx, hist, d, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// markDeleted marks a stored device deleted, with a history entry if it
// was not already.
func markDeleted(ctx context.Context, tx *sql.Tx, hist *sql.Stmt, d *store.Device, now int64) error {
	if d.Deleted {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "UPDATE devices SET deleted = 1, updated = ? WHERE tenant = ? AND id = ?", now, d.Tenant, d.ID); err != nil {
		return fmt.Errorf("marking device %s deleted: %w", quote(d.ID), err)
	}
	if _, err := hist.ExecContext(ctx, d.Tenant, d.ID, now, "deleted", "false", "true"); err != nil {
		return fmt.Errorf("marking device %s deleted: %w", quote(d.ID), err)
	}
	return nil
}

// deviceCursor is the position after a device in (tenant, id) order.
type deviceCursor struct {
	Tenant string `json:"tenant"`
	ID     string `json:"id"`
}

// Devices lists devices by (tenant, id), without deleted ones unless
// IncludeDeleted, with the cursor of the next page ("" when none).
func (s *Store) Devices(ctx context.Context, f store.DeviceFilter) ([]store.Device, string, error) {
	var (
		where []string
		args  []any
	)
	if !f.IncludeDeleted {
		where = append(where, "deleted = 0")
	}
	if f.Tenant != "" {
		where = append(where, "tenant = ?")
		args = append(args, f.Tenant)
	}
	if f.Stale != nil {
		where = append(where, "stale = ?")
		args = append(args, *f.Stale)
	}
	if f.NonCompliant {
		where = append(where, "is_compliant = 0")
	}
	if f.After != "" {
		var c deviceCursor
		if err := decodeCursor(f.After, &c); err != nil {
			return nil, "", fmt.Errorf("listing devices: %w", err)
		}
		if c.ID == "" {
			return nil, "", store.Invalid(fmt.Errorf("listing devices: invalid page cursor %s: no device id", quote(f.After)))
		}
		where = append(where, "(tenant > ? OR (tenant = ? AND id > ?))")
		args = append(args, c.Tenant, c.Tenant, c.ID)
	}
	limit := clampLimit(f.Limit)
	q := "SELECT " + deviceCols + " FROM devices"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY tenant, id LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("store %s: listing devices: %w", s.path, err)
	}
	defer rows.Close()
	var list []store.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, "", fmt.Errorf("store %s: listing devices: %w", s.path, err)
		}
		list = append(list, *d)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store %s: listing devices: %w", s.path, err)
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		last := list[limit-1]
		next = encodeCursor(deviceCursor{Tenant: last.Tenant, ID: last.ID})
	}
	return list, next, nil
}

// DeviceHistory lists a device's latest MaxHistory changes, oldest first.
// An unknown device is store.ErrNotFound.
func (s *Store) DeviceHistory(ctx context.Context, tenant, id string) ([]store.DeviceChange, error) {
	var list []store.DeviceChange
	err := s.readTx(ctx, "reading history of device "+quote(id), func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM devices WHERE tenant = ? AND id = ?", tenant, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("device", id)
		}
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT time, field, old, new FROM
			(SELECT id, time, field, old, new FROM device_history WHERE tenant = ? AND device = ? ORDER BY id DESC LIMIT ?)
			ORDER BY id`, tenant, id, MaxHistory)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				c store.DeviceChange
				t int64
			)
			if err := rows.Scan(&t, &c.Field, &c.Old, &c.New); err != nil {
				return err
			}
			c.Time = fromNanos(t)
			list = append(list, c)
		}
		return rows.Err()
	})
	return list, err
}
