package esstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/canhgac/canhgac/console"
	"github.com/canhgac/canhgac/console/federated"
	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/internal/itest"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/elastic"
	"github.com/canhgac/canhgac/sensors/logparse"
)

// opensshLog is loghub's OpenSSH sample: real sshd lines of one host.
const opensshLog = "../../../shared/data/logs/linux/loghub/OpenSSH/OpenSSH_2k.log"

// parseSSHRegions parses the first n lines of the OpenSSH sample with the
// log sensor's parser into events of two regions, even lines in a and odd
// lines in b, each with one sensor. a's events were ingested 1 minute
// before now and b's 10 minutes before.
func parseSSHRegions(t *testing.T, n int, a, b string, now time.Time) map[string][]*ecs.Event {
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
	sc := bufio.NewScanner(f)
	for lineNo := 0; lineNo < n && sc.Scan(); lineNo++ {
		data := sc.Bytes()
		line := logparse.Line{Data: data, Offset: offset, SourceID: opensshLog, Path: opensshLog}
		offset += int64(len(data)) + 1
		region, ingested := a, now.Add(-time.Minute)
		if lineNo%2 == 1 {
			region, ingested = b, now.Add(-10*time.Minute)
		}
		dec.Decode(line, func(r logparse.Record) {
			if r.Err != nil {
				t.Fatalf("parse line at offset %d: %v", r.Offset, r.Err)
			}
			r.Fields["observer.geo.name"] = region
			r.Fields["observer.name"] = "sensor-" + region
			r.Fields["event.ingested"] = ingested.UTC().Format(time.RFC3339Nano)
			source := opensshLog + ":" + region
			out[region] = append(out[region], &ecs.Event{ID: ecs.PositionID(source, uint64(r.Offset)),
				SourceID: source, Seq: uint64(lineNo + 1), Timestamp: r.Timestamp, Fields: r.Fields})
		})
	}
	return out
}

// failedLogin is a detection of the first failed login among events.
func failedLogin(t *testing.T, region string, events []*ecs.Event) pipeline.Detection {
	t.Helper()
	for _, ev := range events {
		if ev.Fields["event.outcome"] == "failure" {
			return pipeline.Detection{RuleID: "ssh-failure", RuleName: "SSH authentication failure", Level: "medium",
				Time: ev.Timestamp, GroupKey: region + "|ssh-failure", EventIDs: []string{ev.ID}, Region: region}
		}
	}
	t.Fatalf("no failed login in region %s", region)
	return pipeline.Detection{}
}

