package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline/kql"
)

var testEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func openTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{Logger: quietLogger()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestWriteBatchIdempotentAndRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	events := sshEvents(t, 300)
	s, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	batch := &Batch{
		Events:      events,
		DeadLetters: []DeadLetter{{Time: testEpoch, SourceID: "file:/var/log/auth.log", Offset: 42, Raw: []byte("\x00garbage"), Reason: "no syslog header"}},
	}
	for i := 0; i < 3; i++ {
		if err := s.WriteBatch(ctx, batch); err != nil {
			t.Fatalf("WriteBatch %d: %v", i, err)
		}
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if st.Events != int64(len(events)) {
		t.Errorf("events after 3 identical batches = %d, want %d", st.Events, len(events))
	}
	if st.DeadLetters != 1 {
		t.Errorf("dead letters after 3 identical batches = %d, want 1", st.DeadLetters)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, err = Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	res, err := s.Search(ctx, SearchRequest{QueryText: `message:"failed password"`, Limit: 1000})
	if err != nil {
		t.Fatalf("Search after reopen: %v", err)
	}
	if res.Total == 0 {
		t.Errorf("no events found after reopen")
	}
	dls, err := s.DeadLetters(ctx, 10)
	if err != nil {
		t.Fatalf("DeadLetters: %v", err)
	}
	if len(dls) != 1 || string(dls[0].Raw) != "\x00garbage" || dls[0].Reason != "no syslog header" || dls[0].Offset != 42 {
		t.Errorf("dead letters after reopen = %+v", dls)
	}
}

func TestWriteBatchRejectsBadEvents(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	good := sshEvents(t, 5)
	bad := []*ecs.Event{
		{Timestamp: testEpoch, Fields: ecs.Fields{}},
		{ID: "x", Fields: ecs.Fields{}},
		{ID: "y", Timestamp: testEpoch, Fields: ecs.Fields{"n": math.NaN()}},
	}
	for _, e := range bad {
		err := s.WriteBatch(ctx, &Batch{Events: append(append([]*ecs.Event{}, good...), e)})
		if err == nil {
			t.Errorf("WriteBatch accepted %+v", e)
		}
	}
	st, _ := s.Stats(ctx)
	if st.Events != 0 {
		t.Errorf("rejected batches stored %d events, want 0", st.Events)
	}
}

func TestWriteBatchCanceledLeavesNothing(t *testing.T) {
	s := openTestStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.WriteBatch(ctx, &Batch{Events: sshEvents(t, 50)}); err == nil {
		t.Fatalf("WriteBatch with a canceled context succeeded")
	}
	st, _ := s.Stats(context.Background())
	if st.Events != 0 {
		t.Errorf("canceled batch stored %d events", st.Events)
	}
}

func TestAlertFolding(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	events := sshEvents(t, 20)
	if err := s.WriteBatch(ctx, &Batch{Events: events}); err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}
	det := func(i int) Detection {
		return Detection{
			RuleID: "ssh-brute", RuleName: "SSH brute force", Level: "high", Tags: []string{"attack.t1110"},
			Time: events[i].Timestamp, GroupKey: "ssh-brute|173.234.31.186", EventIDs: []string{events[i].ID},
			Fields: ecs.Fields{"source.ip": "173.234.31.186"}, Region: "dc1",
		}
	}
	if err := s.WriteBatch(ctx, &Batch{Detections: []Detection{det(0), det(1), det(2)}}); err != nil {
		t.Fatalf("WriteBatch detections: %v", err)
	}
	// A replay of the same detections counts nothing.
	if err := s.WriteBatch(ctx, &Batch{Detections: []Detection{det(1), det(2)}}); err != nil {
		t.Fatalf("replay detections: %v", err)
	}
	alerts, total, err := s.Alerts(ctx, AlertFilter{})
	if err != nil {
		t.Fatalf("Alerts: %v", err)
	}
	if total != 1 || len(alerts) != 1 {
		t.Fatalf("alerts = %d (total %d), want 1", len(alerts), total)
	}
	a := alerts[0]
	if a.ID != ecs.AlertID("ssh-brute|173.234.31.186", events[0].Timestamp) {
		t.Errorf("alert id %s is not ecs.AlertID of the group and first time", a.ID)
	}
	if a.Count != 3 {
		t.Errorf("count = %d, want 3", a.Count)
	}
	if len(a.EventIDs) != 3 || a.Status != ecs.StatusOpen || a.Level != "high" || a.Region != "dc1" {
		t.Errorf("alert = %+v", a)
	}
	_, evs, err := s.Alert(ctx, a.ID)
	if err != nil {
		t.Fatalf("Alert: %v", err)
	}
	if len(evs) != 3 || evs[0].ID != events[0].ID {
		t.Errorf("alert events = %d, want 3 starting with the first match", len(evs))
	}

	// Acknowledged alerts still fold; closed ones do not.
	if err := s.SetAlertStatus(ctx, a.ID, ecs.StatusAcknowledged, "", "analyst1"); err != nil {
		t.Fatalf("acknowledge: %v", err)
	}
	if err := s.WriteBatch(ctx, &Batch{Detections: []Detection{det(3)}}); err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}
	if err := s.SetAlertStatus(ctx, a.ID, ecs.StatusClosed, "", "analyst1"); err == nil {
		t.Errorf("closing without a reason succeeded")
	}
	if err := s.SetAlertStatus(ctx, a.ID, ecs.StatusClosed, "blocked at firewall", "analyst1"); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := s.SetAlertStatus(ctx, a.ID, ecs.StatusOpen, "reopen", "analyst1"); err == nil {
		t.Errorf("reopening a closed alert succeeded")
	}
	if err := s.WriteBatch(ctx, &Batch{Detections: []Detection{det(4)}}); err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}
	closed := ecs.StatusClosed
	old, _, err := s.Alerts(ctx, AlertFilter{Status: &closed})
	if err != nil || len(old) != 1 || old[0].Count != 4 || old[0].Reason != "blocked at firewall" {
		t.Fatalf("closed alerts = %+v, %v; want one with count 4", old, err)
	}
	// events[4] has the same time as events[0], so the closed alert's id
	// is taken and the new alert gets the suffixed group key's id.
	wantID := ecs.AlertID("ssh-brute|173.234.31.186#2", events[4].Timestamp)
	if !events[4].Timestamp.Equal(events[0].Timestamp) {
		wantID = ecs.AlertID("ssh-brute|173.234.31.186", events[4].Timestamp)
	}
	open := ecs.StatusOpen
	fresh, _, err := s.Alerts(ctx, AlertFilter{Status: &open, RuleID: "ssh-brute", Level: "high", Region: "dc1"})
	if err != nil || len(fresh) != 1 || fresh[0].Count != 1 || fresh[0].ID != wantID {
		t.Fatalf("new open alert = %+v, %v", fresh, err)
	}
	hist, err := s.AlertHistory(ctx, a.ID)
	if err != nil || len(hist) != 2 || hist[1].To != ecs.StatusClosed || hist[1].Actor != "analyst1" {
		t.Errorf("history = %+v, %v", hist, err)
	}
	if _, _, err := s.Alert(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Alert(missing) error = %v, want ErrNotFound", err)
	}
}

