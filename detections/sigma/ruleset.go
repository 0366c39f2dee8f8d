package sigma

import (
	"strings"

	"github.com/canhgac/canhgac/ecs"
)

// Ruleset is a compiled, immutable set of rules with its routing index.
// One Ruleset may back any number of Engines, also concurrently.
type Ruleset struct {
	rules  []*Rule
	byRef  map[string]*Rule // id and name
	slots  []fieldSlot
	index  routeIndex
	memoSz int
	// correlations are the correlation rules, in load order.
	correlations []*Rule
	filters      []*Rule
}

// Rules returns the loaded rules in load order: files sorted by path,
// documents in file order.
func (rs *Ruleset) Rules() []*Rule { return rs.rules }

// Filters returns the loaded Sigma filter documents; their conditions are
// part of the rules they target.
func (rs *Ruleset) Filters() []*Rule { return rs.filters }

// Rule returns the rule with the given id or name.
func (rs *Ruleset) Rule(ref string) (*Rule, bool) {
	r, ok := rs.byRef[ref]
	return r, ok
}

// route is a compiled routeSpec of one rule.
type route struct {
	rule     *Rule
	dataset  string
	prefix   bool
	eventIDs []int64
	where    []whereClause
}

type whereClause struct {
	field  string
	values []string // lower case
}

func compileRoute(r *Rule, spec routeSpec) route {
	rt := route{rule: r, dataset: strings.ToLower(spec.Dataset), eventIDs: spec.EventIDs}
	if strings.HasSuffix(rt.dataset, "*") {
		rt.prefix = true
		rt.dataset = strings.TrimSuffix(rt.dataset, "*")
	}
	for field, values := range spec.Where {
		w := whereClause{field: field}
		for _, v := range values {
			w.values = append(w.values, strings.ToLower(v))
		}
		rt.where = append(rt.where, w)
	}
	return rt
}

// accepts checks the parts of a route that the index does not: the where
// clauses (the dataset and event id are the index keys).
func (rt *route) accepts(ev *ecs.Event) bool {
	for _, w := range rt.where {
		if !whereMatches(ev.Fields[w.field], w.values) {
			return false
		}
	}
	return true
}

func whereMatches(raw any, values []string) bool {
	check := func(s string) bool {
		for _, v := range values {
			if strings.EqualFold(s, v) {
				return true
			}
		}
		return false
	}
	switch x := raw.(type) {
	case []string:
		for _, s := range x {
			if check(s) {
				return true
			}
		}
		return false
	case []any:
		for _, el := range x {
			if s, ok := ecs.ScalarString(el); ok && check(s) {
				return true
			}
		}
		return false
	}
	s, ok := ecs.ScalarString(raw)
	return ok && check(s)
}

// bucket holds the routes of one dataset: those for any event id and those
// for specific Windows event ids.
type bucket struct {
	any  []*route
	byID map[int64][]*route
}

func (b *bucket) add(rt *route) {
	if len(rt.eventIDs) == 0 {
		b.any = append(b.any, rt)
		return
	}
	if b.byID == nil {
		b.byID = map[int64][]*route{}
	}
	for _, id := range rt.eventIDs {
		b.byID[id] = append(b.byID[id], rt)
	}
}

type prefixBucket struct {
	prefix string
	bucket
}

// routeIndex finds the routes an event can take in one map lookup per
// dataset plus a scan of the few prefix routes.
type routeIndex struct {
	exact    map[string]*bucket
	prefixes []*prefixBucket
}

func (ix *routeIndex) add(rt *route) {
	if rt.prefix {
		for _, p := range ix.prefixes {
			if p.prefix == rt.dataset {
				p.add(rt)
				return
			}
		}
		p := &prefixBucket{prefix: rt.dataset}
		p.add(rt)
		ix.prefixes = append(ix.prefixes, p)
		return
	}
	if ix.exact == nil {
		ix.exact = map[string]*bucket{}
	}
	b := ix.exact[rt.dataset]
	if b == nil {
		b = &bucket{}
		ix.exact[rt.dataset] = b
	}
	b.add(rt)
}

// eventDataset returns the dataset an event is routed by: event.dataset in
// lower case, or for Windows events without one "windows." plus the
// channel.
func eventDataset(ev *ecs.Event) string {
	if ds, ok := ev.Fields["event.dataset"].(string); ok && ds != "" {
		return strings.ToLower(ds)
	}
	if ch, ok := ev.Fields["winlog.channel"].(string); ok && ch != "" {
		return "windows." + strings.ToLower(ch)
	}
	return ""
}
