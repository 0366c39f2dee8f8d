package federated

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/canhgac/canhgac/console"
	"github.com/canhgac/canhgac/console/embedstore"
	"github.com/canhgac/canhgac/pipeline"
)

// TestRegionStatusFromSearch computes the status of two embedded stores,
// which have no status method of their own: dc1's sensor sent its events
// 2 minutes ago, dc2's first sensor 10 minutes ago and its second one 3
// hours ago.
func TestRegionStatusFromSearch(t *testing.T) {
	events := parseSSH(t, 200)
	dc2 := events["dc2"]
	half := len(dc2) / 2
	for i, ev := range dc2 {
		if i < half {
			ev.Fields["event.ingested"] = statusNow.Add(-10 * time.Minute).Format(time.RFC3339Nano)
			continue
		}
		ev.Fields["observer.name"] = "sensor-dc2-b"
		ev.Fields["event.ingested"] = statusNow.Add(-3 * time.Hour).Format(time.RFC3339Nano)
	}
	var regions []Region
	for _, name := range []string{"dc1", "dc2"} {
		s := embedstore.New(openEmbedded(t, &pipeline.Write{Events: events[name]}))
		regions = append(regions, Region{Name: name, Events: s, Alerts: s})
	}
	lag := int64(42)
	regions[0].ConsumerLag = func(context.Context) (int64, error) { return lag, nil }
	regions[1].ConsumerLag = func(context.Context) (int64, error) { return 0, errors.New("no lag metric") }
	fed, err := New(regions, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := fed.RegionStatus(context.Background(), statusNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Region != "dc1" || got[1].Region != "dc2" {
		t.Fatalf("regions %+v, want dc1 and dc2", got)
	}

	dc1 := got[0]
	n1 := int64(len(events["dc1"]))
	if !dc1.Reachable || dc1.Ingested5m != n1 || dc1.Ingested15m != n1 {
		t.Errorf("dc1: reachable %v, ingested %d/%d, want %d/%d", dc1.Reachable, dc1.Ingested5m, dc1.Ingested15m, n1, n1)
	}
	if dc1.ConsumerLag == nil || *dc1.ConsumerLag != lag {
		t.Errorf("dc1 consumer lag %v, want %d", dc1.ConsumerLag, lag)
	}
	if len(dc1.Sensors) != 1 || dc1.Sensors[0].Health != console.SensorHealthy || dc1.Sensors[0].Events15m != n1 {
		t.Errorf("dc1 sensors %+v", dc1.Sensors)
	}
	if newest := events["dc1"][len(events["dc1"])-1].Timestamp; !dc1.LastEvent.Equal(newest) {
		t.Errorf("dc1 last event %v, want %v", dc1.LastEvent, newest)
	}

	dc2st := got[1]
	if dc2st.Ingested5m != 0 || dc2st.Ingested15m != int64(half) || dc2st.ConsumerLag != nil {
		t.Errorf("dc2: ingested %d/%d lag %v, want 0/%d and no lag", dc2st.Ingested5m, dc2st.Ingested15m, dc2st.ConsumerLag, half)
	}
	want := map[string]console.SensorHealth{"sensor-dc2-a": console.SensorLate, "sensor-dc2-b": console.SensorSilent}
	if len(dc2st.Sensors) != len(want) {
		t.Fatalf("dc2 sensors %+v", dc2st.Sensors)
	}
	for _, s := range dc2st.Sensors {
		if s.Health != want[s.Name] || s.LastEvent.IsZero() {
			t.Errorf("sensor %s: %s, last event %v; want %s", s.Name, s.Health, s.LastEvent, want[s.Name])
		}
	}
}

func TestRegionStatusUnreachable(t *testing.T) {
	fx := newFixture(t, 20)
	if err := fx.regional["dc1"].Close(); err != nil {
		t.Fatal(err)
	}
	got, err := fx.fed.RegionStatus(context.Background(), statusNow)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Reachable || got[0].Err == "" || !got[1].Reachable {
		t.Errorf("status with dc1 closed: %+v", got)
	}
}

func TestSensorHealthAt(t *testing.T) {
	tests := []struct {
		age  time.Duration
		want console.SensorHealth
	}{
		{0, console.SensorHealthy},
		{console.SensorLateAfter, console.SensorHealthy},
		{console.SensorLateAfter + time.Second, console.SensorLate},
		{console.SensorSilentAfter, console.SensorLate},
		{console.SensorSilentAfter + time.Second, console.SensorSilent},
	}
	for _, tt := range tests {
		if got := console.SensorHealthAt(statusNow.Add(-tt.age), statusNow); got != tt.want {
			t.Errorf("age %s: %s, want %s", tt.age, got, tt.want)
		}
	}
	if got := console.SensorHealthAt(time.Time{}, statusNow); got != console.SensorSilent {
		t.Errorf("never seen: %s, want silent", got)
	}
	if console.SensorLate.String() != "late" || console.SensorHealth(7).String() != "SensorHealth(7)" {
		t.Errorf("names: %s %s", console.SensorLate, console.SensorHealth(7))
	}
}