// TestFederatedRegionsOnOneCluster federates two regions of the node from
// CANHGAC_ES_URL, each reached through a proxy. Search pages match one
// search over both regions, the status counts each region's ingest, and a
// status change reaches b's alert only. With b's proxy closed the results
// come from a with a warning for b; with both closed a search fails with
// console.ErrRegionUnavailable.
func TestFederatedRegionsOnOneCluster(t *testing.T) {
	esURL := itest.ElasticURL(t)
	ctx := context.Background()
	stamp := time.Now().UnixNano() % 1e12
	a, b := fmt.Sprintf("fa%d", stamp), fmt.Sprintf("fb%d", stamp)
	now := time.Now().UTC()

	target, err := url.Parse(esURL)
	if err != nil {
		t.Fatal(err)
	}
	proxyA := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	defer proxyA.Close()
	proxy := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	defer proxy.Close()

	stores := map[string]*elastic.Store{}
	for region, base := range map[string]string{a: proxyA.URL, b: proxy.URL} {
		s, err := elastic.New(ctx, elastic.Options{URLs: []string{base}, Region: region, RequestTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores[region] = s
	}
	events := parseSSHRegions(t, 300, a, b, now)
	for _, region := range []string{a, b} {
		w := &pipeline.Write{Events: events[region], Detections: []pipeline.Detection{failedLogin(t, region, events[region])}}
		if err := stores[region].WriteBatch(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if err := stores[a].Refresh(ctx); err != nil {
		t.Fatal(err)
	}

	fed, err := federated.New([]federated.Region{
		{Name: a, Events: NewRegion(stores[a], a), Alerts: NewRegion(stores[a], a)},
		{Name: b, Events: NewRegion(stores[b], b), Alerts: NewRegion(stores[b], b)},
	}, federated.Options{Timeout: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	both := New(stores[a])
	bothQuery := fmt.Sprintf("observer.geo.name:(%s or %s)", a, b)

	t.Run("paging", func(t *testing.T) {
		const limit = 37
		seen := map[string]bool{}
		total := len(events[a]) + len(events[b])
		for offset := 0; offset < total; offset += limit {
			got, err := fed.Search(ctx, console.SearchRequest{Limit: limit, Offset: offset})
			if err != nil {
				t.Fatal(err)
			}
			want, err := both.Search(ctx, console.SearchRequest{Query: bothQuery, Limit: limit, Offset: offset})
			if err != nil {
				t.Fatal(err)
			}
			if got.Total != total || want.Total != total || len(got.Warnings) != 0 {
				t.Fatalf("offset %d: total %d (one search %d), want %d; warnings %v", offset, got.Total, want.Total, total, got.Warnings)
			}
			if fmt.Sprint(stamps(got.Events)) != fmt.Sprint(stamps(want.Events)) {
				t.Fatalf("offset %d: timestamps\n%v\nwant\n%v", offset, stamps(got.Events), stamps(want.Events))
			}
			for _, ev := range got.Events {
				if seen[ev.ID] {
					t.Errorf("event %s on two pages", ev.ID)
				}
				seen[ev.ID] = true
			}
		}
		if len(seen) != total {
			t.Errorf("pages hold %d events, want %d", len(seen), total)
		}
	})

	t.Run("status", func(t *testing.T) {
		got, err := fed.RegionStatus(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("status %+v", got)
		}
		stA, stB := got[0], got[1]
		na, nb := int64(len(events[a])), int64(len(events[b]))
		if !stA.Reachable || stA.Ingested5m != na || stA.Ingested15m != na {
			t.Errorf("region a: %+v, want %d events ingested in 5 and 15 min", stA, na)
		}
		if !stB.Reachable || stB.Ingested5m != 0 || stB.Ingested15m != nb {
			t.Errorf("region b: %+v, want 0 and %d", stB, nb)
		}
		if lag := now.Sub(stA.LastIngested); lag < time.Minute-time.Millisecond || lag > time.Minute+time.Millisecond {
			t.Errorf("region a lag %s, want 1m", lag)
		}
		if len(stA.Sensors) != 1 || stA.Sensors[0].Health != console.SensorHealthy || stA.Sensors[0].Events15m != na {
			t.Errorf("region a sensors %+v", stA.Sensors)
		}
		if len(stB.Sensors) != 1 || stB.Sensors[0].Health != console.SensorLate || stB.Sensors[0].Name != "sensor-"+b {
			t.Errorf("region b sensors %+v", stB.Sensors)
		}
		if newest := events[a][len(events[a])-1].Timestamp; !stA.LastEvent.Equal(newest) {
			t.Errorf("region a last event %v, want %v", stA.LastEvent, newest)
		}
	})

	t.Run("alert status", func(t *testing.T) {
		ids := map[string]string{}
		for _, region := range []string{a, b} {
			alerts, total, err := fed.Alerts(ctx, console.AlertFilter{Region: region})
			if err != nil || total != 1 {
				t.Fatalf("alerts of %s: %v (total %d) %v", region, alerts, total, err)
			}
			ids[region] = alerts[0].ID
		}
		if err := fed.SetAlertStatus(ctx, ids[b], ecs.StatusAcknowledged, "", "lan.analyst"); err != nil {
			t.Fatal(err)
		}
		for region, want := range map[string]ecs.AlertStatus{a: ecs.StatusOpen, b: ecs.StatusAcknowledged} {
			alert, _, err := fed.Alert(ctx, ids[region])
			if err != nil {
				t.Fatal(err)
			}
			if alert.Status != want {
				t.Errorf("alert of %s: %s, want %s", region, alert.Status, want)
			}
		}
	})

	t.Run("region down", func(t *testing.T) {
		proxy.Close()
		cctx, warnings := console.WithWarnings(ctx)
		res, err := fed.Search(cctx, console.SearchRequest{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != len(events[a]) || len(res.Warnings) != 1 || res.Warnings[0].Region != b {
			t.Errorf("total %d warnings %+v, want %d and a warning for %s", res.Total, res.Warnings, len(events[a]), b)
		}
		if _, total, err := fed.Alerts(cctx, console.AlertFilter{}); err != nil || total != 1 {
			t.Errorf("alerts with %s down: total %d, %v", b, total, err)
		}
		if w := warnings.List(); len(w) != 1 || w[0].Region != b {
			t.Errorf("collected warnings %+v", w)
		}
		st, err := fed.RegionStatus(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		if !st[0].Reachable || st[1].Reachable || st[1].Err == "" {
			t.Errorf("status with %s down: %+v", b, st)
		}

		proxyA.Close()
		if _, err := fed.Search(ctx, console.SearchRequest{}); !errors.Is(err, console.ErrRegionUnavailable) {
			t.Errorf("search with both regions down: %v, want ErrRegionUnavailable", err)
		}
	})
}

func stamps(events []*ecs.Event) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = ev.Timestamp.UTC().Format(time.RFC3339Nano)
	}
	return out
}
