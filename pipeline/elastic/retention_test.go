package elastic

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/sensors/logparse"
)

// recent returns copies of events with new ids, moved to at.
func recent(events []*ecs.Event, at time.Time, tag string) []*ecs.Event {
	out := make([]*ecs.Event, len(events))
	for i, e := range events {
		c := e.Clone()
		c.ID = ecs.PositionID(tag, uint64(i))
		c.Timestamp = at
		out[i] = c
	}
	return out
}

func streamCount(t *testing.T, s *Store, dataset string) int64 {
	t.Helper()
	refresh(t, s)
	n, err := s.count(context.Background(), DataStream(dataset, s.Region()))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRetentionRollsOverAndDeletes(t *testing.T) {
	s, _ := newTestStore(t, func(o *Options) {
		o.SystemRetentionDays = 1
		o.AuditRetentionDays = 10
		o.RolloverMaxAge = time.Hour
	})
	region := s.Region()
	ctx := context.Background()
	now := time.Now().UTC()
	// The Apache log is from 2015: older than any retention.
	old, _ := parseFile(t, "web/elastic-examples/apache_access_combined.log", logparse.FormatAccess, 100, region)
	ssh, _ := parseFile(t, "linux/loghub/OpenSSH/OpenSSH_2k.log", logparse.FormatSyslog, 100, region)
	fresh := recent(ssh, now.Add(-time.Hour), "fresh:"+region)
	audit := recent(ssh[:20], now.Add(-5*24*time.Hour), "audit:"+region)
	for _, e := range audit {
		e.Fields["event.dataset"] = "auditd.log"
	}
	batch := slices.Concat(old, fresh, audit)
	closedOld := pipeline.Detection{RuleID: "r1", RuleName: "old", Level: "low", Time: now.Add(-72 * time.Hour),
		GroupKey: region + "|closed", EventIDs: []string{old[0].ID}, Region: region}
	openOld := pipeline.Detection{RuleID: "r1", RuleName: "old", Level: "low", Time: now.Add(-72 * time.Hour),
		GroupKey: region + "|open", EventIDs: []string{old[1].ID}, Region: region}
	if err := s.WriteBatch(ctx, &pipeline.Write{Events: batch, Detections: []pipeline.Detection{closedOld, openOld}}); err != nil {
		t.Fatal(err)
	}
	closedID := ecs.AlertID(closedOld.GroupKey, closedOld.Time)
	if err := s.SetAlertStatus(ctx, closedID, ecs.StatusClosed, "done", "analyst"); err != nil {
		t.Fatal(err)
	}
	webStream := DataStream("web.access", region)
	authStream := DataStream("system.auth", region)

	// As of now: retention counts from ingest, so the 2015 events, indexed
	// just now, stay like the rest, and so does the alert closed just now.
	rep, err := s.RunRetention(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.RolledOver) != 0 || len(rep.Deleted) != 0 || rep.AlertsDeleted != 0 {
		t.Errorf("rolled over %v, deleted %v and %d alerts; want nothing", rep.RolledOver, rep.Deleted, rep.AlertsDeleted)
	}
	if n := streamCount(t, s, "web.access"); n != int64(len(old)) {
		t.Errorf("web.access holds %d events of an import from 2015, want %d", n, len(old))
	}
	if n := streamCount(t, s, "system.auth"); n != int64(len(fresh)) {
		t.Errorf("system.auth holds %d events, want %d", n, len(fresh))
	}
	if alerts := alertsOfRegion(t, s, region); len(alerts) != 2 {
		t.Errorf("alerts after retention: %+v, want both", alerts)
	}

	// Two hours later the write indices are older than RolloverMaxAge:
	// they roll over, and nothing has been retired long enough to delete.
	rep, err = s.RunRetention(ctx, now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, stream := range []string{webStream, authStream} {
		if !slices.Contains(rep.RolledOver, stream) {
			t.Errorf("after 2h: rolled over %v, want %s among them", rep.RolledOver, stream)
		}
	}
	if len(rep.Deleted) != 0 {
		t.Errorf("after 2h: deleted %v, want nothing", rep.Deleted)
	}
	// The new write indices are empty and stay.
	rep, err = s.RunRetention(ctx, now.Add(4*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.RolledOver) != 0 {
		t.Errorf("after 4h: empty write indices rolled over: %v", rep.RolledOver)
	}

	// Three days later the retired system indices are past the 1-day
	// retention, the audit index not yet past 10 days.
	rep, err = s.RunRetention(ctx, now.Add(3*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n := streamCount(t, s, "system.auth"); n != 0 {
		t.Errorf("system.auth keeps %d events after 3 days", n)
	}
	if n := streamCount(t, s, "web.access"); n != 0 {
		t.Errorf("web.access keeps %d events after 3 days", n)
	}
	if n := streamCount(t, s, "auditd.log"); n != int64(len(audit)) {
		t.Errorf("auditd.log holds %d events after 3 days, want %d", n, len(audit))
	}
	if len(rep.Deleted) == 0 {
		t.Error("nothing deleted after 3 days")
	}
	// The alert closed three days ago goes; the open one stays.
	alerts := alertsOfRegion(t, s, region)
	if len(alerts) != 1 || alerts[0].Status != ecs.StatusOpen {
		t.Errorf("alerts after 3 days: %+v, want the open one only", alerts)
	}
	// Writes go on after the deletions.
	again := recent(ssh[:5], now, "again:"+region)
	if err := s.WriteBatch(ctx, &pipeline.Write{Events: again}); err != nil {
		t.Fatal(err)
	}
	if n := streamCount(t, s, "system.auth"); n != int64(len(again)) {
		t.Errorf("system.auth holds %d events after new writes, want %d", n, len(again))
	}
}

func TestReplayAfterRolloverStoresOnce(t *testing.T) {
	s, _ := newTestStore(t, nil)
	region := s.Region()
	ctx := context.Background()
	events, _ := parseFile(t, "linux/loghub/OpenSSH/OpenSSH_2k.log", logparse.FormatSyslog, 100, region)
	w := &pipeline.Write{Events: events}
	if err := s.WriteBatch(ctx, w); err != nil {
		t.Fatal(err)
	}
	stream := DataStream("system.auth", region)
	status, body, err := s.do(ctx, "POST", "/"+stream+"/_rollover", nil)
	if err != nil || status != 200 {
		t.Fatalf("rollover: %d %s %v", status, body, err)
	}
	s.streams.forget(stream)
	if err := s.WriteBatch(ctx, w); err != nil {
		t.Fatal(err)
	}
	if n := streamCount(t, s, "system.auth"); n != int64(len(events)) {
		t.Errorf("stream holds %d events after a replay across a rollover, want %d", n, len(events))
	}
}
