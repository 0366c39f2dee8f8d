package embedded

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
)

// Batch is the unit of one atomic WriteBatch: the pipeline's Write, so
// *Store satisfies pipeline.Store.
type Batch = pipeline.Write

// DeadLetter is an input that could not be parsed, kept whole with the
// reason. Replaying the same source, offset and bytes stores it once.
type DeadLetter = pipeline.DeadLetter

// Detection is one match of a detection rule. The store folds it into the
// open alert with the same GroupKey or opens a new alert. The rule id and
// the first event id identify the match, so a replay counts once.
type Detection = pipeline.Detection

const insertEventPrefix = `INSERT INTO events (id, ts, source_id, seq, dataset, module, action, outcome, kind,
	host, user, region, observer, src_ip, dst_ip, message, original, doc) VALUES `

// rowsPerInsert is the number of events in one multi-row INSERT; fewer
// statements cut the per-call cost of database/sql and the driver.
const rowsPerInsert = 50

func insertEventsSQL(n int) string {
	var b strings.Builder
	b.WriteString(insertEventPrefix)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
	}
	b.WriteString(" ON CONFLICT (id) DO NOTHING")
	return b.String()
}

var insertFullSQL = insertEventsSQL(rowsPerInsert)

// WriteBatch stores events, dead letters and detections in one
// transaction. Events with an id already stored are skipped, so a replayed
// batch stores nothing twice. When WriteBatch returns nil the whole batch is
// durable; on error none of it is stored.
func (s *Store) WriteBatch(ctx context.Context, b *Batch) error {
	rows := make([]row, 0, len(b.Events))
	var buf bytes.Buffer
	for _, e := range b.Events {
		r, err := encodeEvent(e, &buf)
		if err != nil {
			return fmt.Errorf("write batch: %w", err)
		}
		rows = append(rows, r)
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin batch in %s: %w", s.path, err)
	}
	defer tx.Rollback()
	now := s.now().UTC()
	if len(rows) > 0 {
		// The first batch of a day marks where that day's rows start.
		if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO ingest_marks (day, first_rid) SELECT ?, COALESCE(MAX(rid), 0) + 1 FROM events",
			ingestDay(now)); err != nil {
			return fmt.Errorf("record ingest day in %s: %w", s.path, err)
		}
	}
	newSpills, err := s.insertEvents(ctx, tx, rows)
	if err != nil {
		return err
	}
	if err := insertDeadLetters(ctx, tx, b.DeadLetters); err != nil {
		return err
	}
	for i := range b.Detections {
		if err := foldDetection(ctx, tx, &b.Detections[i], now); err != nil {
			return err
		}
	}
	if len(newSpills) > 0 {
		// Set before the commit, so no query compiled after the commit
		// misses the new documents. If the commit fails, the extra
		// condition only costs time.
		s.mu.Lock()
		for _, f := range newSpills {
			s.spilled[f] = true
		}
		s.mu.Unlock()
		s.log.Info("promoted field stored in documents too", "fields", newSpills, "path", s.path)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit batch in %s: %w", s.path, err)
	}
	return nil
}

