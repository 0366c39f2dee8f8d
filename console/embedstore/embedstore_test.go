package embedstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/canhgac/canhgac/console"
	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/i18n"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/embedded"
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

func openStore(t *testing.T) (*embedded.Store, *Store, []*ecs.Event) {
	t.Helper()
	raw, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	base := time.Date(2025, 12, 10, 6, 55, 0, 0, time.UTC)
	var events []*ecs.Event
	for i, l := range sshLines {
		f := ecs.Fields{"event.dataset": l.dataset, "message": l.message, "host.name": "LabSZ", "observer.geo.name": "dc1"}
		f.SetString("source.ip", l.sourceIP)
		events = append(events, &ecs.Event{ID: ecs.PositionID("OpenSSH_2k.log", l.offset), SourceID: "OpenSSH_2k.log",
			Seq: uint64(i + 1), Timestamp: base.Add(time.Duration(l.second+i*60) * time.Second), Fields: f})
	}
	det := pipeline.Detection{RuleID: "r1", RuleName: "Invalid SSH user", Level: "medium", Time: events[1].Timestamp,
		GroupKey: "r1|173.234.31.186", EventIDs: []string{events[1].ID}, Region: "dc1"}
	if err := raw.WriteBatch(context.Background(), &pipeline.Write{Events: events, Detections: []pipeline.Detection{det}}); err != nil {
		t.Fatal(err)
	}
	return raw, New(raw), events
}

func TestEventByID(t *testing.T) {
	_, s, events := openStore(t)
	for _, want := range events {
		got, err := s.Event(context.Background(), want.ID)
		if err != nil {
			t.Fatalf("Event(%s): %v", want.ID, err)
		}
		if got.ID != want.ID || got.Fields["message"] != want.Fields["message"] {
			t.Errorf("Event(%s) = %v", want.ID, got.Fields["message"])
		}
	}
	for _, id := range []string{"missing", `quote"and\slash`, ""} {
		if _, err := s.Event(context.Background(), id); !errors.Is(err, console.ErrNotFound) {
			t.Errorf("Event(%q): err = %v, want ErrNotFound", id, err)
		}
	}
}

func TestSearchQueryErrors(t *testing.T) {
	_, s, _ := openStore(t)
	res, err := s.Search(context.Background(), console.SearchRequest{Query: "source.ip:173.234.31.0/24", Limit: 10})
	if err != nil || res.Total != 2 {
		t.Fatalf("search by CIDR: total %d, %v; want 2", res.Total, err)
	}
	_, err = s.Search(context.Background(), console.SearchRequest{Query: "message:(webmaster", Limit: 10})
	if !errors.Is(err, console.ErrInvalidQuery) {
		t.Fatalf("unclosed parenthesis: err = %v, want ErrInvalidQuery", err)
	}
	var localized interface{ Message(i18n.Lang) string }
	if !errors.As(err, &localized) || localized.Message(i18n.VI) == localized.Message(i18n.EN) {
		t.Errorf("query error %v does not render per language", err)
	}
	if _, err := s.DateHistogram(context.Background(), time.Minute, "event.dataset", "a:(", time.Time{}, time.Time{}); !errors.Is(err, console.ErrInvalidQuery) {
		t.Errorf("histogram with a bad query: err = %v", err)
	}
}

func TestDateHistogramSplit(t *testing.T) {
	_, s, events := openStore(t)
	buckets, err := s.DateHistogram(context.Background(), time.Hour, "event.dataset", "", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, b := range buckets {
		if !b.Start.Equal(events[0].Timestamp.Truncate(time.Hour)) {
			t.Errorf("bucket start %v", b.Start)
		}
		counts[b.Key] += b.Count
	}
	if counts["system.auth"] != 3 || counts["system.syslog"] != 1 {
		t.Errorf("histogram counts = %v", counts)
	}
}

func TestAlertWorkflow(t *testing.T) {
	_, s, _ := openStore(t)
	ctx := context.Background()
	alerts, total, err := s.Alerts(ctx, console.AlertFilter{Status: "open", Limit: 10})
	if err != nil || total != 1 {
		t.Fatalf("open alerts: %d, %v", total, err)
	}
	id := alerts[0].ID
	if _, total, _ := s.Alerts(ctx, console.AlertFilter{Status: "closed", Limit: 10}); total != 0 {
		t.Errorf("closed alerts before closing: %d", total)
	}
	if _, _, err := s.Alerts(ctx, console.AlertFilter{Status: "done"}); err == nil {
		t.Error("invalid status filter: want error")
	}
	if err := s.SetAlertStatus(ctx, id, ecs.StatusClosed, "tested", "lan.analyst"); err != nil {
		t.Fatal(err)
	}
	a, events, err := s.Alert(ctx, id)
	if err != nil || a.Status != ecs.StatusClosed || a.Reason != "tested" || len(events) != 1 {
		t.Errorf("closed alert = %+v, %d events, %v", a, len(events), err)
	}
	if _, _, err := s.Alert(ctx, "missing"); !errors.Is(err, console.ErrNotFound) {
		t.Errorf("Alert(missing): err = %v", err)
	}
	if err := s.SetAlertStatus(ctx, "missing", ecs.StatusAcknowledged, "", "x"); !errors.Is(err, console.ErrNotFound) {
		t.Errorf("SetAlertStatus(missing): err = %v", err)
	}
}
