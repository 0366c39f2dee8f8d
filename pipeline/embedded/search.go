package embedded

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"

	"strconv"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline/kql"
)

// SearchRequest selects events. Query is a parsed KQL tree; when it is nil,
// QueryText is parsed (empty matches everything). From is inclusive, To
// exclusive; a zero time leaves that side open.
type SearchRequest struct {
	Query     kql.Node
	QueryText string
	From, To  time.Time
	// Limit caps the events returned (0 means 100); Offset skips events.
	Limit  int
	Offset int
	// Ascending sorts by @timestamp oldest first; the default is newest
	// first.
	Ascending bool
}

// SearchResult holds one page of events and the number of all matches.
type SearchResult struct {
	Total  int
	Events []*ecs.Event
}

// where compiles the query and time range into a condition and its
// arguments.
func (s *Store) where(q kql.Node, text string, from, to time.Time) (string, []any, error) {
	if q == nil {
		var err error
		q, err = kql.Parse(text)
		if err != nil {
			return "", nil, err
		}
	}
	c := &compiler{spilled: s.spilledFields()}
	var cond string
	if !from.IsZero() {
		cond += "ts >= " + c.bind(from.UnixNano()) + " AND "
	}
	if !to.IsZero() {
		cond += "ts < " + c.bind(to.UnixNano()) + " AND "
	}
	body, err := c.compile(q)
	if err != nil {
		return "", nil, err
	}
	return cond + "(" + body + ")", c.args, nil
}

// Search returns the events that match the query in the time range.
func (s *Store) Search(ctx context.Context, req SearchRequest) (SearchResult, error) {
	cond, args, err := s.where(req.Query, req.QueryText, req.From, req.To)
	if err != nil {
		return SearchResult{}, err
	}
	limit := req.Limit
	if limit <= 0 {
		limit = 100
	}
	order := "DESC"
	if req.Ascending {
		order = "ASC"
	}
	var res SearchResult
	if err := s.reader.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE "+cond, args...).Scan(&res.Total); err != nil {
		return res, fmt.Errorf("count search results: %w", err)
	}
	pageArgs := append(append([]any(nil), args...), limit, max(req.Offset, 0))
	rows, err := s.reader.QueryContext(ctx, "SELECT "+eventColumns+" FROM events WHERE "+cond+
		" ORDER BY ts "+order+", rid "+order+" LIMIT ? OFFSET ?", pageArgs...)
	if err != nil {
		return res, fmt.Errorf("search events: %w", err)
	}
	res.Events, err = scanEvents(rows)
	return res, err
}

// TermCount is one value of a field and the number of events holding it.
type TermCount struct {
	Value string
	Count int64
}

// fieldExpr returns an SQL expression for a field that TopTerms and
// DateHistogram group by, and whether it is a 16-byte address column.
func fieldExpr(c *compiler, field string) (expr string, ip bool, err error) {
	switch field {
	case "event.id":
		return "id", false, nil
	case "canhgac.source_id":
		return "source_id", false, nil
	case "event.sequence":
		return "seq", false, nil
	case "@timestamp":
		return "", false, fmt.Errorf("cannot group by @timestamp: use DateHistogram")
	}
	if col, ok := promotedByField[field]; ok {
		return col.name, col.kind == colIP, nil
	}
	path, ok := docPath(field)
	if !ok || kql.IsFieldPattern(field) {
		return "", false, fmt.Errorf("invalid field name %q for grouping: use a plain dotted ECS name", field)
	}
	return "json_extract(doc, " + c.bind(path) + ")", false, nil
}

