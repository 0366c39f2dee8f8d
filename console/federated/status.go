package federated

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/canhgac/canhgac/console"
)

// Windows of the generic status that searchStatus computes.
const (
	// maxSensors bounds the sensors listed per region.
	maxSensors = 100
	// yearBuckets is the histogram interval used to count by split key
	// with few buckets, whatever the events' @timestamp spread.
	yearBuckets = 366 * 24 * time.Hour
)

// RegionStatus returns the status of every configured region, in
// configured order. A region whose store failed is returned with
// Reachable false and the error; RegionStatus itself fails only when ctx
// ends.
//
// A regional store that implements console.RegionStatusReader reports its
// own status (the entries for the region's name, and those without a
// region). For any other store the status is computed with KQL searches:
// then LastIngested is unknown (zero) and sensor health follows the
// counts of events ingested in the last 5 and 15 minutes.
func (s *Store) RegionStatus(ctx context.Context, now time.Time) ([]console.RegionStatus, error) {
	replies := fanOut(ctx, s, s.regions, func(ctx context.Context, r Region) (console.RegionStatus, error) {
		st, err := regionStatus(ctx, r, now)
		if err != nil {
			return console.RegionStatus{}, err
		}
		if r.ConsumerLag != nil {
			lag, err := r.ConsumerLag(ctx)
			if err != nil {
				s.logFailure("read consumer lag", r.Name, err)
			} else {
				st.ConsumerLag = &lag
			}
		}
		return st, nil
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]console.RegionStatus, len(replies))
	for i, r := range replies {
		if r.err != nil {
			s.logFailure("read region status", r.region, r.err)
			out[i] = console.RegionStatus{Region: r.region, Err: r.err.Error(), Sensors: []console.SensorStatus{}}
			continue
		}
		out[i] = r.value
	}
	return out, nil
}

// regionStatus returns the status of one region's store.
func regionStatus(ctx context.Context, r Region, now time.Time) (console.RegionStatus, error) {
	reader, ok := r.Events.(console.RegionStatusReader)
	if !ok {
		return searchStatus(ctx, r.Events, r.Name, now)
	}
	all, err := reader.RegionStatus(ctx, now)
	if err != nil {
		return console.RegionStatus{}, err
	}
	st := console.RegionStatus{Region: r.Name, Reachable: true}
	for _, e := range all {
		if e.Region == r.Name || e.Region == "" {
			st = mergeStatus(st, e)
		}
	}
	if st.Sensors == nil {
		st.Sensors = []console.SensorStatus{}
	}
	return st, nil
}

// mergeStatus adds the counts of b to a and keeps the newest times.
func mergeStatus(a, b console.RegionStatus) console.RegionStatus {
	a.Ingested5m += b.Ingested5m
	a.Ingested15m += b.Ingested15m
	a.LastIngested = latest(a.LastIngested, b.LastIngested)
	a.LastEvent = latest(a.LastEvent, b.LastEvent)
	if b.ConsumerLag != nil {
		a.ConsumerLag = b.ConsumerLag
	}
	a.Sensors = append(a.Sensors, b.Sensors...)
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// ingestedSince is the KQL query for events ingested in [from, to).
func ingestedSince(from, to time.Time) string {
	return fmt.Sprintf(`event.ingested >= %q and event.ingested < %q`,
		from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano))
}

// countBySensor returns the number of events per observer.name that match
// query, over all event times.
func countBySensor(ctx context.Context, events console.EventSearcher, query string) (map[string]int64, error) {
	buckets, err := events.DateHistogram(ctx, yearBuckets, "observer.name", query, time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	for _, b := range buckets {
		counts[b.Key] += int64(b.Count)
	}
	return counts, nil
}

// searchStatus computes a region's status through the EventSearcher
// interface alone: counts with KQL ranges on event.ingested, the newest
// event by a one-event search, sensors by a histogram split by
// observer.name.
func searchStatus(ctx context.Context, events console.EventSearcher, region string, now time.Time) (console.RegionStatus, error) {
	st := console.RegionStatus{Region: region, Reachable: true, Sensors: []console.SensorStatus{}}
	newest, err := events.Search(ctx, console.SearchRequest{Limit: 1})
	if err != nil {
		return st, fmt.Errorf("read newest event: %w", err)
	}
	if len(newest.Events) > 0 {
		st.LastEvent = newest.Events[0].Timestamp
	}
	for _, c := range []struct {
		window time.Duration
		into   *int64
	}{{5 * time.Minute, &st.Ingested5m}, {15 * time.Minute, &st.Ingested15m}} {
		res, err := events.Search(ctx, console.SearchRequest{Query: ingestedSince(now.Add(-c.window), now), Limit: 1})
		if err != nil {
			return st, fmt.Errorf("count events ingested in the last %s: %w", c.window, err)
		}
		*c.into = int64(res.Total)
	}

	seen, err := countBySensor(ctx, events, ingestedSince(now.Add(-console.SensorWindow), now))
	if err != nil {
		return st, fmt.Errorf("list sensors: %w", err)
	}
	last15, err := countBySensor(ctx, events, ingestedSince(now.Add(-console.SensorSilentAfter), now))
	if err != nil {
		return st, fmt.Errorf("count events per sensor: %w", err)
	}
	last5, err := countBySensor(ctx, events, ingestedSince(now.Add(-console.SensorLateAfter), now))
	if err != nil {
		return st, fmt.Errorf("count events per sensor: %w", err)
	}
	names := make([]string, 0, len(seen))
	for name := range seen {
		if name != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if len(names) > maxSensors {
		names = names[:maxSensors]
	}
	for _, name := range names {
		sensor := console.SensorStatus{Name: name, Events15m: last15[name]}
		res, err := events.Search(ctx, console.SearchRequest{Query: fmt.Sprintf("observer.name:%q", name), Limit: 1})
		if err != nil {
			return st, fmt.Errorf("read newest event of sensor %s: %w", name, err)
		}
		if len(res.Events) > 0 {
			sensor.LastEvent = res.Events[0].Timestamp
		}
		switch {
		case last5[name] > 0:
			sensor.Health = console.SensorHealthy
		case last15[name] > 0:
			sensor.Health = console.SensorLate
		default:
			sensor.Health = console.SensorSilent
		}
		st.Sensors = append(st.Sensors, sensor)
	}
	return st, nil
}
