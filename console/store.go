package console

import (
	"context"
	"errors"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// SearchRequest selects events by a KQL query and an event-time range.
type SearchRequest struct {
	// Query is KQL; empty matches every event.
	Query string
	// From and To bound @timestamp, From inclusive and To exclusive. A zero
	// value leaves that side open.
	From, To time.Time
	// Limit is the page size and Offset the number of events to skip.
	Limit, Offset int
	// Oldest sorts by @timestamp ascending; the default is newest first.
	Oldest bool
}

// SearchResult is one page of matching events with the total match count.
type SearchResult struct {
	Total  int
	Events []*ecs.Event
	// Warnings name the regions left out of the result because their
	// store failed; empty for a single store.
	Warnings []RegionWarning
}

// Bucket is the number of events in one interval of a date histogram,
// split by the value of one field (Key is "" when the field is missing).
type Bucket struct {
	Start time.Time
	Key   string
	Count int
}

// AlertFilter selects alerts. Empty strings and zero times match anything.
type AlertFilter struct {
	Level  string
	Status string
	Region string
	RuleID string
	// From and To bound the alert's LastSeen, From inclusive, To exclusive.
	From, To      time.Time
	Limit, Offset int
}

// EventSearcher is the console's read access to stored events.
type EventSearcher interface {
	// Search returns one page of events matching req. An invalid KQL query
	// yields an error wrapping ErrInvalidQuery.
	Search(ctx context.Context, req SearchRequest) (SearchResult, error)
	// Event returns the event with the given id, or an error wrapping
	// ErrNotFound.
	Event(ctx context.Context, id string) (*ecs.Event, error)
	// DateHistogram counts events matching query per interval between from
	// and to, split by splitField.
	DateHistogram(ctx context.Context, interval time.Duration, splitField, query string, from, to time.Time) ([]Bucket, error)
}

// AlertStore is the console's access to alerts and their workflow state.
type AlertStore interface {
	// Alerts returns one page of alerts matching f, newest LastSeen first,
	// and the total number of matches.
	Alerts(ctx context.Context, f AlertFilter) ([]ecs.Alert, int, error)
	// Alert returns one alert and its matching events, or an error
	// wrapping ErrNotFound.
	Alert(ctx context.Context, id string) (ecs.Alert, []*ecs.Event, error)
	// SetAlertStatus moves an alert to status, recording reason and the
	// acting user.
	SetAlertStatus(ctx context.Context, id string, status ecs.AlertStatus, reason, actor string) error
}

// ErrNotFound is wrapped by store errors for a missing event or alert.
var ErrNotFound = errors.New("not found")

// ErrInvalidQuery is wrapped by store errors for a KQL query that does not
// parse. The wrapping error's text describes the problem.
var ErrInvalidQuery = errors.New("invalid KQL query")
