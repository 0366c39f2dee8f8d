package kql

import (
	"strings"
)

// Node is one node of a parsed KQL query. The concrete types are MatchAll,
// And, Or, Not, Exists, Is and Range. Backends switch on the type.
type Node interface {
	// String returns the node as canonical KQL text; Parse of that text
	// returns an equal tree.
	String() string
	isNode()
}

// MatchAll matches every event. An empty query and a lone "*" parse to it.
type MatchAll struct{}

// And matches when every term matches.
type And struct{ Terms []Node }

// Or matches when at least one term matches.
type Or struct{ Terms []Node }

// Not matches when Term does not match.
type Not struct{ Term Node }

// Exists matches events that have a non-null value in Field (`field:*`).
// Field may contain '*' wildcards.
type Exists struct{ Field string }

// Is compares Field with Value (`field:value`). An empty Field is free text,
// searched in every keyword and text field (see FieldType). Field may
// contain '*' wildcards, which select every matching field name.
type Is struct {
	Field string
	Value Value
}

// Range compares Field with Value using Op (`field >= value`).
type Range struct {
	Field string
	Op    RangeOp
	Value Value
}

func (MatchAll) isNode() {}
func (*And) isNode()     {}
func (*Or) isNode()      {}
func (*Not) isNode()     {}
func (*Exists) isNode()  {}
func (*Is) isNode()      {}
func (*Range) isNode()   {}

// RangeOp is a comparison operator of a Range node.
type RangeOp int

// The range operators.
const (
	Less RangeOp = iota
	LessOrEqual
	Greater
	GreaterOrEqual
)

var rangeOpNames = [...]string{"<", "<=", ">", ">="}

// String returns the operator as written in KQL.
func (op RangeOp) String() string {
	if int(op) < len(rangeOpNames) {
		return rangeOpNames[op]
	}
	return "?"
}

// Value is a literal of a query. Text is the unescaped text. A value with
// unescaped '*' wildcards has Parts set to the literal pieces between the
// wildcards (so "adm*" has Parts ["adm", ""]); Parts is nil otherwise, and
// a '*' inside Text is then a literal star.
type Value struct {
	Text string
	// Quoted is set for "quoted phrases": on text fields they match the
	// words in order, and they never contain wildcards.
	Quoted bool
	Parts  []string
}

// Wildcard reports whether the value contains '*' wildcards.
func (v Value) Wildcard() bool { return v.Parts != nil }

// IsFieldPattern reports whether a field name contains '*' wildcards and so
// selects every field whose name matches.
func IsFieldPattern(field string) bool { return strings.Contains(field, "*") }

// String returns the value as KQL text, quoted or escaped as needed.
func (v Value) String() string {
	if v.Quoted {
		return quote(v.Text)
	}
	if v.Parts != nil {
		parts := make([]string, len(v.Parts))
		for i, p := range v.Parts {
			parts[i] = escapeUnquoted(p)
		}
		return strings.Join(parts, "*")
	}
	return escapeUnquoted(v.Text)
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// escapeUnquoted escapes special characters, whitespace and keywords so that
// the parser reads s back as one literal.
func escapeUnquoted(s string) string {
	var b strings.Builder
	words := strings.Split(s, " ")
	for i, w := range words {
		if i > 0 {
			b.WriteString(`\ `)
		}
		if isKeyword(w) {
			// `\u` keeps the word a literal wherever it appears; `\and`
			// would need whitespace after it.
			b.WriteString(`\u`)
			b.WriteString(hex4(rune(w[0])))
			w = w[1:]
		}
		for _, r := range w {
			switch r {
			case '\\', '(', ')', ':', '<', '>', '"', '*', '{', '}':
				b.WriteByte('\\')
				b.WriteRune(r)
			default:
				// Whitespace is written as \uXXXX because `\n` before "ot"
				// would read as the escaped keyword `\not`.
				if isSpace(r) {
					b.WriteString(`\u`)
					b.WriteString(hex4(r))
					continue
				}
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

func hex4(r rune) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[r>>12&15], digits[r>>8&15], digits[r>>4&15], digits[r&15]})
}

func isKeyword(w string) bool {
	return strings.EqualFold(w, "and") || strings.EqualFold(w, "or") || strings.EqualFold(w, "not")
}

func escapeField(f string) string {
	var b strings.Builder
	if isKeyword(f) {
		// A field named like a keyword, as in `not < 1`, would read as the
		// keyword before whitespace.
		b.WriteString(`\u`)
		b.WriteString(hex4(rune(f[0])))
		f = f[1:]
	}
	for _, r := range f {
		switch r {
		case '\\', '(', ')', ':', '<', '>', '"', '{', '}':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			if isSpace(r) {
				b.WriteString(`\u`)
				b.WriteString(hex4(r))
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// String returns "*".
func (MatchAll) String() string { return "*" }

// String returns the terms joined by "and", each in parentheses when needed.
func (n *And) String() string { return joinTerms(n.Terms, " and ", true) }

// String returns the terms joined by "or".
func (n *Or) String() string { return joinTerms(n.Terms, " or ", false) }

// String returns "not" and the term.
func (n *Not) String() string {
	switch n.Term.(type) {
	case *And, *Or:
		return "not (" + n.Term.String() + ")"
	}
	return "not " + n.Term.String()
}

// String returns `field:*`.
func (n *Exists) String() string { return escapeField(n.Field) + ":*" }

// String returns `field:value`, or the value alone for free text.
func (n *Is) String() string {
	if n.Field == "" {
		return n.Value.String()
	}
	return escapeField(n.Field) + ":" + n.Value.String()
}

// String returns `field op value`.
func (n *Range) String() string {
	return escapeField(n.Field) + " " + n.Op.String() + " " + n.Value.String()
}

func joinTerms(terms []Node, sep string, parenOr bool) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		s := t.String()
		switch t.(type) {
		case *Or:
			if parenOr {
				s = "(" + s + ")"
			}
		case *And:
			if !parenOr {
				// And binds tighter than or, but parentheses keep the
				// canonical form stable under reparsing.
				s = "(" + s + ")"
			}
		}
		parts[i] = s
	}
	return strings.Join(parts, sep)
}
