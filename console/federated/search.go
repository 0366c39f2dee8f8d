package federated

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/canhgac/canhgac/console"
	"github.com/canhgac/canhgac/ecs"
)

// defaultLimit is the page size when a request sets none, as in the
// regional stores.
const defaultLimit = 100

// Search returns one page of the events of all reachable regions, merged
// by @timestamp. Total is the sum of the regions' totals. Regions that
// failed are named in Warnings; when all fail, Search returns the first
// error. An invalid query is returned as the regions report it.
//
// NOTE: each region is asked for offset+limit events, so a deep page
// costs every region the events before it.
func (s *Store) Search(ctx context.Context, req console.SearchRequest) (console.SearchResult, error) {
	limit := req.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	offset := max(req.Offset, 0)
	regionReq := req
	regionReq.Offset = 0
	regionReq.Limit = offset + limit

	replies := fanOut(ctx, s, s.regions, func(ctx context.Context, r Region) (console.SearchResult, error) {
		return r.Events.Search(ctx, regionReq)
	})
	warnings, err := failures(ctx, s, "search events", replies)
	if err != nil {
		return console.SearchResult{}, err
	}

	var res console.SearchResult
	res.Warnings = warnings
	lists := make([][]*ecs.Event, 0, len(replies))
	for _, r := range replies {
		if r.err != nil {
			continue
		}
		res.Total += r.value.Total
		for _, ev := range r.value.Events {
			markRegion(ev, r.region)
		}
		lists = append(lists, r.value.Events)
	}
	res.Events = mergePage(lists, offset, limit, func(a, b *ecs.Event) bool {
		if req.Oldest {
			return a.Timestamp.Before(b.Timestamp)
		}
		return a.Timestamp.After(b.Timestamp)
	})
	return res, nil
}

// markRegion sets observer.geo.name on an event that lacks it. Regional
// stores return freshly decoded events, so changing them is safe.
func markRegion(ev *ecs.Event, region string) {
	if ev == nil {
		return
	}
	if v, _ := ev.Fields["observer.geo.name"].(string); v != "" {
		return
	}
	if ev.Fields == nil {
		ev.Fields = ecs.Fields{}
	}
	ev.Fields["observer.geo.name"] = region
}

// mergePage merges lists, each already sorted so that before(a, b) holds
// for no later a, and returns the merged items offset to offset+limit.
// Equal items keep the order of their lists, so a page is the same on
// every call.
func mergePage[T any](lists [][]T, offset, limit int, before func(a, b T) bool) []T {
	heads := make([]int, len(lists))
	out := make([]T, 0, limit)
	for n := 0; n < offset+limit; n++ {
		best := -1
		for i, l := range lists {
			if heads[i] >= len(l) {
				continue
			}
			if best < 0 || before(l[heads[i]], lists[best][heads[best]]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		if n >= offset {
			out = append(out, lists[best][heads[best]])
		}
		heads[best]++
	}
	return out
}

// Event returns the event with the given id from the first region, in
// configured order, that has it. When no reachable region has it and
// another region failed, the error wraps console.ErrRegionUnavailable
// instead of console.ErrNotFound.
func (s *Store) Event(ctx context.Context, id string) (*ecs.Event, error) {
	replies := fanOut(ctx, s, s.regions, func(ctx context.Context, r Region) (*ecs.Event, error) {
		return r.Events.Event(ctx, id)
	})
	for _, r := range replies {
		if r.err == nil && r.value != nil {
			markRegion(r.value, r.region)
			return r.value, nil
		}
	}
	return nil, notFoundOf(ctx, s, "find event", "event "+id, replies)
}

// notFoundOf returns the error of a lookup by id that found nothing. It is
// console.ErrNotFound when every region replied, else an error wrapping
// console.ErrRegionUnavailable that names the first failed region.
func notFoundOf[T any](ctx context.Context, s *Store, op, thing string, replies []reply[T]) error {
	var down []console.RegionWarning
	for _, r := range replies {
		if r.err == nil || errors.Is(r.err, console.ErrNotFound) {
			continue
		}
		if ctx.Err() != nil {
			return r.err
		}
		down = append(down, console.RegionWarning{Region: r.region, Err: r.err.Error()})
		console.AddWarning(ctx, r.region, r.err)
		s.logFailure(op, r.region, r.err)
	}
	if len(down) == 0 {
		return fmt.Errorf("%s: %w", thing, console.ErrNotFound)
	}
	return fmt.Errorf("%s not found in the reachable regions; region %s failed: %s: %w",
		thing, down[0].Region, down[0].Err, console.ErrRegionUnavailable)
}

// DateHistogram sums the regions' buckets of the same start and split
// key. Failed regions are reported to the warnings collector in ctx.
func (s *Store) DateHistogram(ctx context.Context, interval time.Duration, splitField, query string, from, to time.Time) ([]console.Bucket, error) {
	replies := fanOut(ctx, s, s.regions, func(ctx context.Context, r Region) ([]console.Bucket, error) {
		return r.Events.DateHistogram(ctx, interval, splitField, query, from, to)
	})
	if _, err := failures(ctx, s, "date histogram", replies); err != nil {
		return nil, err
	}
	type bucketKey struct {
		start int64
		key   string
	}
	sums := map[bucketKey]int{}
	for _, r := range replies {
		for _, b := range r.value {
			sums[bucketKey{b.Start.UnixNano(), b.Key}] += b.Count
		}
	}
	out := make([]console.Bucket, 0, len(sums))
	for k, n := range sums {
		out = append(out, console.Bucket{Start: time.Unix(0, k.start).UTC(), Key: k.key, Count: n})
	}
	slices.SortFunc(out, func(a, b console.Bucket) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
	return out, nil
}
