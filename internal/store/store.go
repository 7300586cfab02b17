// Package store defines what entrawatch keeps between runs of the service:
// alerts with their evidence and life (status, notes, repeat counts), a
// window of recent events, the device inventory with its history, source
// cursors and file offsets, and the delivery outbox. The Store interface is
// shared by the embedded SQLite implementation (internal/store/sqlite) and a
// later PostgreSQL one; internal/store/storetest holds the conformance suite
// every implementation passes.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/entrawatch/entrawatch/internal/alert"
)

// ErrNotFound is returned when an alert, delivery or device does not exist.
var ErrNotFound = errors.New("not found")

// ErrInvalid matches errors caused by the caller's request (a malformed page
// cursor, an overlong note), as opposed to failures of the store itself.
var ErrInvalid = errors.New("invalid request")

// Invalid marks err as the caller's mistake: errors.Is(err, ErrInvalid)
// holds and the message stays err's.
func Invalid(err error) error { return invalidError{err} }

type invalidError struct{ error }

func (e invalidError) Unwrap() error { return e.error }

func (invalidError) Is(target error) bool { return target == ErrInvalid }

// Status is an alert's place in its life.
type Status string

// Alert statuses.
const (
	StatusNew          Status = "new"
	StatusAcknowledged Status = "acknowledged"
	StatusClosed       Status = "closed"
)

// ParseStatus reads a status name.
func ParseStatus(s string) (Status, error) {
	switch Status(s) {
	case StatusNew, StatusAcknowledged, StatusClosed:
		return Status(s), nil
	}
	return "", errors.New("unknown status " + s + " (want new, acknowledged or closed)")
}

// Event is one source record kept for investigation.
type Event struct {
	// Tenant is the configured tenant (or file source) name.
	Tenant string `json:"tenant"`
	// Source names the source that read it ("graph/signins", "file/exports").
	Source string `json:"source"`
	// Kind is the record kind (record.Kind.String()).
	Kind string `json:"kind"`
	// ID identifies the record within tenant and kind: the Graph id, or
	// file:line for records without one. Storing an event twice is a no-op.
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	// Raw is the record as compact JSON.
	Raw []byte `json:"-"`
}

// NewAlert is an alert raised by the detection engine, as handed to Commit.
type NewAlert struct {
	*alert.Alert
	Tenant string
	// Key identifies the evidence: the same rule on the same record (or, for
	// stateful detections, the same state) gives the same key, so re-reading
	// a record never makes a second alert.
	Key string
	// Group identifies what repeats group on: rule, tenant and entity. A new
	// key whose group has an open alert last seen within the group window
	// adds to that alert's count instead of making a new alert.
	Group string
	// EventIDs are the IDs (within Tenant) of the events behind the alert.
	EventIDs []EventRef
}

// EventRef points at a stored event.
type EventRef struct {
	Kind, ID string
}

// Alert is a stored alert. Lists (Alerts, Commit's Result) carry no Record,
// Notes or Evidence; Alert(id) fills them.
type Alert struct {
	ID        string         `json:"id"`
	Rule      string         `json:"rule"`
	Title     string         `json:"title"`
	Severity  alert.Severity `json:"-"`
	Tenant    string         `json:"tenant"`
	Status    Status         `json:"status"`
	Summary   string         `json:"summary"`
	Entities  alert.Entities `json:"entities"`
	Details   []alert.Detail `json:"-"`
	FirstSeen time.Time      `json:"first_seen"`
	LastSeen  time.Time      `json:"last_seen"`
	Count     int            `json:"count"`
	Created   time.Time      `json:"created"`
	Updated   time.Time      `json:"updated"`
	Group     string         `json:"-"`
	Source    string         `json:"source,omitempty"`
	Notes     []Note         `json:"notes,omitempty"`
	Evidence  []Event        `json:"-"`
	Record    []byte         `json:"-"`
}

// alertJSON is Alert without its methods, for MarshalJSON.
type alertJSON Alert

// detailJSON is one detail in an alert's JSON.
type detailJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// MarshalJSON writes the alert with its severity as "low", "medium" or
// "high" and its details as an ordered list of {"name", "value"} objects.
func (a Alert) MarshalJSON() ([]byte, error) {
	details := make([]detailJSON, len(a.Details))
	for i, d := range a.Details {
		details[i] = detailJSON{Name: d.Name, Value: d.Value}
	}
	return json.Marshal(struct {
		*alertJSON
		Severity string       `json:"severity"`
		Details  []detailJSON `json:"details"`
	}{(*alertJSON)(&a), a.Severity.String(), details})
}

// Note is a status change or comment on an alert.
type Note struct {
	Time   time.Time `json:"time"`
	Author string    `json:"author,omitempty"`
	Status Status    `json:"status,omitempty"`
	Text   string    `json:"text,omitempty"`
}

// Cursor is a named position of a source (a Graph time window, a delta
// link, a file offset), stored in the same transaction as what was read.
type Cursor struct {
	Name  string
	Value string
}

// Batch is what one step of ingestion stores atomically.
type Batch struct {
	Events  []Event
	Alerts  []NewAlert
	Cursors []Cursor
	// GroupWindow is how far back an open alert of the same group takes a
	// repeat (0: no grouping).
	GroupWindow time.Duration
	// Route names the sinks a newly created alert is delivered to; the
	// outbox entries are written in the same transaction.
	Route func(a *Alert) []string
	// Now is the time of the commit (zero: time.Now()).
	Now time.Time
}

// Result says what a Commit changed.
type Result struct {
	// Created are the new alerts; Grouped the existing alerts a repeat was
	// added to; Duplicates counts alerts whose key was already stored.
	Created    []*Alert
	Grouped    []*Alert
	Duplicates int
	// NewEvents counts events not stored before.
	NewEvents int
}

