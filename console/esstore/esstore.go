// Package esstore adapts the Elasticsearch store (pipeline/elastic) to the
// console's EventSearcher and AlertStore interfaces: it parses KQL text,
// and maps the store's types and errors to the console's. Searches cover
// the events of every region in the cluster; each event carries its
// region in observer.geo.name.
package esstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/canhgac/canhgac/console"
	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline/elastic"
	"github.com/canhgac/canhgac/pipeline/kql"
)

// Store serves the console from an Elasticsearch store. It is safe for
// concurrent use, like the store it wraps.
type Store struct {
	store *elastic.Store
}

// Both interfaces are implemented; the compiler checks it here.
var (
	_ console.EventSearcher = (*Store)(nil)
	_ console.AlertStore    = (*Store)(nil)
)

// New returns the adapter for s. The caller keeps ownership of s and
// closes it.
func New(s *elastic.Store) *Store { return &Store{store: s} }

// parse turns KQL text into a tree. The syntax error keeps its catalog
// key (it renders itself per language) and also wraps
// console.ErrInvalidQuery.
func parse(query string) (kql.Node, error) {
	node, err := kql.Parse(query)
	if err != nil {
		return nil, &queryError{err: err}
	}
	return node, nil
}

// queryError wraps a KQL syntax error for the console.
type queryError struct{ err error }

func (e *queryError) Error() string { return e.err.Error() }

// Unwrap returns both the parser's error and console.ErrInvalidQuery.
func (e *queryError) Unwrap() []error { return []error{e.err, console.ErrInvalidQuery} }

// mapError makes the store's not-found error the console's.
func mapError(err error) error {
	if errors.Is(err, elastic.ErrNotFound) {
		return fmt.Errorf("%w: %w", console.ErrNotFound, err)
	}
	return err
}

// Search runs a KQL search over the events of all regions.
func (s *Store) Search(ctx context.Context, req console.SearchRequest) (console.SearchResult, error) {
	node, err := parse(req.Query)
	if err != nil {
		return console.SearchResult{}, err
	}
	res, err := s.store.Search(ctx, elastic.SearchRequest{Query: node, From: req.From, To: req.To,
		Limit: req.Limit, Offset: req.Offset, Ascending: req.Oldest})
	if err != nil {
		return console.SearchResult{}, err
	}
	return console.SearchResult{Total: res.Total, Events: res.Events}, nil
}

// Event returns the event with the given id.
func (s *Store) Event(ctx context.Context, id string) (*ecs.Event, error) {
	ev, err := s.store.Event(ctx, id)
	return ev, mapError(err)
}

// DateHistogram counts events per interval split by splitField, one
// console.Bucket per interval and split value. Values beyond the
// elastic.MaxSplitTerms most frequent of an interval are summed under
// elastic.OtherKey.
func (s *Store) DateHistogram(ctx context.Context, interval time.Duration, splitField, query string, from, to time.Time) ([]console.Bucket, error) {
	node, err := parse(query)
	if err != nil {
		return nil, err
	}
	buckets, err := s.store.DateHistogram(ctx, interval, splitField, node, from, to)
	if err != nil {
		return nil, err
	}
	var out []console.Bucket
	for _, b := range buckets {
		if b.Split == nil {
			out = append(out, console.Bucket{Start: b.Start, Count: int(b.Count)})
			continue
		}
		for key, n := range b.Split {
			out = append(out, console.Bucket{Start: b.Start, Key: key, Count: int(n)})
		}
	}
	return out, nil
}

// Alerts lists alerts.
func (s *Store) Alerts(ctx context.Context, f console.AlertFilter) ([]ecs.Alert, int, error) {
	ef := elastic.AlertFilter{Level: f.Level, Region: f.Region, RuleID: f.RuleID, From: f.From, To: f.To,
		Limit: f.Limit, Offset: f.Offset}
	if f.Status != "" {
		st, err := ecs.ParseAlertStatus(f.Status)
		if err != nil {
			return nil, 0, err
		}
		ef.Status = &st
	}
	return s.store.Alerts(ctx, ef)
}

// Alert returns one alert with its events.
func (s *Store) Alert(ctx context.Context, id string) (ecs.Alert, []*ecs.Event, error) {
	a, events, err := s.store.Alert(ctx, id)
	return a, events, mapError(err)
}

// SetAlertStatus changes an alert's workflow state and records the
// change in the alert's history.
func (s *Store) SetAlertStatus(ctx context.Context, id string, status ecs.AlertStatus, reason, actor string) error {
	return mapError(s.store.SetAlertStatus(ctx, id, status, reason, actor))
}
