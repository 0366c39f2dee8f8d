package elastic

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/sensors/logparse"
)

// bruteForce returns one detection per failed sshd login of the shared
// OpenSSH log, grouped by source address as a brute-force rule would.
func bruteForce(t *testing.T, region string) ([]*ecs.Event, []pipeline.Detection) {
	t.Helper()
	events, _ := parseFile(t, "linux/loghub/OpenSSH/OpenSSH_2k.log", logparse.FormatSyslog, 300, region)
	var ds []pipeline.Detection
	for _, ev := range events {
		ip, _ := ev.Fields["source.ip"].(string)
		if ev.Fields["event.outcome"] != "failure" || ip == "" {
			continue
		}
		ds = append(ds, pipeline.Detection{
			RuleID:   "rule-ssh-bf",
			RuleName: "SSH brute force",
			Level:    "high",
			Tags:     []string{"attack.credential_access", "attack.t1110.001", "attack.g0016"},
			Time:     ev.Timestamp,

			RuleStatus:     "stable",
			Tactics:        []ecs.Tactic{{ID: "TA0006", Name: "Credential Access"}},
			Techniques:     []string{"T1110.001"},
			FalsePositives: []string{"a user who forgot a password"},
			GroupKey:       region + "|rule-ssh-bf|" + ip,
			EventIDs:       []string{ev.ID},
			Fields:         ecs.Fields{"source.ip": ip, "host.name": ev.Fields["host.name"]},
			Region:         region,
		})
	}
	if len(ds) < 10 {
		t.Fatalf("only %d failed logins in the test data", len(ds))
	}
	return events, ds
}