func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, rows []row) ([]string, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	// Rows inserted by this transaction get row ids above the current
	// maximum, so one INSERT ... SELECT indexes their text afterwards.
	var before int64
	if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(rid), 0) FROM events").Scan(&before); err != nil {
		return nil, fmt.Errorf("read last row id: %w", err)
	}
	full, err := tx.PrepareContext(ctx, insertFullSQL)
	if err != nil {
		return nil, fmt.Errorf("prepare event insert: %w", err)
	}
	defer full.Close()
	args := make([]any, 0, rowsPerInsert*numEventColumns)
	for i := 0; i < len(rows); i += rowsPerInsert {
		chunk := rows[i:min(i+rowsPerInsert, len(rows))]
		args = args[:0]
		for _, r := range chunk {
			args = append(args, r.id, r.ts, r.sourceID, r.seq)
			args = append(args, r.cols[:]...)
			args = append(args, r.doc)
		}
		if len(chunk) == rowsPerInsert {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertEventsSQL(len(chunk)), args...)
		}
		if err != nil {
			return nil, fmt.Errorf("insert events %s to %s: %w", chunk[0].id, chunk[len(chunk)-1].id, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO events_fts (rowid, message, original)
		SELECT rid, message, original FROM events WHERE rid > ? AND (message IS NOT NULL OR original IS NOT NULL)`, before); err != nil {
		return nil, fmt.Errorf("index text of new events: %w", err)
	}
	// Every spilled field of the batch is recorded in this transaction,
	// even when the in-memory set has it, because that set may come from
	// a batch whose commit failed.
	var batchSpills, newSpills []string
	for _, r := range rows {
		for _, f := range r.spilled {
			if slices.Contains(batchSpills, f) {
				continue
			}
			batchSpills = append(batchSpills, f)
			if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO spilled (field) VALUES (?)", f); err != nil {
				return nil, fmt.Errorf("record spilled field %s: %w", f, err)
			}
			s.mu.RLock()
			known := s.spilled[f]
			s.mu.RUnlock()
			if !known {
				newSpills = append(newSpills, f)
			}
		}
	}
	return newSpills, nil
}

func insertDeadLetters(ctx context.Context, tx *sql.Tx, dls []DeadLetter) error {
	for _, d := range dls {
		if d.SourceID == "" {
			return fmt.Errorf("dead letter at offset %d has no source id", d.Offset)
		}
		sum := sha256.Sum256(d.Raw)
		raw := d.Raw
		if raw == nil {
			raw = []byte{}
		}
		ts := d.Time
		if ts.IsZero() {
			ts = time.Unix(0, 0)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO dead_letters (ts, source_id, offset, raw, reason, digest)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			ts.UnixNano(), d.SourceID, d.Offset, raw, d.Reason, sum[:16])
		if err != nil {
			return fmt.Errorf("insert dead letter of %s at offset %d: %w", d.SourceID, d.Offset, err)
		}
	}
	return nil
}

// ingestDay numbers the UTC day of t, for ingest_marks.
func ingestDay(t time.Time) int64 { return t.Unix() / 86400 }

// ruleMeta is the JSON of the alerts.rule_meta column: what the alert
// shows of its rule beyond id, title and level.
type ruleMeta struct {
	Tactics        []ecs.Tactic `json:"tactics,omitempty"`
	Techniques     []string     `json:"techniques,omitempty"`
	FalsePositives []string     `json:"falsepositives,omitempty"`
	RuleStatus     string       `json:"rule_status,omitempty"`
}

// foldDetection counts a detection into the open or acknowledged alert of
// its group, or opens a new alert.
func foldDetection(ctx context.Context, tx *sql.Tx, d *Detection, now time.Time) error {
	if d.RuleID == "" || d.GroupKey == "" {
		return fmt.Errorf("detection of rule %q has no rule id or group key", d.RuleName)
	}
	if d.Time.IsZero() {
		return fmt.Errorf("detection of rule %s has no event time", d.RuleID)
	}
	matchKey := d.Time.UTC().Format(time.RFC3339Nano)
	if len(d.EventIDs) > 0 {
		matchKey = d.EventIDs[0]
	}
	var alertID string
	var count int64
	var first, last int64
	var idsJSON string
	err := tx.QueryRowContext(ctx,
		"SELECT id, count, first_seen, last_seen, event_ids FROM alerts WHERE group_key = ? AND status < 2 ORDER BY first_seen DESC LIMIT 1",
		d.GroupKey).Scan(&alertID, &count, &first, &last, &idsJSON)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		alertID, err = newAlertID(ctx, tx, d)
		if err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("find open alert of group %s: %w", d.GroupKey, err)
	}
	res, err := tx.ExecContext(ctx, "INSERT INTO alert_matches (rule_id, match_key, alert_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
		d.RuleID, matchKey, alertID)
	if err != nil {
		return fmt.Errorf("record match of rule %s: %w", d.RuleID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // a replay of a detection already counted
	}
	ts := d.Time.UnixNano()
	if idsJSON == "" {
		// No open alert: open one.
		ids := boundIDs(nil, d.EventIDs)
		idsB, _ := json.Marshal(ids)
		tags := d.Tags
		if tags == nil {
			tags = []string{}
		}
		tagsB, _ := json.Marshal(tags)
		fieldsB, err := json.Marshal(d.Fields)
		if err != nil {
			return fmt.Errorf("encode fields of rule %s: %w", d.RuleID, err)
		}
		metaB, err := json.Marshal(ruleMeta{Tactics: d.Tactics, Techniques: d.Techniques, FalsePositives: d.FalsePositives, RuleStatus: d.RuleStatus})
		if err != nil {
			return fmt.Errorf("encode rule metadata of rule %s: %w", d.RuleID, err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO alerts (id, group_key, rule_id, rule_name, level, status, region,
			first_seen, last_seen, count, event_ids, tags, fields, updated_at, rule_meta)
			VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, 1, ?, ?, ?, ?, ?)`,
			alertID, d.GroupKey, d.RuleID, d.RuleName, d.Level, d.Region, ts, ts, string(idsB), string(tagsB), string(fieldsB), now.UnixNano(), string(metaB))
		if err != nil {
			return fmt.Errorf("open alert for rule %s: %w", d.RuleID, err)
		}
		return nil
	}
	var ids []string
	if err := json.Unmarshal([]byte(idsJSON), &ids); err != nil {
		return fmt.Errorf("decode event ids of alert %s: %w", alertID, err)
	}
	ids = boundIDs(ids, d.EventIDs)
	idsB, _ := json.Marshal(ids)
	_, err = tx.ExecContext(ctx, `UPDATE alerts SET count = count + 1, last_seen = max(last_seen, ?),
		first_seen = min(first_seen, ?), event_ids = ?, updated_at = ? WHERE id = ?`,
		ts, ts, string(idsB), now.UnixNano(), alertID)
	if err != nil {
		return fmt.Errorf("update alert %s: %w", alertID, err)
	}
	return nil
}

// newAlertID returns ecs.AlertID of the group and time. When a closed alert
// already has that id (it opened at the same event time), the group key is
// suffixed with "#2", "#3", ... so the id stays deterministic for the same
// history of detections.
func newAlertID(ctx context.Context, tx *sql.Tx, d *Detection) (string, error) {
	key := d.GroupKey
	for n := 2; ; n++ {
		id := ecs.AlertID(key, d.Time)
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM alerts WHERE id = ?", id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return id, nil
		}
		if err != nil {
			return "", fmt.Errorf("check alert id %s: %w", id, err)
		}
		key = d.GroupKey + "#" + strconv.Itoa(n)
	}
}

// boundIDs appends new event ids that are not yet listed, keeping at most
// ecs.MaxAlertEvents.
func boundIDs(ids, add []string) []string {
	if ids == nil {
		ids = []string{}
	}
	for _, id := range add {
		if len(ids) >= ecs.MaxAlertEvents {
			break
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids
}
