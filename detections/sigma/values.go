package sigma

import (
	"encoding/base64"
	"encoding/binary"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// opKind is the comparison of one rule value with a field.
type opKind uint8

const (
	opEqual    opKind = iota // whole string, no wildcards
	opPrefix                 // startswith without wildcards
	opSuffix                 // endswith without wildcards
	opContains               // contains without wildcards
	opGlob                   // pattern with * or ?
	opRegex                  // re
	opCIDR                   // cidr
	opNumber                 // rule value is a YAML number, plain equality
	opBool                   // rule value is a YAML boolean
	opCompare                // gt, gte, lt, lte
	opNull                   // null: field missing or null
	opExists                 // exists: true or false
	opFieldRef               // fieldref: equal to another field
)

// valueMatcher is one compiled value of a field item.
type valueMatcher struct {
	op    opKind
	cased bool
	// text is the value as written in the rule, for Why.
	text string
	// s is the literal to compare, lower-cased unless cased; for opNumber
	// it is the number as written.
	s      string
	glob   []globToken
	re     *regexp.Regexp
	prefix netip.Prefix
	num    float64
	cmp    string // gt, gte, lt, lte
	flag   bool   // the boolean of opBool and opExists
	// ref is the field slot compared by opFieldRef, refOp how.
	ref   int
	refOp opKind
	// group numbers the values as written in the rule. The variants one
	// value expands to (windash, base64offset, placeholders) share it, so
	// the all modifier requires one matching variant per written value.
	group int
	// pairs are byte pairs of s for a case-insensitive contains, checked
	// against the value's pair set before the scan (npairs of them).
	pairs  [maxPatternPairs]uint16
	npairs uint8
}

// fieldMatcher is one "field|modifiers: values" item of a selection.
type fieldMatcher struct {
	key    string // as written, with modifiers
	field  string // Sigma field name; "" for keywords
	slot   int    // field slot; keywordSlot for keyword searches
	values []valueMatcher
	all    bool // every value must match (modifier all)
	neq    bool // the field exists and no value matches
}

const keywordSlot = -1

// maxExpansion bounds the values one field item may expand to through
// windash, base64offset and placeholders.
const maxExpansion = 4096

// modifiers are the parsed modifiers of a field item.
type modifiers struct {
	match      string // "", contains, startswith, endswith, re, cidr, gt, gte, lt, lte, exists, fieldref
	names      []string
	all        bool
	cased      bool
	neq        bool
	expand     bool
	reFlags    string
	transforms []string // windash, base64, base64offset, utf16le, utf16be, utf16, wide in order
}

var matchModifiers = map[string]bool{
	"contains": true, "startswith": true, "endswith": true, "re": true, "cidr": true,
	"gt": true, "gte": true, "lt": true, "lte": true, "exists": true, "fieldref": true,
}

func parseModifiers(mods []string) (modifiers, *Error) {
	var m modifiers
	m.names = mods
	encoded := false
	for _, name := range mods {
		switch name {
		case "contains", "startswith", "endswith":
			if m.match == "fieldref" {
				// fieldref|contains compares with a part of the other field.
				m.reFlags = name
				continue
			}
			fallthrough
		case "re", "cidr", "gt", "gte", "lt", "lte", "exists", "fieldref":
			if m.match != "" {
				if name == "fieldref" && (m.match == "contains" || m.match == "startswith" || m.match == "endswith") {
					m.reFlags = m.match
					m.match = name
					continue
				}
				return m, newError("sigma.err.modifier_conflict", name, m.match)
			}
			m.match = name
		case "all":
			m.all = true
		case "cased":
			m.cased = true
		case "neq":
			m.neq = true
		case "expand":
			m.expand = true
		case "i", "ignorecase", "m", "multiline", "s", "dotall":
			if m.match != "re" {
				return m, newError("sigma.err.modifier_needs", name, phrase("sigma.phrase.re_before"))
			}
			m.reFlags += name[:1]
		case "windash":
			m.transforms = append(m.transforms, name)
		case "base64", "base64offset":
			if encoded {
				return m, newError("sigma.err.modifier_conflict", name, "base64")
			}
			encoded = true
			m.transforms = append(m.transforms, name)
		case "utf16le", "utf16be", "utf16", "wide":
			if encoded {
				return m, newError("sigma.err.modifier_needs", name, phrase("sigma.phrase.before_encoder"))
			}
			m.transforms = append(m.transforms, name)
		default:
			return m, newError("sigma.err.modifier_unknown", name)
		}
	}
	for i, t := range m.transforms {
		if (t == "utf16le" || t == "utf16be" || t == "utf16" || t == "wide") && !hasEncoder(m.transforms[i+1:]) {
			return m, newError("sigma.err.modifier_needs", t, phrase("sigma.phrase.encoder_after"))
		}
	}
	if len(m.transforms) > 0 {
		switch m.match {
		case "re", "cidr", "gt", "gte", "lt", "lte", "exists", "fieldref":
			return m, newError("sigma.err.modifier_conflict", m.transforms[0], m.match)
		}
	}
	return m, nil
}

func hasEncoder(ts []string) bool {
	for _, t := range ts {
		if t == "base64" || t == "base64offset" {
			return true
		}
	}
	return false
}

// compileValues compiles the value node of a field item under its
// modifiers.
func (c *compiler) compileValues(fm *fieldMatcher, mods modifiers, node *yaml.Node) *Error {
	node = resolveAlias(node)
	var scalars []*yaml.Node
	switch node.Kind {
	case yaml.ScalarNode:
		scalars = []*yaml.Node{node}
	case yaml.SequenceNode:
		if len(node.Content) == 0 {
			return newError("sigma.err.empty_list")
		}
		for _, n := range node.Content {
			n = resolveAlias(n)
			if n.Kind != yaml.ScalarNode {
				return newError("sigma.err.value_shape", nodeKind(n))
			}
			scalars = append(scalars, n)
		}
	default:
		return newError("sigma.err.value_shape", nodeKind(node))
	}
	// The specification forbids all on a single value, because some
	// backends cannot express it.
	if mods.all && len(scalars) < 2 {
		return newError("sigma.err.all_single")
	}
	for i, n := range scalars {
		first := len(fm.values)
		if err := c.compileScalar(fm, mods, n); err != nil {
			return err
		}
		for j := first; j < len(fm.values); j++ {
			fm.values[j].group = i
		}
		if len(fm.values) > maxExpansion {
			return newError("sigma.err.expansion_limit", n.Value, len(fm.values), maxExpansion)
		}
	}
	return nil
}

func (c *compiler) compileScalar(fm *fieldMatcher, mods modifiers, n *yaml.Node) *Error {
	text := n.Value
	isNull := n.Tag == "!!null"
	switch mods.match {
	case "exists":
		b, err := strconv.ParseBool(text)
		if err != nil || n.Tag != "!!bool" {
			return newError("sigma.err.modifier_value", "exists", text, phrase("sigma.phrase.bool"))
		}
		fm.values = append(fm.values, valueMatcher{op: opExists, flag: b, text: text})
		return nil
	case "gt", "gte", "lt", "lte":
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil {
			return newError("sigma.err.modifier_value", mods.match, text, phrase("sigma.phrase.number"))
		}
		fm.values = append(fm.values, valueMatcher{op: opCompare, cmp: mods.match, num: f, text: text})
		return nil
	case "cidr":
		p, err := parsePrefix(text)
		if err != nil {
			return newError("sigma.err.modifier_value", "cidr", text, phrase("sigma.phrase.network"))
		}
		fm.values = append(fm.values, valueMatcher{op: opCIDR, prefix: p, text: text})
		return nil
	case "re":
		expr := text
		if mods.reFlags != "" {
			expr = "(?" + mods.reFlags + ")" + expr
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return newError("sigma.err.regex", text, err.Error())
		}
		fm.values = append(fm.values, valueMatcher{op: opRegex, re: re, text: text})
		return nil
	case "fieldref":
		refOp := opEqual
		switch mods.reFlags {
		case "contains":
			refOp = opContains
		case "startswith":
			refOp = opPrefix
		case "endswith":
			refOp = opSuffix
		}
		fm.values = append(fm.values, valueMatcher{op: opFieldRef, ref: c.slotFor(text), refOp: refOp, cased: mods.cased, text: text})
		return nil
	}
	if isNull {
		fm.values = append(fm.values, valueMatcher{op: opNull, text: "null"})
		return nil
	}
	plain := mods.match == "" && len(mods.transforms) == 0 && !mods.expand
	if plain && n.Tag == "!!bool" {
		b, _ := strconv.ParseBool(text)
		fm.values = append(fm.values, valueMatcher{op: opBool, flag: b, text: text})
		return nil
	}
	if plain && (n.Tag == "!!int" || n.Tag == "!!float") {
		f, err := parseNumber(text)
		if err == nil {
			fm.values = append(fm.values, valueMatcher{op: opNumber, num: f, s: text, text: text})
			return nil
		}
	}
	raws := []string{text}
	if mods.expand {
		var err *Error
		raws, err = c.expandPlaceholders(text)
		if err != nil {
			return err
		}
	}
	for _, raw := range raws {
		variants := []sigmaString{parseSigmaString(raw)}
		cased := mods.cased
		for _, t := range mods.transforms {
			var err *Error
			variants, err = applyTransform(t, variants, raw)
			if err != nil {
				return err
			}
			if t == "base64" || t == "base64offset" {
				cased = true
			}
			if len(variants) > maxExpansion {
				return newError("sigma.err.expansion_limit", raw, len(variants), maxExpansion)
			}
		}
		for _, v := range variants {
			fm.values = append(fm.values, stringMatcher(v, mods.match, cased, text))
		}
	}
	return nil
}

func parseNumber(text string) (float64, error) {
	if i, err := strconv.ParseInt(text, 0, 64); err == nil {
		return float64(i), nil
	}
	return strconv.ParseFloat(text, 64)
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return p, err
	}
	return p.Masked(), nil
}

