package esstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/canhgac/canhgac/console"
	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/i18n"
	"github.com/canhgac/canhgac/internal/itest"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/elastic"
)

// sshLines are the first lines of loghub's OpenSSH sample, with the
// fields the system.auth parser extracts.
var sshLines = []struct {
	offset   uint64
	second   int
	dataset  string
	message  string
	sourceIP string
}{
	{0, 46, "system.auth", "reverse mapping checking getaddrinfo for ns.marryaldkfaczcz.com [173.234.31.186] failed - POSSIBLE BREAK-IN ATTEMPT!", "173.234.31.186"},
	{152, 46, "system.auth", "Invalid user webmaster from 173.234.31.186", "173.234.31.186"},
	{221, 46, "system.auth", "input_userauth_request: invalid user webmaster [preauth]", ""},
	{300, 46, "system.syslog", "pam_unix(sshd:auth): check pass; user unknown", ""},
}

// openStore writes the sshd events and one detection to a region of
// their own on the node from CANHGAC_ES_URL; the node keeps data between
// runs.
func openStore(t *testing.T) (*Store, []*ecs.Event, string) {
	t.Helper()
	url := itest.ElasticURL(t)
	region := fmt.Sprintf("c%d", time.Now().UnixNano()%1e12)
	ctx := context.Background()
	raw, err := elastic.New(ctx, elastic.Options{URLs: []string{url}, Region: region})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	base := time.Date(2025, 12, 10, 6, 55, 0, 0, time.UTC)
	source := "OpenSSH_2k.log:" + region
	var events []*ecs.Event
	for i, l := range sshLines {
		f := ecs.Fields{"event.dataset": l.dataset, "message": l.message, "host.name": "LabSZ", "observer.geo.name": region}
		f.SetString("source.ip", l.sourceIP)
		events = append(events, &ecs.Event{ID: ecs.PositionID(source, l.offset), SourceID: source,
			Seq: uint64(i + 1), Timestamp: base.Add(time.Duration(l.second+i*60) * time.Second), Fields: f})
	}
	det := pipeline.Detection{RuleID: "r1", RuleName: "Invalid SSH user", Level: "medium", Time: events[1].Timestamp,
		GroupKey: region + "|r1|173.234.31.186", EventIDs: []string{events[1].ID}, Region: region}
	if err := raw.WriteBatch(ctx, &pipeline.Write{Events: events, Detections: []pipeline.Detection{det}}); err != nil {
		t.Fatal(err)
	}
	if err := raw.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	return New(raw), events, region
}

func TestEventByID(t *testing.T) {
	s, events, _ := openStore(t)
	for _, want := range events {
		got, err := s.Event(context.Background(), want.ID)
		if err != nil {
			t.Fatalf("Event(%s): %v", want.ID, err)
		}
		if got.ID != want.ID || got.Fields["message"] != want.Fields["message"] {
			t.Errorf("Event(%s) = %s %v", want.ID, got.ID, got.Fields["message"])
		}
	}
	if _, err := s.Event(context.Background(), "missing"); !errors.Is(err, console.ErrNotFound) {
		t.Errorf("missing event: %v, want console.ErrNotFound", err)
	}
}

func TestSearch(t *testing.T) {
	s, events, region := openStore(t)
	ctx := context.Background()
	tests := []struct {
		query string
		want  []string // ids, newest first
	}{
		{"observer.geo.name:" + region, []string{events[3].ID, events[2].ID, events[1].ID, events[0].ID}},
		{"observer.geo.name:" + region + " and source.ip:173.234.0.0/16", []string{events[1].ID, events[0].ID}},
		{"observer.geo.name:" + region + " and message:webmaster", []string{events[2].ID, events[1].ID}},
		{"observer.geo.name:" + region + " and not event.dataset:system.auth", []string{events[3].ID}},
	}
	for _, tt := range tests {
		res, err := s.Search(ctx, console.SearchRequest{Query: tt.query, Limit: 10})
		if err != nil {
			t.Fatalf("%s: %v", tt.query, err)
		}
		var got []string
		for _, e := range res.Events {
			got = append(got, e.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) || res.Total != len(tt.want) {
			t.Errorf("%s: total %d ids %v, want %v", tt.query, res.Total, got, tt.want)
		}
	}
	res, err := s.Search(ctx, console.SearchRequest{Query: "observer.geo.name:" + region, Oldest: true, Limit: 1, Offset: 1,
		From: events[0].Timestamp, To: events[3].Timestamp})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 3 || len(res.Events) != 1 || res.Events[0].ID != events[1].ID {
		t.Errorf("oldest-first page in range: total %d events %v", res.Total, res.Events)
	}
	_, err = s.Search(ctx, console.SearchRequest{Query: "user.name:(admin"})
	if !errors.Is(err, console.ErrInvalidQuery) {
		t.Fatalf("invalid query: %v, want ErrInvalidQuery", err)
	}
	var msg interface{ Message(i18n.Lang) string }
	if !errors.As(err, &msg) || msg.Message(i18n.VI) == "" {
		t.Errorf("invalid query error has no catalog message: %v", err)
	}
}

func TestDateHistogram(t *testing.T) {
	s, _, region := openStore(t)
	buckets, err := s.DateHistogram(context.Background(), time.Minute, "event.dataset", "observer.geo.name:"+region, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, b := range buckets {
		counts[b.Key] += b.Count
	}
	if counts["system.auth"] != 3 || counts["system.syslog"] != 1 {
		t.Errorf("counts by dataset %v", counts)
	}
	if _, err := s.DateHistogram(context.Background(), time.Minute, "", "a:(", time.Time{}, time.Time{}); !errors.Is(err, console.ErrInvalidQuery) {
		t.Errorf("invalid query: %v", err)
	}
}

func TestAlertWorkflow(t *testing.T) {
	s, events, region := openStore(t)
	ctx := context.Background()
	alerts, total, err := s.Alerts(ctx, console.AlertFilter{Region: region, Status: "open"})
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || len(alerts) != 1 {
		t.Fatalf("open alerts of the region: %d (total %d), want 1", len(alerts), total)
	}
	a, evs, err := s.Alert(ctx, alerts[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.RuleID != "r1" || len(evs) != 1 || evs[0].ID != events[1].ID {
		t.Errorf("alert %+v events %v", a, evs)
	}
	if err := s.SetAlertStatus(ctx, a.ID, ecs.StatusClosed, "known scanner", "analyst1"); err != nil {
		t.Fatal(err)
	}
	a, _, err = s.Alert(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != ecs.StatusClosed || a.Reason != "known scanner" {
		t.Errorf("after close: %s %q", a.Status, a.Reason)
	}
	if err := s.SetAlertStatus(ctx, "missing", ecs.StatusClosed, "x", "y"); !errors.Is(err, console.ErrNotFound) {
		t.Errorf("missing alert: %v, want console.ErrNotFound", err)
	}
	if _, _, err := s.Alerts(ctx, console.AlertFilter{Status: "resolved"}); err == nil {
		t.Error("unknown status filter accepted")
	}
}
