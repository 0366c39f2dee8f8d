package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

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

// AlertChange is one entry of an alert's status history.
type AlertChange struct {
	At       time.Time
	From, To ecs.AlertStatus
	Reason   string
	Actor    string
}

// Alerts returns alerts matching the filter, most recently seen first,
// and the number of all matching alerts. Alerts become visible to it
// within the index refresh interval (1 s by default) of their write.
func (s *Store) Alerts(ctx context.Context, f AlertFilter) ([]ecs.Alert, int, error) {
	var filter []any
	term := func(field, value string) {
		filter = append(filter, map[string]any{"term": map[string]any{field: value}})
	}
	if f.Level != "" {
		term("rule.level", f.Level)
	}
	if f.Status != nil {
		term("status", f.Status.String())
	}
	if f.Region != "" {
		term("region", f.Region)
	}
	if f.RuleID != "" {
		term("rule.id", f.RuleID)
	}
	if r := timeRange(f.From, f.To); r != nil {
		filter = append(filter, map[string]any{"range": map[string]any{"last_seen": r}})
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	offset := max(f.Offset, 0)
	if err := checkWindow(offset, limit); err != nil {
		return nil, 0, err
	}
	body := map[string]any{
		"query":            map[string]any{"bool": map[string]any{"filter": filter}},
		"sort":             []any{map[string]any{"last_seen": "desc"}, map[string]any{"id": "asc"}},
		"from":             offset,
		"size":             limit,
		"track_total_hits": true,
		"_source":          map[string]any{"excludes": []string{"match_keys", "history"}},
	}
	var docs []alertDoc
	total, err := s.searchSources(ctx, AlertsIndex, body, func(raw json.RawMessage) error {
		var a alertDoc
		if err := json.Unmarshal(raw, &a); err != nil {
			return fmt.Errorf("decode alert: %w", err)
		}
		docs = append(docs, a)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list alerts: %w", err)
	}
	out := make([]ecs.Alert, len(docs))
	for i := range docs {
		out[i] = docs[i].toAlert()
	}
	return out, total, nil
}

// Alert returns one alert and its stored matching events. Events removed
// by retention are left out.
func (s *Store) Alert(ctx context.Context, id string) (ecs.Alert, []*ecs.Event, error) {
	var a alertDoc
	_, found, err := s.getDoc(ctx, AlertsIndex, id, &a)
	if err != nil {
		return ecs.Alert{}, nil, fmt.Errorf("read alert %s: %w", id, err)
	}
	if !found {
		return ecs.Alert{}, nil, fmt.Errorf("alert %s: %w", id, ErrNotFound)
	}
	events, err := s.eventsByID(ctx, a.EventIDs)
	if err != nil {
		return ecs.Alert{}, nil, fmt.Errorf("read events of alert %s: %w", id, err)
	}
	return a.toAlert(), events, nil
}

// AlertHistory returns the status changes of an alert, oldest first.
func (s *Store) AlertHistory(ctx context.Context, id string) ([]AlertChange, error) {
	var a alertDoc
	_, found, err := s.getDoc(ctx, AlertsIndex, id, &a)
	if err != nil {
		return nil, fmt.Errorf("read alert %s: %w", id, err)
	}
	if !found {
		return nil, fmt.Errorf("alert %s: %w", id, ErrNotFound)
	}
	out := make([]AlertChange, 0, len(a.History))
	for _, h := range a.History {
		from, _ := ecs.ParseAlertStatus(h.From)
		to, _ := ecs.ParseAlertStatus(h.To)
		out = append(out, AlertChange{At: parseTime(h.At), From: from, To: to, Reason: h.Reason, Actor: h.Actor})
	}
	return out, nil
}

// SetAlertStatus moves an alert to status (acknowledged or closed, or
// back to open from acknowledged) and appends who did it, why and when to
// its history. Closing needs a reason. A closed alert stays closed: a new
// match opens a new alert. Validation errors are *Error values; an
// unknown id wraps ErrNotFound.
func (s *Store) SetAlertStatus(ctx context.Context, id string, status ecs.AlertStatus, reason, actor string) error {
	if status > ecs.StatusClosed || status < ecs.StatusOpen {
		return &Error{Key: "elastic.alert.status_invalid", Args: []any{int(status)}}
	}
	if status == ecs.StatusClosed && reason == "" {
		return &Error{Key: "elastic.alert.reason_missing", Args: []any{id}}
	}
	if actor == "" {
		return &Error{Key: "elastic.alert.actor_missing", Args: []any{id}}
	}
	for attempt := 1; ; attempt++ {
		var a alertDoc
		v, found, err := s.getDoc(ctx, AlertsIndex, id, &a)
		if err != nil {
			return fmt.Errorf("read alert %s: %w", id, err)
		}
		if !found {
			return fmt.Errorf("alert %s: %w", id, ErrNotFound)
		}
		from, err := ecs.ParseAlertStatus(a.Status)
		if err != nil {
			return fmt.Errorf("alert %s: %w", id, err)
		}
		if from == ecs.StatusClosed {
			return &Error{Key: "elastic.alert.closed", Args: []any{id, status.String()}}
		}
		if from == status {
			return &Error{Key: "elastic.alert.same", Args: []any{id, status.String()}}
		}
		now := formatTime(s.now())
		a.Status = status.String()
		a.Reason = reason
		a.UpdatedAt = now
		a.History = append(a.History, historyEntry{At: now, From: from.String(), To: status.String(), Reason: reason, Actor: actor})
		err = s.putDoc(ctx, AlertsIndex, id, &a, false, &v)
		if err == nil {
			s.log.Info("alert status changed", "alert", id, "from", from.String(), "to", status.String(), "actor", actor)
			return nil
		}
		if !errors.Is(err, errConflict) {
			return fmt.Errorf("update alert %s: %w", id, err)
		}
		if attempt == maxFoldAttempts {
			return fmt.Errorf("update alert %s: changed concurrently %d times", id, attempt)
		}
	}
}

// checkWindow rejects pages beyond index.max_result_window (10000 by
// default), which Elasticsearch would refuse with a less helpful error.
func checkWindow(offset, limit int) error {
	if offset+limit > maxResultWindow {
		return &Error{Key: "elastic.search.window", Args: []any{offset, limit, maxResultWindow}}
	}
	return nil
}

// maxResultWindow is Elasticsearch's default index.max_result_window.
const maxResultWindow = 10000

// timeRange returns a range condition for [from, to), or nil when both
// are zero.
func timeRange(from, to time.Time) map[string]any {
	if from.IsZero() && to.IsZero() {
		return nil
	}
	r := map[string]any{"format": "strict_date_optional_time_nanos"}
	if !from.IsZero() {
		r["gte"] = formatTime(from)
	}
	if !to.IsZero() {
		r["lt"] = formatTime(to)
	}
	return r
}

// searchSources runs a search and calls fn with each hit's _source, in
// order. It returns the total number of hits.
func (s *Store) searchSources(ctx context.Context, index string, body map[string]any, fn func(json.RawMessage) error) (int, error) {
	r, err := s.search(ctx, index, body)
	if err != nil {
		return 0, err
	}
	for _, h := range r.Hits.Hits {
		if err := fn(h.Source); err != nil {
			return 0, err
		}
	}
	return r.Hits.Total.Value, nil
}

// searchResponse is the part of a search response the store reads.
type searchResponse struct {
	Hits struct {
		Total struct {
			Value int `json:"value"`
		} `json:"total"`
		Hits []struct {
			ID     string          `json:"_id"`
			Index  string          `json:"_index"`
			Source json.RawMessage `json:"_source"`
		} `json:"hits"`
	} `json:"hits"`
	Aggregations json.RawMessage `json:"aggregations"`
}

// search runs a search on index (a name or pattern). A pattern that
// matches nothing yields no hits, not an error.
func (s *Store) search(ctx context.Context, index string, body map[string]any) (*searchResponse, error) {
	path := "/" + index + "/_search?ignore_unavailable=true&allow_no_indices=true"
	status, resp, err := s.doJSON(ctx, http.MethodPost, path, body)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, s.statusError("POST /"+index+"/_search", status, resp)
	}
	var r searchResponse
	if err := json.Unmarshal(resp, &r); err != nil {
		return nil, fmt.Errorf("decode search response of %s: %w", index, err)
	}
	return &r, nil
}
