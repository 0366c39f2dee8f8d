package sigma

import (
	"container/heap"
	"encoding/json"
	"fmt"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// stateVersion is the format version of Engine.Snapshot.
const stateVersion = 1

// engineState is the JSON form of an Engine's correlation state. Events
// are stored once in Events and referred to by index, so an event that
// feeds several windows (and the pointer identity that temporal_ordered
// relies on) survives the round trip.
type engineState struct {
	Version   int               `json:"version"`
	Seq       uint64            `json:"seq"`
	Started   bool              `json:"started"`
	Watermark time.Time         `json:"watermark"`
	Horizon   time.Time         `json:"horizon"`
	NextSweep time.Time         `json:"next_sweep"`
	Events    []json.RawMessage `json:"events"`
	Items     []itemState       `json:"items,omitempty"`
	Groups    []groupJSON       `json:"groups,omitempty"`
	Stats     Stats             `json:"stats"`
}

type itemState struct {
	T     time.Time    `json:"t"`
	Seq   uint64       `json:"seq"`
	Rule  string       `json:"rule"`
	Event int          `json:"event"` // -1 for a firing
	Up    *firingState `json:"up,omitempty"`
}

type firingState struct {
	Group  map[string]string `json:"group"`
	Events []int             `json:"events"`
}

type groupJSON struct {
	Rule    string            `json:"rule"`
	Key     string            `json:"key"`
	Group   map[string]string `json:"group"`
	Entries []entryState      `json:"entries,omitempty"`
	Start   time.Time         `json:"start"`
	Last    time.Time         `json:"last"`
	Chain   []chainState      `json:"chain,omitempty"`
}

type entryState struct {
	T      time.Time `json:"t"`
	Events []int     `json:"events"`
	Value  string    `json:"value,omitempty"`
	Step   int       `json:"step,omitempty"`
}

type chainState struct {
	OK     bool      `json:"ok"`
	Start  time.Time `json:"start"`
	Events []int     `json:"events,omitempty"`
	LastEv int       `json:"last_ev"` // -1 for none
}

// Snapshot returns the engine's correlation state (buffered inputs, open
// windows, watermark and counters) as JSON, for RestoreState in a later
// process. Call it between Process calls. The state is bounded by the
// windows and MaxGroupEntries, so the snapshot is too.
func (e *Engine) Snapshot() ([]byte, error) {
	c := e.corr
	st := engineState{
		Version: stateVersion, Seq: c.seq, Started: c.started,
		Watermark: c.watermark, Horizon: c.horizon, NextSweep: c.nextSweep,
		Stats: e.stats,
	}
	index := map[*ecs.Event]int{}
	var encErr error
	ref := func(ev *ecs.Event) int {
		if ev == nil {
			return -1
		}
		if i, ok := index[ev]; ok {
			return i
		}
		raw, err := json.Marshal(ev)
		if err != nil && encErr == nil {
			encErr = fmt.Errorf("encode event %s: %w", ev.ID, err)
		}
		index[ev] = len(st.Events)
		st.Events = append(st.Events, raw)
		return index[ev]
	}
	refs := func(evs []*ecs.Event) []int {
		out := make([]int, len(evs))
		for i, ev := range evs {
			out[i] = ref(ev)
		}
		return out
	}
	for _, it := range c.items {
		is := itemState{T: it.t, Seq: it.seq, Rule: it.rule.ruleKey(), Event: ref(it.ev)}
		if it.up != nil {
			is.Up = &firingState{Group: it.up.group, Events: refs(it.up.events)}
		}
		st.Items = append(st.Items, is)
	}
	for _, r := range e.rs.correlations {
		groups := c.states[r]
		for _, key := range sortedKeys(groups) {
			g := groups[key]
			gj := groupJSON{Rule: r.ruleKey(), Key: key, Group: g.group, Start: g.start, Last: g.last}
			for _, en := range g.entries {
				gj.Entries = append(gj.Entries, entryState{T: en.t, Events: refs(en.events), Value: en.value, Step: en.step})
			}
			for _, cs := range g.chain {
				gj.Chain = append(gj.Chain, chainState{OK: cs.ok, Start: cs.start, Events: refs(cs.events), LastEv: ref(cs.lastEv)})
			}
			st.Groups = append(st.Groups, gj)
		}
	}
	if encErr != nil {
		return nil, encErr
	}
	return json.Marshal(st)
}

// RestoreReport lists what RestoreState could not carry over.
type RestoreReport struct {
	// DroppedRules lists the rules of the snapshot that the engine's
	// ruleset no longer has as correlations or their inputs. Their state
	// was left out.
	DroppedRules []string
}

// RestoreState replaces the engine's correlation state with a snapshot
// taken by Snapshot, typically by an earlier process with the same rules.
// State of rules that are gone (or no longer correlations) is left out and
// reported. A snapshot that does not decode is an error and leaves the
// engine unchanged.
func (e *Engine) RestoreState(data []byte) (RestoreReport, error) {
	var rep RestoreReport
	var st engineState
	if err := json.Unmarshal(data, &st); err != nil {
		return rep, fmt.Errorf("decode correlation state: %w", err)
	}
	if st.Version != stateVersion {
		return rep, fmt.Errorf("correlation state has format version %d; this release reads version %d", st.Version, stateVersion)
	}
	events := make([]*ecs.Event, len(st.Events))
	for i, raw := range st.Events {
		ev := &ecs.Event{}
		if err := json.Unmarshal(raw, ev); err != nil {
			return rep, fmt.Errorf("decode event %d of the correlation state: %w", i, err)
		}
		events[i] = ev
	}
	var badRef error
	get := func(i int) *ecs.Event {
		if i < 0 {
			return nil
		}
		if i >= len(events) {
			badRef = fmt.Errorf("correlation state refers to event %d of %d", i, len(events))
			return nil
		}
		return events[i]
	}
	gets := func(idx []int) []*ecs.Event {
		out := make([]*ecs.Event, len(idx))
		for i, x := range idx {
			out[i] = get(x)
		}
		return out
	}
	byKey := map[string]*Rule{}
	for _, r := range e.rs.rules {
		byKey[r.ruleKey()] = r
	}
	dropped := map[string]bool{}
	drop := func(key string) {
		if !dropped[key] {
			dropped[key] = true
			rep.DroppedRules = append(rep.DroppedRules, key)
		}
	}
	var items itemHeap
	for _, is := range st.Items {
		r := byKey[is.Rule]
		if r == nil || len(r.consumers) == 0 {
			drop(is.Rule)
			continue
		}
		it := corrItem{t: is.T, seq: is.Seq, rule: r, ev: get(is.Event)}
		if is.Up != nil {
			it.up = &firing{group: is.Up.Group, events: gets(is.Up.Events)}
		}
		items = append(items, it)
	}
	states := map[*Rule]map[string]*groupState{}
	for _, gj := range st.Groups {
		r := byKey[gj.Rule]
		if r == nil || r.correlation == nil {
			drop(gj.Rule)
			continue
		}
		g := &groupState{group: gj.Group, start: gj.Start, last: gj.Last}
		for _, es := range gj.Entries {
			g.entries = append(g.entries, entry{t: es.T, events: gets(es.Events), value: es.Value, step: es.Step})
		}
		if r.correlation.typ == corrValueCount {
			// The distinct counts follow from the entries.
			g.distinct = map[string]int{}
			for _, en := range g.entries {
				g.distinct[en.value]++
			}
		}
		if len(gj.Chain) > 0 {
			if len(gj.Chain) != len(r.correlation.refs) {
				// The rule's steps changed: its chains no longer fit.
				drop(gj.Rule)
				continue
			}
			for _, cs := range gj.Chain {
				g.chain = append(g.chain, chainStep{ok: cs.OK, start: cs.Start, events: gets(cs.Events), lastEv: get(cs.LastEv)})
			}
		}
		if states[r] == nil {
			states[r] = map[string]*groupState{}
		}
		states[r][gj.Key] = g
	}
	if badRef != nil {
		return RestoreReport{}, badRef
	}
	heap.Init(&items)
	c := e.corr
	c.items, c.seq, c.started = items, st.Seq, st.Started
	c.watermark, c.horizon, c.nextSweep = st.Watermark, st.Horizon, st.NextSweep
	c.states = states
	e.stats = st.Stats
	return rep, nil
}

// HasState reports whether the engine holds correlation state (buffered
// inputs or open windows) that a snapshot would carry.
func (e *Engine) HasState() bool {
	if len(e.corr.items) > 0 {
		return true
	}
	for _, groups := range e.corr.states {
		if len(groups) > 0 {
			return true
		}
	}
	return false
}
