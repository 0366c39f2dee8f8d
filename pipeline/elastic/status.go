package elastic

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// RegionIngest is the ingest activity of the events of one region
// (observer.geo.name; "" for events without it).
type RegionIngest struct {
	Region string
	// Ingested5m and Ingested15m count events whose event.ingested lies
	// in the 5 and 15 minutes before the status time.
	Ingested5m  int64
	Ingested15m int64
	// LastIngested is the newest event.ingested and LastEvent the newest
	// @timestamp; zero when no event has the field.
	LastIngested time.Time
	LastEvent    time.Time
	// Sensors are the observer.name values of events ingested within the
	// sensor window, at most MaxStatusSensors, by name.
	Sensors []SensorIngest
}

// SensorIngest is the activity of one sensor (observer.name) within the
// sensor window.
type SensorIngest struct {
	Name         string
	LastIngested time.Time
	LastEvent    time.Time
	// Ingested15m counts its events ingested in the 15 minutes before the
	// status time.
	Ingested15m int64
}

// MaxStatusSensors bounds the sensors IngestStatus lists per region.
const MaxStatusSensors = 500

// IngestStatus reads the ingest status of each region with one
// aggregation request over the event data streams. Per region it counts
// the events ingested in the 5 and 15 minutes before now and finds the
// newest event.ingested and @timestamp. It does the same per sensor, for
// the sensors with events ingested within sensorWindow before now. A
// non-empty region limits the request to events of that region.
func (s *Store) IngestStatus(ctx context.Context, now time.Time, region string, sensorWindow time.Duration) ([]RegionIngest, error) {
	since := func(d time.Duration) map[string]any {
		return map[string]any{"range": map[string]any{"event.ingested": timeRange(now.Add(-d), now)}}
	}
	maxOf := func(field string) map[string]any { return map[string]any{"max": map[string]any{"field": field}} }
	query := map[string]any{"match_all": map[string]any{}}
	if region != "" {
		query = map[string]any{"term": map[string]any{"observer.geo.name": region}}
	}
	body := map[string]any{
		"size":  0,
		"query": query,
		"aggs": map[string]any{"region": map[string]any{
			"terms": map[string]any{"field": "observer.geo.name", "size": 100, "missing": ""},
			"aggs": map[string]any{
				"last_ingested": maxOf("event.ingested"),
				"last_event":    maxOf("@timestamp"),
				"ingested_5m":   map[string]any{"filter": since(5 * time.Minute)},
				"ingested_15m":  map[string]any{"filter": since(15 * time.Minute)},
				"recent": map[string]any{
					"filter": since(sensorWindow),
					"aggs": map[string]any{"sensor": map[string]any{
						"terms": map[string]any{"field": "observer.name", "size": MaxStatusSensors, "order": map[string]any{"_key": "asc"}},
						"aggs": map[string]any{
							"last_ingested": maxOf("event.ingested"),
							"last_event":    maxOf("@timestamp"),
							"ingested_15m":  map[string]any{"filter": since(15 * time.Minute)},
						},
					}},
				},
			},
		}},
	}
	r, err := s.search(ctx, eventStreams, body)
	if err != nil {
		return nil, fmt.Errorf("read ingest status: %w", err)
	}
	if len(r.Aggregations) == 0 {
		return nil, nil
	}

	type maxValue struct {
		Value *float64 `json:"value"`
	}
	type count struct {
		DocCount int64 `json:"doc_count"`
	}
	var aggs struct {
		Region struct {
			Buckets []struct {
				Key          string   `json:"key"`
				LastIngested maxValue `json:"last_ingested"`
				LastEvent    maxValue `json:"last_event"`
				Ingested5m   count    `json:"ingested_5m"`
				Ingested15m  count    `json:"ingested_15m"`
				Recent       struct {
					Sensor struct {
						Buckets []struct {
							Key          string   `json:"key"`
							LastIngested maxValue `json:"last_ingested"`
							LastEvent    maxValue `json:"last_event"`
							Ingested15m  count    `json:"ingested_15m"`
						} `json:"buckets"`
					} `json:"sensor"`
				} `json:"recent"`
			} `json:"buckets"`
		} `json:"region"`
	}
	if err := json.Unmarshal(r.Aggregations, &aggs); err != nil {
		return nil, fmt.Errorf("decode ingest status: %w", err)
	}
	millis := func(v maxValue) time.Time {
		if v.Value == nil || math.IsInf(*v.Value, 0) {
			return time.Time{}
		}
		return time.UnixMilli(int64(*v.Value)).UTC()
	}
	out := make([]RegionIngest, 0, len(aggs.Region.Buckets))
	for _, b := range aggs.Region.Buckets {
		ri := RegionIngest{
			Region:       b.Key,
			Ingested5m:   b.Ingested5m.DocCount,
			Ingested15m:  b.Ingested15m.DocCount,
			LastIngested: millis(b.LastIngested),
			LastEvent:    millis(b.LastEvent),
		}
		for _, sb := range b.Recent.Sensor.Buckets {
			ri.Sensors = append(ri.Sensors, SensorIngest{Name: sb.Key, LastIngested: millis(sb.LastIngested),
				LastEvent: millis(sb.LastEvent), Ingested15m: sb.Ingested15m.DocCount})
		}
		out = append(out, ri)
	}
	return out, nil
}
