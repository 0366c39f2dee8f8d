package federated

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/canhgac/canhgac/console"
	"github.com/canhgac/canhgac/console/embedstore"
	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
)

// TestSearchPagingMatchesOneStore pages through the federation and
// through one store holding both regions' events. Events of the same
// second may come in another order, so each page is compared by its
// timestamps and the pages together by their ids.
func TestSearchPagingMatchesOneStore(t *testing.T) {
	fx := newFixture(t, 600)
	ctx := context.Background()
	tests := []struct {
		query  string
		limit  int
		oldest bool
	}{
		{"", 7, false},
		{"", 50, true},
		{"event.outcome:failure", 13, false},
		{"event.action:invalid_user or source.ip:173.234.31.186", 5, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q/%d/oldest=%v", tt.query, tt.limit, tt.oldest), func(t *testing.T) {
			seen := map[string]bool{}
			var wantIDs []string
			for offset := 0; ; offset += tt.limit {
				req := console.SearchRequest{Query: tt.query, Limit: tt.limit, Offset: offset, Oldest: tt.oldest}
				got, err := fx.fed.Search(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				want, err := fx.combined.Search(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if got.Total != want.Total {
					t.Fatalf("offset %d: total %d, want %d", offset, got.Total, want.Total)
				}
				if len(got.Warnings) != 0 {
					t.Errorf("offset %d: warnings %v with both regions up", offset, got.Warnings)
				}
				if fmt.Sprint(timestamps(got.Events)) != fmt.Sprint(timestamps(want.Events)) {
					t.Fatalf("offset %d: timestamps\n%v\nwant\n%v", offset, timestamps(got.Events), timestamps(want.Events))
				}
				for _, ev := range got.Events {
					if seen[ev.ID] {
						t.Errorf("offset %d: event %s repeated from an earlier page", offset, ev.ID)
					}
					seen[ev.ID] = true
					if ev.Fields["observer.geo.name"] == "" {
						t.Errorf("event %s has no region", ev.ID)
					}
				}
				for _, ev := range want.Events {
					wantIDs = append(wantIDs, ev.ID)
				}
				if len(want.Events) < tt.limit {
					break
				}
			}
			if len(seen) != len(wantIDs) || len(seen) == 0 {
				t.Errorf("pages hold %d events, want %d (> 0)", len(seen), len(wantIDs))
			}
			for _, id := range wantIDs {
				if !seen[id] {
					t.Errorf("event %s missing from the pages", id)
				}
			}
		})
	}
}

func timestamps(events []*ecs.Event) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = ev.Timestamp.Format(time.RFC3339)
	}
	return out
}

