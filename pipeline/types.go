package pipeline

import (
	"context"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// Batch is a group of events that one source read in order.
type Batch struct {
	// SourceID names the source, for metrics and gap accounting.
	SourceID string
	// Events are the parsed events, in source order.
	Events []*ecs.Event
	// DeadLetters are inputs of the same range that could not be parsed.
	DeadLetters []DeadLetter
	// Commit, when set, is called once the store has durably written the
	// batch. Commits run in the order the batches were submitted.
	Commit func()
}

// DeadLetter is an input that could not be parsed, kept whole with the
// reason so an analyst can see and replay it.
type DeadLetter struct {
	// Time is when the pipeline received the input.
	Time time.Time
	// SourceID and Offset locate the input (Offset is -1 when the source
	// has no positions).
	SourceID string
	Offset   int64
	// Raw is the input exactly as read.
	Raw []byte
	// Reason is why parsing failed.
	Reason string
}

// Detection is one rule match on its way to the store, which folds
// detections with the same GroupKey into one open alert.
type Detection struct {
	RuleID   string
	RuleName string
	Level    string
	Tags     []string
	// RuleStatus is the rule's maturity (stable, test, experimental).
	RuleStatus string
	// Tactics and Techniques are the ATT&CK tactics and technique ids
	// that the rule's tags name.
	Tactics    []ecs.Tactic
	Techniques []string
	// FalsePositives are the rule's notes on harmless causes of a match.
	FalsePositives []string
	// Time is the event time of the match.
	Time time.Time
	// GroupKey identifies "the same thing happening again".
	GroupKey string
	// EventIDs are the ids of the matching events.
	EventIDs []string
	// Fields are the key fields of the matching event.
	Fields ecs.Fields
	// Region is observer.geo.name of the matching event.
	Region string
}

// Write is the unit of work the pipeline hands the store in one call.
type Write struct {
	Events      []*ecs.Event
	DeadLetters []DeadLetter
	Detections  []Detection
}

// Store is the destination of the pipeline. WriteBatch must be atomic and
// durable when it returns nil, and idempotent by event id: writing the same
// events again stores nothing twice.
type Store interface {
	WriteBatch(ctx context.Context, w *Write) error
}

// ConcurrentStore is a Store that gains from several writes of one
// pipeline at a time, such as a cluster that indexes requests in
// parallel. The pipeline keeps up to WritesInFlight writes going and
// still commits and saves detection state in input order. A Store
// without it gets one write at a time.
type ConcurrentStore interface {
	Store
	WritesInFlight() int
}

// Detector runs the detection rules. It is called from one goroutine only.
type Detector interface {
	// Detect matches one event and calls emit for each detection, which
	// may concern earlier events too (correlation rules).
	Detect(ev *ecs.Event, emit func(Detection))
}

// IdleDetector is a Detector that holds matches back (correlation inputs
// waiting for late events) and can release them. The pipeline calls Idle
// when no batch has come for Options.IdleAfter and when it drains at Close,
// so the last detections of a burst reach the store without waiting for
// more traffic.
type IdleDetector interface {
	Detector
	Idle(emit func(Detection))
}

// StatefulDetector is a Detector whose state (open correlation windows)
// must survive a restart. The pipeline takes a snapshot between batches and
// hands it to Options.SaveState once the store holds every event the
// snapshot has seen; only then does it commit those batches. After a crash
// the sources resume at or before the snapshot, never after it.
type StatefulDetector interface {
	Detector
	// Snapshot returns the detector's state after the events passed so far.
	Snapshot() ([]byte, error)
}
