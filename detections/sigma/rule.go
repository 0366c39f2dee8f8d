package sigma

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"github.com/canhgac/canhgac/ecs"
	"gopkg.in/yaml.v3"
)

// Logsource is the logsource section of a rule. Definition is free text
// and plays no part in routing.
type Logsource struct {
	Product    string
	Category   string
	Service    string
	Definition string
}

// String returns the logsource as "product=…, category=…, service=…",
// leaving out empty keys.
func (l Logsource) String() string {
	var parts []string
	if l.Product != "" {
		parts = append(parts, "product="+l.Product)
	}
	if l.Category != "" {
		parts = append(parts, "category="+l.Category)
	}
	if l.Service != "" {
		parts = append(parts, "service="+l.Service)
	}
	if len(parts) == 0 {
		return "(empty)"
	}
	return strings.Join(parts, ", ")
}

// Rule is one loaded detection or correlation rule. The exported fields are
// the rule's metadata; the compiled matcher is private. A Rule is immutable
// after loading and shared by every Engine built from its Ruleset.
type Rule struct {
	ID             string
	Name           string
	Title          string
	Status         string
	Level          string
	Description    string
	Author         string
	Tags           []string
	FalsePositives []string
	References     []string
	// Tactics and Techniques are the ATT&CK tactics and technique ids that
	// Tags name.
	Tactics    []ecs.Tactic
	Techniques []string
	// Fields lists the rule's "fields" attribute: names worth showing to an
	// analyst, in Sigma naming.
	Fields    []string
	Logsource Logsource
	// Path is the file the rule came from and Document its 1-based
	// position among the file's YAML documents.
	Path     string
	Document int

	index       int
	detection   *detection
	correlation *correlation
	// filter is set for a Sigma filter document; filters are the filter
	// detections attached to this rule, all of which must match too.
	filter  *filterSpec
	filters []*detection
	// generate is false for a base rule whose only consumers are
	// correlations with generate: false.
	generate bool
	// consumers are the correlations that reference this rule.
	consumers []*Rule
	routes    []route
}

// IsFilter reports whether the document is a Sigma filter, which adds a
// condition to other rules and matches nothing by itself.
func (r *Rule) IsFilter() bool { return r.filter != nil }

// IsCorrelation reports whether the rule is a correlation rule.
func (r *Rule) IsCorrelation() bool { return r.correlation != nil }

// Generates reports whether matches of the rule produce detections of their
// own. It is false for base rules referenced only by correlations without
// generate: true.
func (r *Rule) Generates() bool { return r.generate }

// ref returns the rule's id, or its title when it has none, for messages.
func (r *Rule) ref() string {
	if r.ID != "" {
		return r.ID
	}
	return r.Title
}

// rawRule is a parsed YAML document before compilation.
type rawRule struct {
	rule        *Rule
	detection   *yaml.Node
	correlation *yaml.Node
	filter      *yaml.Node
}

// parseDocuments splits a YAML file into documents, applies rule collection
// actions (global, reset, repeat) and returns one rawRule or one error per
// resulting rule document.
func parseDocuments(path string, data []byte) ([]*rawRule, []docError) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var (
		out    []*rawRule
		errs   []docError
		global *yaml.Node
		prev   *yaml.Node
	)
	for doc := 1; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The decoder cannot resynchronise after a syntax error, so
			// the rest of the file is reported under this document.
			errs = append(errs, docError{doc: doc, err: newError("sigma.err.yaml", err.Error())})
			break
		}
		if len(n.Content) == 0 {
			continue
		}
		m := n.Content[0]
		if m.Kind != yaml.MappingNode {
			errs = append(errs, docError{doc: doc, err: newError("sigma.err.not_mapping")})
			continue
		}
		action := scalarOf(mapGet(m, "action"))
		switch action {
		case "global":
			global = mapWithout(m, "action")
			continue
		case "reset":
			global = nil
			continue
		case "repeat":
			if prev == nil {
				errs = append(errs, docError{doc: doc, err: newError("sigma.err.repeat_first")})
				continue
			}
			m = mergeMapping(cloneNode(prev), mapWithout(m, "action"))
		case "":
			if global != nil {
				m = mergeMapping(cloneNode(global), m)
			}
		default:
			errs = append(errs, docError{doc: doc, err: newError("sigma.err.action", action)})
			continue
		}
		prev = m
		raw, perr := parseRule(m)
		if raw != nil {
			raw.rule.Path = path
			raw.rule.Document = doc
		}
		if perr != nil {
			errs = append(errs, docError{doc: doc, id: idOf(raw), err: perr})
			continue
		}
		out = append(out, raw)
	}
	return out, errs
}

type docError struct {
	doc int
	id  string
	err *Error
}

func idOf(r *rawRule) string {
	if r == nil {
		return ""
	}
	return r.rule.ID
}

