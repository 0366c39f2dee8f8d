package sigma

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// search is one compiled search identifier: an OR over groups, each group
// an AND over field items. A map compiles to one group, a list of maps to
// one group per map, a keyword list to one group with a keyword item.
type search struct {
	name   string
	groups [][]*fieldMatcher
}

// detection is a compiled detection section. A condition given as a list
// compiles to one alternative per entry; the rule matches when any does.
type detection struct {
	searches   []*search
	conditions []*condNode
	condText   []string
}

// compiler compiles the rules of one load. It owns the field slot table
// that the resulting Ruleset shares with its engines.
type compiler struct {
	slots      []fieldSlot
	slotIndex  map[string]int
	config     *config
	placeholds Placeholders
	// mapping is the field mapping of the rule being compiled.
	mapping *fieldResolver
}

// fieldSlot is a resolved field: the ECS names to try, first present wins.
type fieldSlot struct {
	names []string
}

func newCompiler(cfg *config, ph Placeholders) *compiler {
	return &compiler{slotIndex: map[string]int{}, config: cfg, placeholds: ph}
}

// slotFor resolves a Sigma field name under the current rule's logsource
// and returns its slot, sharing slots between rules.
func (c *compiler) slotFor(field string) int {
	names := c.mapping.resolve(field)
	key := strings.Join(names, "\x00")
	if i, ok := c.slotIndex[key]; ok {
		return i
	}
	c.slots = append(c.slots, fieldSlot{names: names})
	c.slotIndex[key] = len(c.slots) - 1
	return len(c.slots) - 1
}

func (c *compiler) compileDetection(r *Rule, node *yaml.Node) (*detection, *Error) {
	c.mapping = c.config.resolverFor(r.Logsource)
	det := &detection{}
	var condNode *yaml.Node
	var names []string
	for i := 0; i+1 < len(node.Content); i += 2 {
		key, val := node.Content[i].Value, node.Content[i+1]
		switch key {
		case "condition":
			condNode = resolveAlias(val)
			continue
		case "timeframe":
			// Sigma v1 used timeframe with aggregations; an aggregation
			// in the condition is rejected on its own, so a timeframe
			// alone changes nothing.
			continue
		}
		s, err := c.compileSearch(key, val)
		if err != nil {
			return nil, err
		}
		det.searches = append(det.searches, s)
		names = append(names, key)
	}
	if condNode == nil {
		return nil, newError("sigma.err.no_condition")
	}
	if len(det.searches) == 0 {
		return nil, newError("sigma.err.no_search")
	}
	conds, ok := stringsOf(condNode)
	if !ok || len(conds) == 0 {
		return nil, newError("sigma.err.field_type", "condition", phrase("sigma.phrase.string_list"))
	}
	for _, text := range conds {
		n, err := parseCondition(text, names)
		if err != nil {
			return nil, err
		}
		det.conditions = append(det.conditions, n)
		det.condText = append(det.condText, text)
	}
	return det, nil
}

func (c *compiler) compileSearch(name string, node *yaml.Node) (*search, *Error) {
	node = resolveAlias(node)
	s := &search{name: name}
	switch node.Kind {
	case yaml.MappingNode:
		g, err := c.compileGroup(name, node)
		if err != nil {
			return nil, err
		}
		s.groups = append(s.groups, g)
	case yaml.SequenceNode:
		if len(node.Content) == 0 {
			return nil, newError("sigma.err.search_shape", name, phrase("sigma.phrase.empty_list"))
		}
		maps, scalars := 0, 0
		for _, item := range node.Content {
			switch resolveAlias(item).Kind {
			case yaml.MappingNode:
				maps++
			case yaml.ScalarNode:
				scalars++
			default:
				return nil, newError("sigma.err.search_shape", name, nodeKind(item))
			}
		}
		if maps > 0 && scalars > 0 {
			return nil, newError("sigma.err.search_shape", name, phrase("sigma.phrase.mixed_list"))
		}
		if scalars > 0 {
			fm, err := c.compileKeywords(name, "", node)
			if err != nil {
				return nil, err
			}
			s.groups = append(s.groups, []*fieldMatcher{fm})
			break
		}
		for _, item := range node.Content {
			g, err := c.compileGroup(name, resolveAlias(item))
			if err != nil {
				return nil, err
			}
			s.groups = append(s.groups, g)
		}
	case yaml.ScalarNode:
		fm, err := c.compileKeywords(name, "", node)
		if err != nil {
			return nil, err
		}
		s.groups = append(s.groups, []*fieldMatcher{fm})
	default:
		return nil, newError("sigma.err.search_shape", name, nodeKind(node))
	}
	return s, nil
}