func termString(v any, ip bool) string {
	switch v := v.(type) {
	case []byte:
		if ip && len(v) == 16 {
			return netip.AddrFrom16([16]byte(v)).Unmap().String()
		}
		return string(v)
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// TopTerms returns the n most frequent values of a field among the events
// that match the query in the time range, most frequent first. A list
// counts each of its values once per event.
//
// NOTE: for a promoted field (host.name, source.ip, ...) only values stored
// in its column are counted; values kept in the document because they did
// not fit the column (lists, numbers, invalid addresses) are not.
func (s *Store) TopTerms(ctx context.Context, field string, query kql.Node, from, to time.Time, n int) ([]TermCount, error) {
	if n <= 0 {
		n = 10
	}
	cond, args, err := s.where(query, "", from, to)
	if err != nil {
		return nil, err
	}
	c := &compiler{}
	var q string
	var ip bool
	if _, ok := promotedByField[field]; ok || field == "event.id" || field == "canhgac.source_id" || field == "event.sequence" {
		expr, isIP, err := fieldExpr(c, field)
		if err != nil {
			return nil, err
		}
		ip = isIP
		q = "SELECT " + expr + ", count(*) AS n FROM events WHERE " + expr + " IS NOT NULL AND " + cond +
			" GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?"
		args = append(args, n)
	} else {
		path, ok := docPath(field)
		if !ok || kql.IsFieldPattern(field) || field == "@timestamp" {
			return nil, fmt.Errorf("invalid field name %q for top terms: use a plain dotted ECS name", field)
		}
		// The condition runs in a subquery, where its column names (id,
		// type, value) cannot clash with json_each's columns.
		q = "SELECT j.value, count(DISTINCT e.rid) AS n FROM (SELECT rid, doc FROM events WHERE " + cond +
			") AS e, json_each(e.doc, ?) AS j WHERE j.type NOT IN ('object', 'array', 'null') GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?"
		args = append(args, path, n)
	}
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("top terms of %s: %w", field, err)
	}
	defer rows.Close()
	var out []TermCount
	for rows.Next() {
		var v any
		var cnt int64
		if err := rows.Scan(&v, &cnt); err != nil {
			return nil, fmt.Errorf("top terms of %s: %w", field, err)
		}
		out = append(out, TermCount{Value: termString(v, ip), Count: cnt})
	}
	return out, rows.Err()
}

// Bucket is one interval of a date histogram.
type Bucket struct {
	Start time.Time
	Count int64
	// Split counts the events of the bucket by the value of the split
	// field; events without the field count under "". Nil without a split
	// field.
	Split map[string]int64
}

// DateHistogram counts matching events per interval, optionally split by
// the value of a field (such as event.dataset). Buckets start at multiples
// of interval since the Unix epoch; empty buckets are left out.
func (s *Store) DateHistogram(ctx context.Context, interval time.Duration, splitField string, query kql.Node, from, to time.Time) ([]Bucket, error) {
	if interval <= 0 {
		return nil, fmt.Errorf("invalid histogram interval %s: must be positive", interval)
	}
	cond, args, err := s.where(query, "", from, to)
	if err != nil {
		return nil, err
	}
	c := &compiler{}
	split := "NULL"
	ip := false
	if splitField != "" {
		split, ip, err = fieldExpr(c, splitField)
		if err != nil {
			return nil, err
		}
	}
	iv := interval.Nanoseconds()
	q := "SELECT (ts - ((ts % ?) + ?) % ?) AS b, " + split + ", count(*) FROM events WHERE " + cond + " GROUP BY 1, 2 ORDER BY 1"
	all := append(append([]any{iv, iv, iv}, c.args...), args...)
	rows, err := s.reader.QueryContext(ctx, q, all...)
	if err != nil {
		return nil, fmt.Errorf("date histogram: %w", err)
	}
	defer rows.Close()
	var out []Bucket
	for rows.Next() {
		var start int64
		var v any
		var cnt int64
		if err := rows.Scan(&start, &v, &cnt); err != nil {
			return nil, fmt.Errorf("date histogram: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Start.UnixNano() != start {
			out = append(out, Bucket{Start: time.Unix(0, start).UTC()})
		}
		b := &out[len(out)-1]
		b.Count += cnt
		if splitField != "" {
			if b.Split == nil {
				b.Split = map[string]int64{}
			}
			key := ""
			if v != nil {
				key = termString(v, ip)
			}
			b.Split[key] += cnt
		}
	}
	return out, rows.Err()
}

// AlertFilter selects alerts. Empty fields do not filter; From and To
// bound LastSeen (From inclusive, To exclusive).
type AlertFilter struct {
	Level  string
	Status *ecs.AlertStatus
	Region string
	RuleID string
	From   time.Time
	To     time.Time
	// Limit caps the alerts returned (0 means 100); Offset skips alerts.
	Limit  int
	Offset int
}

const alertColumns = "id, group_key, rule_id, rule_name, level, status, reason, region, first_seen, last_seen, count, event_ids, tags, fields, updated_at, rule_meta"

// Alerts returns alerts matching the filter, most recently seen first, and
// the number of all matching alerts.
func (s *Store) Alerts(ctx context.Context, f AlertFilter) ([]ecs.Alert, int, error) {
	cond := "1"
	var args []any
	add := func(c string, v any) {
		cond += " AND " + c
		args = append(args, v)
	}
	if f.Level != "" {
		add("level = ?", f.Level)
	}
	if f.Status != nil {
		add("status = ?", int64(*f.Status))
	}
	if f.Region != "" {
		add("region = ?", f.Region)
	}
	if f.RuleID != "" {
		add("rule_id = ?", f.RuleID)
	}
	if !f.From.IsZero() {
		add("last_seen >= ?", f.From.UnixNano())
	}
	if !f.To.IsZero() {
		add("last_seen < ?", f.To.UnixNano())
	}
	var total int
	if err := s.reader.QueryRowContext(ctx, "SELECT count(*) FROM alerts WHERE "+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count alerts: %w", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.reader.QueryContext(ctx, "SELECT "+alertColumns+" FROM alerts WHERE "+cond+
		" ORDER BY last_seen DESC, id LIMIT ? OFFSET ?", append(args, limit, max(f.Offset, 0))...)
	if err != nil {
		return nil, 0, fmt.Errorf("list alerts: %w", err)
	}
	defer rows.Close()
	var out []ecs.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, a)
	}
	return out, total, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func scanAlert(r scanner) (ecs.Alert, error) {
	var a ecs.Alert
	var status, first, last, updated int64
	var ids, tags, fields, meta string
	if err := r.Scan(&a.ID, &a.GroupKey, &a.RuleID, &a.RuleName, &a.Level, &status, &a.Reason, &a.Region,
		&first, &last, &a.Count, &ids, &tags, &fields, &updated, &meta); err != nil {
		return a, fmt.Errorf("scan alert: %w", err)
	}
	a.Status = ecs.AlertStatus(status)
	a.FirstSeen = time.Unix(0, first).UTC()
	a.LastSeen = time.Unix(0, last).UTC()
	a.UpdatedAt = time.Unix(0, updated).UTC()
	if err := json.Unmarshal([]byte(ids), &a.EventIDs); err != nil {
		return a, fmt.Errorf("decode event ids of alert %s: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(tags), &a.Tags); err != nil {
		return a, fmt.Errorf("decode tags of alert %s: %w", a.ID, err)
	}
	var rm ruleMeta
	if err := json.Unmarshal([]byte(meta), &rm); err != nil {
		return a, fmt.Errorf("decode rule metadata of alert %s: %w", a.ID, err)
	}
	a.Tactics, a.Techniques, a.FalsePositives, a.RuleStatus = rm.Tactics, rm.Techniques, rm.FalsePositives, rm.RuleStatus
	if fields != "null" {
		var m map[string]any
		if err := json.Unmarshal([]byte(fields), &m); err != nil {
			return a, fmt.Errorf("decode fields of alert %s: %w", a.ID, err)
		}
		a.Fields = ecs.Fields{}
		for k, v := range m {
			a.Fields[k] = ecs.NormalizeValue(v)
		}
	}
	return a, nil
}

// ErrNotFound is returned for an unknown alert id.
var ErrNotFound = fmt.Errorf("not found")

// Alert returns one alert and its stored matching events.
func (s *Store) Alert(ctx context.Context, id string) (ecs.Alert, []*ecs.Event, error) {
	a, err := scanAlert(s.reader.QueryRowContext(ctx, "SELECT "+alertColumns+" FROM alerts WHERE id = ?", id))
	if err != nil {
		if isNoRows(err) {
			return a, nil, fmt.Errorf("alert %s: %w", id, ErrNotFound)
		}
		return a, nil, err
	}
	events, err := s.eventsByID(ctx, a.EventIDs)
	return a, events, err
}

func isNoRows(err error) bool {
	for e := err; e != nil; {
		if e == sql.ErrNoRows {
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// AlertChange is one entry of an alert's status history.
type AlertChange struct {
	At       time.Time
	From, To ecs.AlertStatus
	Reason   string
	Actor    string
}

// SetAlertStatus moves an alert to status (acknowledged or closed, or back
// to open from acknowledged) and records who did it and why. Closing needs
// a reason. A closed alert stays closed: a new match opens a new alert.
func (s *Store) SetAlertStatus(ctx context.Context, id string, status ecs.AlertStatus, reason, actor string) error {
	if status > ecs.StatusClosed || status < ecs.StatusOpen {
		return fmt.Errorf("invalid alert status %d", int(status))
	}
	if status == ecs.StatusClosed && reason == "" {
		return fmt.Errorf("closing alert %s needs a reason", id)
	}
	if actor == "" {
		return fmt.Errorf("changing alert %s needs the actor's name", id)
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin status change of alert %s: %w", id, err)
	}
	defer tx.Rollback()
	var cur int64
	if err := tx.QueryRowContext(ctx, "SELECT status FROM alerts WHERE id = ?", id).Scan(&cur); err != nil {
		if isNoRows(err) {
			return fmt.Errorf("alert %s: %w", id, ErrNotFound)
		}
		return fmt.Errorf("read alert %s: %w", id, err)
	}
	from := ecs.AlertStatus(cur)
	if from == ecs.StatusClosed {
		return fmt.Errorf("alert %s is closed and cannot change to %s", id, status)
	}
	if from == status {
		return fmt.Errorf("alert %s is already %s", id, status)
	}
	now := s.now().UTC().UnixNano()
	if _, err := tx.ExecContext(ctx, "UPDATE alerts SET status = ?, reason = ?, updated_at = ? WHERE id = ?",
		int64(status), reason, now, id); err != nil {
		return fmt.Errorf("update alert %s: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO alert_history (alert_id, at, from_status, to_status, reason, actor) VALUES (?, ?, ?, ?, ?, ?)",
		id, now, int64(from), int64(status), reason, actor); err != nil {
		return fmt.Errorf("record history of alert %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit status change of alert %s: %w", id, err)
	}
	return nil
}

// AlertHistory returns the status changes of an alert, oldest first.
func (s *Store) AlertHistory(ctx context.Context, id string) ([]AlertChange, error) {
	rows, err := s.reader.QueryContext(ctx, "SELECT at, from_status, to_status, reason, actor FROM alert_history WHERE alert_id = ? ORDER BY rid", id)
	if err != nil {
		return nil, fmt.Errorf("read history of alert %s: %w", id, err)
	}
	defer rows.Close()
	var out []AlertChange
	for rows.Next() {
		var at, from, to int64
		var c AlertChange
		if err := rows.Scan(&at, &from, &to, &c.Reason, &c.Actor); err != nil {
			return nil, fmt.Errorf("read history of alert %s: %w", id, err)
		}
		c.At = time.Unix(0, at).UTC()
		c.From, c.To = ecs.AlertStatus(from), ecs.AlertStatus(to)
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeadLetters returns the newest dead letters, at most limit (0 means 100).
func (s *Store) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.reader.QueryContext(ctx, "SELECT ts, source_id, offset, raw, reason FROM dead_letters ORDER BY ts DESC, rid DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	defer rows.Close()
	var out []DeadLetter
	for rows.Next() {
		var d DeadLetter
		var ts int64
		if err := rows.Scan(&ts, &d.SourceID, &d.Offset, &d.Raw, &d.Reason); err != nil {
			return nil, fmt.Errorf("read dead letters: %w", err)
		}
		d.Time = time.Unix(0, ts).UTC()
		out = append(out, d)
	}
	return out, rows.Err()
}

// Retain deletes the events ingested before the UTC day of olderThan,
// dead letters received before olderThan, and closed alerts last changed
// before it with their history and match keys. Open and acknowledged
// alerts stay. Events go by the time of ingest, not of the event, as ILM
// deletes by index age: evidence imported today from an old capture is
// kept as long as today's logs. It returns the number of events deleted.
func (s *Store) Retain(ctx context.Context, olderThan time.Time) (int64, error) {
	cut := olderThan.UnixNano()
	var deleted int64
	boundary, err := s.retainBoundary(ctx, ingestDay(olderThan.UTC()))
	if err != nil {
		return 0, err
	}
	// Small transactions keep readers and the writer moving on big stores.
	const chunk = 5000
	for boundary > 0 {
		tx, err := s.writer.BeginTx(ctx, nil)
		if err != nil {
			return deleted, fmt.Errorf("begin retention: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM events_fts WHERE rowid IN (SELECT rid FROM events WHERE rid < ? ORDER BY rid LIMIT ?)`, boundary, chunk); err != nil {
			tx.Rollback()
			return deleted, fmt.Errorf("delete full-text rows ingested before %s: %w", olderThan, err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE rid IN (SELECT rid FROM events WHERE rid < ? ORDER BY rid LIMIT ?)`, boundary, chunk)
		if err != nil {
			tx.Rollback()
			return deleted, fmt.Errorf("delete events ingested before %s: %w", olderThan, err)
		}
		if err := tx.Commit(); err != nil {
			return deleted, fmt.Errorf("commit retention: %w", err)
		}
		n, _ := res.RowsAffected()
		deleted += n
		if n < chunk {
			break
		}
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return deleted, fmt.Errorf("begin retention: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "DELETE FROM ingest_marks WHERE day < ?", ingestDay(olderThan.UTC())); err != nil {
		return deleted, fmt.Errorf("delete ingest marks before %s: %w", olderThan, err)
	}
	for _, stmt := range []string{
		"DELETE FROM dead_letters WHERE ts < ?",
		"DELETE FROM alert_history WHERE alert_id IN (SELECT id FROM alerts WHERE status = 2 AND updated_at < ?)",
		"DELETE FROM alert_matches WHERE alert_id IN (SELECT id FROM alerts WHERE status = 2 AND updated_at < ?)",
		"DELETE FROM alerts WHERE status = 2 AND updated_at < ?",
	} {
		if _, err := tx.ExecContext(ctx, stmt, cut); err != nil {
			return deleted, fmt.Errorf("retention %q: %w", stmt, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return deleted, fmt.Errorf("commit retention: %w", err)
	}
	s.log.Info("retention done", "path", s.path, "older_than", olderThan, "events_deleted", deleted)
	return deleted, nil
}

// retainBoundary returns the first event row ingested on or after day
// cutDay: rows below it were ingested earlier. It is 0 (delete nothing)
// when no ingest before cutDay is recorded.
func (s *Store) retainBoundary(ctx context.Context, cutDay int64) (int64, error) {
	var older int
	if err := s.writer.QueryRowContext(ctx, "SELECT count(*) FROM ingest_marks WHERE day < ?", cutDay).Scan(&older); err != nil {
		return 0, fmt.Errorf("read ingest marks: %w", err)
	}
	if older == 0 {
		return 0, nil
	}
	var boundary sql.NullInt64
	if err := s.writer.QueryRowContext(ctx, "SELECT MIN(first_rid) FROM ingest_marks WHERE day >= ?", cutDay).Scan(&boundary); err != nil {
		return 0, fmt.Errorf("read ingest marks: %w", err)
	}
	if boundary.Valid {
		return boundary.Int64, nil
	}
	// Everything stored was ingested before the cut.
	var last sql.NullInt64
	if err := s.writer.QueryRowContext(ctx, "SELECT MAX(rid) FROM events").Scan(&last); err != nil {
		return 0, fmt.Errorf("read last event row: %w", err)
	}
	return last.Int64 + 1, nil
}
