package sigma

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

var t0 = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// failRule is a base rule matching outcome failure, referenced by name.
const failRule = `title: failure
id: f-1
name: fail
logsource:
    product: test
    service: unit
detection:
    sel:
        event.outcome: failure
    condition: sel
level: low
`

const successRule = `title: success
id: s-1
name: success
logsource:
    product: test
    service: unit
detection:
    sel:
        event.outcome: success
    condition: sel
level: low
`

func corrRule(id, body string) string {
	return fmt.Sprintf("title: corr %s\nid: %s\nname: %s\nlevel: high\ncorrelation:\n%s\n", id, id, id, indent(body, "    "))
}

func authEvent(at time.Duration, outcome, ip string) *ecs.Event {
	ev := event(ecs.Fields{"event.outcome": outcome, "source.ip": ip})
	ev.Timestamp = t0.Add(at)
	ev.ID = fmt.Sprintf("%s-%s-%v", outcome, ip, at)
	return ev
}

func ruleIDs(ds []Detection) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.RuleID)
	}
	return out
}

func countRule(ds []Detection, id string) int {
	n := 0
	for _, d := range ds {
		if d.RuleID == id {
			n++
		}
	}
	return n
}

func TestEventCountThreshold(t *testing.T) {
	rs := mustLoad(t, failRule+"---\n"+corrRule("bf", "type: event_count\nrules: [fail]\ngroup-by: [source.ip]\ntimespan: 5m\ncondition:\n    gte: 10"), LoadOptions{})
	tests := []struct {
		name  string
		n     int
		step  time.Duration
		wantN int
	}{
		{"nine stay below", 9, time.Second, 0},
		{"ten cross", 10, time.Second, 1},
		{"twenty fire twice", 20, time.Second, 2},
		{"spread beyond window", 10, 40 * time.Second, 0},
		{"exactly the window", 11, 30 * time.Second, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var evs []*ecs.Event
			for i := 0; i < tc.n; i++ {
				evs = append(evs, authEvent(time.Duration(i)*tc.step, "failure", "203.0.113.9"))
			}
			got := run(rs, EngineOptions{}, evs...)
			if n := countRule(got, "bf"); n != tc.wantN {
				t.Errorf("correlation fired %d times, want %d (%v)", n, tc.wantN, ruleIDs(got))
			}
			if n := countRule(got, "f-1"); n != 0 {
				t.Errorf("base rule emitted %d detections, want 0 (generate is false)", n)
			}
		})
	}
}

func TestEventCountDetectionContent(t *testing.T) {
	rs := mustLoad(t, failRule+"---\n"+corrRule("bf", "type: event_count\nrules: [fail]\ngroup-by: [source.ip]\ntimespan: 5m\ncondition:\n    gte: 3"), LoadOptions{})
	var evs []*ecs.Event
	for i := 0; i < 3; i++ {
		evs = append(evs, authEvent(time.Duration(i)*time.Second, "failure", "198.51.100.7"))
		evs = append(evs, authEvent(time.Duration(i)*time.Second, "failure", "198.51.100.8"))
	}
	got := run(rs, EngineOptions{}, evs...)
	if len(got) != 2 {
		t.Fatalf("got %d detections, want one per source: %v", len(got), ruleIDs(got))
	}
	d := got[0]
	if d.GroupKey != "bf|source.ip=198.51.100.7" {
		t.Errorf("GroupKey = %q", d.GroupKey)
	}
	if d.Fields["source.ip"] != "198.51.100.7" {
		t.Errorf("Fields[source.ip] = %v", d.Fields["source.ip"])
	}
	if len(d.Events) != 3 || d.Count != 3 {
		t.Errorf("events = %d, count = %d, want 3 and 3", len(d.Events), d.Count)
	}
	if !d.Time.Equal(t0.Add(2 * time.Second)) {
		t.Errorf("Time = %v, want the third event's time", d.Time)
	}
	if len(d.Why) != 1 || !strings.Contains(d.Why[0], "event_count 3 (gte 3) within 5m0s") {
		t.Errorf("Why = %q", d.Why)
	}
}

func TestWindowEdges(t *testing.T) {
	rs := mustLoad(t, failRule+"---\n"+corrRule("bf", "type: event_count\nrules: [fail]\ngroup-by: [source.ip]\ntimespan: 1m\ncondition:\n    gte: 2"), LoadOptions{})
	tests := []struct {
		name string
		gap  time.Duration
		want int
	}{
		{"inside", 59 * time.Second, 1},
		{"on the edge counts", time.Minute, 1},
		{"one nanosecond past", time.Minute + time.Nanosecond, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(rs, EngineOptions{}, authEvent(0, "failure", "192.0.2.1"), authEvent(tc.gap, "failure", "192.0.2.1"))
			if n := countRule(got, "bf"); n != tc.want {
				t.Errorf("fired %d, want %d", n, tc.want)
			}
		})
	}
}

