package sigma

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// Detection is one alert-worthy result: a match of a rule with generate
// enabled, or a fired correlation.
//
// Tags and FalsePositives share their backing arrays with the rule, so a
// consumer must copy them before changing them.
type Detection struct {
	RuleID         string
	Title          string
	Level          string
	Tags           []string
	FalsePositives []string
	// Status is the rule's maturity (stable, test, experimental, ...).
	Status string
	// Tactics and Techniques are the ATT&CK tactics and technique ids
	// that the rule's tags name (see Attack).
	Tactics    []ecs.Tactic
	Techniques []string
	// Time is the event time of the match. For a correlation it is the
	// time of the event that made the condition true or closed the window.
	Time time.Time
	// Events are the matched event, or for a correlation its contributing
	// events, at most EngineOptions.MaxEvents of them (the most recent).
	Events []*ecs.Event
	// GroupKey is stable across replays: the rule id plus the group-by
	// values of a correlation, or plus the key entity fields of the event.
	GroupKey string
	// Fields are key fields (source.ip, user.name, host.name, ...) and,
	// for a correlation, its group-by values.
	Fields ecs.Fields
	// Why lists what matched: "search: field|modifiers: value" entries for
	// a detection rule, the aggregate for a correlation.
	Why []string
	// Count is 1 for a detection rule and the aggregate value (events,
	// distinct values, rules) for a correlation.
	Count int
}

// EngineOptions tune an Engine. The zero value is usable.
type EngineOptions struct {
	// Lateness is the event-time delay of the reorder buffer that matches
	// feeding correlations pass through. Events that arrive out of order by
	// up to Lateness are still counted in event-time order.
	// With zero, an input older than the newest event seen so far is
	// dropped. A negative Lateness holds every input until Flush and then
	// counts all of them in event-time order: the right choice for an
	// offline hunt over files in any order, at the cost of memory for all
	// matches of correlated rules.
	Lateness time.Duration
	// MaxEvents bounds Detection.Events of a correlation (default 50).
	MaxEvents int
	// MaxGroupEntries bounds the entries one correlation group keeps
	// inside its window (default 100000); beyond it the oldest are
	// dropped and counted in Stats.Truncated.
	MaxGroupEntries int
	// Now and MaxFuture protect a live pipeline from a bad clock: an event
	// time more than MaxFuture ahead of Now() does not move the watermark,
	// which would otherwise make every later input late. Such events are
	// still matched and counted in Stats.Future. Leave Now nil for offline
	// hunts, which must not depend on the wall clock.
	Now       func() time.Time
	MaxFuture time.Duration
	// Logger receives warnings about late matches; nil uses slog.Default.
	Logger *slog.Logger
}

// Stats are counters of an Engine.
type Stats struct {
	Events      uint64 // events processed
	Matches     uint64 // rule matches, including rules without generate
	Detections  uint64 // detections emitted
	LateDropped uint64 // correlation inputs older than the reorder buffer
	Truncated   uint64 // correlation entries dropped by MaxGroupEntries
	Future      uint64 // events too far ahead of Now to move the watermark
}

// Engine matches events against a Ruleset and keeps correlation state. It
// is not safe for concurrent use: run one Engine per pipeline goroutine.
type Engine struct {
	rs    *Ruleset
	opts  EngineOptions
	log   *slog.Logger
	ev    *ecs.Event
	gen   uint32
	cache []cachedValue
	memo  []uint8
	// seen marks rules evaluated for the current event (by generation).
	seen    []uint32
	matched []*Rule
	kw      []cachedValue
	kwGen   uint32
	corr    *correlator
	stats   Stats
}

