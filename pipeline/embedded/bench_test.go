package embedded

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/internal/cputime"
	"github.com/canhgac/canhgac/pipeline/kql"
)

// benchGen makes realistic events from the shared real data: each
// generated event is a copy of an sshd, Apache, Windows or Zeek DNS
// fixture with a new id, time, host and addresses. The mix is 40% web
// access, 35% sshd, 20% DNS and 5% Windows.
type benchGen struct {
	ssh, web, win, dns []*ecs.Event
	start              time.Time
	span               time.Duration
	total              int
}

func newBenchGen(b testing.TB, total int) *benchGen {
	return &benchGen{
		ssh: sshEvents(b, 2000), web: accessEvents(b, 2000), win: windowsEvents(b, 400), dns: dnsEvents(b, 40),
		start: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), span: 7 * 24 * time.Hour, total: total,
	}
}

func (g *benchGen) event(n int) *ecs.Event {
	var src []*ecs.Event
	switch k := n % 20; {
	case k < 8:
		src = g.web
	case k < 15:
		src = g.ssh
	case k < 19:
		src = g.dns
	default:
		src = g.win
	}
	e := src[(n/20)%len(src)].Clone()
	e.ID = ecs.PositionID("bench", uint64(n))
	e.Seq = uint64(n + 1)
	e.SourceID = "bench"
	e.Timestamp = g.start.Add(time.Duration(int64(g.span) / int64(g.total) * int64(n)))
	e.Fields["host.name"] = "host-" + strconv.Itoa(n%50)
	if _, ok := e.Fields["source.ip"]; ok {
		e.Fields["source.ip"] = fmt.Sprintf("10.%d.%d.%d", n%7, (n/7)%250, n%251)
	}
	e.Fields["observer.geo.name"] = []string{"dc1", "dc2"}[n%2]
	return e
}

func (g *benchGen) batch(from, size int) []*ecs.Event {
	events := make([]*ecs.Event, size)
	for i := range events {
		events[i] = g.event(from + i)
	}
	return events
}

// BenchmarkWriteBatch measures inserts of batches of 1000 events into a
// store that grows with b.N.
func BenchmarkWriteBatch(b *testing.B) {
	const size = 1000
	g := newBenchGen(b, 10_000_000)
	s := openTestStore(b)
	ctx := context.Background()
	batches := make([][]*ecs.Event, b.N)
	for i := range batches {
		batches[i] = g.batch(i*size, size)
	}
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		if err := s.WriteBatch(ctx, &Batch{Events: batches[i]}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
	// CPU time per event is steadier than wall time on a shared machine.
	b.ReportMetric(float64((cputime.Process()-cpu0).Microseconds())/float64(b.N*size), "cpu-µs/event")
}

var (
	bigOnce  sync.Once
	bigDir   string
	bigStore *Store
	bigGen   *benchGen
	bigErr   error
)

// benchEvents is the size of the query benchmark store; BENCH_EVENTS
// overrides it.
func benchEvents() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

func bigStoreFor(b *testing.B) (*Store, *benchGen) {
	bigOnce.Do(func() {
		n := benchEvents()
		bigDir, bigErr = os.MkdirTemp("", "canhgac-bench-")
		if bigErr != nil {
			return
		}
		bigStore, bigErr = Open(bigDir, Options{Logger: quietLogger()})
		if bigErr != nil {
			return
		}
		bigGen = newBenchGen(b, n)
		start := time.Now()
		for i := 0; i < n; i += 1000 {
			if bigErr = bigStore.WriteBatch(context.Background(), &Batch{Events: bigGen.batch(i, min(1000, n-i))}); bigErr != nil {
				return
			}
		}
		el := time.Since(start)
		st, _ := bigStore.Stats(context.Background())
		fmt.Printf("setup: %d events in %s (%.0f events/s), %d bytes on disk (%.0f bytes/event)\n",
			n, el.Round(time.Millisecond), float64(n)/el.Seconds(), st.DiskBytes, float64(st.DiskBytes)/float64(n))
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return bigStore, bigGen
}

// BenchmarkQuery measures the console's queries on a store of 1 M events
// spread over 7 days (BENCH_EVENTS changes the count).
func BenchmarkQuery(b *testing.B) {
	s, g := bigStoreFor(b)
	ctx := context.Background()
	day := g.start.Add(3 * 24 * time.Hour)
	hour := g.start.Add(50 * time.Hour)
	searches := []struct {
		name     string
		query    string
		from, to time.Time
	}{
		{"time_range_host", "host.name:host-7", hour, hour.Add(time.Hour)},
		{"host_7d", "host.name:host-9 and event.dataset:system.auth", time.Time{}, time.Time{}},
		{"cidr_day", "source.ip:10.3.0.0/16", day, day.Add(24 * time.Hour)},
		{"json_field_day", "http.response.status_code >= 400", day, day.Add(24 * time.Hour)},
		{"fts_phrase_7d", `message:"failed password"`, time.Time{}, time.Time{}},
		{"fts_phrase_day", `message:"failed password"`, day, day.Add(24 * time.Hour)},
		{"free_text_day", "root", day, day.Add(24 * time.Hour)},
		{"wildcard_field_day", "winlog.event_data.*:wardog", day, day.Add(24 * time.Hour)},
	}
	for _, q := range searches {
		node := kql.MustParse(q.query)
		b.Run("search_"+q.name, func(b *testing.B) {
			total := 0
			for i := 0; i < b.N; i++ {
				res, err := s.Search(ctx, SearchRequest{Query: node, From: q.from, To: q.to, Limit: 100})
				if err != nil {
					b.Fatal(err)
				}
				total = res.Total
			}
			b.ReportMetric(float64(total), "hits")
		})
	}
	b.Run("top10_source_ip_day", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.TopTerms(ctx, "source.ip", nil, day, day.Add(24*time.Hour), 10); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("top10_user_7d", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.TopTerms(ctx, "user.name", nil, time.Time{}, time.Time{}, 10); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("top10_status_day", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.TopTerms(ctx, "http.response.status_code", nil, day, day.Add(24*time.Hour), 10); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("histogram_1h_by_dataset_7d", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.DateHistogram(ctx, time.Hour, "event.dataset", nil, time.Time{}, time.Time{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("histogram_1m_day", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := s.DateHistogram(ctx, time.Minute, "", nil, day, day.Add(24*time.Hour)); err != nil {
				b.Fatal(err)
			}
		}
		// The peak covers the whole process: generating and inserting the
		// events and every query before this one.
		b.ReportMetric(peakRSSMiB(), "peakRSS-MiB")
	})
}

// peakRSSMiB reads VmHWM, the peak resident set size of this process.
func peakRSSMiB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// TestMain removes the query benchmark's store after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	if bigStore != nil {
		bigStore.Close()
	}
	if bigDir != "" {
		os.RemoveAll(bigDir)
	}
	os.Exit(code)
}
