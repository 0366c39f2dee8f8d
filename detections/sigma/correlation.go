package sigma

import (
	"container/heap"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"gopkg.in/yaml.v3"
)

type corrType uint8

const (
	corrEventCount corrType = iota
	corrValueCount
	corrTemporal
	corrTemporalOrdered
)

var corrTypeNames = map[string]corrType{
	"event_count": corrEventCount, "value_count": corrValueCount,
	"temporal": corrTemporal, "temporal_ordered": corrTemporalOrdered,
}

// correlation is a compiled correlation section.
type correlation struct {
	typ      corrType
	typName  string
	refNames []string
	refs     []*Rule
	groupBy  []string
	span     time.Duration
	cond     threshold
	hasCond  bool
	field    string // value_count
	generate bool
	// aliases maps an alias name to the field name per rule id or name.
	aliases map[string]map[string]string
	inputs  map[*Rule]*corrInput
}

// corrInput describes how to read group-by values (and the value_count field)
// from matches of one referenced rule.
type corrInput struct {
	steps []int // positions of the rule in refs
	// group lists per group-by entry the field slot in a base rule's
	// event, or the group-by name of an upstream correlation.
	group      []int
	groupNames []string
	value      int
	valueName  string
}

// threshold is a correlation condition: all predicates must hold.
type threshold struct {
	preds []pred
}

type pred struct {
	op string
	n  int64
}

func (t threshold) ok(n int) bool {
	for _, p := range t.preds {
		v := int64(n)
		switch p.op {
		case "gt":
			if !(v > p.n) {
				return false
			}
		case "gte":
			if !(v >= p.n) {
				return false
			}
		case "lt":
			if !(v < p.n) {
				return false
			}
		case "lte":
			if !(v <= p.n) {
				return false
			}
		case "eq":
			if v != p.n {
				return false
			}
		case "neq":
			if v == p.n {
				return false
			}
		}
	}
	return true
}

// upperBounded reports whether the condition can turn false again as more
// events arrive; such conditions are evaluated when a window closes.
func (t threshold) upperBounded() bool {
	for _, p := range t.preds {
		if p.op != "gt" && p.op != "gte" {
			return true
		}
	}
	return false
}

// closesWindows reports whether the correlation counts in windows that
// start at a group's first input and are evaluated when they end: an
// event_count or value_count with an upper-bounded condition.
func (c *correlation) closesWindows() bool {
	return (c.typ == corrEventCount || c.typ == corrValueCount) && c.cond.upperBounded()
}

func (t threshold) String() string {
	var parts []string
	for _, p := range t.preds {
		parts = append(parts, p.op+" "+strconv.FormatInt(p.n, 10))
	}
	return strings.Join(parts, " and ")
}

func parseTimespan(s string) (time.Duration, *Error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, newError("sigma.err.timespan", s)
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n <= 0 {
		return 0, newError("sigma.err.timespan", s)
	}
	var unit time.Duration
	switch s[len(s)-1] {
	case 's':
		unit = time.Second
	case 'm':
		unit = time.Minute
	case 'h':
		unit = time.Hour
	case 'd':
		unit = 24 * time.Hour
	case 'w':
		unit = 7 * 24 * time.Hour
	default:
		return 0, newError("sigma.err.timespan", s)
	}
	if n > int64(100*365*24*time.Hour/unit) {
		return 0, newError("sigma.err.timespan", s)
	}
	return time.Duration(n) * unit, nil
}