// NewEngine returns an Engine for rs.
func NewEngine(rs *Ruleset, opts EngineOptions) *Engine {
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = 50
	}
	if opts.MaxGroupEntries <= 0 {
		opts.MaxGroupEntries = 100000
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	e := &Engine{
		rs:    rs,
		opts:  opts,
		log:   log,
		cache: make([]cachedValue, len(rs.slots)),
		memo:  make([]uint8, rs.memoSz),
		seen:  make([]uint32, len(rs.rules)),
	}
	e.corr = newCorrelator(e)
	return e
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats { return e.stats }

// Process matches one event and calls emit for each detection: first the
// event's own matches in rule load order, then correlations that fire.
// The engine keeps a pointer to events that feed open correlation windows,
// so the caller must not modify an event after passing it in.
func (e *Engine) Process(ev *ecs.Event, emit func(Detection)) {
	e.stats.Events++
	e.ev = ev
	e.gen++
	if e.gen == 0 {
		// The generation counter wrapped: clear the stamps once.
		for i := range e.cache {
			e.cache[i].gen = 0
		}
		for i := range e.seen {
			e.seen[i] = 0
		}
		e.kwGen = 0
		e.gen = 1
	}
	e.matched = e.matched[:0]
	ds := eventDataset(ev)
	eid, hasEID := ev.Fields.Int("winlog.event_id")
	if b := e.rs.index.exact[ds]; b != nil {
		e.tryBucket(b, eid, hasEID)
	}
	for _, p := range e.rs.index.prefixes {
		if strings.HasPrefix(ds, p.prefix) {
			e.tryBucket(&p.bucket, eid, hasEID)
		}
	}
	if len(e.matched) > 1 {
		sort.Slice(e.matched, func(i, j int) bool { return e.matched[i].index < e.matched[j].index })
	}
	for _, r := range e.matched {
		e.stats.Matches++
		if r.generate {
			e.emit(emit, e.detectionFor(r, ev))
		}
		if len(r.consumers) > 0 {
			e.corr.push(r, ev, nil, ev.Timestamp)
		}
	}
	if e.opts.Now != nil && ev.Timestamp.After(e.opts.Now().Add(e.opts.MaxFuture)) {
		e.stats.Future++
		e.corr.advance(e.corr.watermark, emit)
	} else {
		e.corr.advance(ev.Timestamp, emit)
	}
	e.ev = nil
}

func (e *Engine) tryBucket(b *bucket, eid int64, hasEID bool) {
	e.tryRoutes(b.any)
	if hasEID && b.byID != nil {
		e.tryRoutes(b.byID[eid])
	}
}

func (e *Engine) tryRoutes(routes []*route) {
	for _, rt := range routes {
		r := rt.rule
		if e.seen[r.index] == e.gen {
			continue
		}
		if !rt.accepts(e.ev) {
			continue
		}
		e.seen[r.index] = e.gen
		if e.evalRule(r) {
			e.matched = append(e.matched, r)
		}
	}
}

// Flush ends the input: it counts every buffered correlation input, closes
// open windows whose condition has an upper bound, emits what fires and
// clears all correlation state.
func (e *Engine) Flush(emit func(Detection)) {
	e.corr.flush(emit)
}

// Idle counts every buffered correlation input without waiting for newer
// events, as if the lateness had passed. A live pipeline calls it when its
// input has been quiet for a while, so a burst at the end of the traffic
// raises its alert instead of waiting for the next event; inputs older than
// the current newest event that arrive afterwards are late. Unlike Flush it
// keeps open windows and their state.
func (e *Engine) Idle(emit func(Detection)) {
	e.corr.release(emit)
}

func (e *Engine) emit(emit func(Detection), d Detection) {
	e.stats.Detections++
	emit(d)
}

// keyFields are copied from a matched event into Detection.Fields.
var keyFields = []string{
	"source.ip", "source.port", "destination.ip", "destination.port",
	"user.name", "host.name", "winlog.computer_name", "winlog.event_id",
	"process.executable", "process.command_line", "dns.question.name",
	"url.original", "event.dataset", "observer.geo.name",
}

// groupFields identify "the same thing again" for a detection rule.
var groupFields = []string{"source.ip", "user.name", "host.name", "winlog.computer_name"}

// newDetection returns a detection of r at event time t with the rule's
// metadata filled in; the caller adds the group key and key fields.
func (r *Rule) newDetection(t time.Time, events []*ecs.Event, count int) Detection {
	return Detection{
		RuleID:         r.ID,
		Title:          r.Title,
		Level:          r.Level,
		Status:         r.Status,
		Tags:           r.Tags,
		FalsePositives: r.FalsePositives,
		Tactics:        r.Tactics,
		Techniques:     r.Techniques,
		Time:           t,
		Events:         events,
		Fields:         ecs.Fields{},
		Count:          count,
	}
}

func (e *Engine) detectionFor(r *Rule, ev *ecs.Event) Detection {
	d := r.newDetection(ev.Timestamp, []*ecs.Event{ev}, 1)
	for _, f := range keyFields {
		if v, ok := ev.Fields[f]; ok && v != nil {
			d.Fields[f] = v
		}
	}
	var key strings.Builder
	key.WriteString(r.ruleKey())
	for _, f := range groupFields {
		key.WriteByte('|')
		if s, ok := ev.Fields.String(f); ok {
			key.WriteString(s)
		}
	}
	d.GroupKey = key.String()
	d.Why = e.why(r)
	return d
}

// ruleKey is the id used in group keys: the id, else the name, else the
// title.
func (r *Rule) ruleKey() string {
	switch {
	case r.ID != "":
		return r.ID
	case r.Name != "":
		return r.Name
	}
	return r.Title
}

// why lists, for a match of the current event, every search that
// evaluates true with the field items of its first matching group and the
// value that matched.
func (e *Engine) why(r *Rule) []string {
	var out []string
	for _, s := range r.detection.searches {
		for _, g := range s.groups {
			if !e.matchGroup(g) {
				continue
			}
			for _, fm := range g {
				out = append(out, fmt.Sprintf("%s: %s", s.name, e.describeMatch(fm)))
			}
			break
		}
	}
	return out
}

func (e *Engine) describeMatch(fm *fieldMatcher) string {
	key := fm.key
	if fm.slot == keywordSlot && key == "" {
		key = "keywords"
	}
	if fm.neq || fm.all {
		return key
	}
	for i := range fm.values {
		m := &fm.values[i]
		var ok bool
		if fm.slot == keywordSlot {
			for j := range e.keywordValues() {
				if e.matchScalar(m, &e.kw[j]) {
					ok = true
					break
				}
			}
		} else {
			ok = e.matchValue(m, e.value(fm.slot))
		}
		if ok {
			return fmt.Sprintf("%s: %q", key, m.text)
		}
	}
	return key
}