// TestSearchMarksMissingRegion checks that an event stored without
// observer.geo.name gets the name of the region that returned it.
func TestSearchMarksMissingRegion(t *testing.T) {
	events := parseSSH(t, 10)["dc2"]
	for _, ev := range events {
		delete(ev.Fields, "observer.geo.name")
	}
	store := embedstore.New(openEmbedded(t, &pipeline.Write{Events: events}))
	fed, err := New([]Region{{Name: "dc2", Events: store, Alerts: store}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := fed.Search(context.Background(), console.SearchRequest{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != len(events) {
		t.Fatalf("%d events, want %d", len(res.Events), len(events))
	}
	for _, ev := range res.Events {
		if ev.Fields["observer.geo.name"] != "dc2" {
			t.Errorf("event %s: observer.geo.name %v, want dc2", ev.ID, ev.Fields["observer.geo.name"])
		}
	}
	ev, err := fed.Event(context.Background(), events[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Fields["observer.geo.name"] != "dc2" {
		t.Errorf("Event: observer.geo.name %v, want dc2", ev.Fields["observer.geo.name"])
	}
}

func TestDateHistogramMatchesOneStore(t *testing.T) {
	fx := newFixture(t, 400)
	ctx := context.Background()
	for _, split := range []string{"", "event.action", "observer.geo.name"} {
		got, err := fx.fed.DateHistogram(ctx, time.Hour, split, "", time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		want, err := fx.combined.DateHistogram(ctx, time.Hour, split, "", time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(bucketMap(got)) != fmt.Sprint(bucketMap(want)) {
			t.Errorf("split %q: buckets\n%v\nwant\n%v", split, bucketMap(got), bucketMap(want))
		}
	}
}

func bucketMap(buckets []console.Bucket) map[string]int {
	out := map[string]int{}
	for _, b := range buckets {
		out[b.Start.Format(time.RFC3339)+" "+b.Key] += b.Count
	}
	return out
}

func TestAlertsMergeAndFilterByRegion(t *testing.T) {
	fx := newFixture(t, 200)
	ctx := context.Background()
	alerts, total, err := fx.fed.Alerts(ctx, console.AlertFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 || len(alerts) != 2 {
		t.Fatalf("%d alerts (total %d), want 2", len(alerts), total)
	}
	if alerts[0].LastSeen.Before(alerts[1].LastSeen) {
		t.Errorf("alerts not newest first: %v then %v", alerts[0].LastSeen, alerts[1].LastSeen)
	}

	page, total, err := fx.fed.Alerts(ctx, console.AlertFilter{Limit: 1, Offset: 1})
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 || len(page) != 1 || page[0].ID != alerts[1].ID {
		t.Errorf("second page: %v (total %d), want alert %s", page, total, alerts[1].ID)
	}

	only, total, err := fx.fed.Alerts(ctx, console.AlertFilter{Region: "dc2"})
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || len(only) != 1 || only[0].Region != "dc2" {
		t.Errorf("region dc2 filter: %v (total %d)", only, total)
	}
	none, total, err := fx.fed.Alerts(ctx, console.AlertFilter{Region: "dc9"})
	if err != nil || total != 0 || len(none) != 0 {
		t.Errorf("unknown region filter: %v %d %v", none, total, err)
	}
}

func TestSetAlertStatusRoutesToRegion(t *testing.T) {
	fx := newFixture(t, 200)
	ctx := context.Background()
	regional := map[string]string{}
	for name, s := range fx.regional {
		alerts, _, err := embedstore.New(s).Alerts(ctx, console.AlertFilter{})
		if err != nil || len(alerts) != 1 {
			t.Fatalf("alerts of %s: %v %v", name, alerts, err)
		}
		regional[name] = alerts[0].ID
	}

	if err := fx.fed.SetAlertStatus(ctx, regional["dc2"], ecs.StatusClosed, "scanner on the known list", "lan.analyst"); err != nil {
		t.Fatal(err)
	}
	dc2, _, err := fx.regional["dc2"].Alert(ctx, regional["dc2"])
	if err != nil {
		t.Fatal(err)
	}
	if dc2.Status != ecs.StatusClosed || dc2.Reason != "scanner on the known list" {
		t.Errorf("dc2 alert after close: %s %q", dc2.Status, dc2.Reason)
	}
	dc1, _, err := fx.regional["dc1"].Alert(ctx, regional["dc1"])
	if err != nil {
		t.Fatal(err)
	}
	if dc1.Status != ecs.StatusOpen {
		t.Errorf("dc1 alert changed to %s", dc1.Status)
	}

	a, events, err := fx.fed.Alert(ctx, regional["dc2"])
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != ecs.StatusClosed || len(events) != 1 || events[0].Fields["observer.geo.name"] != "dc2" {
		t.Errorf("Alert through the federation: %s, events %v", a.Status, events)
	}
	if err := fx.fed.SetAlertStatus(ctx, "missing", ecs.StatusClosed, "x", "y"); !errors.Is(err, console.ErrNotFound) {
		t.Errorf("missing alert: %v, want ErrNotFound", err)
	}
}

// TestRegionDownDegrades closes dc2's store. Results then come from dc1
// with a warning naming dc2, and a lookup by id that misses returns
// ErrRegionUnavailable instead of ErrNotFound.
func TestRegionDownDegrades(t *testing.T) {
	fx := newFixture(t, 300)
	if err := fx.regional["dc2"].Close(); err != nil {
		t.Fatal(err)
	}
	ctx, warnings := console.WithWarnings(context.Background())

	res, err := fx.fed.Search(ctx, console.SearchRequest{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != len(fx.events["dc1"]) || len(res.Events) != len(fx.events["dc1"]) {
		t.Errorf("total %d, %d events; want dc1's %d", res.Total, len(res.Events), len(fx.events["dc1"]))
	}
	for _, ev := range res.Events {
		if ev.Fields["observer.geo.name"] != "dc1" {
			t.Errorf("event %s of region %v", ev.ID, ev.Fields["observer.geo.name"])
		}
	}
	if len(res.Warnings) != 1 || res.Warnings[0].Region != "dc2" || res.Warnings[0].Err == "" {
		t.Errorf("search warnings %+v, want one for dc2", res.Warnings)
	}

	alerts, total, err := fx.fed.Alerts(ctx, console.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || len(alerts) != 1 || alerts[0].Region != "dc1" {
		t.Errorf("alerts with dc2 down: %v (total %d)", alerts, total)
	}
	if _, err := fx.fed.DateHistogram(ctx, time.Hour, "", "", time.Time{}, time.Time{}); err != nil {
		t.Errorf("date histogram with dc2 down: %v", err)
	}
	if got := warnings.List(); len(got) != 1 || got[0].Region != "dc2" {
		t.Errorf("collected warnings %+v, want one for dc2", got)
	}

	if _, err := fx.fed.Event(ctx, fx.events["dc1"][0].ID); err != nil {
		t.Errorf("dc1 event with dc2 down: %v", err)
	}
	_, err = fx.fed.Event(ctx, fx.events["dc2"][0].ID)
	if !errors.Is(err, console.ErrRegionUnavailable) || errors.Is(err, console.ErrNotFound) || !strings.Contains(err.Error(), "dc2") {
		t.Errorf("dc2 event with dc2 down: %v, want ErrRegionUnavailable naming dc2", err)
	}

	if _, err := fx.fed.Search(ctx, console.SearchRequest{Query: "user.name:(admin"}); !errors.Is(err, console.ErrInvalidQuery) {
		t.Errorf("invalid query with dc2 down: %v, want ErrInvalidQuery", err)
	}

	if err := fx.regional["dc1"].Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.fed.Search(ctx, console.SearchRequest{}); !errors.Is(err, console.ErrRegionUnavailable) {
		t.Errorf("search with every region down: %v, want ErrRegionUnavailable", err)
	}
}

// stalled is a regional store whose Search returns only when its context ends,
// like a cluster that accepts connections and never replies.
type stalled struct{ *embedstore.Store }

func (stalled) Search(ctx context.Context, _ console.SearchRequest) (console.SearchResult, error) {
	<-ctx.Done()
	return console.SearchResult{}, ctx.Err()
}

func TestRegionTimeout(t *testing.T) {
	events := parseSSH(t, 40)
	dc1 := embedstore.New(openEmbedded(t, &pipeline.Write{Events: events["dc1"]}))
	dc2 := stalled{embedstore.New(openEmbedded(t, &pipeline.Write{Events: events["dc2"]}))}
	reg := prometheus.NewRegistry()
	fed, err := New([]Region{{Name: "dc1", Events: dc1, Alerts: dc1}, {Name: "dc2", Events: dc2, Alerts: dc2}},
		Options{Timeout: 50 * time.Millisecond, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	res, err := fed.Search(context.Background(), console.SearchRequest{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != len(events["dc1"]) || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0].Err, "timed out") {
		t.Errorf("%d events, warnings %+v; want dc1's %d and a timeout warning for dc2", len(res.Events), res.Warnings, len(events["dc1"]))
	}

	if _, err := fed.Search(context.Background(), console.SearchRequest{Query: "user.name:(admin"}); !errors.Is(err, console.ErrInvalidQuery) {
		t.Fatalf("invalid query: %v", err)
	}
	// dc2 timed out in both searches; dc1's invalid query is no failure.
	for region, want := range map[string]float64{"dc1": 0, "dc2": 2} {
		got := testutil.ToFloat64(fed.metrics.errors.WithLabelValues(region))
		if got != want {
			t.Errorf("canhgac_console_region_errors_total{region=%q} = %v, want %v", region, got, want)
		}
	}
	if n := testutil.CollectAndCount(reg, "canhgac_console_region_request_seconds"); n != 2 {
		t.Errorf("request time series: %d, want one per region", n)
	}
}

func TestNewRejectsBadRegions(t *testing.T) {
	store := embedstore.New(openEmbedded(t, &pipeline.Write{}))
	tests := []struct {
		name    string
		regions []Region
		want    string
	}{
		{"none", nil, "no regions"},
		{"unnamed", []Region{{Events: store, Alerts: store}}, "no name"},
		{"twice", []Region{{Name: "dc1", Events: store, Alerts: store}, {Name: "dc1", Events: store, Alerts: store}}, "twice"},
		{"no store", []Region{{Name: "dc1"}}, "no event or alert store"},
	}
	for _, tt := range tests {
		_, err := New(tt.regions, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}

func TestMergePage(t *testing.T) {
	desc := func(a, b int) bool { return a > b }
	tests := []struct {
		lists         [][]int
		offset, limit int
		want          []int
	}{
		{[][]int{{9, 5, 1}, {8, 5, 2}}, 0, 4, []int{9, 8, 5, 5}},
		{[][]int{{9, 5, 1}, {8, 5, 2}}, 4, 4, []int{2, 1}},
		{[][]int{{}, {3, 2}}, 1, 5, []int{2}},
		{[][]int{{3}, {2}}, 5, 5, []int{}},
	}
	for _, tt := range tests {
		got := mergePage(tt.lists, tt.offset, tt.limit, desc)
		if !slices.Equal(got, tt.want) {
			t.Errorf("mergePage(%v, %d, %d) = %v, want %v", tt.lists, tt.offset, tt.limit, got, tt.want)
		}
	}
}
