package sigma

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// stateRules has one correlation of every type, a chained one and an
// upper-bounded window, so a snapshot carries every kind of state.
func stateRules(t testing.TB) *Ruleset {
	flowRule := strings.NewReplacer("f-1", "p-1", "name: fail", "name: port", "event.outcome: failure", "destination.port|exists: true").Replace(failRule)
	text := failRule + "---\n" + successRule + "---\n" + flowRule + "---\n" +
		corrRule("burst", "type: event_count\nrules: [fail]\ngroup-by: [source.ip]\ntimespan: 2m\ncondition:\n    gte: 4\ngenerate: true") + "---\n" +
		corrRule("after", "type: temporal_ordered\nrules: [burst, success]\ngroup-by: [source.ip]\ntimespan: 10m") + "---\n" +
		corrRule("both", "type: temporal\nrules: [fail, success]\ngroup-by: [source.ip]\ntimespan: 3m") + "---\n" +
		corrRule("scan", "type: value_count\nrules: [port]\ngroup-by: [source.ip]\ntimespan: 90s\ncondition:\n    field: destination.port\n    gte: 4") + "---\n" +
		corrRule("few", "type: event_count\nrules: [success]\ngroup-by: [source.ip]\ntimespan: 1m\ncondition:\n    gte: 2\n    lte: 3")
	return mustLoad(t, text, LoadOptions{})
}

// stateStream returns n events over a few source addresses, in event-time
// order except for a jitter of up to 40 s.
func stateStream(n int) []*ecs.Event {
	rng := rand.New(rand.NewPCG(1, 2))
	ips := []string{"192.0.2.1", "192.0.2.2", "198.51.100.7"}
	var evs []*ecs.Event
	for i := range n {
		at := time.Duration(i)*7*time.Second - time.Duration(rng.IntN(40))*time.Second
		ip := ips[rng.IntN(len(ips))]
		var ev *ecs.Event
		switch rng.IntN(4) {
		case 0, 1:
			ev = authEvent(at, "failure", ip)
		case 2:
			ev = authEvent(at, "success", ip)
		default:
			ev = event(ecs.Fields{"source.ip": ip, "destination.port": int64(20 + rng.IntN(8))})
			ev.Timestamp = t0.Add(at)
		}
		ev.ID = fmt.Sprintf("ev-%d", i)
		ev.SourceID, ev.Seq = "unit", uint64(i+1)
		evs = append(evs, ev)
	}
	return evs
}

func describe(ds []Detection) []string {
	var out []string
	for _, d := range ds {
		ids := make([]string, len(d.Events))
		for i, ev := range d.Events {
			ids[i] = ev.ID
		}
		out = append(out, fmt.Sprintf("%s %s %s %d %v", d.RuleID, d.Time.Format(time.TimeOnly), d.GroupKey, d.Count, ids))
	}
	return out
}

// TestSnapshotRestoreEqualsUninterrupted stops the engine after every k-th
// event, carries its state through Snapshot and RestoreState into a new
// engine (as a restart of canhgac run does), and expects exactly the
// detections of one uninterrupted engine, for live lateness and for Idle
// releases in between.
func TestSnapshotRestoreEqualsUninterrupted(t *testing.T) {
	rs := stateRules(t)
	evs := stateStream(300)
	opts := EngineOptions{Lateness: time.Minute, Logger: quietLogger}
	for _, idleEvery := range []int{0, 25} {
		runAll := func(restartEvery int) ([]string, Stats) {
			e := NewEngine(rs, opts)
			var got []Detection
			emit := func(d Detection) { got = append(got, d) }
			for i, ev := range evs {
				e.Process(ev, emit)
				if idleEvery > 0 && (i+1)%idleEvery == 0 {
					e.Idle(emit)
				}
				if restartEvery > 0 && (i+1)%restartEvery == 0 {
					data, err := e.Snapshot()
					if err != nil {
						t.Fatalf("Snapshot after %d events: %v", i+1, err)
					}
					e = NewEngine(rs, opts)
					rep, err := e.RestoreState(data)
					if err != nil || len(rep.DroppedRules) > 0 {
						t.Fatalf("RestoreState after %d events: %v, dropped %v", i+1, err, rep.DroppedRules)
					}
				}
			}
			e.Flush(emit)
			return describe(got), e.Stats()
		}
		want, wantStats := runAll(0)
		if len(want) < 20 || !slices.ContainsFunc(want, func(s string) bool { return strings.HasPrefix(s, "after ") }) ||
			!slices.ContainsFunc(want, func(s string) bool { return strings.HasPrefix(s, "scan ") }) {
			t.Fatalf("the stream raises too little to test with: %v", want)
		}
		t.Logf("idle every %d: %d detections uninterrupted", idleEvery, len(want))
		for _, every := range []int{1, 7, 50, 299} {
			got, stats := runAll(every)
			if !slices.Equal(got, want) {
				t.Errorf("idle every %d, restart every %d events: detections differ\n got %d: %v\nwant %d: %v", idleEvery, every, len(got), got, len(want), want)
			}
			if stats != wantStats {
				t.Errorf("idle every %d, restart every %d events: stats %+v, want %+v", idleEvery, every, stats, wantStats)
			}
		}
	}
}

