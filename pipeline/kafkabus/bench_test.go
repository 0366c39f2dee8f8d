package kafkabus

import (
	"context"
	"os"
	"testing"
	"time"

	gometrics "github.com/rcrowley/go-metrics"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/internal/cputime"
)

// benchEvents returns real parsed events of three shapes (sshd, Apache
// access, Windows JSON), about 12,000.
func benchEvents(b *testing.B) []*ecs.Event {
	b.Helper()
	var events []*ecs.Event
	for _, path := range []string{sampleLogs[0], sampleLogs[1], sampleLogs[3]} {
		events = append(events, loadEvents(b, path)...)
	}
	return events
}

func BenchmarkEncodeEvent(b *testing.B) {
	events := benchEvents(b)
	var buf []byte
	var bytes int64
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		var err error
		buf, err = EncodeEvent(buf[:0], events[i%len(events)])
		if err != nil {
			b.Fatal(err)
		}
		bytes += int64(len(buf))
	}
	cputime.Report(b, cpu0, "events")
	b.ReportMetric(float64(bytes)/float64(b.N), "bytes/event")
}

func BenchmarkDecodeEvent(b *testing.B) {
	events := benchEvents(b)
	values := make([][]byte, len(events))
	for i, ev := range events {
		v, err := EncodeEvent(nil, ev)
		if err != nil {
			b.Fatal(err)
		}
		values[i] = v
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		if _, err := DecodeEvent(values[i%len(values)]); err != nil {
			b.Fatal(err)
		}
	}
	cputime.Report(b, cpu0, "events")
}

// BenchmarkSpoolAppend measures the spool path of Publish: batches of 1000
// event messages appended and fsynced.
func BenchmarkSpoolAppend(b *testing.B) {
	msgs := eventMessages(b, "bench", benchEvents(b))
	s, err := openSpool(SpoolOptions{Dir: b.TempDir(), MaxBytes: 64 << 30}, testLogger(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	start, cpu0 := time.Now(), cputime.Process()
	for i := 0; i < b.N; i += 1000 {
		from := i % len(msgs)
		if err := s.Append(context.Background(), msgs[from:min(from+1000, len(msgs))]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	cputime.Report(b, cpu0, "events")
}

// BenchmarkPublish publishes real events to a real broker in batches of
// 1000 (each Publish waits for acks=all) with each compression codec.
func BenchmarkPublish(b *testing.B) {
	if os.Getenv("CANHGAC_KAFKA_BROKERS") == "" {
		b.Skip("CANHGAC_KAFKA_BROKERS not set: start scripts/services/kafka and set it")
	}
	opts := Options{Brokers: []string{os.Getenv("CANHGAC_KAFKA_BROKERS")}}
	events := benchEvents(b)
	for _, codec := range []string{"none", "lz4", "zstd", "snappy", "gzip"} {
		b.Run(codec, func(b *testing.B) {
			region := "bench-" + codec
			specs, _ := Topics([]string{region})
			if _, err := EnsureTopics(context.Background(), opts, specs[:1], TopicOptions{Partitions: 3, ReplicationFactor: 1}, nil); err != nil {
				b.Fatal(err)
			}
			msgs := eventMessages(b, region, events)
			p, err := NewProducer(opts, ProducerOptions{Compression: codec, Spool: SpoolOptions{Dir: b.TempDir()}}, nil, testLogger(b))
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			var valueBytes int64
			b.ResetTimer()
			start, cpu0 := time.Now(), cputime.Process()
			for i := 0; i < b.N; i += 1000 {
				from := i % len(msgs)
				batch := msgs[from:min(from+1000, len(msgs), from+b.N-i)]
				if err := p.Publish(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
				for _, m := range batch {
					valueBytes += int64(len(m.Value))
				}
			}
			elapsed := time.Since(start)
			b.StopTimer()
			if _, n := p.SpoolStats(); n != 0 {
				b.Fatalf("%d messages went to the spool with the broker up", n)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			cputime.Report(b, cpu0, "events")
			b.ReportMetric(float64(valueBytes)/float64(b.N), "value_bytes/event")
			if h, ok := p.cfg.MetricRegistry.Get("compression-ratio").(gometrics.Histogram); ok && h.Count() > 0 {
				b.ReportMetric(h.Mean()/100, "compression_ratio")
			}
		})
	}
}