func TestOutOfOrderWithinLateness(t *testing.T) {
	rs := mustLoad(t, failRule+"---\n"+corrRule("bf", "type: event_count\nrules: [fail]\ngroup-by: [source.ip]\ntimespan: 1m\ncondition:\n    gte: 3"), LoadOptions{})
	// Arrival order: 0s, 100s, 30s, 50s. In event time 0s, 30s and 50s
	// fall in one minute; 100s does not.
	evs := []*ecs.Event{
		authEvent(0, "failure", "192.0.2.1"),
		authEvent(100*time.Second, "failure", "192.0.2.1"),
		authEvent(30*time.Second, "failure", "192.0.2.1"),
		authEvent(50*time.Second, "failure", "192.0.2.1"),
	}
	t.Run("within lateness", func(t *testing.T) {
		e := NewEngine(rs, EngineOptions{Lateness: 2 * time.Minute})
		var got []Detection
		emit := func(d Detection) { got = append(got, d) }
		for _, ev := range evs {
			e.Process(ev, emit)
		}
		e.Flush(emit)
		if n := countRule(got, "bf"); n != 1 {
			t.Errorf("fired %d, want 1", n)
		}
		if e.Stats().LateDropped != 0 {
			t.Errorf("LateDropped = %d, want 0", e.Stats().LateDropped)
		}
		if len(got) == 1 && !got[0].Time.Equal(t0.Add(50*time.Second)) {
			t.Errorf("Time = %v, want 50s", got[0].Time)
		}
	})
	t.Run("unbounded lateness", func(t *testing.T) {
		e := NewEngine(rs, EngineOptions{Lateness: -1})
		var got []Detection
		emit := func(d Detection) { got = append(got, d) }
		for _, ev := range evs {
			e.Process(ev, emit)
		}
		if len(got) != 0 {
			t.Errorf("%d detections before Flush, want none", len(got))
		}
		e.Flush(emit)
		if n := countRule(got, "bf"); n != 1 {
			t.Errorf("fired %d, want 1", n)
		}
	})
	t.Run("beyond lateness", func(t *testing.T) {
		e := NewEngine(rs, EngineOptions{Lateness: 10 * time.Second, Logger: quietLogger})
		var got []Detection
		emit := func(d Detection) { got = append(got, d) }
		for _, ev := range evs {
			e.Process(ev, emit)
		}
		e.Flush(emit)
		if n := countRule(got, "bf"); n != 0 {
			t.Errorf("fired %d, want 0", n)
		}
		if e.Stats().LateDropped != 2 {
			t.Errorf("LateDropped = %d, want 2", e.Stats().LateDropped)
		}
	})
}

func TestValueCount(t *testing.T) {
	flowRule := strings.ReplaceAll(failRule, "event.outcome: failure", "destination.port|exists: true")
	rs := mustLoad(t, flowRule+"---\n"+corrRule("scan", "type: value_count\nrules: [fail]\ngroup-by: [source.ip]\ntimespan: 60s\ncondition:\n    field: destination.port\n    gte: 5"), LoadOptions{})
	flow := func(at time.Duration, port int64) *ecs.Event {
		ev := event(ecs.Fields{"source.ip": "10.9.9.9", "destination.port": port})
		ev.Timestamp = t0.Add(at)
		return ev
	}
	tests := []struct {
		name  string
		ports []int64
		want  int
	}{
		{"repeated port counts once", []int64{22, 22, 22, 22, 22, 22}, 0},
		{"five distinct", []int64{22, 80, 443, 8080, 3389}, 1},
		{"four distinct", []int64{22, 80, 443, 8080, 80}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var evs []*ecs.Event
			for i, p := range tc.ports {
				evs = append(evs, flow(time.Duration(i)*time.Second, p))
			}
			got := run(rs, EngineOptions{}, evs...)
			if n := countRule(got, "scan"); n != tc.want {
				t.Errorf("fired %d, want %d", n, tc.want)
			}
		})
	}
}

