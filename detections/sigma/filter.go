package sigma

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// filterSpec is a compiled Sigma filter document: a detection that every
// targeted rule must also satisfy, so a filter usually has the form
// "not selection" and removes known false positives.
type filterSpec struct {
	// all targets every rule whose logsource the filter's logsource covers
	// ("rules: any", "rules: all" or an empty list).
	all  bool
	refs []string
	node *yaml.Node // the filter section without rules, compiled per target
}

// parseFilter checks a filter section and compiles it once under the
// filter's own logsource, so an invalid filter is rejected at load.
func (c *compiler) parseFilter(r *Rule, n *yaml.Node) (*filterSpec, *Error) {
	f := &filterSpec{}
	rules := mapGet(n, "rules")
	switch {
	case rules == nil:
		return nil, newError("sigma.err.filter_rules")
	case rules.Kind == yaml.ScalarNode:
		switch strings.ToLower(rules.Value) {
		case "any", "all":
			f.all = true
		default:
			f.refs = []string{rules.Value}
		}
	default:
		refs, ok := stringsOf(rules)
		if !ok {
			return nil, newError("sigma.err.filter_rules")
		}
		f.refs = refs
		f.all = len(refs) == 0
	}
	cond := mapGet(n, "condition")
	if cond == nil || cond.Kind != yaml.ScalarNode {
		return nil, newError("sigma.err.filter_condition")
	}
	f.node = mapWithout(n, "rules")
	if _, err := c.compileDetection(r, f.node); err != nil {
		return nil, err
	}
	return f, nil
}

// targets reports whether the filter applies to rule r: its logsource
// keys must all equal r's, and r must be listed unless the filter is for
// all rules.
func (f *filterSpec) targets(filter, r *Rule) bool {
	if r.correlation != nil || !keyOf(filter.Logsource).covers(keyOf(r.Logsource)) {
		return false
	}
	if f.all {
		return true
	}
	for _, ref := range f.refs {
		if ref != "" && (ref == r.ID || ref == r.Name) {
			return true
		}
	}
	return false
}

// applyFilters attaches every filter to the rules it targets, compiling
// the filter under the target's logsource so field names map the same way
// as in the rule. It returns notes for references that match no rule.
func applyFilters(filters, rules []*Rule, comp *compiler) []Rejection {
	var notes []Rejection
	for _, f := range filters {
		found := map[string]bool{}
		for _, r := range rules {
			if !f.filter.targets(f, r) {
				continue
			}
			found[r.ID] = true
			found[r.Name] = true
			det, err := comp.compileDetection(r, f.filter.node)
			if err != nil {
				// Field mapping cannot make a filter fail that compiled
				// under its own logsource; the note covers that changing.
				notes = append(notes, Rejection{Path: f.Path, ID: f.ID, Title: f.Title, Doc: f.Document, Err: err, Reason: err.Error()})
				continue
			}
			r.filters = append(r.filters, det)
		}
		for _, ref := range f.filter.refs {
			if !found[ref] {
				e := newError("sigma.note.filter_unmatched", ref)
				notes = append(notes, Rejection{Path: f.Path, ID: f.ID, Title: f.Title, Doc: f.Document, Err: e, Reason: e.Error()})
			}
		}
	}
	return notes
}
