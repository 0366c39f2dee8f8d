package elastic

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/elastic/esquery"
	"github.com/canhgac/canhgac/pipeline/kql"
)

// SearchRequest selects events. Query is a parsed KQL tree; when it is
// nil, QueryText is parsed (empty matches everything). From is inclusive,
// To exclusive; a zero time leaves that side open.
type SearchRequest struct {
	Query     kql.Node
	QueryText string
	From, To  time.Time
	// Limit caps the events returned (0 means 100); Offset skips events.
	// Offset+Limit may not exceed 10000.
	Limit  int
	Offset int
	// Ascending sorts by @timestamp oldest first; the default is newest
	// first. Events of the same time are ordered by event id.
	Ascending bool
}

// SearchResult holds one page of events and the number of all matches.
type SearchResult struct {
	Total  int
	Events []*ecs.Event
}

// eventQuery compiles the KQL query and the time range into one bool
// filter. A KQL syntax error is returned as it is (a *kql.Error).
func eventQuery(q kql.Node, text string, from, to time.Time) (map[string]any, error) {
	if q == nil {
		var err error
		q, err = kql.Parse(text)
		if err != nil {
			return nil, err
		}
	}
	compiled, err := esquery.Compile(q)
	if err != nil {
		return nil, err
	}
	filter := []any{compiled}
	if r := timeRange(from, to); r != nil {
		filter = append(filter, map[string]any{"range": map[string]any{"@timestamp": r}})
	}
	return map[string]any{"bool": map[string]any{"filter": filter}}, nil
}

// Search returns the events of all regions that match the query in the
// time range. Events become visible within the refresh interval (1 s by
// default) of their write.
func (s *Store) Search(ctx context.Context, req SearchRequest) (SearchResult, error) {
	query, err := eventQuery(req.Query, req.QueryText, req.From, req.To)
	if err != nil {
		return SearchResult{}, err
	}

	limit := req.Limit
	if limit <= 0 {
		limit = 100
	}
	offset := max(req.Offset, 0)
	if err := checkWindow(offset, limit); err != nil {
		return SearchResult{}, err
	}
	order := "desc"
	if req.Ascending {
		order = "asc"
	}

	body := map[string]any{
		"query": query,
		"sort": []any{
			map[string]any{"@timestamp": order},
			map[string]any{"event.id": map[string]any{"order": order, "unmapped_type": "keyword"}},
		},
		"from":             offset,
		"size":             limit,
		"track_total_hits": true,
	}
	var res SearchResult
	res.Total, err = s.searchSources(ctx, eventStreams, body, func(raw json.RawMessage) error {
		var ev ecs.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("decode event: %w", err)
		}
		res.Events = append(res.Events, &ev)
		return nil
	})
	if err != nil {
		return SearchResult{}, fmt.Errorf("search events: %w", err)
	}
	return res, nil
}

// Event returns the event with the given id from any event data stream,
// or an error wrapping ErrNotFound.
func (s *Store) Event(ctx context.Context, id string) (*ecs.Event, error) {
	events, err := s.eventsByID(ctx, []string{id})
	if err != nil {
		return nil, fmt.Errorf("find event %s: %w", id, err)
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("event %s: %w", id, ErrNotFound)
	}
	return events[0], nil
}