// parseCorrelation reads a correlation section; rule references are
// resolved later, when every file is loaded.
func parseCorrelation(n *yaml.Node) (*correlation, *Error) {
	c := &correlation{}
	typ := scalarOf(mapGet(n, "type"))
	if typ == "" {
		return nil, newError("sigma.err.missing", "correlation.type")
	}
	t, ok := corrTypeNames[typ]
	if !ok {
		return nil, newError("sigma.err.corr_type", typ)
	}
	c.typ, c.typName = t, typ
	rules := mapGet(n, "rules")
	if rules == nil {
		return nil, newError("sigma.err.missing", "correlation.rules")
	}
	refs, ok := stringsOf(rules)
	if !ok || len(refs) == 0 {
		return nil, newError("sigma.err.field_type", "correlation.rules", phrase("sigma.phrase.rule_refs"))
	}
	c.refNames = refs
	if g := mapGet(n, "group-by"); g != nil {
		gb, ok := stringsOf(g)
		if !ok {
			return nil, newError("sigma.err.field_type", "correlation.group-by", phrase("sigma.phrase.field_list"))
		}
		c.groupBy = gb
	}
	spanNode := mapGet(n, "timespan")
	if spanNode == nil {
		spanNode = mapGet(n, "timeframe")
	}
	if spanNode == nil {
		return nil, newError("sigma.err.missing", "correlation.timespan")
	}
	span, err := parseTimespan(scalarOf(spanNode))
	if err != nil {
		return nil, err
	}
	c.span = span
	if g := mapGet(n, "generate"); g != nil {
		b, perr := strconv.ParseBool(g.Value)
		if perr != nil || g.Kind != yaml.ScalarNode {
			return nil, newError("sigma.err.field_type", "correlation.generate", phrase("sigma.phrase.bool"))
		}
		c.generate = b
	}
	if err := c.parseCondition(mapGet(n, "condition")); err != nil {
		return nil, err
	}
	if err := c.parseAliases(mapGet(n, "aliases")); err != nil {
		return nil, err
	}
	if (c.typ == corrTemporal || c.typ == corrTemporalOrdered) && len(c.refNames) < 2 {
		return nil, newError("sigma.err.corr_temporal_rules", typ)
	}
	return c, nil
}

func (c *correlation) parseCondition(n *yaml.Node) *Error {
	if n == nil {
		if c.typ == corrEventCount || c.typ == corrValueCount {
			return newError("sigma.err.missing", "correlation.condition")
		}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return newError("sigma.err.corr_condition_map")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i].Value, n.Content[i+1]
		switch key {
		case "field":
			c.field = val.Value
		case "gt", "gte", "lt", "lte", "eq", "neq":
			v, err := strconv.ParseInt(val.Value, 10, 64)
			if err != nil || val.Kind != yaml.ScalarNode {
				return newError("sigma.err.corr_condition_int", key, val.Value)
			}
			c.cond.preds = append(c.cond.preds, pred{op: key, n: v})
		default:
			return newError("sigma.err.corr_condition_key", key)
		}
	}
	if len(c.cond.preds) == 0 {
		return newError("sigma.err.corr_condition_empty")
	}
	c.hasCond = true
	if c.typ == corrValueCount && c.field == "" {
		return newError("sigma.err.corr_field")
	}
	return nil
}

func (c *correlation) parseAliases(n *yaml.Node) *Error {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return newError("sigma.err.field_type", "correlation.aliases", phrase("sigma.phrase.map"))
	}
	c.aliases = map[string]map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, m := n.Content[i].Value, n.Content[i+1]
		if m.Kind != yaml.MappingNode {
			return newError("sigma.err.alias", name)
		}
		per := map[string]string{}
		for j := 0; j+1 < len(m.Content); j += 2 {
			per[m.Content[j].Value] = m.Content[j+1].Value
		}
		c.aliases[name] = per
	}
	return nil
}

// fieldFor returns the field name a group-by or value field has in rule r,
// after aliases.
func (c *correlation) fieldFor(name string, r *Rule) string {
	if per, ok := c.aliases[name]; ok {
		for _, ref := range []string{r.ID, r.Name} {
			if f, ok := per[ref]; ok && ref != "" {
				return f
			}
		}
	}
	return name
}

