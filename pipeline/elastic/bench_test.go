package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/esutil"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/internal/cputime"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/elastic/esquery"
	"github.com/canhgac/canhgac/sensors/logparse"
)

// benchBatch is the pipeline's default largest write (MaxWriteEvents).
const benchBatch = 4096

// benchEvents parses sshd and Apache lines of the shared data once and
// returns a function that copies them under new ids for round n.
func benchEvents(b testing.TB, region string) func(n int) []*ecs.Event {
	ssh, _ := parseFile(b, "linux/loghub/OpenSSH/OpenSSH_2k.log", logparse.FormatSyslog, 2000, region)
	web, _ := parseFile(b, "web/elastic-examples/apache_access_combined.log", logparse.FormatAccess, 3000, region)
	base := append(ssh, web...)
	return func(n int) []*ecs.Event {
		out := make([]*ecs.Event, benchBatch)
		for i := range out {
			c := base[i%len(base)].Clone()
			c.ID = ecs.PositionID(fmt.Sprintf("bench:%s:%d", region, n), uint64(i))
			out[i] = c
		}
		return out
	}
}

// BenchmarkWriteBatch writes batches of 4096 new events with WriteBatch,
// split into one and into two concurrent _bulk requests, and reports
// events per second.
func BenchmarkWriteBatch(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) { benchWriteBatch(b, workers) })
	}
}

func benchWriteBatch(b *testing.B, workers int) {
	s, _ := newTestStore(b, func(o *Options) { o.BulkWorkers = workers })
	next := benchEvents(b, s.Region())
	ctx := context.Background()
	batches := make([][]*ecs.Event, b.N)
	for i := range batches {
		batches[i] = next(i)
	}
	cpu0 := cputime.Process()
	node0 := nodeCPU(b, s)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := s.WriteBatch(ctx, &pipeline.Write{Events: batches[i]}); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N*benchBatch)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/float64(b.N*benchBatch), "client-cpu-µs/event")
	b.ReportMetric(float64((nodeCPU(b, s)-node0).Microseconds())/float64(b.N*benchBatch), "node-cpu-µs/event")
}

// nodeCPU returns the CPU time the Elasticsearch nodes of the store's
// cluster have used so far, from the nodes stats API, so that the
// benchmarks also measure a node on another machine.
func nodeCPU(b *testing.B, s *Store) time.Duration {
	b.Helper()
	res, err := s.es.Nodes.Stats(s.es.Nodes.Stats.WithMetric("process"))
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var stats struct {
		Nodes map[string]struct {
			Process struct {
				CPU struct {
					TotalInMillis int64 `json:"total_in_millis"`
				} `json:"cpu"`
			} `json:"process"`
		} `json:"nodes"`
	}
	if err := json.NewDecoder(res.Body).Decode(&stats); err != nil {
		b.Fatalf("decode nodes stats: %v", err)
	}
	var total time.Duration
	for _, n := range stats.Nodes {
		total += time.Duration(n.Process.CPU.TotalInMillis) * time.Millisecond
	}
	return total
}

// BenchmarkBulkIndexer writes the same batches through esutil.BulkIndexer
// (two workers, 8 MiB flushes), closing it after each batch because
// WriteBatch must know every item's result before it returns.
func BenchmarkBulkIndexer(b *testing.B) {
	s, _ := newTestStore(b, nil)
	next := benchEvents(b, s.Region())
	ctx := context.Background()
	batches := make([][]*ecs.Event, b.N)
	for i := range batches {
		batches[i] = next(i)
	}
	cpu0 := cputime.Process()
	b.ResetTimer()
	start := time.Now()
	var failed atomic.Int64
	for i := 0; i < b.N; i++ {
		bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: s.es, NumWorkers: 2, FlushBytes: 8 << 20})
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		for _, ev := range batches[i] {
			buf.Reset()
			if err := new(esquery.Encoder).Append(&buf, ev); err != nil {
				b.Fatal(err)
			}
			err := bi.Add(ctx, esutil.BulkIndexerItem{
				Action: "create", Index: s.streamOf(ev), DocumentID: ev.ID,
				Body: strings.NewReader(buf.String()),
				OnFailure: func(context.Context, esutil.BulkIndexerItem, esutil.BulkIndexerResponseItem, error) {
					failed.Add(1)
				},
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		if err := bi.Close(ctx); err != nil {
			b.Fatal(err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d items failed", n)
	}
	b.ReportMetric(float64(b.N*benchBatch)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/float64(b.N*benchBatch), "client-cpu-µs/event")
}
