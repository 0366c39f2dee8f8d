package elastic

import (
	"context"
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/kql"
	"github.com/canhgac/canhgac/sensors/logparse"
)

// searchFixture stores sshd and Apache events of one region and returns
// them sorted oldest first (ties by id, as Search orders them).
func searchFixture(t *testing.T) (*Store, []*ecs.Event) {
	t.Helper()
	s, _ := newTestStore(t, nil)
	region := s.Region()
	ssh, _ := parseFile(t, "linux/loghub/OpenSSH/OpenSSH_2k.log", logparse.FormatSyslog, 200, region)
	web, _ := parseFile(t, "web/elastic-examples/apache_access_combined.log", logparse.FormatAccess, 200, region)
	events := append(ssh, web...)
	if err := s.WriteBatch(context.Background(), &pipeline.Write{Events: events}); err != nil {
		t.Fatal(err)
	}
	refresh(t, s)
	sort.SliceStable(events, func(i, j int) bool {
		if !events[i].Timestamp.Equal(events[j].Timestamp) {
			return events[i].Timestamp.Before(events[j].Timestamp)
		}
		return events[i].ID < events[j].ID
	})
	return s, events
}

func regionQuery(region string) kql.Node {
	return &kql.Is{Field: "observer.geo.name", Value: kql.Value{Text: region, Quoted: true}}
}

func ids(events []*ecs.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.ID
	}
	return out
}

func TestSearchPagesSortsAndBoundsTime(t *testing.T) {
	s, events := searchFixture(t)
	q := regionQuery(s.Region())
	ctx := context.Background()
	mid := events[len(events)/2].Timestamp
	var inRange []*ecs.Event
	for _, e := range events {
		if !e.Timestamp.Before(mid) {
			inRange = append(inRange, e)
		}
	}
	newest := slices.Clone(events)
	slices.Reverse(newest)
	tests := []struct {
		name string
		req  SearchRequest
		want []*ecs.Event
		all  int
	}{
		{"oldest first page", SearchRequest{Query: q, Limit: 25, Ascending: true}, events[:25], len(events)},
		{"oldest first second page", SearchRequest{Query: q, Limit: 25, Offset: 25, Ascending: true}, events[25:50], len(events)},
		{"newest first", SearchRequest{Query: q, Limit: 30}, newest[:30], len(events)},
		{"from inclusive", SearchRequest{Query: q, From: mid, Limit: 1000, Ascending: true}, inRange, len(inRange)},
		{"to exclusive", SearchRequest{Query: q, To: mid, Limit: 1000, Ascending: true}, events[:len(events)-len(inRange)], len(events) - len(inRange)},
		{"empty range", SearchRequest{Query: q, From: mid, To: mid}, nil, 0},
		{"past the end", SearchRequest{Query: q, Offset: len(events), Limit: 10}, nil, len(events)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := s.Search(ctx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Total != tt.all {
				t.Errorf("Total = %d, want %d", res.Total, tt.all)
			}
			if got, want := ids(res.Events), ids(tt.want); !slices.Equal(got, want) {
				t.Errorf("ids\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestSearchRejectsDeepPageAndBadQuery(t *testing.T) {
	s, _ := newTestStore(t, nil)
	ctx := context.Background()
	_, err := s.Search(ctx, SearchRequest{Offset: 9990, Limit: 20})
	var e *Error
	if !errors.As(err, &e) || e.Key != "elastic.search.window" {
		t.Errorf("deep page: %v, want elastic.search.window", err)
	}
	_, err = s.Search(ctx, SearchRequest{QueryText: "user.name:(admin"})
	var ke *kql.Error
	if !errors.As(err, &ke) {
		t.Errorf("bad query: %v, want *kql.Error", err)
	}
}

func TestEventNotFound(t *testing.T) {
	s, _ := newTestStore(t, nil)
	if _, err := s.Event(context.Background(), "no-such-event"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Event = %v, want ErrNotFound", err)
	}
}

func TestDateHistogramSplitsByDataset(t *testing.T) {
	s, events := searchFixture(t)
	ctx := context.Background()
	interval := time.Hour
	want := map[time.Time]map[string]int64{}
	for _, e := range events {
		start := e.Timestamp.Truncate(interval).UTC()
		if want[start] == nil {
			want[start] = map[string]int64{}
		}
		ds, _ := e.Fields["event.dataset"].(string)
		want[start][ds]++
	}
	buckets, err := s.DateHistogram(ctx, interval, "event.dataset", regionQuery(s.Region()), time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(buckets) != len(want) {
		t.Fatalf("%d buckets, want %d", len(buckets), len(want))
	}
	var total int64
	for _, b := range buckets {
		w := want[b.Start]
		if w == nil {
			t.Errorf("unexpected bucket %s", b.Start)
			continue
		}
		for k, n := range w {
			if b.Split[k] != n {
				t.Errorf("bucket %s split %q = %d, want %d", b.Start, k, b.Split[k], n)
			}
		}
		total += b.Count
	}
	if total != int64(len(events)) {
		t.Errorf("histogram counts %d events, want %d", total, len(events))
	}
	if _, err := s.DateHistogram(ctx, 500*time.Microsecond, "", nil, time.Time{}, time.Time{}); err == nil {
		t.Error("sub-millisecond interval accepted")
	}
	if _, err := s.DateHistogram(ctx, time.Hour, "user.*", nil, time.Time{}, time.Time{}); err == nil {
		t.Error("field pattern accepted as split field")
	}
}

func TestStatsCountsPerDatasetAndRegion(t *testing.T) {
	s, events := searchFixture(t)
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for _, e := range events {
		ds, _ := e.Fields["event.dataset"].(string)
		want[ds]++
	}
	got := map[string]int64{}
	for _, c := range st.Streams {
		if c.Region == s.Region() {
			got[c.Dataset] = c.Events
		}
	}
	for ds, n := range want {
		if got[ds] != n {
			t.Errorf("dataset %s: %d events, want %d", ds, got[ds], n)
		}
	}
	if st.Events < int64(len(events)) {
		t.Errorf("Events = %d, want at least %d", st.Events, len(events))
	}
}