// compileInputs resolves how every referenced rule supplies group values.
func (c *correlation) compileInputs(comp *compiler) {
	c.inputs = map[*Rule]*corrInput{}
	for step, r := range c.refs {
		in := c.inputs[r]
		if in == nil {
			in = &corrInput{value: -1}
			if r.correlation == nil {
				comp.mapping = comp.config.resolverFor(r.Logsource)
			}
			for _, g := range c.groupBy {
				name := c.fieldFor(g, r)
				if r.correlation == nil {
					in.group = append(in.group, comp.slotFor(name))
				} else {
					in.group = append(in.group, -1)
				}
				in.groupNames = append(in.groupNames, name)
			}
			if c.field != "" {
				in.valueName = c.fieldFor(c.field, r)
				if r.correlation == nil {
					in.value = comp.slotFor(in.valueName)
				}
			}
			c.inputs[r] = in
		}
		in.steps = append(in.steps, step)
	}
}

// firing is the output of a correlation that feeds another correlation.
type firing struct {
	group  map[string]string
	events []*ecs.Event
}

// corrItem is a match waiting in the reorder buffer.
type corrItem struct {
	t    time.Time
	seq  uint64
	rule *Rule
	ev   *ecs.Event
	up   *firing
}

type itemHeap []corrItem

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	if !h[i].t.Equal(h[j].t) {
		return h[i].t.Before(h[j].t)
	}
	return h[i].seq < h[j].seq
}
func (h itemHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)   { *h = append(*h, x.(corrItem)) }
func (h *itemHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// entry is one counted input of a correlation group.
type entry struct {
	t      time.Time
	events []*ecs.Event
	value  string
	step   int
}

type groupState struct {
	group   map[string]string
	entries []entry
	// distinct counts values inside the window (value_count).
	distinct map[string]int
	// start is the window start of upper-bounded conditions.
	start time.Time
	// chain holds per step of temporal_ordered the latest start time of
	// an ordered chain that completed the steps up to it, with its events.
	chain []chainStep
	last  time.Time
}

type chainStep struct {
	ok     bool
	start  time.Time
	events []*ecs.Event
	lastEv *ecs.Event
}

// correlator is the correlation state of one Engine. Engine.Snapshot and
// Engine.RestoreState carry it across restarts (state.go).
type correlator struct {
	e         *Engine
	items     itemHeap
	seq       uint64
	watermark time.Time // newest event time seen
	horizon   time.Time // inputs up to here are counted; older ones are late
	started   bool
	states    map[*Rule]map[string]*groupState
	nextSweep time.Time
	minSpan   time.Duration
	lateLogs  uint64
}

func newCorrelator(e *Engine) *correlator {
	c := &correlator{e: e, states: map[*Rule]map[string]*groupState{}}
	for _, r := range e.rs.correlations {
		if c.minSpan == 0 || r.correlation.span < c.minSpan {
			c.minSpan = r.correlation.span
		}
	}
	return c
}

// push adds a match of r at event time at to the reorder buffer: a base
// rule's event, or an upstream correlation's firing.
func (c *correlator) push(r *Rule, ev *ecs.Event, up *firing, at time.Time) {
	if c.started && at.Before(c.horizon) {
		c.e.stats.LateDropped++
		c.lateLogs++
		if c.lateLogs == 1 || c.lateLogs%1000 == 0 {
			c.e.log.Warn("correlation input older than the reorder buffer dropped",
				"rule", r.ruleKey(), "event_time", at, "horizon", c.horizon,
				"lateness", c.e.opts.Lateness, "dropped_total", c.e.stats.LateDropped)
		}
		return
	}
	c.seq++
	heap.Push(&c.items, corrItem{t: at, seq: c.seq, rule: r, ev: ev, up: up})
}

// advance moves the watermark to t and counts every buffered input that is
// older than the watermark minus the lateness.
func (c *correlator) advance(t time.Time, emit func(Detection)) {
	if t.After(c.watermark) || !c.started {
		c.watermark = t
	}
	c.started = true
	if c.e.opts.Lateness < 0 {
		// Everything waits for flush; nothing is ever late.
		return
	}
	limit := c.watermark.Add(-c.e.opts.Lateness)
	if limit.After(c.horizon) {
		c.horizon = limit
	}
	c.drain(false, emit)
	if len(c.states) > 0 && !c.horizon.Before(c.nextSweep) {
		c.sweep(c.horizon, emit)
		step := c.minSpan / 2
		if step < time.Second {
			step = time.Second
		}
		c.nextSweep = c.horizon.Add(step)
	}
}

// release moves the horizon up to the watermark and counts what is
// buffered, for Engine.Idle. With an unbounded lateness (negative) inputs
// keep waiting for Flush, so release does nothing.
func (c *correlator) release(emit func(Detection)) {
	if !c.started || c.e.opts.Lateness < 0 {
		return
	}
	if c.watermark.After(c.horizon) {
		c.horizon = c.watermark
	}
	c.drain(false, emit)
}

func (c *correlator) drain(all bool, emit func(Detection)) {
	for len(c.items) > 0 {
		if !all && c.items[0].t.After(c.horizon) {
			return
		}
		it := heap.Pop(&c.items).(corrItem)
		for _, consumer := range it.rule.consumers {
			c.update(consumer, &it, emit)
		}
	}
}

// flush counts everything buffered, closes every window and resets the
// state so the engine can start a new input.
func (c *correlator) flush(emit func(Detection)) {
	c.drain(true, emit)
	// A closed window may fire into a correlation whose windows were
	// already closed, so repeat until a pass closes nothing. Each pass
	// removes the groups it closes, and firings only flow along the
	// acyclic references, so the loop ends.
	for closed := true; closed; {
		closed = false
		for _, r := range c.e.rs.correlations {
			groups := c.states[r]
			for _, key := range sortedKeys(groups) {
				st := groups[key]
				if r.correlation.closesWindows() && len(st.entries) > 0 {
					c.closeWindow(r, key, st, emit)
					closed = true
				}
			}
			c.drain(true, emit)
		}
	}
	c.states = map[*Rule]map[string]*groupState{}
	c.items = c.items[:0]
	c.started = false
	c.watermark, c.horizon, c.nextSweep = time.Time{}, time.Time{}, time.Time{}
}

func sortedKeys(m map[string]*groupState) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sweep drops groups whose entries have left the window and closes
// upper-bounded windows that ended before now.
func (c *correlator) sweep(now time.Time, emit func(Detection)) {
	for _, r := range c.e.rs.correlations {
		groups := c.states[r]
		if len(groups) == 0 {
			continue
		}
		corr := r.correlation
		for _, key := range sortedKeys(groups) {
			st := groups[key]
			if corr.closesWindows() {
				if len(st.entries) > 0 && now.Sub(st.start) > corr.span {
					c.closeWindow(r, key, st, emit)
				}
				continue
			}
			if now.Sub(st.last) > corr.span {
				delete(groups, key)
			}
		}
	}
}

func (c *correlator) groupOf(r *Rule, it *corrItem) (string, map[string]string, *corrInput) {
	corr := r.correlation
	in := corr.inputs[it.rule]
	vals := make(map[string]string, len(corr.groupBy))
	var key strings.Builder
	for i, g := range corr.groupBy {
		var v string
		if it.up != nil {
			v = it.up.group[in.groupNames[i]]
		} else {
			v = lookupString(c.e.rs.slots[in.group[i]].names, it.ev)
		}
		vals[g] = v
		if i > 0 {
			key.WriteByte(',')
		}
		key.WriteString(g)
		key.WriteByte('=')
		key.WriteString(v)
	}
	return key.String(), vals, in
}

// lookupString returns the first present of names in ev as a string; a
// list becomes its elements joined by commas.
func lookupString(names []string, ev *ecs.Event) string {
	for _, n := range names {
		raw, ok := ev.Fields[n]
		if !ok {
			continue
		}
		if s, ok := ecs.ScalarString(raw); ok {
			return s
		}
		switch l := raw.(type) {
		case []string:
			return strings.Join(l, ",")
		case []any:
			parts := make([]string, 0, len(l))
			for _, x := range l {
				s, _ := ecs.ScalarString(x)
				parts = append(parts, s)
			}
			return strings.Join(parts, ",")
		}
		return ""
	}
	return ""
}

func (c *correlator) update(r *Rule, it *corrItem, emit func(Detection)) {
	corr := r.correlation
	key, vals, in := c.groupOf(r, it)
	groups := c.states[r]
	if groups == nil {
		groups = map[string]*groupState{}
		c.states[r] = groups
	}
	st := groups[key]
	if st == nil {
		st = &groupState{group: vals}
		groups[key] = st
	}
	events := []*ecs.Event{it.ev}
	if it.up != nil {
		events = it.up.events
	}
	en := entry{t: it.t, events: events}
	if corr.typ == corrValueCount {
		if it.up != nil {
			en.value = it.up.group[in.valueName]
		} else {
			raw := c.e.rs.slots[in.value].names
			if !hasAny(raw, it.ev) {
				return
			}
			en.value = lookupString(raw, it.ev)
		}
	}
	st.last = it.t
	switch corr.typ {
	case corrEventCount, corrValueCount:
		if corr.closesWindows() {
			if len(st.entries) > 0 && it.t.Sub(st.start) > corr.span {
				c.closeWindow(r, key, st, emit)
				st = &groupState{group: vals}
				groups[key] = st
				st.last = it.t
			}
			if len(st.entries) == 0 {
				st.start = it.t
			}
			c.append(st, en, corr)
			return
		}
		c.append(st, en, corr)
		c.expire(st, it.t, corr)
		if n := st.count(corr); corr.cond.ok(n) {
			c.fire(r, key, st, n, it.t, emit)
			delete(groups, key)
		}
	case corrTemporal:
		for _, step := range in.steps {
			en.step = step
			c.append(st, en, corr)
		}
		c.expire(st, it.t, corr)
		n := st.distinctSteps()
		if (!corr.hasCond && n == len(corr.refs)) || (corr.hasCond && corr.cond.ok(n)) {
			c.fire(r, key, st, n, it.t, emit)
			delete(groups, key)
		}
	case corrTemporalOrdered:
		if st.chain == nil {
			st.chain = make([]chainStep, len(corr.refs))
		}
		for i := len(in.steps) - 1; i >= 0; i-- {
			if c.stepOrdered(st, in.steps[i], it, events, corr) {
				c.fire(r, key, st, len(corr.refs), it.t, emit)
				delete(groups, key)
				return
			}
		}
	}
}

func hasAny(names []string, ev *ecs.Event) bool {
	for _, n := range names {
		if v, ok := ev.Fields[n]; ok && v != nil {
			return true
		}
	}
	return false
}

func (c *correlator) append(st *groupState, en entry, corr *correlation) {
	st.entries = append(st.entries, en)
	if corr.typ == corrValueCount {
		if st.distinct == nil {
			st.distinct = map[string]int{}
		}
		st.distinct[en.value]++
	}
	if len(st.entries) > c.e.opts.MaxGroupEntries {
		c.dropFront(st, corr)
		c.e.stats.Truncated++
	}
}

func (c *correlator) dropFront(st *groupState, corr *correlation) {
	old := st.entries[0]
	if corr.typ == corrValueCount {
		if st.distinct[old.value]--; st.distinct[old.value] <= 0 {
			delete(st.distinct, old.value)
		}
	}
	st.entries[0] = entry{}
	st.entries = st.entries[1:]
}

// expire drops entries older than the window ending at now; the window
// includes both ends, so an entry exactly span before now still counts.
func (c *correlator) expire(st *groupState, now time.Time, corr *correlation) {
	for len(st.entries) > 0 && now.Sub(st.entries[0].t) > corr.span {
		c.dropFront(st, corr)
	}
}

func (st *groupState) count(corr *correlation) int {
	if corr.typ == corrValueCount {
		return len(st.distinct)
	}
	return len(st.entries)
}

func (st *groupState) distinctSteps() int {
	seen := map[int]bool{}
	for _, en := range st.entries {
		seen[en.step] = true
	}
	return len(seen)
}

// stepOrdered advances the ordered chains of a temporal_ordered group by
// one input at step k and reports whether the last step completed.
func (c *correlator) stepOrdered(st *groupState, k int, it *corrItem, events []*ecs.Event, corr *correlation) bool {
	for j := range st.chain {
		if st.chain[j].ok && it.t.Sub(st.chain[j].start) > corr.span {
			st.chain[j] = chainStep{}
		}
	}
	var ev *ecs.Event
	if len(events) > 0 {
		ev = events[len(events)-1]
	}
	if k == 0 {
		st.chain[0] = chainStep{ok: true, start: it.t, events: events, lastEv: ev}
	} else {
		prev := st.chain[k-1]
		if !prev.ok || (ev != nil && prev.lastEv == ev) {
			return false
		}
		cur := st.chain[k]
		if !cur.ok || prev.start.After(cur.start) {
			evs := append(append([]*ecs.Event(nil), prev.events...), events...)
			if len(evs) > c.e.opts.MaxEvents {
				evs = evs[len(evs)-c.e.opts.MaxEvents:]
			}
			st.chain[k] = chainStep{ok: true, start: prev.start, events: evs, lastEv: ev}
		}
	}
	if k == len(st.chain)-1 && st.chain[k].ok {
		st.entries = []entry{{t: it.t, events: st.chain[k].events}}
		return true
	}
	return false
}

// closeWindow evaluates an upper-bounded window that has ended and removes
// its group.
func (c *correlator) closeWindow(r *Rule, key string, st *groupState, emit func(Detection)) {
	corr := r.correlation
	n := st.count(corr)
	if corr.cond.ok(n) {
		end := st.entries[len(st.entries)-1].t
		c.fire(r, key, st, n, end, emit)
	}
	delete(c.states[r], key)
}

func (c *correlator) fire(r *Rule, key string, st *groupState, n int, t time.Time, emit func(Detection)) {
	corr := r.correlation
	var events []*ecs.Event
	for i := len(st.entries) - 1; i >= 0 && len(events) < c.e.opts.MaxEvents; i-- {
		evs := st.entries[i].events
		for j := len(evs) - 1; j >= 0 && len(events) < c.e.opts.MaxEvents; j-- {
			if evs[j] != nil {
				events = append(events, evs[j])
			}
		}
	}
	// Oldest first.
	for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
		events[i], events[j] = events[j], events[i]
	}
	c.e.stats.Matches++
	if r.generate {
		d := r.newDetection(t, events, n)
		d.GroupKey = r.ruleKey() + "|" + key
		for g, v := range st.group {
			d.Fields[g] = v
		}
		if len(events) > 0 {
			last := events[len(events)-1]
			for _, f := range keyFields {
				if _, set := d.Fields[f]; set {
					continue
				}
				if v, ok := last.Fields[f]; ok && v != nil {
					d.Fields[f] = v
				}
			}
		}
		why := fmt.Sprintf("%s %d", corr.typName, n)
		if corr.hasCond {
			why += " (" + corr.cond.String() + ")"
		}
		why += " within " + corr.span.String()
		if key != "" {
			why += "; group " + key
		}
		d.Why = []string{why}
		c.e.emit(emit, d)
	}
	if len(r.consumers) > 0 {
		c.push(r, nil, &firing{group: st.group, events: events}, t)
	}
}