// sigmaString is a Sigma string value after escape processing: runes with
// a parallel flag that marks the wildcards * and ?.
type sigmaString struct {
	runes []rune
	wild  []bool
}

// parseSigmaString applies Sigma escaping: \* \? and \\ are literal, any
// other backslash is kept as it is.
func parseSigmaString(raw string) sigmaString {
	var s sigmaString
	rs := []rune(raw)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == '\\' && i+1 < len(rs) && (rs[i+1] == '*' || rs[i+1] == '?' || rs[i+1] == '\\') {
			s.runes = append(s.runes, rs[i+1])
			s.wild = append(s.wild, false)
			i++
			continue
		}
		s.runes = append(s.runes, r)
		s.wild = append(s.wild, r == '*' || r == '?')
	}
	return s
}

func (s sigmaString) hasWildcards() bool {
	for _, w := range s.wild {
		if w {
			return true
		}
	}
	return false
}

func literal(text string) sigmaString {
	rs := []rune(text)
	return sigmaString{runes: rs, wild: make([]bool, len(rs))}
}

func applyTransform(name string, in []sigmaString, raw string) ([]sigmaString, *Error) {
	var out []sigmaString
	switch name {
	case "windash":
		for _, s := range in {
			out = append(out, windashVariants(s)...)
			if len(out) > maxExpansion {
				return nil, newError("sigma.err.expansion_limit", raw, len(out), maxExpansion)
			}
		}
	case "utf16le", "wide", "utf16be", "utf16", "base64", "base64offset":
		for _, s := range in {
			if s.hasWildcards() {
				return nil, newError("sigma.err.wildcard_encode", raw, name)
			}
			for _, b := range encodeBytes(name, s.bytes()) {
				out = append(out, fromBytes(b))
			}
		}
	}
	return out, nil
}

