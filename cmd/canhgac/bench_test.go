package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/internal/cputime"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/embedded"
	"github.com/canhgac/canhgac/sensors/filesource"
	"github.com/canhgac/canhgac/sensors/logparse"
)

// benchEvents parses real logs of several kinds once, for the end-to-end
// benchmark to copy under new ids.
func benchEvents(b *testing.B) []*ecs.Event {
	b.Helper()
	var events []*ecs.Event
	for _, path := range []string{
		sharedData + "/logs/linux/loghub/OpenSSH/OpenSSH_2k.log",
		sharedData + "/logs/web/elastic-examples/apache_access_combined.log",
		sharedData + "/logs/web/loghub/Apache/Apache_2k.log",
		sharedData + "/logs/auditd/go-libaudit/audit-rhel7.log",
	} {
		_, _, err := filesource.Read(context.Background(), path, filesource.Options{Format: logparse.FormatAuto},
			func(batch *pipeline.Batch) error {
				events = append(events, batch.Events...)
				return nil
			})
		if err != nil {
			b.Fatal(err)
		}
	}
	return events
}

// BenchmarkEndToEnd measures events per second from parsed events through
// the pipeline — normalize, the bundled detection rules, the embedded store
// with fsync per write — as `canhgac run` runs them. Each iteration is one
// event.
func BenchmarkEndToEnd(b *testing.B) {
	sample := benchEvents(b)
	c := &cli{lang: "en", stdout: io.Discard, stderr: io.Discard}
	rs, err := loadRules(c, nil, "", false)
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := embedded.Open(filepath.Join(b.TempDir(), "store"), embedded.Options{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	pipe := pipeline.New(store, newDetector(rs, liveEngineOptions(log)), pipeline.Options{Region: "dc1", Sensor: "bench", Logger: log})
	done := make(chan error, 1)
	cpuBefore := cputime.Process()
	b.ResetTimer()
	start := time.Now()
	go func() { done <- pipe.Run(context.Background()) }()
	const batchSize = 1024
	for sent := 0; sent < b.N; sent += batchSize {
		batch := &pipeline.Batch{SourceID: "bench"}
		for i := sent; i < min(sent+batchSize, b.N); i++ {
			ev := sample[i%len(sample)].Clone()
			ev.ID = ecs.PositionID("bench", uint64(i))
			ev.Seq = uint64(i + 1)
			batch.Events = append(batch.Events, ev)
		}
		if err := pipe.Submit(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	pipe.Close()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	cpu := cputime.Process() - cpuBefore
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
	b.ReportMetric(cputime.PeakRSSMiB(), "peak-RSS-MiB")
}