func alertsOfRegion(t *testing.T, s *Store, region string) []ecs.Alert {
	t.Helper()
	refresh(t, s)
	alerts, total, err := s.Alerts(context.Background(), AlertFilter{Region: region, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if total != len(alerts) {
		t.Errorf("Alerts total %d, returned %d", total, len(alerts))
	}
	return alerts
}

func TestDetectionsFoldIntoOneAlertPerGroup(t *testing.T) {
	s, _ := newTestStore(t, nil)
	region := s.Region()
	events, ds := bruteForce(t, region)
	ctx := context.Background()
	perGroup := map[string]int{}
	for _, d := range ds {
		perGroup[d.GroupKey]++
	}
	// Two writes of half the detections each, then both halves again.
	half := len(ds) / 2
	writes := []*pipeline.Write{
		{Events: events, Detections: ds[:half]},
		{Detections: ds[half:]},
		{Events: events, Detections: ds},
	}
	for i, w := range writes {
		if err := s.WriteBatch(ctx, w); err != nil {
			t.Fatalf("WriteBatch %d: %v", i+1, err)
		}
	}
	alerts := alertsOfRegion(t, s, region)
	if len(alerts) != len(perGroup) {
		t.Fatalf("%d alerts, want one per group (%d)", len(alerts), len(perGroup))
	}
	for _, a := range alerts {
		if a.Count != perGroup[a.GroupKey] {
			t.Errorf("alert of %s counts %d, want %d (replays must not count)", a.GroupKey, a.Count, perGroup[a.GroupKey])
		}
		if a.Status != ecs.StatusOpen || a.RuleID != "rule-ssh-bf" || a.Level != "high" || a.Region != region {
			t.Errorf("alert %+v", a)
		}
		if a.LastSeen.Before(a.FirstSeen) {
			t.Errorf("alert %s last seen %s before first seen %s", a.ID, a.LastSeen, a.FirstSeen)
		}
		if len(a.EventIDs) != min(a.Count, ecs.MaxAlertEvents) {
			t.Errorf("alert %s lists %d events for count %d", a.ID, len(a.EventIDs), a.Count)
		}
	}
	// The biggest group: its alert id is derived from its first match,
	// and Alert returns its events.
	var top ecs.Alert
	for _, a := range alerts {
		if a.Count > top.Count {
			top = a
		}
	}
	var first time.Time
	for _, d := range ds {
		if d.GroupKey == top.GroupKey && (first.IsZero() || d.Time.Before(first)) {
			first = d.Time
		}
	}
	if !top.FirstSeen.Equal(first) {
		t.Errorf("first seen %s, want %s", top.FirstSeen, first)
	}
	got, evs, err := s.Alert(ctx, top.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != len(got.EventIDs) {
		t.Errorf("Alert returned %d events for %d ids", len(evs), len(got.EventIDs))
	}
	if got.Fields["source.ip"] == nil {
		t.Errorf("alert fields %v lack source.ip", got.Fields)
	}
	var doc alertDoc
	if _, _, err := s.getDoc(ctx, AlertsIndex, top.ID, &doc); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(doc.Threat.Tactic.Name, []string{"Credential Access"}) || !reflect.DeepEqual(doc.Threat.Technique.ID, []string{"T1110.001"}) {
		t.Errorf("ATT&CK fields: tactics %v techniques %v", doc.Threat.Tactic.Name, doc.Threat.Technique.ID)
	}
	if !reflect.DeepEqual(got.Tactics, []ecs.Tactic{{ID: "TA0006", Name: "Credential Access"}}) ||
		!reflect.DeepEqual(got.FalsePositives, []string{"a user who forgot a password"}) || got.RuleStatus != "stable" {
		t.Errorf("alert rule metadata: tactics %v falsepositives %v status %q", got.Tactics, got.FalsePositives, got.RuleStatus)
	}
}

func TestClosedAlertGetsSuccessor(t *testing.T) {
	s, _ := newTestStore(t, nil)
	region := s.Region()
	_, ds := bruteForce(t, region)
	key := ds[0].GroupKey
	var group []pipeline.Detection
	for _, d := range ds {
		if d.GroupKey == key {
			group = append(group, d)
		}
	}
	if len(group) < 2 {
		t.Skip("the first group has a single detection")
	}
	ctx := context.Background()
	if err := s.WriteBatch(ctx, &pipeline.Write{Detections: group[:1]}); err != nil {
		t.Fatal(err)
	}
	alerts := alertsOfRegion(t, s, region)
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(alerts))
	}
	firstID := alerts[0].ID
	if err := s.SetAlertStatus(ctx, firstID, ecs.StatusClosed, "false positive: scanner of the red team", "analyst1"); err != nil {
		t.Fatal(err)
	}
	// Replaying the counted detection must not open a new alert.
	if err := s.WriteBatch(ctx, &pipeline.Write{Detections: group}); err != nil {
		t.Fatal(err)
	}
	alerts = alertsOfRegion(t, s, region)
	if len(alerts) != 2 {
		t.Fatalf("%d alerts after closing and new matches, want 2", len(alerts))
	}
	for _, a := range alerts {
		switch a.ID {
		case firstID:
			if a.Status != ecs.StatusClosed || a.Count != 1 {
				t.Errorf("closed alert: status %s count %d", a.Status, a.Count)
			}
		default:
			if a.Status != ecs.StatusOpen || a.Count != len(group)-1 {
				t.Errorf("successor: status %s count %d, want open and %d", a.Status, a.Count, len(group)-1)
			}
		}
	}
}

func TestSetAlertStatusRecordsHistory(t *testing.T) {
	s, _ := newTestStore(t, func(o *Options) {
		o.Now = func() time.Time { return time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC) }
	})
	region := s.Region()
	_, ds := bruteForce(t, region)
	ctx := context.Background()
	if err := s.WriteBatch(ctx, &pipeline.Write{Detections: ds[:1]}); err != nil {
		t.Fatal(err)
	}
	id := alertsOfRegion(t, s, region)[0].ID
	steps := []struct {
		status  ecs.AlertStatus
		reason  string
		actor   string
		wantKey string // "" means success
	}{
		{ecs.StatusOpen, "", "analyst1", "elastic.alert.same"},
		{ecs.StatusAcknowledged, "looking", "", "elastic.alert.actor_missing"},
		{ecs.StatusAcknowledged, "looking into it", "analyst1", ""},
		{ecs.StatusOpen, "handed back", "analyst1", ""},
		{ecs.StatusClosed, "", "analyst2", "elastic.alert.reason_missing"},
		{ecs.AlertStatus(7), "x", "analyst2", "elastic.alert.status_invalid"},
		{ecs.StatusClosed, "benign: backup job", "analyst2", ""},
		{ecs.StatusOpen, "reopen", "analyst2", "elastic.alert.closed"},
	}
	for i, st := range steps {
		err := s.SetAlertStatus(ctx, id, st.status, st.reason, st.actor)
		var e *Error
		switch {
		case st.wantKey == "" && err != nil:
			t.Errorf("step %d: %v", i, err)
		case st.wantKey != "" && (!errors.As(err, &e) || e.Key != st.wantKey):
			t.Errorf("step %d: error %v, want %s", i, err, st.wantKey)
		}
	}
	hist, err := s.AlertHistory(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := []AlertChange{
		{At: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC), From: ecs.StatusOpen, To: ecs.StatusAcknowledged, Reason: "looking into it", Actor: "analyst1"},
		{At: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC), From: ecs.StatusAcknowledged, To: ecs.StatusOpen, Reason: "handed back", Actor: "analyst1"},
		{At: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC), From: ecs.StatusOpen, To: ecs.StatusClosed, Reason: "benign: backup job", Actor: "analyst2"},
	}
	if !reflect.DeepEqual(hist, want) {
		t.Errorf("history\n got %+v\nwant %+v", hist, want)
	}
	a, _, err := s.Alert(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != ecs.StatusClosed || a.Reason != "benign: backup job" {
		t.Errorf("alert status %s reason %q", a.Status, a.Reason)
	}
	if err := s.SetAlertStatus(ctx, "no-such-alert", ecs.StatusClosed, "x", "y"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown alert: %v, want ErrNotFound", err)
	}
	if _, _, err := s.Alert(ctx, "no-such-alert"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Alert of unknown id: %v, want ErrNotFound", err)
	}
}