// bytes returns the literal's bytes. Runes below 0x100 that were produced
// by fromBytes stand for single bytes, so encodings chain without UTF-8
// re-encoding; other runes are UTF-8 encoded.
func (s sigmaString) bytes() []byte {
	out := make([]byte, 0, len(s.runes))
	for _, r := range s.runes {
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
			continue
		}
		if r >= byteRuneBase && r < byteRuneBase+0x100 {
			out = append(out, byte(r-byteRuneBase))
			continue
		}
		out = utf8.AppendRune(out, r)
	}
	return out
}

// byteRuneBase marks raw non-ASCII bytes inside a sigmaString, in a Unicode
// private use area that rule text does not contain.
const byteRuneBase = 0xF0000

func fromBytes(b []byte) sigmaString {
	s := sigmaString{runes: make([]rune, len(b)), wild: make([]bool, len(b))}
	for i, c := range b {
		if c < utf8.RuneSelf {
			s.runes[i] = rune(c)
		} else {
			s.runes[i] = byteRuneBase + rune(c)
		}
	}
	return s
}

// text returns the string to compare with event values.
func (s sigmaString) text() string {
	return string(s.bytes())
}

func encodeBytes(name string, b []byte) [][]byte {
	switch name {
	case "utf16le", "wide":
		return [][]byte{utf16Bytes(b, binary.LittleEndian, false)}
	case "utf16be":
		return [][]byte{utf16Bytes(b, binary.BigEndian, false)}
	case "utf16":
		return [][]byte{utf16Bytes(b, binary.LittleEndian, true)}
	case "base64":
		return [][]byte{[]byte(base64.StdEncoding.EncodeToString(b))}
	case "base64offset":
		return base64Offsets(b)
	}
	return [][]byte{b}
}

