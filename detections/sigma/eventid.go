package sigma

import (
	"sort"
	"strconv"
)

// eventIDField is the ECS field of Windows event ids, which routes index.
const eventIDField = "winlog.event_id"

// idSet is a set of Windows event ids; nil means "any id".
type idSet map[int64]bool

// requiredEventIDs returns the event ids a rule can match: when every way
// to satisfy the detection requires EventID to be one of a few values, the
// rule is indexed under those ids instead of the whole channel. It returns
// nil when the detection does not constrain EventID.
func requiredEventIDs(det *detection, slots []fieldSlot) idSet {
	var out idSet
	for _, c := range det.conditions {
		ids := condIDs(det, c, slots)
		if ids == nil {
			return nil
		}
		out = union(out, ids)
	}
	return out
}

func condIDs(det *detection, n *condNode, slots []fieldSlot) idSet {
	switch n.kind {
	case condRef:
		return searchIDs(det.searches[n.refs[0]], slots)
	case condOneOf:
		var out idSet
		for _, i := range n.refs {
			ids := searchIDs(det.searches[i], slots)
			if ids == nil {
				return nil
			}
			out = union(out, ids)
		}
		return out
	case condAllOf:
		var out idSet
		for _, i := range n.refs {
			out = intersect(out, searchIDs(det.searches[i], slots))
		}
		return out
	case condOr:
		var out idSet
		for _, k := range n.kids {
			ids := condIDs(det, k, slots)
			if ids == nil {
				return nil
			}
			out = union(out, ids)
		}
		return out
	case condAnd:
		var out idSet
		for _, k := range n.kids {
			out = intersect(out, condIDs(det, k, slots))
		}
		return out
	}
	// A negation constrains nothing.
	return nil
}

// searchIDs returns the ids a search requires: every group must contain
// a plain EventID item whose values are all integers.
func searchIDs(s *search, slots []fieldSlot) idSet {
	var out idSet
	for _, g := range s.groups {
		ids := groupIDs(g, slots)
		if ids == nil {
			return nil
		}
		out = union(out, ids)
	}
	return out
}

func groupIDs(g []*fieldMatcher, slots []fieldSlot) idSet {
	var out idSet
	for _, fm := range g {
		if fm.slot < 0 || fm.neq || len(slots[fm.slot].names) != 1 || slots[fm.slot].names[0] != eventIDField {
			continue
		}
		ids := idSet{}
		for _, v := range fm.values {
			id, ok := plainID(&v)
			if !ok {
				ids = nil
				break
			}
			ids[id] = true
		}
		if ids == nil {
			continue
		}
		if fm.all && len(ids) > 1 {
			// One field cannot equal two ids at once.
			return idSet{}
		}
		out = intersect(out, ids)
	}
	return out
}

// plainID returns the id of an equality value that only an event with
// that integer event id can match.
func plainID(v *valueMatcher) (int64, bool) {
	switch v.op {
	case opNumber:
		id := int64(v.num)
		return id, float64(id) == v.num
	case opEqual:
		if !isDigits(v.s) || len(v.s) > 1 && v.s[0] == '0' {
			return 0, false
		}
		id, err := strconv.ParseInt(v.s, 10, 64)
		return id, err == nil
	}
	return 0, false
}

// intersect treats nil as "any id".
func intersect(a, b idSet) idSet {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	out := idSet{}
	for id := range a {
		if b[id] {
			out[id] = true
		}
	}
	return out
}

func union(a, b idSet) idSet {
	out := idSet{}
	for id := range a {
		out[id] = true
	}
	for id := range b {
		out[id] = true
	}
	return out
}

// narrowRoute restricts a route to the rule's required event ids. It
// returns false when the route can never match.
func narrowRoute(rt *route, ids idSet) bool {
	if ids == nil {
		return true
	}
	if len(rt.eventIDs) == 0 {
		rt.eventIDs = sortedIDs(ids)
		return len(rt.eventIDs) > 0
	}
	var kept []int64
	for _, id := range rt.eventIDs {
		if ids[id] {
			kept = append(kept, id)
		}
	}
	rt.eventIDs = kept
	return len(kept) > 0
}

func sortedIDs(ids idSet) []int64 {
	out := make([]int64, 0, len(ids))
	for id := range ids {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
