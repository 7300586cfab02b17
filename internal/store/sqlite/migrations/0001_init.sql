-- entrawatch store, schema version 1. Times are unix nanoseconds (UTC);
-- 0 is an unknown time.

CREATE TABLE alerts (
	id         TEXT    PRIMARY KEY,
	rule       TEXT    NOT NULL,
	title      TEXT    NOT NULL,
	severity   INTEGER NOT NULL,
	tenant     TEXT    NOT NULL,
	status     TEXT    NOT NULL CHECK (status IN ('new', 'acknowledged', 'closed')),
	summary    TEXT    NOT NULL,
	entities   TEXT    NOT NULL,
	details    TEXT    NOT NULL,
	source     TEXT    NOT NULL,
	record     BLOB,
	group_key  TEXT    NOT NULL,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	created    INTEGER NOT NULL,
	updated    INTEGER NOT NULL
) STRICT;
CREATE INDEX alerts_last_seen ON alerts (last_seen, id);
CREATE INDEX alerts_group ON alerts (group_key, last_seen);

CREATE TABLE alert_keys (
	key      TEXT PRIMARY KEY,
	alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX alert_keys_alert ON alert_keys (alert_id);

CREATE TABLE alert_events (
	alert_id TEXT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	tenant   TEXT NOT NULL,
	kind     TEXT NOT NULL,
	event_id TEXT NOT NULL,
	PRIMARY KEY (alert_id, tenant, kind, event_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX alert_events_event ON alert_events (tenant, kind, event_id);

CREATE TABLE alert_notes (
	id       INTEGER PRIMARY KEY,
	alert_id TEXT    NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	time     INTEGER NOT NULL,
	author   TEXT    NOT NULL,
	status   TEXT    NOT NULL,
	text     TEXT    NOT NULL
) STRICT;
CREATE INDEX alert_notes_alert ON alert_notes (alert_id, id);

CREATE TABLE events (
	tenant   TEXT    NOT NULL,
	kind     TEXT    NOT NULL,
	id       TEXT    NOT NULL,
	source   TEXT    NOT NULL,
	time     INTEGER NOT NULL,
	received INTEGER NOT NULL,
	raw      BLOB,
	PRIMARY KEY (tenant, kind, id)
) STRICT;
CREATE INDEX events_received ON events (received);

CREATE TABLE devices (
	tenant                   TEXT    NOT NULL,
	id                       TEXT    NOT NULL,
	device_id                TEXT    NOT NULL,
	display_name             TEXT    NOT NULL,
	operating_system         TEXT    NOT NULL,
	operating_system_version TEXT    NOT NULL,
	trust_type               TEXT    NOT NULL,
	account_enabled          INTEGER NOT NULL,
	is_compliant             INTEGER,
	is_managed               INTEGER,
	approximate_last_sign_in INTEGER NOT NULL,
	registered               INTEGER NOT NULL,
	deleted                  INTEGER NOT NULL,
	stale                    INTEGER NOT NULL,
	updated                  INTEGER NOT NULL,
	raw                      BLOB,
	PRIMARY KEY (tenant, id)
) STRICT;

CREATE TABLE device_history (
	id     INTEGER PRIMARY KEY,
	tenant TEXT    NOT NULL,
	device TEXT    NOT NULL,
	time   INTEGER NOT NULL,
	field  TEXT    NOT NULL,
	old    TEXT    NOT NULL,
	new    TEXT    NOT NULL
) STRICT;
CREATE INDEX device_history_device ON device_history (tenant, device, id);

CREATE TABLE cursors (
	name    TEXT    PRIMARY KEY,
	value   TEXT    NOT NULL,
	updated INTEGER NOT NULL
) STRICT;

CREATE TABLE outbox (
	id         INTEGER PRIMARY KEY,
	alert_id   TEXT    NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
	sink       TEXT    NOT NULL,
	state      TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
	attempts   INTEGER NOT NULL DEFAULT 0,
	next_try   INTEGER NOT NULL,
	last_error TEXT    NOT NULL DEFAULT '',
	created    INTEGER NOT NULL,
	updated    INTEGER NOT NULL,
	UNIQUE (alert_id, sink)
) STRICT;
CREATE INDEX outbox_due ON outbox (state, next_try);
