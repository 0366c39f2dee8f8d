package sigma

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// testDataset is where the conformance rules route: logsource
// {product: test, service: unit} has no table entry, so it follows the
// naming convention "test.unit".
const testDataset = "test.unit"

// ruleYAML wraps a detection section (indented by four spaces) into a rule.
func ruleYAML(id, detection string) string {
	return fmt.Sprintf(`title: test rule %s
id: %s
logsource:
    product: test
    service: unit
detection:
%s
level: low
`, id, id, indent(detection, "    "))
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// quietLogger drops the warnings of expected rejections.
var quietLogger = slog.New(slog.DiscardHandler)

// mustLoad loads YAML text and fails on any rejection.
func mustLoad(t testing.TB, text string, opts LoadOptions) *Ruleset {
	t.Helper()
	rs, rep, err := LoadBytes("test.yml", []byte(text), opts)
	if err != nil {
		t.Fatalf("LoadBytes: %v", err)
	}
	for _, r := range rep.Rejected {
		t.Fatalf("rule rejected: %s", r.Reason)
	}
	return rs
}

// event builds a test event in testDataset.
func event(fields ecs.Fields) *ecs.Event {
	f := ecs.Fields{"event.dataset": testDataset}
	for k, v := range fields {
		f[k] = v
	}
	return &ecs.Event{Timestamp: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC), Fields: f}
}

// run processes events in order and flushes, returning all detections.
func run(rs *Ruleset, opts EngineOptions, events ...*ecs.Event) []Detection {
	e := NewEngine(rs, opts)
	var out []Detection
	emit := func(d Detection) { out = append(out, d) }
	for _, ev := range events {
		e.Process(ev, emit)
	}
	e.Flush(emit)
	return out
}
