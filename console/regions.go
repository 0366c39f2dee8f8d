package console

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// RegionWarning names a region whose store failed or timed out, so that a
// result covers the other regions only.
type RegionWarning struct {
	Region string `json:"region"`
	// Err is the store's error text, for the operator.
	Err string `json:"error"`
}

// ErrRegionUnavailable is wrapped by the errors of a store over several
// regions when every region failed. It is also wrapped when a lookup by id
// (Event, Alert, SetAlertStatus) found nothing in the reachable regions
// while another region could not be queried. The API then returns 503,
// not 404, because the event or alert may exist in the unreachable region.
var ErrRegionUnavailable = errors.New("region unavailable")

// Warnings collects region warnings of the store calls made with one
// context. A store that searches several regions adds a warning for each
// region it left out, because the return values of Alerts and
// DateHistogram have no room for them. It is safe for concurrent use.
type Warnings struct {
	mu   sync.Mutex
	list []RegionWarning
}

type warningsKey struct{}

// WithWarnings returns a context that collects region warnings into the
// returned Warnings.
func WithWarnings(ctx context.Context) (context.Context, *Warnings) {
	w := &Warnings{}
	return context.WithValue(ctx, warningsKey{}, w), w
}

// AddWarning records that region was left out of a result because of err.
// It does nothing when ctx has no collector (see WithWarnings). A region
// is recorded once per collector, with its first error.
func AddWarning(ctx context.Context, region string, err error) {
	w, ok := ctx.Value(warningsKey{}).(*Warnings)
	if !ok || err == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, have := range w.list {
		if have.Region == region {
			return
		}
	}
	w.list = append(w.list, RegionWarning{Region: region, Err: err.Error()})
}

// List returns the collected warnings in the order they were added.
func (w *Warnings) List() []RegionWarning {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]RegionWarning(nil), w.list...)
}

// SensorHealth is the state of a sensor, judged by the age of the newest
// event it sent.
type SensorHealth int

// Sensor health states, from the age of the sensor's newest event:
// healthy up to SensorLateAfter, late up to SensorSilentAfter, silent
// beyond.
const (
	SensorHealthy SensorHealth = iota
	SensorLate
	SensorSilent
)

// Thresholds of the sensor health states, and SensorWindow, how far back
// by event.ingested a region status lists sensors: a sensor silent for
// longer drops out of the list.
const (
	SensorLateAfter   = 5 * time.Minute
	SensorSilentAfter = 15 * time.Minute
	SensorWindow      = 24 * time.Hour
)

var sensorHealthNames = [...]string{"healthy", "late", "silent"}

// String returns the state's name as the API sends it.
func (h SensorHealth) String() string {
	if h >= 0 && int(h) < len(sensorHealthNames) {
		return sensorHealthNames[h]
	}
	return fmt.Sprintf("SensorHealth(%d)", int(h))
}

// MarshalText encodes the state by name.
func (h SensorHealth) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// SensorHealthAt returns the health of a sensor whose newest event was
// seen at lastSeen. A zero lastSeen is silent.
func SensorHealthAt(lastSeen, now time.Time) SensorHealth {
	age := now.Sub(lastSeen)
	switch {
	case lastSeen.IsZero() || age > SensorSilentAfter:
		return SensorSilent
	case age > SensorLateAfter:
		return SensorLate
	}
	return SensorHealthy
}

// SensorStatus is the activity of one sensor (observer.name) in a region.
type SensorStatus struct {
	Name string `json:"name"`
	// LastEvent is the newest @timestamp of the sensor's events.
	LastEvent time.Time `json:"last_event"`
	// LastIngested is the newest event.ingested of its events, zero when
	// the store cannot tell.
	LastIngested time.Time `json:"last_ingested"`
	// Events15m counts its events ingested in the 15 minutes before the
	// status time.
	Events15m int64        `json:"events_15m"`
	Health    SensorHealth `json:"health"`
}

// RegionStatus is the ingest status of one region's store.
type RegionStatus struct {
	Region string `json:"region"`
	// Reachable is false when the store failed or timed out. Then Err is
	// the store's error and the counts are zero.
	Reachable bool   `json:"reachable"`
	Err       string `json:"error,omitempty"`
	// Ingested5m and Ingested15m count events whose event.ingested lies in
	// the 5 and 15 minutes before the status time.
	Ingested5m  int64 `json:"ingested_5m"`
	Ingested15m int64 `json:"ingested_15m"`
	// LastIngested is the newest event.ingested in the store, zero when
	// the store cannot tell or holds no events.
	LastIngested time.Time `json:"last_ingested"`
	// LastEvent is the newest @timestamp in the store.
	LastEvent time.Time `json:"last_event"`
	// ConsumerLag is the number of bus messages of the region that the
	// pipeline has not consumed yet, nil when no source reports it.
	ConsumerLag *int64 `json:"consumer_lag"`
	// Sensors lists the sensors seen in the store's sensor window, by name.
	Sensors []SensorStatus `json:"sensors"`
}

// RegionStatusReader reports the ingest status of the regions whose
// events a store holds, one RegionStatus per region, as of now.
type RegionStatusReader interface {
	RegionStatus(ctx context.Context, now time.Time) ([]RegionStatus, error)
}
