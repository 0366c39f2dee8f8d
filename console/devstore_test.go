package console

// TODO: replace devStore with the embedded store (pipeline/embedded) once
// it is committed; it exists only so the console can be developed first.

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/kql"
)

type devStore struct {
	mu     sync.Mutex
	events map[string]*ecs.Event
	alerts map[string]*ecs.Alert
}

func newDevStore() *devStore {
	return &devStore{events: map[string]*ecs.Event{}, alerts: map[string]*ecs.Alert{}}
}

func (s *devStore) WriteBatch(ctx context.Context, w *pipeline.Write) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ev := range w.Events {
		s.events[ev.ID] = ev
	}
	for _, d := range w.Detections {
		id := ecs.AlertID(d.GroupKey, d.Time)
		s.alerts[id] = &ecs.Alert{ID: id, GroupKey: d.GroupKey, RuleID: d.RuleID, RuleName: d.RuleName, Level: d.Level,
			Region: d.Region, FirstSeen: d.Time, LastSeen: d.Time, Count: len(d.EventIDs), EventIDs: d.EventIDs,
			Tags: d.Tags, Fields: d.Fields, UpdatedAt: time.Now()}
	}
	return nil
}

func (s *devStore) Search(ctx context.Context, req SearchRequest) (SearchResult, error) {
	node, err := kql.Parse(req.Query)
	if err != nil {
		return SearchResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*ecs.Event
	for _, ev := range s.events {
		if (!req.From.IsZero() && ev.Timestamp.Before(req.From)) || (!req.To.IsZero() && !ev.Timestamp.Before(req.To)) {
			continue
		}
		if kql.Match(node, ev) {
			out = append(out, ev)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Timestamp.After(out[j].Timestamp) })
	total := len(out)
	out = out[min(req.Offset, len(out)):]
	out = out[:min(req.Limit, len(out))]
	return SearchResult{Total: total, Events: out}, nil
}

func (s *devStore) Event(ctx context.Context, id string) (*ecs.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev, ok := s.events[id]
	if !ok {
		return nil, fmt.Errorf("event %s: %w", id, ErrNotFound)
	}
	return ev, nil
}

func (s *devStore) DateHistogram(ctx context.Context, interval time.Duration, splitField, query string, from, to time.Time) ([]Bucket, error) {
	res, err := s.Search(ctx, SearchRequest{Query: query, From: from, To: to, Limit: 1 << 30})
	if err != nil {
		return nil, err
	}
	counts := map[[2]string]int{}
	var keys [][2]string
	for _, ev := range res.Events {
		k, _ := ev.Fields.String(splitField)
		key := [2]string{ev.Timestamp.Truncate(interval).Format(time.RFC3339), k}
		if counts[key] == 0 {
			keys = append(keys, key)
		}
		counts[key]++
	}
	var out []Bucket
	for _, k := range keys {
		start, _ := time.Parse(time.RFC3339, k[0])
		out = append(out, Bucket{Start: start, Key: k[1], Count: counts[k]})
	}
	return out, nil
}

func (s *devStore) Alerts(ctx context.Context, f AlertFilter) ([]ecs.Alert, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ecs.Alert
	for _, a := range s.alerts {
		if (f.Level != "" && a.Level != f.Level) || (f.Status != "" && a.Status.String() != f.Status) ||
			(f.Region != "" && a.Region != f.Region) || (f.RuleID != "" && a.RuleID != f.RuleID) ||
			(!f.From.IsZero() && a.LastSeen.Before(f.From)) || (!f.To.IsZero() && !a.LastSeen.Before(f.To)) {
			continue
		}
		out = append(out, *a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LastSeen.After(out[j].LastSeen) })
	total := len(out)
	out = out[min(f.Offset, len(out)):]
	out = out[:min(f.Limit, len(out))]
	return out, total, nil
}

func (s *devStore) Alert(ctx context.Context, id string) (ecs.Alert, []*ecs.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.alerts[id]
	if !ok {
		return ecs.Alert{}, nil, fmt.Errorf("alert %s: %w", id, ErrNotFound)
	}
	var evs []*ecs.Event
	for _, eid := range a.EventIDs {
		if ev, ok := s.events[eid]; ok {
			evs = append(evs, ev)
		}
	}
	return *a, evs, nil
}

func (s *devStore) SetAlertStatus(ctx context.Context, id string, status ecs.AlertStatus, reason, actor string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.alerts[id]
	if !ok {
		return fmt.Errorf("alert %s: %w", id, ErrNotFound)
	}
	a.Status, a.Reason = status, reason
	return nil
}
