package esstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/canhgac/canhgac/console"
	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline/elastic"
)

// RegionStore serves the console from the events and alerts of one region
// of a cluster that holds several, so that a federated.Store can treat
// the regions of one cluster like regions of clusters of their own. It
// selects events by observer.geo.name and alerts by their region.
//
// NOTE: events stored without observer.geo.name belong to no RegionStore;
// the pipeline sets the field on every event it writes.
type RegionStore struct {
	*Store
	region string
}

// The console's interfaces are implemented; the compiler checks it here.
var (
	_ console.EventSearcher      = (*RegionStore)(nil)
	_ console.AlertStore         = (*RegionStore)(nil)
	_ console.RegionStatusReader = (*RegionStore)(nil)
)

// NewRegion returns the adapter for the region of s's cluster. The caller
// keeps ownership of s and closes it.
func NewRegion(s *elastic.Store, region string) *RegionStore {
	return &RegionStore{Store: New(s), region: region}
}

// Region returns the region the store selects.
func (r *RegionStore) Region() string { return r.region }

// scoped returns query limited to the store's region.
func (r *RegionStore) scoped(query string) string {
	q := "observer.geo.name:" + strconv.Quote(r.region)
	if strings.TrimSpace(query) == "" {
		return q
	}
	return q + " and (" + query + ")"
}

// Search runs a KQL search over the region's events. A syntax error is
// reported for the query as given.
func (r *RegionStore) Search(ctx context.Context, req console.SearchRequest) (console.SearchResult, error) {
	if _, err := parse(req.Query); err != nil {
		return console.SearchResult{}, err
	}
	req.Query = r.scoped(req.Query)
	return r.Store.Search(ctx, req)
}

// Event returns the event with the given id when it belongs to the region.
func (r *RegionStore) Event(ctx context.Context, id string) (*ecs.Event, error) {
	ev, err := r.Store.Event(ctx, id)
	if err != nil {
		return nil, err
	}
	if region, _ := ev.Fields["observer.geo.name"].(string); region != r.region {
		return nil, fmt.Errorf("event %s in region %s: %w", id, r.region, console.ErrNotFound)
	}
	return ev, nil
}

// DateHistogram counts the region's events per interval.
func (r *RegionStore) DateHistogram(ctx context.Context, interval time.Duration, splitField, query string, from, to time.Time) ([]console.Bucket, error) {
	if _, err := parse(query); err != nil {
		return nil, err
	}
	return r.Store.DateHistogram(ctx, interval, splitField, r.scoped(query), from, to)
}

// Alerts lists the region's alerts; a filter on another region matches
// none.
func (r *RegionStore) Alerts(ctx context.Context, f console.AlertFilter) ([]ecs.Alert, int, error) {
	if f.Region != "" && f.Region != r.region {
		return nil, 0, nil
	}
	f.Region = r.region
	return r.Store.Alerts(ctx, f)
}

// Alert returns the alert when it belongs to the region.
func (r *RegionStore) Alert(ctx context.Context, id string) (ecs.Alert, []*ecs.Event, error) {
	a, events, err := r.Store.Alert(ctx, id)
	if err != nil {
		return ecs.Alert{}, nil, err
	}
	if a.Region != r.region {
		return ecs.Alert{}, nil, fmt.Errorf("alert %s in region %s: %w", id, r.region, console.ErrNotFound)
	}
	return a, events, nil
}

// SetAlertStatus changes the alert's status when it belongs to the region.
func (r *RegionStore) SetAlertStatus(ctx context.Context, id string, status ecs.AlertStatus, reason, actor string) error {
	if _, _, err := r.Alert(ctx, id); err != nil {
		return err
	}
	return r.Store.SetAlertStatus(ctx, id, status, reason, actor)
}

// RegionStatus reports the ingest status of the region alone.
func (r *RegionStore) RegionStatus(ctx context.Context, now time.Time) ([]console.RegionStatus, error) {
	return regionStatus(ctx, r.store, now, r.region)
}