// TestRestoreStateDropsRemovedRules restores a snapshot into an engine
// whose ruleset lost a correlation: the other correlations keep their
// state and the removed one is reported.
func TestRestoreStateDropsRemovedRules(t *testing.T) {
	full := mustLoad(t, failRule+"---\n"+successRule+"---\n"+
		corrRule("bf", "type: event_count\nrules: [fail]\ngroup-by: [source.ip]\ntimespan: 1m\ncondition:\n    gte: 3")+"---\n"+
		corrRule("both", "type: temporal\nrules: [fail, success]\ngroup-by: [source.ip]\ntimespan: 3m"), LoadOptions{})
	less := mustLoad(t, failRule+"---\n"+
		corrRule("bf", "type: event_count\nrules: [fail]\ngroup-by: [source.ip]\ntimespan: 1m\ncondition:\n    gte: 3"), LoadOptions{})
	e := NewEngine(full, EngineOptions{})
	var got []Detection
	emit := func(d Detection) { got = append(got, d) }
	e.Process(authEvent(0, "failure", "a"), emit)
	e.Process(authEvent(time.Second, "failure", "a"), emit)
	data, err := e.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	e2 := NewEngine(less, EngineOptions{})
	rep, err := e2.RestoreState(data)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.DroppedRules, []string{"both"}) {
		t.Errorf("DroppedRules = %v, want [both]", rep.DroppedRules)
	}
	e2.Process(authEvent(2*time.Second, "failure", "a"), emit)
	e2.Flush(emit)
	if n := countRule(got, "bf"); n != 1 {
		t.Errorf("bf fired %d times after the restore, want 1", n)
	}
}

func TestRestoreStateRejectsDamage(t *testing.T) {
	rs := stateRules(t)
	e := NewEngine(rs, EngineOptions{})
	for _, data := range []string{"", "{", `{"version":99}`, `{"version":1,"events":[],"items":[{"rule":"f-1","event":3}]}`, `{"version":1,"events":["x"]}`} {
		if _, err := e.RestoreState([]byte(data)); err == nil {
			t.Errorf("RestoreState(%q) accepted damaged state", data)
		}
	}
}

// FuzzRestoreState feeds damaged snapshots to RestoreState: it returns an
// error or a state the engine can go on with, and never panics.
func FuzzRestoreState(f *testing.F) {
	rs := mustLoad(f, failRule+"---\n"+successRule+"---\n"+
		corrRule("after", "type: temporal_ordered\nrules: [fail, success]\ngroup-by: [source.ip]\ntimespan: 10m")+"---\n"+
		corrRule("bf", "type: event_count\nrules: [fail]\ngroup-by: [source.ip]\ntimespan: 1m\ncondition:\n    gte: 3"), LoadOptions{})
	e := NewEngine(rs, EngineOptions{Lateness: time.Minute})
	for _, ev := range stateStream(40) {
		e.Process(ev, func(Detection) {})
	}
	data, err := e.Snapshot()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"version":1,"groups":[{"rule":"after","key":"k","chain":[{"ok":true,"last_ev":-1}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e := NewEngine(rs, EngineOptions{Lateness: time.Minute, Logger: quietLogger})
		if _, err := e.RestoreState(data); err != nil {
			return
		}
		for _, ev := range stateStream(10) {
			e.Process(ev, func(Detection) {})
		}
		e.Flush(func(Detection) {})
	})
}