// AlertFilter selects alerts. Zero fields do not filter.
type AlertFilter struct {
	Status      []Status
	MinSeverity alert.Severity
	Rule        []string
	Tenant      string
	Since       time.Time // LastSeen >= Since
	Until       time.Time // LastSeen < Until
	// Limit bounds the page (default 100, at most 1000); After is the
	// opaque cursor of the previous page's last alert.
	Limit int
	After string
}

// Page is a page of alerts, newest first, with the cursor of the next page
// ("" when none).
type Page struct {
	Alerts []*Alert
	Next   string
}

// Device is a device of a tenant's inventory.
type Device struct {
	Tenant      string    `json:"tenant"`
	ID          string    `json:"id"`        // object id
	DeviceID    string    `json:"device_id"` // deviceId
	DisplayName string    `json:"display_name"`
	OS          string    `json:"operating_system"`
	OSVersion   string    `json:"operating_system_version"`
	TrustType   string    `json:"trust_type"`
	Enabled     bool      `json:"account_enabled"`
	Compliant   *bool     `json:"is_compliant"`
	Managed     *bool     `json:"is_managed"`
	LastSignIn  time.Time `json:"approximate_last_sign_in"`
	Registered  time.Time `json:"registered"`
	Deleted     bool      `json:"deleted,omitempty"`
	Stale       bool      `json:"stale"`
	Updated     time.Time `json:"updated"`
	Raw         []byte    `json:"-"`
}

// DeviceFilter selects devices. Zero fields do not filter.
type DeviceFilter struct {
	Tenant string
	// Stale selects devices whose Stale flag (as the caller stored it) is
	// the one given.
	Stale *bool
	// NonCompliant selects devices Intune reports as not compliant.
	NonCompliant bool
	// IncludeDeleted also lists devices marked deleted.
	IncludeDeleted bool
	// Limit bounds the page (default 100, at most 1000); After is the
	// opaque cursor the previous page returned.
	Limit int
	After string
}

// DeviceChange is one entry of a device's history.
type DeviceChange struct {
	Time  time.Time `json:"time"`
	Field string    `json:"field"`
	Old   string    `json:"old"`
	New   string    `json:"new"`
}

// Delivery is one outbox entry: an alert to deliver to one sink.
type Delivery struct {
	ID        int64
	Sink      string
	AlertID   string
	Attempts  int
	State     DeliveryState
	NextTry   time.Time
	LastError string
	Created   time.Time
}

// DeliveryState is an outbox entry's state.
type DeliveryState string

// Delivery states.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	DeliveryDead      DeliveryState = "dead"
)

// OutboxStats counts outbox entries per sink and state.
type OutboxStats map[string]map[DeliveryState]int

// Store keeps entrawatch's state. Implementations are safe for concurrent
// use; writes are serialised by the implementation (one writer).
type Store interface {
	// Commit stores events, alerts (with de-duplication by Key and grouping
	// by Group), their outbox entries and cursors in one transaction.
	Commit(ctx context.Context, b *Batch) (*Result, error)
	// SeenEvents returns which of the given event IDs (of one tenant and
	// kind) are already stored.
	SeenEvents(ctx context.Context, tenant, kind string, ids []string) (map[string]bool, error)
	// Cursor returns a stored cursor ("" and false when none).
	Cursor(ctx context.Context, name string) (string, bool, error)
	// Events calls fn with each stored event of tenant whose time is in
	// [since, until), oldest first (then by kind and ID), Raw included; an
	// error from fn stops the listing and is returned.
	Events(ctx context.Context, tenant string, since, until time.Time, fn func(Event) error) error

	// Alerts lists alerts newest first (by LastSeen, then ID), one page at
	// a time; an invalid After cursor is an error.
	Alerts(ctx context.Context, f AlertFilter) (*Page, error)
	// Alert returns one alert with its notes and evidence events.
	Alert(ctx context.Context, id string) (*Alert, error)
	// SetStatus changes an alert's status and records a note.
	SetStatus(ctx context.Context, id string, st Status, author, text string) (*Alert, error)
	// AddNote records a comment on an alert.
	AddNote(ctx context.Context, id string, author, text string) (*Alert, error)

	// PutDevices stores a tenant's inventory snapshot (full=true: devices
	// absent from it are marked deleted) or delta, recording changes.
	PutDevices(ctx context.Context, tenant string, devs []Device, full bool) error
	// Devices lists devices by tenant and ID, one page at a time, with the
	// cursor of the next page ("" when none).
	Devices(ctx context.Context, f DeviceFilter) ([]Device, string, error)
	// DeviceHistory lists a device's recorded changes, oldest first.
	DeviceHistory(ctx context.Context, tenant, id string) ([]DeviceChange, error)

	// Due returns up to limit pending deliveries whose next try is due.
	Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// Delivered marks a delivery done.
	Delivered(ctx context.Context, id int64) error
	// Failed records a failed attempt; dead moves it to the dead-letter
	// state, otherwise it is tried again at next.
	Failed(ctx context.Context, id int64, errText string, next time.Time, dead bool) error
	// OutboxStats counts outbox entries per sink and state.
	OutboxStats(ctx context.Context) (OutboxStats, error)
	// Deliveries lists an alert's outbox entries.
	Deliveries(ctx context.Context, alertID string) ([]Delivery, error)

	// Prune deletes events older than before that no alert refers to, and
	// delivered outbox entries older than before.
	Prune(ctx context.Context, before time.Time) (int64, error)
	// Close releases the store.
	Close() error
}