func TestTemporal(t *testing.T) {
	base := failRule + "---\n" + successRule + "---\n"
	tests := []struct {
		name string
		typ  string
		evs  []*ecs.Event
		want int
	}{
		{"ordered in order", "temporal_ordered", []*ecs.Event{authEvent(0, "failure", "a"), authEvent(time.Minute, "success", "a")}, 1},
		{"ordered reversed", "temporal_ordered", []*ecs.Event{authEvent(0, "success", "a"), authEvent(time.Minute, "failure", "a")}, 0},
		{"ordered too far apart", "temporal_ordered", []*ecs.Event{authEvent(0, "failure", "a"), authEvent(11*time.Minute, "success", "a")}, 0},
		{"ordered other group", "temporal_ordered", []*ecs.Event{authEvent(0, "failure", "a"), authEvent(time.Minute, "success", "b")}, 0},
		{"unordered reversed", "temporal", []*ecs.Event{authEvent(0, "success", "a"), authEvent(time.Minute, "failure", "a")}, 1},
		{"unordered one rule", "temporal", []*ecs.Event{authEvent(0, "failure", "a"), authEvent(time.Minute, "failure", "a")}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := mustLoad(t, base+corrRule("tc", "type: "+tc.typ+"\nrules: [fail, success]\ngroup-by: [source.ip]\ntimespan: 10m"), LoadOptions{})
			got := run(rs, EngineOptions{}, tc.evs...)
			if n := countRule(got, "tc"); n != tc.want {
				t.Errorf("fired %d, want %d (%v)", n, tc.want, ruleIDs(got))
			}
		})
	}
}

func TestChainedCorrelation(t *testing.T) {
	text := failRule + "---\n" + successRule + "---\n" +
		corrRule("burst", "type: event_count\nrules: [fail]\ngroup-by: [source.ip]\ntimespan: 10m\ncondition:\n    gte: 3") + "---\n" +
		corrRule("after", "type: temporal_ordered\nrules: [burst, success]\ngroup-by: [source.ip]\ntimespan: 10m")
	rs := mustLoad(t, text, LoadOptions{})
	tests := []struct {
		name     string
		failures int
		want     int
	}{
		{"two failures then success", 2, 0},
		{"three failures then success", 3, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var evs []*ecs.Event
			for i := 0; i < tc.failures; i++ {
				evs = append(evs, authEvent(time.Duration(i)*time.Second, "failure", "a"))
			}
			evs = append(evs, authEvent(time.Minute, "success", "a"))
			got := run(rs, EngineOptions{}, evs...)
			if n := countRule(got, "after"); n != tc.want {
				t.Errorf("fired %d, want %d (%v)", n, tc.want, ruleIDs(got))
			}
			if n := countRule(got, "burst"); n != 0 {
				t.Errorf("intermediate correlation emitted %d detections, want 0", n)
			}
			if tc.want == 1 && len(got) == 1 && len(got[0].Events) != tc.failures+1 {
				t.Errorf("events = %d, want %d", len(got[0].Events), tc.failures+1)
			}
		})
	}
}

func TestUpperBoundedWindow(t *testing.T) {
	rs := mustLoad(t, successRule+"---\n"+corrRule("few", "type: event_count\nrules: [success]\ngroup-by: [source.ip]\ntimespan: 1m\ncondition:\n    gte: 2\n    lte: 3\ngenerate: true"), LoadOptions{})
	tests := []struct {
		name string
		n    int
		want int
	}{
		{"one", 1, 0},
		{"two", 2, 1},
		{"three", 3, 1},
		{"four", 4, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var evs []*ecs.Event
			for i := 0; i < tc.n; i++ {
				evs = append(evs, authEvent(time.Duration(i)*time.Second, "success", "a"))
			}
			got := run(rs, EngineOptions{}, evs...)
			if n := countRule(got, "few"); n != tc.want {
				t.Errorf("fired %d, want %d", n, tc.want)
			}
			if n := countRule(got, "s-1"); n != tc.n {
				t.Errorf("base rule emitted %d, want %d (generate: true)", n, tc.n)
			}
		})
	}
}

func TestAliases(t *testing.T) {
	text := failRule + "---\n" + strings.ReplaceAll(successRule, "event.outcome: success", "outcome: success") + "---\n" +
		corrRule("al", "type: temporal\nrules: [fail, success]\ngroup-by: [ip]\ntimespan: 10m\naliases:\n    ip:\n        fail: source.ip\n        success: client.ip")
	rs := mustLoad(t, text, LoadOptions{})
	a := authEvent(0, "failure", "10.0.0.1")
	b := event(ecs.Fields{"outcome": "success", "client.ip": "10.0.0.1"})
	b.Timestamp = t0.Add(time.Second)
	got := run(rs, EngineOptions{}, a, b)
	if n := countRule(got, "al"); n != 1 {
		t.Fatalf("fired %d, want 1", n)
	}
	if got[0].Fields["ip"] != "10.0.0.1" {
		t.Errorf("Fields[ip] = %v", got[0].Fields["ip"])
	}
}

