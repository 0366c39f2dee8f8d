package embedded

// schema creates the tables and indexes. Every statement is idempotent, so
// Open runs it on every start.
const schema = `
CREATE TABLE IF NOT EXISTS events (
	rid       INTEGER PRIMARY KEY,
	id        TEXT NOT NULL,
	ts        INTEGER NOT NULL,
	source_id TEXT,
	seq       INTEGER,
	dataset   TEXT,
	module    TEXT,
	action    TEXT,
	outcome   TEXT,
	kind      TEXT,
	host      TEXT,
	user      TEXT,
	region    TEXT,
	observer  TEXT,
	src_ip    BLOB,
	dst_ip    BLOB,
	message   TEXT,
	original  TEXT,
	doc       TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_id ON events(id);
CREATE INDEX IF NOT EXISTS events_ts ON events(ts);
CREATE INDEX IF NOT EXISTS events_dataset_ts ON events(dataset, ts);
CREATE INDEX IF NOT EXISTS events_host_ts ON events(host, ts);
CREATE INDEX IF NOT EXISTS events_user_ts ON events(user, ts);
CREATE INDEX IF NOT EXISTS events_action_ts ON events(action, ts);
CREATE INDEX IF NOT EXISTS events_src_ip ON events(src_ip);
CREATE INDEX IF NOT EXISTS events_dst_ip ON events(dst_ip);
CREATE VIRTUAL TABLE IF NOT EXISTS events_fts USING fts5(
	message, original,
	content = '', contentless_delete = 1,
	tokenize = 'unicode61 remove_diacritics 0'
);

-- spilled lists the promoted fields that some event carried with a value
-- that does not fit its column (a list, a number, an invalid IP); queries
-- on such a field also search the JSON document.
CREATE TABLE IF NOT EXISTS spilled (field TEXT PRIMARY KEY);

-- ingest_marks records, per UTC day of ingest, the first event row written
-- that day. Retention follows the time of ingest through it: evidence
-- imported today from an old capture is kept as long as today's logs.
CREATE TABLE IF NOT EXISTS ingest_marks (
	day       INTEGER PRIMARY KEY,
	first_rid INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS dead_letters (
	rid       INTEGER PRIMARY KEY,
	ts        INTEGER NOT NULL,
	source_id TEXT NOT NULL,
	offset    INTEGER NOT NULL,
	raw       BLOB NOT NULL,
	reason    TEXT NOT NULL,
	digest    BLOB NOT NULL,
	UNIQUE (source_id, offset, digest)
);
CREATE INDEX IF NOT EXISTS dead_letters_ts ON dead_letters(ts);

CREATE TABLE IF NOT EXISTS alerts (
	id         TEXT PRIMARY KEY,
	group_key  TEXT NOT NULL,
	rule_id    TEXT NOT NULL,
	rule_name  TEXT NOT NULL,
	level      TEXT NOT NULL,
	status     INTEGER NOT NULL,
	reason     TEXT NOT NULL DEFAULT '',
	region     TEXT NOT NULL DEFAULT '',
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	event_ids  TEXT NOT NULL,
	tags       TEXT NOT NULL,
	fields     TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	-- rule_meta holds the rule's ATT&CK tactics and techniques, its false
	-- positive notes and status, as JSON (see ruleMeta).
	rule_meta  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS alerts_group_open ON alerts(group_key) WHERE status < 2;
CREATE INDEX IF NOT EXISTS alerts_last_seen ON alerts(last_seen);

-- alert_matches makes detections idempotent: one row per rule and first
-- matching event.
CREATE TABLE IF NOT EXISTS alert_matches (
	rule_id   TEXT NOT NULL,
	match_key TEXT NOT NULL,
	alert_id  TEXT NOT NULL,
	PRIMARY KEY (rule_id, match_key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alert_matches_alert ON alert_matches(alert_id);

CREATE TABLE IF NOT EXISTS alert_history (
	rid         INTEGER PRIMARY KEY,
	alert_id    TEXT NOT NULL,
	at          INTEGER NOT NULL,
	from_status INTEGER NOT NULL,
	to_status   INTEGER NOT NULL,
	reason      TEXT NOT NULL,
	actor       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_history_alert ON alert_history(alert_id);
`

// migrations bring a database of an earlier release up to the schema above;
// each runs when the column it adds is missing.
var migrations = []struct{ table, column, ddl string }{
	{"alerts", "rule_meta", "ALTER TABLE alerts ADD COLUMN rule_meta TEXT NOT NULL DEFAULT '{}'"},
}
