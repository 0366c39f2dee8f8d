package elastic

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/internal/itest"
	"github.com/canhgac/canhgac/sensors/logparse"
)

const dataDir = "../../../shared/data/logs/"

// The node keeps data between runs and its data streams cannot be
// deleted (the data stream API is missing on the test node), so every
// test writes to a region of its own.
var regionSeq atomic.Int64

func uniqueRegion() string {
	return fmt.Sprintf("t%d_%d", time.Now().UnixNano()%1e9, regionSeq.Add(1))
}

// newTestStore connects to the node from CANHGAC_ES_URL with a new region.
func newTestStore(t testing.TB, mod func(*Options)) (*Store, *prometheus.Registry) {
	t.Helper()
	url := itest.ElasticURL(t)
	reg := prometheus.NewRegistry()
	opts := Options{URLs: []string{url}, Region: uniqueRegion(), Registerer: reg}
	if mod != nil {
		mod(&opts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := New(ctx, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, reg
}

// parseFile parses up to max lines of a shared log file with logparse and
// returns the events, stamped with region, and the dead letters.
func parseFile(t testing.TB, rel string, format logparse.Format, max int, region string) ([]*ecs.Event, int) {
	t.Helper()
	path := dataDir + rel
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open test data: %v", err)
	}
	defer f.Close()
	dec, err := logparse.NewDecoder(format, logparse.Options{Location: time.UTC, Reference: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	source := "file:" + path
	var events []*ecs.Event
	failed := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var offset int64
	var seq uint64
	for n := 0; sc.Scan() && n < max; n++ {
		line := sc.Bytes()
		dec.Decode(logparse.Line{Data: line, Offset: offset, SourceID: source, Path: path}, func(r logparse.Record) {
			if r.Err != nil {
				failed++
				return
			}
			seq++
			r.Fields["observer.geo.name"] = region
			events = append(events, &ecs.Event{
				ID:        ecs.PositionID(source, uint64(r.Offset)),
				Timestamp: r.Timestamp,
				SourceID:  source,
				Seq:       seq,
				Fields:    r.Fields,
			})
		})
		offset += int64(len(line)) + 1
	}
	if len(events) == 0 {
		t.Fatalf("no events parsed from %s", rel)
	}
	return events, failed
}

// counterValue reads one series of a counter vector from reg.
func counterValue(t testing.TB, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// regionCount counts the stored events of a region.
func regionCount(t testing.TB, s *Store, region string) int64 {
	t.Helper()
	n, err := s.count(context.Background(), "logs-*-"+region+",-"+deadLetterStreams)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func refresh(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
