package esstore

import (
	"context"
	"time"

	"github.com/canhgac/canhgac/console"
	"github.com/canhgac/canhgac/pipeline/elastic"
)

var _ console.RegionStatusReader = (*Store)(nil)

// RegionStatus reports the ingest status of every region whose events the
// cluster holds, from one aggregation request (elastic.Store.IngestStatus).
// Sensor health follows the age of each sensor's newest event.ingested.
func (s *Store) RegionStatus(ctx context.Context, now time.Time) ([]console.RegionStatus, error) {
	return regionStatus(ctx, s.store, now, "")
}

func regionStatus(ctx context.Context, store *elastic.Store, now time.Time, region string) ([]console.RegionStatus, error) {
	ingest, err := store.IngestStatus(ctx, now, region, console.SensorWindow)
	if err != nil {
		return nil, err
	}
	out := make([]console.RegionStatus, 0, len(ingest))
	for _, ri := range ingest {
		st := console.RegionStatus{
			Region:       ri.Region,
			Reachable:    true,
			Ingested5m:   ri.Ingested5m,
			Ingested15m:  ri.Ingested15m,
			LastIngested: ri.LastIngested,
			LastEvent:    ri.LastEvent,
			Sensors:      make([]console.SensorStatus, 0, len(ri.Sensors)),
		}
		for _, si := range ri.Sensors {
			st.Sensors = append(st.Sensors, console.SensorStatus{
				Name:         si.Name,
				LastEvent:    si.LastEvent,
				LastIngested: si.LastIngested,
				Events15m:    si.Ingested15m,
				Health:       console.SensorHealthAt(si.LastIngested, now),
			})
		}
		out = append(out, st)
	}
	return out, nil
}