// eventsByID loads events by id, in the order of ids; missing ids are
// skipped. When a replay after a rollover stored an id twice, the first
// copy found is used.
func (s *Store) eventsByID(ctx context.Context, ids []string) ([]*ecs.Event, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	body := map[string]any{
		"query": map[string]any{"ids": map[string]any{"values": ids}},
		"size":  2 * len(ids),
	}
	byID := make(map[string]*ecs.Event, len(ids))
	_, err := s.searchSources(ctx, eventStreams, body, func(raw json.RawMessage) error {
		var ev ecs.Event
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("decode event: %w", err)
		}
		if _, dup := byID[ev.ID]; !dup {
			byID[ev.ID] = &ev
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*ecs.Event, 0, len(byID))
	for _, id := range ids {
		if ev, ok := byID[id]; ok {
			out = append(out, ev)
		}
	}
	return out, nil
}

// Bucket is one interval of a date histogram.
type Bucket struct {
	Start time.Time
	Count int64
	// Split counts the events of the bucket by the value of the split
	// field. Events without the field count under "". Events whose value
	// is not among the MaxSplitTerms most frequent of the bucket count
	// under OtherKey. Split is nil without a split field.
	Split map[string]int64
}

// MaxSplitTerms is the number of split values a histogram bucket lists
// one by one.
const MaxSplitTerms = 100

// OtherKey is the split key that sums the values beyond MaxSplitTerms.
const OtherKey = "__other__"

// DateHistogram counts matching events per interval, optionally split by
// the value of a field (such as event.dataset). Buckets start at multiples
// of interval since the Unix epoch; empty buckets are left out.
func (s *Store) DateHistogram(ctx context.Context, interval time.Duration, splitField string, query kql.Node, from, to time.Time) ([]Bucket, error) {
	if interval < time.Millisecond || interval%time.Millisecond != 0 {
		return nil, &Error{Key: "elastic.histogram.interval", Args: []any{interval}}
	}
	if splitField != "" && (kql.IsFieldPattern(splitField) || splitField == "@timestamp" || strings.TrimSpace(splitField) != splitField) {
		return nil, &Error{Key: "elastic.field.invalid", Args: []any{splitField}}
	}
	q, err := eventQuery(query, "", from, to)
	if err != nil {
		return nil, err
	}

	hist := map[string]any{
		"field":          "@timestamp",
		"fixed_interval": strconv.FormatInt(interval.Milliseconds(), 10) + "ms",
		"min_doc_count":  1,
	}
	agg := map[string]any{"date_histogram": hist}
	if splitField != "" {
		agg["aggs"] = map[string]any{
			"split":   map[string]any{"terms": map[string]any{"field": splitField, "size": MaxSplitTerms}},
			"missing": map[string]any{"missing": map[string]any{"field": splitField}},
		}
	}

	body := map[string]any{"query": q, "size": 0, "aggs": map[string]any{"hist": agg}}
	r, err := s.search(ctx, eventStreams, body)
	if err != nil {
		return nil, fmt.Errorf("date histogram: %w", err)
	}
	if len(r.Aggregations) == 0 {
		return nil, nil
	}

	var aggs struct {
		Hist struct {
			Buckets []struct {
				Key      int64 `json:"key"`
				DocCount int64 `json:"doc_count"`
				Split    struct {
					Other   int64 `json:"sum_other_doc_count"`
					Buckets []struct {
						Key         any    `json:"key"`
						KeyAsString string `json:"key_as_string"`
						DocCount    int64  `json:"doc_count"`
					} `json:"buckets"`
				} `json:"split"`
				Missing struct {
					DocCount int64 `json:"doc_count"`
				} `json:"missing"`
			} `json:"buckets"`
		} `json:"hist"`
	}
	if err := json.Unmarshal(r.Aggregations, &aggs); err != nil {
		return nil, fmt.Errorf("decode date histogram: %w", err)
	}

	out := make([]Bucket, 0, len(aggs.Hist.Buckets))
	for _, b := range aggs.Hist.Buckets {
		bucket := Bucket{Start: time.UnixMilli(b.Key).UTC(), Count: b.DocCount}
		if splitField != "" {
			bucket.Split = map[string]int64{}
			for _, t := range b.Split.Buckets {
				key := t.KeyAsString
				if key == "" {
					key, _ = ecs.ScalarString(ecs.NormalizeValue(t.Key))
				}
				bucket.Split[key] += t.DocCount
			}
			if b.Missing.DocCount > 0 {
				bucket.Split[""] += b.Missing.DocCount
			}
			if b.Split.Other > 0 {
				bucket.Split[OtherKey] += b.Split.Other
			}
		}
		out = append(out, bucket)
	}
	return out, nil
}

// DeadLetter is a stored dead letter.
type DeadLetter struct {
	pipeline.DeadLetter
	// Stage is "parse" for inputs a sensor could not parse and "index"
	// for events that Elasticsearch rejected. For a rejected event, Raw is
	// the event's JSON document and EventID its id.
	Stage   string
	EventID string
	// Region is the region of the store that wrote it.
	Region string
}

// DeadLetters returns the newest dead letters of all regions, at most
// limit (0 means 100).
func (s *Store) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	if limit <= 0 {
		limit = 100
	}
	if err := checkWindow(0, limit); err != nil {
		return nil, err
	}
	body := map[string]any{
		"query": map[string]any{"match_all": map[string]any{}},
		"sort":  []any{map[string]any{"@timestamp": "desc"}},
		"size":  limit,
	}
	var out []DeadLetter
	_, err := s.searchSources(ctx, deadLetterStreams, body, func(raw json.RawMessage) error {
		var d deadLetterDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			return fmt.Errorf("decode dead letter: %w", err)
		}
		dl := DeadLetter{Stage: d.Canhgac.Stage, EventID: d.Event.ID, Region: d.Observer.Geo.Name}
		dl.Time = parseTime(d.Timestamp)
		dl.SourceID = d.Canhgac.SourceID
		dl.Offset = -1
		if d.Log != nil {
			dl.Offset = d.Log.Offset
		}
		dl.Raw = []byte(d.Event.Original)
		if d.Canhgac.RawBase64 != "" {
			b, err := base64.StdEncoding.DecodeString(d.Canhgac.RawBase64)
			if err != nil {
				return fmt.Errorf("decode raw bytes of dead letter from %s: %w", dl.SourceID, err)
			}
			dl.Raw = b
		}
		dl.Reason = d.Error.Message
		out = append(out, dl)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read dead letters: %w", err)
	}
	return out, nil
}