func TestAlertEventIDsBounded(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	var dets []Detection
	for i := 0; i < ecs.MaxAlertEvents+20; i++ {
		dets = append(dets, Detection{RuleID: "r", RuleName: "r", Level: "low", GroupKey: "g",
			Time: testEpoch.Add(time.Duration(i) * time.Second), EventIDs: []string{fmt.Sprint("e", i)}})
	}
	if err := s.WriteBatch(ctx, &Batch{Detections: dets}); err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}
	alerts, _, err := s.Alerts(ctx, AlertFilter{})
	if err != nil || len(alerts) != 1 {
		t.Fatalf("alerts = %v, %v", alerts, err)
	}
	if alerts[0].Count != ecs.MaxAlertEvents+20 || len(alerts[0].EventIDs) != ecs.MaxAlertEvents {
		t.Errorf("count %d with %d ids, want %d with %d", alerts[0].Count, len(alerts[0].EventIDs), ecs.MaxAlertEvents+20, ecs.MaxAlertEvents)
	}
	if !alerts[0].LastSeen.Equal(testEpoch.Add(time.Duration(ecs.MaxAlertEvents+19) * time.Second)) {
		t.Errorf("last seen = %v", alerts[0].LastSeen)
	}
}

func TestRetain(t *testing.T) {
	day0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := day0
	s, err := Open(t.TempDir(), Options{Logger: quietLogger(), Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	// The access log is from 2015; both halves are imported, ten days
	// apart. Retention goes by the day of ingest, not by event time.
	events := accessEvents(t, 300)
	early, late := events[:150], events[150:]
	cut := day0.Add(5 * 24 * time.Hour)
	if err := s.WriteBatch(ctx, &Batch{Events: early, DeadLetters: []DeadLetter{
		{Time: cut.Add(-time.Hour), SourceID: "a", Raw: []byte("old")},
	}}); err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}
	clock = day0.Add(10 * 24 * time.Hour)
	if err := s.WriteBatch(ctx, &Batch{Events: late, DeadLetters: []DeadLetter{
		{Time: cut.Add(time.Hour), SourceID: "a", Raw: []byte("new")},
	}}); err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}
	deleted, err := s.Retain(ctx, cut)
	if err != nil {
		t.Fatalf("Retain: %v", err)
	}
	if deleted != int64(len(early)) {
		t.Errorf("deleted %d events, want the %d ingested before the cut", deleted, len(early))
	}
	res, err := s.Search(ctx, SearchRequest{QueryText: "event.original:GET or not event.original:GET", Limit: 1000})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if res.Total != len(late) {
		t.Errorf("events left = %d, want %d (ingested after the cut, though from 2015)", res.Total, len(late))
	}
	kept := map[string]bool{}
	for _, e := range late {
		kept[e.ID] = true
	}
	for _, e := range res.Events {
		if !kept[e.ID] {
			t.Errorf("event %s ingested before the cut survived retention", e.ID)
		}
	}
	// The full-text index drops the rows of deleted events too.
	for _, e := range early[:5] {
		q := fmt.Sprintf("event.original:%q", e.Fields["event.original"])
		got, err := s.Search(ctx, SearchRequest{QueryText: q, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range got.Events {
			if g.ID == e.ID {
				t.Errorf("deleted event %s still found by full text", e.ID)
			}
		}
	}
	dls, _ := s.DeadLetters(ctx, 10)
	if len(dls) != 1 || string(dls[0].Raw) != "new" {
		t.Errorf("dead letters after retention = %+v", dls)
	}
	// A second run deletes nothing more.
	if n, err := s.Retain(ctx, cut); err != nil || n != 0 {
		t.Errorf("second Retain deleted %d, %v; want 0", n, err)
	}
}

func TestConcurrentWritesAndReads(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	events := accessEvents(t, 400)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w * 100; i < (w+1)*100; i += 20 {
				if err := s.WriteBatch(ctx, &Batch{Events: events[i : i+20]}); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				if _, err := s.Search(ctx, SearchRequest{QueryText: "http.response.status_code >= 400", Limit: 5}); err != nil {
					errs <- err
					return
				}
				if _, err := s.TopTerms(ctx, "source.ip", nil, time.Time{}, time.Time{}, 5); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent use: %v", err)
	}
	st, _ := s.Stats(ctx)
	if st.Events != 400 {
		t.Errorf("events = %d, want 400", st.Events)
	}
}

func TestTopTermsAndHistogram(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	events := allFixtureEvents(t)
	if err := s.WriteBatch(ctx, &Batch{Events: events}); err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}
	for _, field := range []string{"event.dataset", "source.ip", "http.response.status_code", "user.name", "tags"} {
		want := map[string]int64{}
		for _, e := range events {
			v, ok := e.Fields[field]
			if !ok {
				continue
			}
			if c, promotedField := promotedByField[field]; promotedField {
				if _, isString := v.(string); !isString {
					continue // spilled values are not grouped
				}
				if c.kind == colIP {
					a, ok := kqlParseIP(v.(string))
					if !ok {
						continue
					}
					v = a
				}
			}
			seen := map[string]bool{}
			switch v := v.(type) {
			case []string:
				for _, x := range v {
					if !seen[x] {
						want[x]++
						seen[x] = true
					}
				}
			default:
				s, _ := ecs.ScalarString(v)
				want[s]++
			}
		}
		got, err := s.TopTerms(ctx, field, nil, time.Time{}, time.Time{}, 5)
		if err != nil {
			t.Fatalf("TopTerms(%s): %v", field, err)
		}
		if len(got) == 0 {
			t.Errorf("TopTerms(%s) is empty", field)
		}
		for i, tc := range got {
			if want[tc.Value] != tc.Count {
				t.Errorf("TopTerms(%s)[%d] = %s:%d, counted %d", field, i, tc.Value, tc.Count, want[tc.Value])
			}
			if i > 0 && got[i-1].Count < tc.Count {
				t.Errorf("TopTerms(%s) not sorted by count", field)
			}
		}
	}

	// Conditions that name the id column or fall back to kql.Match work
	// beside json_each's own columns.
	for _, query := range []string{"root or event.id:x", "winlog.*:*lsass*", "not user.name:root"} {
		node := kqlMust(query)
		got, err := s.TopTerms(ctx, "winlog.event_id", node, time.Time{}, time.Time{}, 3)
		if err != nil {
			t.Errorf("TopTerms with %q: %v", query, err)
			continue
		}
		want := map[string]int64{}
		for _, e := range events {
			if v, ok := e.Fields["winlog.event_id"]; ok && kql.Match(node, e) {
				s, _ := ecs.ScalarString(v)
				want[s]++
			}
		}
		for _, tc := range got {
			if want[tc.Value] != tc.Count {
				t.Errorf("TopTerms(winlog.event_id, %q): %s:%d, counted %d", query, tc.Value, tc.Count, want[tc.Value])
			}
		}
	}

	q := kqlMust("event.dataset:system.auth or event.dataset:web.access")
	buckets, err := s.DateHistogram(ctx, time.Hour, "event.dataset", q, time.Time{}, time.Time{})
	if err != nil {
		t.Fatalf("DateHistogram: %v", err)
	}
	want := map[int64]map[string]int64{}
	for _, e := range events {
		ds, _ := e.Fields["event.dataset"].(string)
		if ds != "system.auth" && ds != "web.access" {
			continue
		}
		b := e.Timestamp.Truncate(time.Hour).UnixNano()
		if want[b] == nil {
			want[b] = map[string]int64{}
		}
		want[b][ds]++
	}
	if len(buckets) != len(want) {
		t.Errorf("%d buckets, want %d", len(buckets), len(want))
	}
	for _, b := range buckets {
		for k, n := range b.Split {
			if want[b.Start.UnixNano()][k] != n {
				t.Errorf("bucket %v %s = %d, want %d", b.Start, k, n, want[b.Start.UnixNano()][k])
			}
		}
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func kqlMust(q string) kql.Node { return kql.MustParse(q) }

func kqlParseIP(s string) (string, bool) {
	a, ok := kql.ParseIP(s)
	if !ok {
		return "", false
	}
	return netip.AddrFrom16(a.As16()).Unmap().String(), true
}

func TestSpilledFieldAfterRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	e := &ecs.Event{ID: "spill-1", Timestamp: testEpoch, Fields: ecs.Fields{"host.name": []string{"web1", "web2"}}}
	if err := s.WriteBatch(ctx, &Batch{Events: []*ecs.Event{e}}); err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}
	s.Close()
	s, err = Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	res, err := s.Search(ctx, SearchRequest{QueryText: "host.name:web2"})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if res.Total != 1 {
		t.Errorf("host.name:web2 after reopen finds %d events, want 1", res.Total)
	}
}

// TestAlertRuleMeta checks that an alert keeps its rule's ATT&CK tactics,
// techniques, false-positive notes and status.
func TestAlertRuleMeta(t *testing.T) {
	s := openTestStore(t)
	ctx := context.Background()
	events := sshEvents(t, 1)
	d := Detection{
		RuleID: "ssh-brute", RuleName: "SSH brute force", Level: "high",
		Tags:       []string{"attack.credential_access", "attack.t1110.001"},
		Tactics:    []ecs.Tactic{{ID: "TA0006", Name: "Credential Access"}},
		Techniques: []string{"T1110.001"}, FalsePositives: []string{"A user who forgot a password"},
		RuleStatus: "stable", Time: events[0].Timestamp, GroupKey: "ssh-brute|x", EventIDs: []string{events[0].ID},
	}
	if err := s.WriteBatch(ctx, &Batch{Events: events, Detections: []Detection{d}}); err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}
	alerts, _, err := s.Alerts(ctx, AlertFilter{})
	if err != nil || len(alerts) != 1 {
		t.Fatalf("Alerts = %v, %v; want one alert", alerts, err)
	}
	a := alerts[0]
	if fmt.Sprint(a.Tactics, a.Techniques, a.FalsePositives, a.RuleStatus) != fmt.Sprint(d.Tactics, d.Techniques, d.FalsePositives, d.RuleStatus) {
		t.Errorf("alert rule metadata = %v %v %v %q; want %v %v %v %q", a.Tactics, a.Techniques, a.FalsePositives, a.RuleStatus,
			d.Tactics, d.Techniques, d.FalsePositives, d.RuleStatus)
	}
}

// TestMigrateAlertsWithoutRuleMeta opens a database whose alerts table was
// created before the rule_meta column existed.
func TestMigrateAlertsWithoutRuleMeta(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	events := sshEvents(t, 1)
	d := Detection{RuleID: "r", RuleName: "R", Level: "low", Time: events[0].Timestamp, GroupKey: "r|1", EventIDs: []string{events[0].ID}}
	if err := s.WriteBatch(ctx, &Batch{Events: events, Detections: []Detection{d}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.writer.Exec("ALTER TABLE alerts DROP COLUMN rule_meta"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatalf("reopen a database without rule_meta: %v", err)
	}
	defer s.Close()
	alerts, _, err := s.Alerts(ctx, AlertFilter{})
	if err != nil || len(alerts) != 1 || alerts[0].Tactics != nil {
		t.Fatalf("Alerts after migration = %+v, %v", alerts, err)
	}
}
