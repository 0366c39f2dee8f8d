package sigma

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/canhgac/canhgac/ecs"
)

// cachedValue is one field of the current event, looked up once per event
// and shared by every rule that reads the field.
type cachedValue struct {
	gen     uint32
	present bool
	raw     any
	str     string // string form of a scalar
	isStr   bool   // str is valid
	lower   string
	lowered bool
	// pairs is the pair set of lower, filled on first use (paired).
	pairs  pairSet
	paired bool
}

func (v *cachedValue) lowerStr() string {
	if !v.lowered {
		v.lower = strings.ToLower(v.str)
		v.lowered = true
	}
	return v.lower
}

func (v *cachedValue) set(raw any, present bool) {
	v.present = present
	v.raw = raw
	v.lowered, v.paired = false, false
	v.str, v.isStr = ecs.ScalarString(raw)
}

// value returns the cached field of the current event for a slot.
func (e *Engine) value(slot int) *cachedValue {
	v := &e.cache[slot]
	if v.gen == e.gen {
		return v
	}
	v.gen = e.gen
	for _, name := range e.rs.slots[slot].names {
		if raw, ok := e.ev.Fields[name]; ok {
			v.set(raw, true)
			return v
		}
	}
	v.set(nil, false)
	return v
}

// evalRule evaluates the detection of r and of its filters against the
// current event.
func (e *Engine) evalRule(r *Rule) bool {
	if !e.evalDetection(r.detection) {
		return false
	}
	for _, f := range r.filters {
		if !e.evalDetection(f) {
			return false
		}
	}
	return true
}

func (e *Engine) evalDetection(det *detection) bool {
	memo := e.memo[:len(det.searches)]
	clear(memo)
	for _, c := range det.conditions {
		if e.evalCond(det, c, memo) {
			return true
		}
	}
	return false
}

// memo values: 0 not evaluated, 1 false, 2 true.
func (e *Engine) evalSearch(det *detection, i int, memo []uint8) bool {
	if memo[i] == 0 {
		memo[i] = 1
		if e.matchSearch(det.searches[i]) {
			memo[i] = 2
		}
	}
	return memo[i] == 2
}

func (e *Engine) evalCond(det *detection, n *condNode, memo []uint8) bool {
	switch n.kind {
	case condRef:
		return e.evalSearch(det, n.refs[0], memo)
	case condAnd:
		for _, k := range n.kids {
			if !e.evalCond(det, k, memo) {
				return false
			}
		}
		return true
	case condOr:
		for _, k := range n.kids {
			if e.evalCond(det, k, memo) {
				return true
			}
		}
		return false
	case condNot:
		return !e.evalCond(det, n.kids[0], memo)
	case condOneOf:
		for _, i := range n.refs {
			if e.evalSearch(det, i, memo) {
				return true
			}
		}
		return false
	case condAllOf:
		for _, i := range n.refs {
			if !e.evalSearch(det, i, memo) {
				return false
			}
		}
		return true
	}
	return false
}

func (e *Engine) matchSearch(s *search) bool {
	for _, g := range s.groups {
		if e.matchGroup(g) {
			return true
		}
	}
	return false
}

func (e *Engine) matchGroup(g []*fieldMatcher) bool {
	for _, fm := range g {
		if !e.matchField(fm) {
			return false
		}
	}
	return true
}

func (e *Engine) matchField(fm *fieldMatcher) bool {
	if fm.slot == keywordSlot {
		return e.matchKeywords(fm)
	}
	v := e.value(fm.slot)
	if fm.all {
		return allGroups(fm.values, func(m *valueMatcher) bool { return e.matchValue(m, v) })
	}
	for i := range fm.values {
		if e.matchValue(&fm.values[i], v) {
			return !fm.neq
		}
	}
	return fm.neq && v.present && v.raw != nil
}

// matchValue compares one rule value with a field; a list field matches
// when any element does.
func (e *Engine) matchValue(m *valueMatcher, v *cachedValue) bool {
	switch m.op {
	case opNull:
		return !v.present || v.raw == nil
	case opExists:
		return (v.present && v.raw != nil) == m.flag
	}
	if !v.present || v.raw == nil {
		return false
	}
	switch list := v.raw.(type) {
	case []string:
		for _, s := range list {
			var el cachedValue
			el.set(s, true)
			if e.matchScalar(m, &el) {
				return true
			}
		}
		return false
	case []any:
		for _, x := range list {
			var el cachedValue
			el.set(x, true)
			if el.isStr && e.matchScalar(m, &el) {
				return true
			}
		}
		return false
	}
	if !v.isStr {
		return false
	}
	return e.matchScalar(m, v)
}

