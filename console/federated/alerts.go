package federated

import (
	"context"
	"fmt"

	"github.com/canhgac/canhgac/console"
	"github.com/canhgac/canhgac/ecs"
)

// alertLimit is the page size of Alerts when the filter sets none.
const alertLimit = 50

// Alerts returns one page of the alerts of all reachable regions, newest
// LastSeen first, and the sum of the regions' totals. With a filter on
// Region, only the region of that name is queried. Failed regions are reported to the
// warnings collector in ctx; when all fail, Alerts returns the first
// error.
func (s *Store) Alerts(ctx context.Context, f console.AlertFilter) ([]ecs.Alert, int, error) {
	selected := s.regions
	if f.Region != "" {
		selected = nil
		for _, r := range s.regions {
			if r.Name == f.Region {
				selected = append(selected, r)
			}
		}
		if len(selected) == 0 {
			return nil, 0, nil
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = alertLimit
	}
	offset := max(f.Offset, 0)
	regionFilter := f
	regionFilter.Offset = 0
	regionFilter.Limit = offset + limit

	type page struct {
		alerts []ecs.Alert
		total  int
	}
	replies := fanOut(ctx, s, selected, func(ctx context.Context, r Region) (page, error) {
		alerts, total, err := r.Alerts.Alerts(ctx, regionFilter)
		return page{alerts, total}, err
	})
	if _, err := failures(ctx, s, "list alerts", replies); err != nil {
		return nil, 0, err
	}
	total := 0
	lists := make([][]ecs.Alert, 0, len(replies))
	for _, r := range replies {
		if r.err != nil {
			continue
		}
		total += r.value.total
		for i := range r.value.alerts {
			if r.value.alerts[i].Region == "" {
				r.value.alerts[i].Region = r.region
			}
		}
		lists = append(lists, r.value.alerts)
	}
	alerts := mergePage(lists, offset, limit, func(a, b ecs.Alert) bool { return a.LastSeen.After(b.LastSeen) })
	return alerts, total, nil
}

// regionAlert is an alert found by id, with its events and region.
type regionAlert struct {
	alert  ecs.Alert
	events []*ecs.Event
	region Region
}

// findAlert requests the alert from every region and returns the first region,
// in configured order, that has it.
func (s *Store) findAlert(ctx context.Context, id string) (regionAlert, error) {
	replies := fanOut(ctx, s, s.regions, func(ctx context.Context, r Region) (regionAlert, error) {
		a, events, err := r.Alerts.Alert(ctx, id)
		return regionAlert{alert: a, events: events, region: r}, err
	})
	for _, r := range replies {
		if r.err == nil {
			return r.value, nil
		}
	}
	return regionAlert{}, notFoundOf(ctx, s, "find alert", "alert "+id, replies)
}

// Alert returns the alert with the given id and its events from the first
// region that has it. When no reachable region has it and another region
// failed, the error wraps console.ErrRegionUnavailable.
func (s *Store) Alert(ctx context.Context, id string) (ecs.Alert, []*ecs.Event, error) {
	found, err := s.findAlert(ctx, id)
	if err != nil {
		return ecs.Alert{}, nil, err
	}
	if found.alert.Region == "" {
		found.alert.Region = found.region.Name
	}
	for _, ev := range found.events {
		markRegion(ev, found.region.Name)
	}
	return found.alert, found.events, nil
}

// SetAlertStatus changes the alert's status in the region that holds it.
func (s *Store) SetAlertStatus(ctx context.Context, id string, status ecs.AlertStatus, reason, actor string) error {
	found, err := s.findAlert(ctx, id)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := found.region.Alerts.SetAlertStatus(ctx, id, status, reason, actor); err != nil {
		return fmt.Errorf("set status of alert %s in region %s: %w", id, found.region.Name, err)
	}
	return nil
}