// StreamCount is the number of events of one dataset in one region.
type StreamCount struct {
	Dataset string
	Region  string
	Events  int64
}

// Stats describes what the store holds.
type Stats struct {
	Events      int64
	Alerts      int64
	DeadLetters int64
	// Streams counts events by event.dataset and observer.geo.name, most
	// events first.
	Streams []StreamCount
}

// Stats counts events per dataset and region, alerts and dead letters.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	body := map[string]any{
		"size":             0,
		"track_total_hits": true,
		"aggs": map[string]any{"dataset": map[string]any{
			"terms": map[string]any{"field": "event.dataset", "size": 1000, "missing": ""},
			"aggs": map[string]any{"region": map[string]any{
				"terms": map[string]any{"field": "observer.geo.name", "size": 100, "missing": ""},
			}},
		}},
	}
	r, err := s.search(ctx, eventStreams, body)
	if err != nil {
		return st, fmt.Errorf("count events: %w", err)
	}
	st.Events = int64(r.Hits.Total.Value)
	if len(r.Aggregations) > 0 {
		var aggs struct {
			Dataset struct {
				Buckets []struct {
					Key    string `json:"key"`
					Region struct {
						Buckets []struct {
							Key      string `json:"key"`
							DocCount int64  `json:"doc_count"`
						} `json:"buckets"`
					} `json:"region"`
				} `json:"buckets"`
			} `json:"dataset"`
		}
		if err := json.Unmarshal(r.Aggregations, &aggs); err != nil {
			return st, fmt.Errorf("decode event counts: %w", err)
		}
		for _, d := range aggs.Dataset.Buckets {
			for _, rg := range d.Region.Buckets {
				st.Streams = append(st.Streams, StreamCount{Dataset: d.Key, Region: rg.Key, Events: rg.DocCount})
			}
		}
	}
	if st.Alerts, err = s.count(ctx, AlertsIndex); err != nil {
		return st, err
	}
	if st.DeadLetters, err = s.count(ctx, deadLetterStreams); err != nil {
		return st, err
	}
	return st, nil
}

// count returns the number of documents in index (a name or pattern).
func (s *Store) count(ctx context.Context, index string) (int64, error) {
	status, body, err := s.do(ctx, http.MethodGet, "/"+index+"/_count?ignore_unavailable=true&allow_no_indices=true", nil)
	if err != nil {
		return 0, err
	}
	if status != http.StatusOK {
		return 0, s.statusError("GET /"+index+"/_count", status, body)
	}
	var r struct {
		Count int64 `json:"count"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return 0, fmt.Errorf("decode count of %s: %w", index, err)
	}
	return r.Count, nil
}

// Refresh makes every write so far visible to searches now instead of
// within the refresh interval. Tests and one-shot imports call it; the
// pipeline does not need it.
func (s *Store) Refresh(ctx context.Context) error {
	path := "/logs-*-*," + AlertsIndex + "," + GroupsIndex + "/_refresh?ignore_unavailable=true&allow_no_indices=true&expand_wildcards=all"
	status, body, err := s.do(ctx, http.MethodPost, path, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return s.statusError("POST "+path, status, body)
	}
	return nil
}