func TestStateExpires(t *testing.T) {
	rs := mustLoad(t, failRule+"---\n"+corrRule("bf", "type: event_count\nrules: [fail]\ngroup-by: [source.ip]\ntimespan: 1m\ncondition:\n    gte: 100"), LoadOptions{})
	e := NewEngine(rs, EngineOptions{})
	emit := func(Detection) {}
	for i := 0; i < 1000; i++ {
		e.Process(authEvent(time.Duration(i)*time.Second, "failure", fmt.Sprintf("10.0.%d.%d", i/256, i%256)), emit)
	}
	if n := len(e.corr.states[rs.correlations[0]]); n > 120 {
		t.Errorf("%d groups kept after 1000 s with a 1 m window, want about 60", n)
	}
}

func TestFutureEventKeepsWatermark(t *testing.T) {
	rs := mustLoad(t, failRule+"---\n"+corrRule("bf", "type: event_count\nrules: [fail]\ngroup-by: [source.ip]\ntimespan: 5m\ncondition:\n    gte: 3"), LoadOptions{})
	now := func() time.Time { return t0.Add(time.Hour) }
	evs := []*ecs.Event{
		authEvent(0, "failure", "a"),
		authEvent(24*365*time.Hour, "failure", "b"), // a year ahead: a bad clock
		authEvent(time.Second, "failure", "a"),
		authEvent(2*time.Second, "failure", "a"),
	}
	tests := []struct {
		name       string
		opts       EngineOptions
		wantFired  int
		wantFuture uint64
	}{
		{"with clock", EngineOptions{Now: now, MaxFuture: time.Minute, Logger: quietLogger}, 1, 1},
		{"without clock", EngineOptions{Logger: quietLogger}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEngine(rs, tc.opts)
			var got []Detection
			emit := func(d Detection) { got = append(got, d) }
			for _, ev := range evs {
				e.Process(ev, emit)
			}
			e.Flush(emit)
			if n := countRule(got, "bf"); n != tc.wantFired {
				t.Errorf("fired %d, want %d", n, tc.wantFired)
			}
			if e.Stats().Future != tc.wantFuture {
				t.Errorf("Stats.Future = %d, want %d", e.Stats().Future, tc.wantFuture)
			}
		})
	}
}

func TestIdleReleasesBufferedInputs(t *testing.T) {
	rs := mustLoad(t, failRule+"---\n"+corrRule("bf", "type: event_count\nrules: [fail]\ngroup-by: [source.ip]\ntimespan: 5m\ncondition:\n    gte: 10"), LoadOptions{})
	e := NewEngine(rs, EngineOptions{Lateness: time.Minute, Logger: quietLogger})
	var got []Detection
	emit := func(d Detection) { got = append(got, d) }
	for i := 0; i < 10; i++ {
		e.Process(authEvent(time.Duration(i)*time.Second, "failure", "198.51.100.9"), emit)
	}
	if n := countRule(got, "bf"); n != 0 {
		t.Fatalf("%d detections before the lateness passed, want 0", n)
	}
	e.Idle(emit)
	if n := countRule(got, "bf"); n != 1 {
		t.Fatalf("%d detections after Idle, want 1", n)
	}
	e.Idle(emit)
	if n := countRule(got, "bf"); n != 1 {
		t.Errorf("%d detections after a second Idle, want still 1", n)
	}
	e.Process(authEvent(5*time.Second, "failure", "198.51.100.9"), emit)
	if late := e.Stats().LateDropped; late != 1 {
		t.Errorf("LateDropped = %d after an input older than the released horizon, want 1", late)
	}
}

func TestIdleWaitsWithUnboundedLateness(t *testing.T) {
	rs := mustLoad(t, failRule+"---\n"+corrRule("bf", "type: event_count\nrules: [fail]\ngroup-by: [source.ip]\ntimespan: 5m\ncondition:\n    gte: 3"), LoadOptions{})
	e := NewEngine(rs, EngineOptions{Lateness: -1})
	var got []Detection
	emit := func(d Detection) { got = append(got, d) }
	for i := 0; i < 3; i++ {
		e.Process(authEvent(time.Duration(i)*time.Second, "failure", "198.51.100.9"), emit)
	}
	e.Idle(emit)
	if len(got) != 0 {
		t.Fatalf("Idle released %d detections with unbounded lateness, want 0 until Flush", len(got))
	}
	e.Flush(emit)
	if n := countRule(got, "bf"); n != 1 {
		t.Errorf("%d detections after Flush, want 1", n)
	}
}