func utf16Bytes(b []byte, order binary.AppendByteOrder, bom bool) []byte {
	units := utf16.Encode([]rune(string(b)))
	out := make([]byte, 0, 2*len(units)+2)
	if bom {
		out = order.AppendUint16(out, 0xFEFF)
	}
	for _, u := range units {
		out = order.AppendUint16(out, u)
	}
	return out
}

// base64Offsets returns the three encodings of b that appear inside any
// base64 text containing b, for b starting at offset 0, 1 or 2 modulo 3:
// the characters influenced by neighbouring bytes are cut off.
func base64Offsets(b []byte) [][]byte {
	starts := [3]int{0, 2, 3}
	var out [][]byte
	for i := 0; i < 3; i++ {
		padded := append(make([]byte, i), b...)
		for j := 0; j < i; j++ {
			padded[j] = ' '
		}
		enc := base64.StdEncoding.EncodeToString(padded)
		end := len(enc)
		switch (len(b) + i) % 3 {
		case 1:
			end -= 3
		case 2:
			end -= 2
		}
		if starts[i] >= end {
			continue
		}
		out = append(out, []byte(enc[starts[i]:end]))
	}
	return out
}

// windashVariants replaces every '-' or '/' that starts a command-line
// option (not preceded by a word character, followed by one) by each of
// '-', '/', en dash, em dash and horizontal bar, in all combinations.
func windashVariants(s sigmaString) []sigmaString {
	var pos []int
	for i, r := range s.runes {
		if s.wild[i] || (r != '-' && r != '/') {
			continue
		}
		prevWord := i > 0 && !s.wild[i-1] && isWordRune(s.runes[i-1])
		nextWord := i+1 < len(s.runes) && !s.wild[i+1] && isWordRune(s.runes[i+1])
		if !prevWord && nextWord {
			pos = append(pos, i)
		}
	}
	if len(pos) == 0 {
		return []sigmaString{s}
	}
	dashes := []rune{'-', '/', '\u2013', '\u2014', '\u2015'}
	total := 1
	for range pos {
		total *= len(dashes)
		if total > maxExpansion {
			break
		}
	}
	out := make([]sigmaString, 0, min(total, maxExpansion+1))
	for n := 0; n < total && n <= maxExpansion; n++ {
		v := sigmaString{runes: append([]rune(nil), s.runes...), wild: s.wild}
		k := n
		for _, p := range pos {
			v.runes[p] = dashes[k%len(dashes)]
			k /= len(dashes)
		}
		out = append(out, v)
	}
	return out
}

func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// stringMatcher builds the matcher for one string value under a match
// modifier ("", contains, startswith, endswith).
func stringMatcher(s sigmaString, match string, cased bool, text string) valueMatcher {
	fold := func(x string) string {
		if cased {
			return x
		}
		return strings.ToLower(x)
	}
	if !s.hasWildcards() {
		op := opEqual
		switch match {
		case "contains":
			op = opContains
		case "startswith":
			op = opPrefix
		case "endswith":
			op = opSuffix
		}
		m := valueMatcher{op: op, s: fold(s.text()), cased: cased, text: text}
		if op == opContains && !cased {
			m.pairs, m.npairs = patternPairs(m.s)
		}
		return m
	}
	var toks []globToken
	if match == "contains" || match == "endswith" {
		toks = append(toks, globToken{kind: globStar})
	}
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			toks = append(toks, globToken{kind: globLiteral, lit: fold(string(lit))})
			lit = lit[:0]
		}
	}
	for i, r := range s.runes {
		if !s.wild[i] {
			lit = append(lit, sigmaString{runes: []rune{r}, wild: []bool{false}}.bytes()...)
			continue
		}
		flush()
		if r == '*' {
			if len(toks) == 0 || toks[len(toks)-1].kind != globStar {
				toks = append(toks, globToken{kind: globStar})
			}
		} else {
			toks = append(toks, globToken{kind: globOne})
		}
	}
	flush()
	if (match == "contains" || match == "startswith") && toks[len(toks)-1].kind != globStar {
		toks = append(toks, globToken{kind: globStar})
	}
	return valueMatcher{op: opGlob, glob: toks, cased: cased, text: text}
}