func TestConcurrentWritersOpenOneAlert(t *testing.T) {
	s, _ := newTestStore(t, nil)
	other, _ := newTestStore(t, nil)
	region := s.Region()
	_, ds := bruteForce(t, region)
	key := ds[0].GroupKey
	var group []pipeline.Detection
	for _, d := range ds {
		if d.GroupKey == key {
			group = append(group, d)
		}
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, len(group))
	for i := range group {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := s
			if i%2 == 1 {
				st = other
			}
			errs[i] = st.WriteBatch(ctx, &pipeline.Write{Detections: group[i : i+1]})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", i, err)
		}
	}
	alerts := alertsOfRegion(t, s, region)
	if len(alerts) != 1 || alerts[0].Count != len(group) {
		t.Fatalf("alerts %+v, want one with count %d", alerts, len(group))
	}
}

// TestSameGroupTwoRegions checks that one group key in two regions of a
// cluster raises one alert per region, not one shared alert.
func TestSameGroupTwoRegions(t *testing.T) {
	s, _ := newTestStore(t, nil)
	ctx := context.Background()
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	var regions []string
	for i := range 2 {
		region := fmt.Sprintf("%s-r%d", s.Region(), i)
		regions = append(regions, region)
		d := pipeline.Detection{RuleID: "r-same", RuleName: "Same", Level: "low", Time: at,
			GroupKey: "r-same|host-a", EventIDs: []string{fmt.Sprintf("ev-%d", i)}, Region: region}
		if err := s.WriteBatch(ctx, &pipeline.Write{Detections: []pipeline.Detection{d}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, region := range regions {
		alerts := alertsOfRegion(t, s, region)
		if len(alerts) != 1 || alerts[0].Count != 1 || alerts[0].GroupKey != "r-same|host-a" {
			t.Errorf("region %s: alerts %+v, want one with count 1", region, alerts)
		}
	}
}