// parseRule reads the metadata of one rule document. It returns the rule
// even with an error so the rejection can name its id.
func parseRule(m *yaml.Node) (*rawRule, *Error) {
	r := &Rule{}
	raw := &rawRule{rule: r}
	var err *Error
	str := func(key string, dst *string) {
		n := mapGet(m, key)
		if n == nil || err != nil {
			return
		}
		if n.Kind != yaml.ScalarNode {
			err = newError("sigma.err.field_type", key, phrase("sigma.phrase.string"))
			return
		}
		*dst = n.Value
	}
	list := func(key string, dst *[]string) {
		n := mapGet(m, key)
		if n == nil || err != nil {
			return
		}
		v, ok := stringsOf(n)
		if !ok {
			err = newError("sigma.err.field_type", key, phrase("sigma.phrase.string_list"))
			return
		}
		*dst = v
	}
	str("id", &r.ID)
	str("name", &r.Name)
	str("title", &r.Title)
	str("status", &r.Status)
	str("level", &r.Level)
	str("description", &r.Description)
	str("author", &r.Author)
	list("tags", &r.Tags)
	list("falsepositives", &r.FalsePositives)
	list("references", &r.References)
	list("fields", &r.Fields)
	if err != nil {
		return raw, err
	}
	r.Tactics, r.Techniques = Attack(r.Tags)
	if r.Title == "" {
		return raw, newError("sigma.err.missing", "title")
	}
	raw.correlation = mapGet(m, "correlation")
	raw.detection = mapGet(m, "detection")
	raw.filter = mapGet(m, "filter")
	if raw.filter != nil && raw.detection == nil && raw.correlation == nil {
		if raw.filter.Kind != yaml.MappingNode {
			return raw, newError("sigma.err.field_type", "filter", phrase("sigma.phrase.map"))
		}
		return raw, parseLogsource(r, mapGet(m, "logsource"))
	}
	raw.filter = nil
	if raw.correlation != nil {
		if raw.correlation.Kind != yaml.MappingNode {
			return raw, newError("sigma.err.field_type", "correlation", phrase("sigma.phrase.map"))
		}
		return raw, nil
	}
	if raw.detection == nil {
		return raw, newError("sigma.err.missing", "detection")
	}
	if raw.detection.Kind != yaml.MappingNode {
		return raw, newError("sigma.err.field_type", "detection", phrase("sigma.phrase.map"))
	}
	return raw, parseLogsource(r, mapGet(m, "logsource"))
}

// parseLogsource reads the logsource section into r.Logsource.
func parseLogsource(r *Rule, ls *yaml.Node) *Error {
	if ls == nil {
		return newError("sigma.err.missing", "logsource")
	}
	if ls.Kind != yaml.MappingNode {
		return newError("sigma.err.field_type", "logsource", phrase("sigma.phrase.map"))
	}
	for _, kv := range []struct {
		key string
		dst *string
	}{
		{"product", &r.Logsource.Product}, {"category", &r.Logsource.Category},
		{"service", &r.Logsource.Service}, {"definition", &r.Logsource.Definition},
	} {
		key, dst := kv.key, kv.dst
		n := mapGet(ls, key)
		if n == nil {
			continue
		}
		if n.Kind != yaml.ScalarNode {
			return newError("sigma.err.field_type", "logsource."+key, phrase("sigma.phrase.string"))
		}
		*dst = n.Value
	}
	return nil
}

// mapGet returns the value node of key in a mapping node, or nil.
func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func mapWithout(m *yaml.Node, key string) *yaml.Node {
	c := *m
	c.Content = nil
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != key {
			c.Content = append(c.Content, m.Content[i], m.Content[i+1])
		}
	}
	return &c
}

func scalarOf(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// stringsOf accepts a scalar or a sequence of scalars.
func stringsOf(n *yaml.Node) ([]string, bool) {
	n = resolveAlias(n)
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return nil, true
		}
		return []string{n.Value}, true
	case yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for _, c := range n.Content {
			c = resolveAlias(c)
			if c.Kind != yaml.ScalarNode {
				return nil, false
			}
			out = append(out, c.Value)
		}
		return out, true
	}
	return nil, false
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func cloneNode(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	c := *n
	if len(n.Content) > 0 {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, k := range n.Content {
			c.Content[i] = cloneNode(k)
		}
	}
	return &c
}

// mergeMapping merges src into dst for rule collections: maps merge
// recursively, any other value in src replaces the one in dst.
func mergeMapping(dst, src *yaml.Node) *yaml.Node {
	for i := 0; i+1 < len(src.Content); i += 2 {
		key, val := src.Content[i], src.Content[i+1]
		found := false
		for j := 0; j+1 < len(dst.Content); j += 2 {
			if dst.Content[j].Value != key.Value {
				continue
			}
			found = true
			if dst.Content[j+1].Kind == yaml.MappingNode && val.Kind == yaml.MappingNode {
				dst.Content[j+1] = mergeMapping(dst.Content[j+1], val)
			} else {
				dst.Content[j+1] = val
			}
			break
		}
		if !found {
			dst.Content = append(dst.Content, key, val)
		}
	}
	return dst
}

// nodeKind names a YAML node kind for error messages.
func nodeKind(n *yaml.Node) *Error {
	switch n.Kind {
	case yaml.MappingNode:
		return phrase("sigma.phrase.map")
	case yaml.SequenceNode:
		return phrase("sigma.phrase.list")
	case yaml.ScalarNode:
		return newError("sigma.phrase.scalar", n.Value)
	case yaml.AliasNode:
		return phrase("sigma.phrase.alias")
	}
	return phrase("sigma.phrase.empty_node")
}