func (c *compiler) compileGroup(name string, m *yaml.Node) ([]*fieldMatcher, *Error) {
	var group []*fieldMatcher
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, val := m.Content[i].Value, m.Content[i+1]
		parts := strings.Split(key, "|")
		if parts[0] == "" {
			// "|all: [...]" and similar: keywords with modifiers.
			fm, err := c.compileKeywords(name, key, val)
			if err != nil {
				return nil, err
			}
			group = append(group, fm)
			continue
		}
		mods, err := parseModifiers(parts[1:])
		if err != nil {
			return nil, inField(name, key, err)
		}
		fm := &fieldMatcher{key: key, field: parts[0], slot: c.slotFor(parts[0]), all: mods.all, neq: mods.neq}
		if err := c.compileValues(fm, mods, val); err != nil {
			return nil, inField(name, key, err)
		}
		group = append(group, fm)
	}
	return group, nil
}

// compileKeywords compiles a keyword search. Keywords without a match
// modifier are substring searches.
func (c *compiler) compileKeywords(name, key string, node *yaml.Node) (*fieldMatcher, *Error) {
	var modNames []string
	if key != "" {
		modNames = strings.Split(key, "|")[1:]
	}
	mods, err := parseModifiers(modNames)
	if err != nil {
		return nil, inField(name, key, err)
	}
	switch mods.match {
	case "", "contains", "startswith", "endswith", "re":
	default:
		return nil, inField(name, key, newError("sigma.err.keyword_modifier", mods.match))
	}
	if mods.match == "" {
		mods.match = "contains"
	}
	fm := &fieldMatcher{key: key, slot: keywordSlot, all: mods.all, neq: mods.neq}
	if err := c.compileValues(fm, mods, node); err != nil {
		return nil, inField(name, key, err)
	}
	// A YAML number or boolean among keywords is searched as text.
	for i := range fm.values {
		v := &fm.values[i]
		if v.op == opNumber || v.op == opBool {
			*v = stringMatcher(literal(v.text), "contains", mods.cased, v.text)
		}
	}
	return fm, nil
}

// expandPlaceholders replaces each %name% in text by every value of the
// placeholder, in all combinations. Values are inserted as written, so
// they follow Sigma escaping and may hold wildcards.
func (c *compiler) expandPlaceholders(text string) ([]string, *Error) {
	out := []string{""}
	rest := text
	for {
		start := strings.IndexByte(rest, '%')
		end := -1
		if start >= 0 {
			end = strings.IndexByte(rest[start+1:], '%')
		}
		if start < 0 || end < 0 {
			for i := range out {
				out[i] += rest
			}
			return out, nil
		}
		name := rest[start+1 : start+1+end]
		values := c.placeholds[name]
		if len(values) == 0 {
			return nil, newError("sigma.err.placeholder", name)
		}
		if len(out)*len(values) > maxExpansion {
			return nil, newError("sigma.err.expansion_limit", text, len(out)*len(values), maxExpansion)
		}
		next := make([]string, 0, len(out)*len(values))
		for _, s := range out {
			for _, v := range values {
				next = append(next, s+rest[:start]+v)
			}
		}
		out = next
		rest = rest[start+end+2:]
	}
}