func (e *Engine) matchScalar(m *valueMatcher, v *cachedValue) bool {
	switch m.op {
	case opEqual, opPrefix, opSuffix, opContains:
		s := v.str
		if !m.cased {
			s = v.lowerStr()
			if m.npairs > 0 && len(s) >= pairFilterMinLen && !v.mayContain(m) {
				return false
			}
		}
		return matchString(m.op, s, m.s)
	case opGlob:
		if m.cased {
			return globMatch(m.glob, v.str)
		}
		return globMatch(m.glob, v.lowerStr())
	case opRegex:
		return m.re.MatchString(v.str)
	case opCIDR:
		a, err := netip.ParseAddr(strings.TrimSpace(v.str))
		if err != nil {
			return false
		}
		return m.prefix.Contains(a.Unmap().WithZone(""))
	case opNumber:
		switch n := v.raw.(type) {
		case int64:
			return float64(n) == m.num
		case float64:
			return n == m.num
		case int:
			return float64(n) == m.num
		}
		if v.str == m.s {
			return true
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v.str), 64)
		return err == nil && f == m.num
	case opBool:
		if b, ok := v.raw.(bool); ok {
			return b == m.flag
		}
		b, err := strconv.ParseBool(strings.ToLower(v.str))
		return err == nil && b == m.flag
	case opCompare:
		f, ok := number(v)
		if !ok {
			return false
		}
		switch m.cmp {
		case "gt":
			return f > m.num
		case "gte":
			return f >= m.num
		case "lt":
			return f < m.num
		case "lte":
			return f <= m.num
		}
	case opFieldRef:
		other := e.value(m.ref)
		if !other.present || !other.isStr {
			return false
		}
		if m.cased {
			return matchString(m.refOp, v.str, other.str)
		}
		return matchString(m.refOp, v.lowerStr(), other.lowerStr())
	}
	return false
}

func matchString(op opKind, s, pattern string) bool {
	switch op {
	case opEqual:
		return s == pattern
	case opPrefix:
		return strings.HasPrefix(s, pattern)
	case opSuffix:
		return strings.HasSuffix(s, pattern)
	case opContains:
		return strings.Contains(s, pattern)
	}
	return false
}

func number(v *cachedValue) (float64, bool) {
	switch n := v.raw.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case int:
		return float64(n), true
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v.str), 64)
	return f, err == nil
}

// keywordFields are the fields a keyword search reads in every event.
var keywordFields = []string{"message", "event.original"}

const windowsEventData = "winlog.event_data."

// keywordValues collects, once per event, the strings keyword searches
// look at: message and event.original, plus every string in
// winlog.event_data.* for Windows events.
func (e *Engine) keywordValues() []cachedValue {
	if e.kwGen == e.gen {
		return e.kw
	}
	e.kwGen = e.gen
	e.kw = e.kw[:0]
	for _, name := range keywordFields {
		if s, ok := e.ev.Fields[name].(string); ok {
			e.kw = append(e.kw, cachedValue{present: true, raw: s, str: s, isStr: true})
		}
	}
	if _, ok := e.ev.Fields["winlog.channel"]; ok {
		for k, raw := range e.ev.Fields {
			if s, ok := raw.(string); ok && strings.HasPrefix(k, windowsEventData) {
				e.kw = append(e.kw, cachedValue{present: true, raw: s, str: s, isStr: true})
			}
		}
	}
	return e.kw
}

func (e *Engine) matchKeywords(fm *fieldMatcher) bool {
	kws := e.keywordValues()
	anyKeyword := func(m *valueMatcher) bool {
		for i := range kws {
			if e.matchScalar(m, &kws[i]) {
				return true
			}
		}
		return false
	}
	if fm.all {
		return allGroups(fm.values, anyKeyword)
	}
	for i := range fm.values {
		if anyKeyword(&fm.values[i]) {
			return true
		}
	}
	return false
}

// allGroups reports whether every written value (group) has a variant for
// which match holds.
func allGroups(values []valueMatcher, match func(*valueMatcher) bool) bool {
	if len(values) == 0 {
		return false
	}
	for i := 0; i < len(values); {
		g := values[i].group
		ok := false
		for ; i < len(values) && values[i].group == g; i++ {
			if !ok && match(&values[i]) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
