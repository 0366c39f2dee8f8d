package federated

import (
	"bufio"
	"context"
	"os"
	"testing"
	"time"

	"github.com/canhgac/canhgac/console/embedstore"
	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/embedded"
	"github.com/canhgac/canhgac/sensors/logparse"
)

// opensshLog is loghub's OpenSSH sample: real sshd lines of one host.
const opensshLog = "../../../shared/data/logs/linux/loghub/OpenSSH/OpenSSH_2k.log"

// statusNow is the status time of the tests; events are ingested shortly
// before it.
var statusNow = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

// parseSSH parses the first n lines of the OpenSSH sample with the log
// sensor's parser. Even lines go to dc1 and odd lines to dc2, so the two
// regions' event times interleave and share seconds.
func parseSSH(t testing.TB, n int) map[string][]*ecs.Event {
	t.Helper()
	f, err := os.Open(opensshLog)
	if err != nil {
		t.Fatalf("open sample log: %v", err)
	}
	defer f.Close()
	dec, err := logparse.NewDecoder(logparse.FormatSyslog, logparse.Options{
		Location: time.UTC, Reference: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}

	out := map[string][]*ecs.Event{}
	var offset int64
	lineNo := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() && lineNo < n {
		data := sc.Bytes()
		line := logparse.Line{Data: data, Offset: offset, SourceID: opensshLog, Path: opensshLog}
		offset += int64(len(data)) + 1
		region, sensor := "dc1", "sensor-dc1-a"
		if lineNo%2 == 1 {
			region, sensor = "dc2", "sensor-dc2-a"
		}
		lineNo++
		dec.Decode(line, func(r logparse.Record) {
			if r.Err != nil {
				t.Fatalf("parse line at offset %d: %v", r.Offset, r.Err)
			}
			r.Fields["observer.geo.name"] = region
			r.Fields["observer.name"] = sensor
			r.Fields["event.ingested"] = statusNow.Add(-2 * time.Minute).Format(time.RFC3339Nano)
			out[region] = append(out[region], &ecs.Event{
				ID:        ecs.PositionID(opensshLog, uint64(r.Offset)),
				SourceID:  opensshLog,
				Seq:       uint64(lineNo),
				Timestamp: r.Timestamp,
				Fields:    r.Fields,
			})
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read sample log: %v", err)
	}
	return out
}

// openEmbedded opens an embedded store in a temp dir and writes w to it.
func openEmbedded(t testing.TB, w *pipeline.Write) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(t.TempDir(), embedded.Options{Now: func() time.Time { return statusNow }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.WriteBatch(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	return s
}

// detectionOf is a detection of the first event of events whose
// event.outcome is failure.
func detectionOf(t testing.TB, region string, events []*ecs.Event) pipeline.Detection {
	t.Helper()
	for _, ev := range events {
		if ev.Fields["event.outcome"] == "failure" {
			ip, _ := ev.Fields["source.ip"].(string)
			return pipeline.Detection{RuleID: "ssh-failure", RuleName: "SSH authentication failure", Level: "medium",
				Time: ev.Timestamp, GroupKey: region + "|ssh-failure|" + ip, EventIDs: []string{ev.ID}, Region: region}
		}
	}
	t.Fatalf("no failed login among the %d events of %s", len(events), region)
	return pipeline.Detection{}
}

// fixture is two regional embedded stores, the federation over them and
// one store that holds the events of both.
type fixture struct {
	events   map[string][]*ecs.Event
	regional map[string]*embedded.Store
	fed      *Store
	combined *embedstore.Store
}

func newFixture(t testing.TB, lines int) *fixture {
	t.Helper()
	events := parseSSH(t, lines)
	fx := &fixture{events: events, regional: map[string]*embedded.Store{}}
	var regions []Region
	var all pipeline.Write
	for _, name := range []string{"dc1", "dc2"} {
		det := detectionOf(t, name, events[name])
		w := &pipeline.Write{Events: events[name], Detections: []pipeline.Detection{det}}
		fx.regional[name] = openEmbedded(t, w)
		adapter := embedstore.New(fx.regional[name])
		regions = append(regions, Region{Name: name, Events: adapter, Alerts: adapter})
		all.Events = append(all.Events, w.Events...)
		all.Detections = append(all.Detections, det)
	}
	fed, err := New(regions, Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	fx.fed = fed
	fx.combined = embedstore.New(openEmbedded(t, &all))
	return fx
}
