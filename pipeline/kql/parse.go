package kql

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Parse parses a KQL query.
//
// The grammar follows Kibana's KQL: `field:value`, `field:"quoted phrase"`,
// wildcards (`*`) in values and field names, `field:*` (exists), ranges
// (`field >= value`), value lists (`field:(a or b)`), and/or/not in any
// case with parentheses (not binds tightest, then and, then or), and free
// text without a field. An unquoted value may contain spaces (`message:failed
// password` searches both words); the keywords and, or, not end it unless
// escaped. Special characters `\ ( ) : < > " * { }` are escaped with a
// backslash. Two extensions: a value after a field may contain ':' when it
// has no space (IPv6 addresses, times), and errors name the column.
//
// Values of IP fields must be addresses or CIDR ranges and values of date
// fields dates (see TypeOf); anything else is an *Error.
func Parse(query string) (Node, error) {
	p := &parser{src: query}
	p.skipSpace()
	if p.eof() {
		return MatchAll{}, nil
	}
	n, err := p.parseOr("")
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		if p.peek() == ')' {
			return nil, p.errorAt(p.pos, "kql.error.unmatched_paren", "kql.hint.open_paren")
		}
		return nil, p.errorAt(p.pos, "kql.error.unexpected_char", "kql.hint.quote", string(p.peekRune()))
	}
	return n, nil
}

// MustParse parses a query known to be valid, such as a constant in a test
// or a rule, and panics on error.
func MustParse(query string) Node {
	n, err := Parse(query)
	if err != nil {
		panic(err)
	}
	return n
}

type parser struct {
	src string
	pos int
}

func (p *parser) eof() bool  { return p.pos >= len(p.src) }
func (p *parser) peek() byte { return p.src[p.pos] }
func (p *parser) peekRune() rune {
	r, _ := utf8.DecodeRuneInString(p.src[p.pos:])
	return r
}

func isSpace(r rune) bool { return unicode.IsSpace(r) }

func (p *parser) skipSpace() {
	for !p.eof() {
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		if !isSpace(r) {
			return
		}
		p.pos += size
	}
}

func (p *parser) errorAt(offset int, key, hint string, args ...any) *Error {
	if offset > len(p.src) {
		offset = len(p.src)
	}
	return &Error{
		Offset: offset,
		Column: utf8.RuneCountInString(p.src[:offset]) + 1,
		Key:    key,
		Args:   args,
		Hint:   hint,
		Query:  p.src,
	}
}

// keywordAt returns the keyword ("and", "or", "not") that starts at offset i
// and ends at whitespace, a parenthesis or the end, and its length.
func (p *parser) keywordAt(i int) (string, int) {
	for _, kw := range []string{"and", "or", "not"} {
		end := i + len(kw)
		if end > len(p.src) || !strings.EqualFold(p.src[i:end], kw) {
			continue
		}
		if end == len(p.src) {
			return kw, len(kw)
		}
		r, _ := utf8.DecodeRuneInString(p.src[end:])
		if isSpace(r) || r == '(' || r == ')' {
			return kw, len(kw)
		}
	}
	return "", 0
}

// acceptKeyword consumes kw after optional whitespace.
func (p *parser) acceptKeyword(kw string) bool {
	save := p.pos
	p.skipSpace()
	if p.eof() {
		p.pos = save
		return false
	}
	if got, n := p.keywordAt(p.pos); got == kw {
		p.pos += n
		return true
	}
	p.pos = save
	return false
}

// parseOr parses a disjunction. field is "" at the top level and the field
// name inside a value list `field:( ... )`.
func (p *parser) parseOr(field string) (Node, error) {
	first, err := p.parseAnd(field)
	if err != nil {
		return nil, err
	}
	terms := []Node{first}
	for {
		if !p.acceptKeyword("or") {
			break
		}
		t, err := p.parseAndAfter(field, "or")
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
	}
	if len(terms) == 1 {
		return first, nil
	}
	return &Or{Terms: flatten(terms, true)}, nil
}

func (p *parser) parseAndAfter(field string, kw string) (Node, error) {
	at := p.pos - len(kw)
	p.skipSpace()
	if p.eof() || p.peek() == ')' {
		return nil, p.errorAt(at, "kql.error.missing_term", "kql.hint.term", kw)
	}
	if kw == "or" {
		return p.parseAnd(field)
	}
	return p.parseNot(field)
}

func (p *parser) parseAnd(field string) (Node, error) {
	first, err := p.parseNot(field)
	if err != nil {
		return nil, err
	}
	terms := []Node{first}
	for {
		if !p.acceptKeyword("and") {
			break
		}
		t, err := p.parseAndAfter(field, "and")
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
	}
	if len(terms) == 1 {
		return first, nil
	}
	return &And{Terms: flatten(terms, false)}, nil
}

// flatten merges nested nodes of the same kind: (a or b) or c is a or b or c.
func flatten(terms []Node, or bool) []Node {
	out := make([]Node, 0, len(terms))
	for _, t := range terms {
		if o, ok := t.(*Or); ok && or {
			out = append(out, o.Terms...)
			continue
		}
		if a, ok := t.(*And); ok && !or {
			out = append(out, a.Terms...)
			continue
		}
		out = append(out, t)
	}
	return out
}

func (p *parser) parseNot(field string) (Node, error) {
	p.skipSpace()
	if p.eof() {
		return nil, p.errorAt(p.pos, "kql.error.unexpected_end", "kql.hint.term")
	}
	if kw, n := p.keywordAt(p.pos); kw == "not" {
		at := p.pos
		p.pos += n
		p.skipSpace()
		if p.eof() || p.peek() == ')' {
			return nil, p.errorAt(at, "kql.error.missing_term", "kql.hint.term", "not")
		}
		t, err := p.parseNot(field)
		if err != nil {
			return nil, err
		}
		return &Not{Term: t}, nil
	} else if kw != "" {
		return nil, p.errorAt(p.pos, "kql.error.missing_term", "kql.hint.term", p.src[p.pos:p.pos+n])
	}
	if p.peek() == '(' {
		open := p.pos
		p.pos++
		p.skipSpace()
		if !p.eof() && p.peek() == ')' {
			return nil, p.errorAt(p.pos, "kql.error.unexpected_char", "kql.hint.term", ")")
		}
		n, err := p.parseOr(field)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.eof() || p.peek() != ')' {
			if !p.eof() {
				return nil, p.errorAt(p.pos, "kql.error.unexpected_char", "kql.hint.close_paren", string(p.peekRune()))
			}
			return nil, p.errorAt(open, "kql.error.unclosed_paren", "kql.hint.close_paren")
		}
		p.pos++
		return n, nil
	}
	if field != "" {
		return p.parseListValue(field)
	}
	return p.parseTerm()
}

// parseListValue parses one value inside `field:( ... )`.
func (p *parser) parseListValue(field string) (Node, error) {
	start := p.pos
	v, err := p.parseValue(true)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, p.errorAt(start, "kql.error.unexpected_char", "kql.hint.quote", string(p.peekRune()))
	}
	return p.fieldValue(field, *v, start)
}

// fieldValue builds the node for `field:value`, checking values of IP and
// date fields.
func (p *parser) fieldValue(field string, v Value, at int) (Node, error) {
	if !v.Quoted && v.Parts != nil && len(v.Parts) == 2 && v.Parts[0] == "" && v.Parts[1] == "" {
		return &Exists{Field: field}, nil
	}
	if IsFieldPattern(field) {
		return &Is{Field: field, Value: v}, nil
	}
	switch TypeOf(field) {
	case IP:
		if v.Wildcard() {
			return nil, p.errorAt(at, "kql.error.ip_wildcard", "kql.hint.ip", field)
		}
		if _, ok := ParseIPRange(v.Text); !ok {
			return nil, p.errorAt(at, "kql.error.invalid_ip", "kql.hint.ip", v.Text, field)
		}
	case Date:
		if v.Wildcard() {
			return nil, p.errorAt(at, "kql.error.invalid_date", "kql.hint.date", v.String(), field)
		}
		if _, ok := ParseDate(v.Text); !ok {
			return nil, p.errorAt(at, "kql.error.invalid_date", "kql.hint.date", v.Text, field)
		}
	}
	return &Is{Field: field, Value: v}, nil
}

// parseTerm parses `field:value`, `field op value` or free text.
func (p *parser) parseTerm() (Node, error) {
	start := p.pos
	if p.peek() == '"' {
		v, err := p.parseQuoted()
		if err != nil {
			return nil, err
		}
		save := p.pos
		p.skipSpace()
		if !p.eof() && p.peek() == ':' {
			return nil, p.errorAt(start, "kql.error.field_quoted", "kql.hint.field")
		}
		p.pos = save
		return &Is{Value: v}, nil
	}
	if c := p.peek(); c == ':' || c == '<' || c == '>' {
		return nil, p.errorAt(start, "kql.error.missing_field", "kql.hint.term", string(c))
	}
	lit, err := p.parseUnquoted(false)
	if err != nil {
		return nil, err
	}
	if lit == nil {
		if p.peek() == '{' || p.peek() == '}' {
			return nil, p.errorAt(p.pos, "kql.error.nested", "kql.hint.nested")
		}
		return nil, p.errorAt(p.pos, "kql.error.unexpected_char", "kql.hint.quote", string(p.peekRune()))
	}
	afterLit := p.pos
	p.skipSpace()
	if p.eof() {
		return freeText(lit.value), nil
	}
	switch c := p.peek(); {
	case c == ':':
		if lit.spaced {
			return nil, p.errorAt(start, "kql.error.missing_operator", "kql.hint.operator", lit.value.Text)
		}
		field := fieldName(lit.value)
		colon := p.pos
		p.pos++
		return p.parseFieldValue(field, colon)
	case c == '<' || c == '>':
		if lit.spaced {
			return nil, p.errorAt(start, "kql.error.missing_operator", "kql.hint.operator", lit.value.Text)
		}
		return p.parseRange(fieldName(lit.value))
	}
	p.pos = afterLit
	return freeText(lit.value), nil
}

func freeText(v Value) Node {
	if v.Parts != nil && len(v.Parts) == 2 && v.Parts[0] == "" && v.Parts[1] == "" {
		return MatchAll{}
	}
	return &Is{Value: v}
}

// fieldName returns the field name of a literal; its wildcards stay as '*'.
func fieldName(v Value) string {
	if v.Parts != nil {
		return strings.Join(v.Parts, "*")
	}
	return v.Text
}

func (p *parser) parseFieldValue(field string, colon int) (Node, error) {
	p.skipSpace()
	if p.eof() {
		return nil, p.errorAt(colon, "kql.error.missing_value", "kql.hint.value", field+":")
	}
	switch p.peek() {
	case '(':
		open := p.pos
		p.pos++
		p.skipSpace()
		if p.eof() {
			return nil, p.errorAt(open, "kql.error.unclosed_paren", "kql.hint.close_paren")
		}
		if p.peek() == ')' {
			return nil, p.errorAt(p.pos, "kql.error.missing_value", "kql.hint.value", field+":(")
		}
		n, err := p.parseOr(field)
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.eof() {
			return nil, p.errorAt(open, "kql.error.unclosed_paren", "kql.hint.close_paren")
		}
		if p.peek() != ')' {
			return nil, p.errorAt(p.pos, "kql.error.unexpected_char", "kql.hint.close_paren", string(p.peekRune()))
		}
		p.pos++
		return n, nil
	case '{':
		return nil, p.errorAt(p.pos, "kql.error.nested", "kql.hint.nested")
	}
	if kw, _ := p.keywordAt(p.pos); kw != "" {
		return nil, p.errorAt(colon, "kql.error.missing_value", "kql.hint.value", field+":")
	}
	start := p.pos
	v, err := p.parseValue(true)
	if err != nil {
		return nil, err
	}
	if v == nil {
		if p.peek() == ')' {
			return nil, p.errorAt(colon, "kql.error.missing_value", "kql.hint.value", field+":")
		}
		return nil, p.errorAt(p.pos, "kql.error.unexpected_char", "kql.hint.quote", string(p.peekRune()))
	}
	return p.fieldValue(field, *v, start)
}

func (p *parser) parseRange(field string) (Node, error) {
	opAt := p.pos
	var op RangeOp
	switch {
	case strings.HasPrefix(p.src[p.pos:], "<="):
		op, p.pos = LessOrEqual, p.pos+2
	case strings.HasPrefix(p.src[p.pos:], ">="):
		op, p.pos = GreaterOrEqual, p.pos+2
	case p.peek() == '<':
		op, p.pos = Less, p.pos+1
	default:
		op, p.pos = Greater, p.pos+1
	}
	p.skipSpace()
	if p.eof() {
		return nil, p.errorAt(opAt, "kql.error.missing_value", "kql.hint.range", op.String())
	}
	start := p.pos
	v, err := p.parseValue(true)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, p.errorAt(opAt, "kql.error.missing_value", "kql.hint.range", op.String())
	}
	if v.Wildcard() {
		return nil, p.errorAt(start, "kql.error.range_wildcard", "kql.hint.range", v.String())
	}
	if !IsFieldPattern(field) {
		switch TypeOf(field) {
		case IP:
			if _, ok := ParseIP(v.Text); !ok {
				return nil, p.errorAt(start, "kql.error.invalid_ip", "kql.hint.ip", v.Text, field)
			}
		case Date:
			if _, ok := ParseDate(v.Text); !ok {
				return nil, p.errorAt(start, "kql.error.invalid_date", "kql.hint.date", v.Text, field)
			}
		}
	}
	return &Range{Field: field, Op: op, Value: *v}, nil
}

// parseValue parses a quoted or unquoted value; it returns nil when no value
// starts at the current position.
func (p *parser) parseValue(afterField bool) (*Value, error) {
	if p.peek() == '"' {
		v, err := p.parseQuoted()
		if err != nil {
			return nil, err
		}
		return &v, nil
	}
	lit, err := p.parseUnquoted(afterField)
	if err != nil || lit == nil {
		return nil, err
	}
	return &lit.value, nil
}

func (p *parser) parseQuoted() (Value, error) {
	open := p.pos
	p.pos++
	var b strings.Builder
	for {
		if p.eof() {
			return Value{}, p.errorAt(open, "kql.error.unclosed_quote", "kql.hint.close_quote")
		}
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		switch r {
		case '"':
			p.pos++
			return Value{Text: b.String(), Quoted: true}, nil
		case '\\':
			esc, err := p.parseEscape(true)
			if err != nil {
				return Value{}, err
			}
			b.WriteString(esc)
			continue
		}
		b.WriteRune(r)
		p.pos += size
	}
}

// parseEscape consumes an escape sequence at the current backslash and
// returns the text it stands for.
func (p *parser) parseEscape(quoted bool) (string, error) {
	at := p.pos
	if p.pos+1 >= len(p.src) {
		return "", p.errorAt(at, "kql.error.invalid_escape", "kql.hint.escape", `\`)
	}
	r, size := utf8.DecodeRuneInString(p.src[p.pos+1:])
	if !quoted {
		// Escaped keywords go first, so `\not` is the word "not" and not
		// a newline followed by "ot".
		if kw, n := p.keywordAt(p.pos + 1); kw != "" {
			word := p.src[p.pos+1 : p.pos+1+n]
			p.pos += 1 + n
			return word, nil
		}
	}
	switch r {
	case 't':
		p.pos += 2
		return "\t", nil
	case 'n':
		p.pos += 2
		return "\n", nil
	case 'r':
		p.pos += 2
		return "\r", nil
	case 'u':
		if p.pos+6 <= len(p.src) {
			if n, err := strconv.ParseUint(p.src[p.pos+2:p.pos+6], 16, 32); err == nil && utf8.ValidRune(rune(n)) {
				p.pos += 6
				return string(rune(n)), nil
			}
		}
		end := min(p.pos+6, len(p.src))
		return "", p.errorAt(at, "kql.error.invalid_escape", "kql.hint.escape", p.src[at:end])
	case '\\', '"':
		p.pos += 1 + size
		return string(r), nil
	}
	if !quoted {
		switch r {
		case '(', ')', ':', '<', '>', '*', '{', '}':
			p.pos += 1 + size
			return string(r), nil
		}
		if isSpace(r) {
			p.pos += 1 + size
			return string(r), nil
		}
	}
	return "", p.errorAt(at, "kql.error.invalid_escape", "kql.hint.escape", `\`+string(r))
}

type literal struct {
	value Value
	// spaced is set when the literal contains unescaped whitespace.
	spaced bool
}

// parseUnquoted reads an unquoted literal. It ends at a special character,
// at whitespace followed by a keyword or by the end, or at ':' unless
// afterField allows ':' inside a literal without spaces. It returns nil when
// the literal would be empty.
func (p *parser) parseUnquoted(afterField bool) (*literal, error) {
	start := p.pos
	var cur strings.Builder
	var parts []string
	wildcard := false
	spaced := false
	colonAt := -1
	for !p.eof() {
		r, size := utf8.DecodeRuneInString(p.src[p.pos:])
		if r == '\\' {
			esc, err := p.parseEscape(false)
			if err != nil {
				return nil, err
			}
			cur.WriteString(esc)
			continue
		}
		if r == '*' {
			wildcard = true
			parts = append(parts, cur.String())
			cur.Reset()
			p.pos += size
			continue
		}
		if isSpace(r) {
			q := p.pos
			for q < len(p.src) {
				r2, s2 := utf8.DecodeRuneInString(p.src[q:])
				if !isSpace(r2) {
					break
				}
				q += s2
			}
			if q >= len(p.src) || strings.IndexByte(`():<>"{}`, p.src[q]) >= 0 {
				break
			}
			if kw, _ := p.keywordAt(q); kw != "" {
				break
			}
			cur.WriteString(p.src[p.pos:q])
			spaced = true
			p.pos = q
			continue
		}
		if r == ':' && afterField {
			if colonAt < 0 {
				colonAt = p.pos
			}
			cur.WriteRune(r)
			p.pos += size
			continue
		}
		if strings.ContainsRune(`():<>"{}`, r) {
			break
		}
		cur.WriteRune(r)
		p.pos += size
	}
	if p.pos == start {
		return nil, nil
	}
	if colonAt >= 0 && spaced {
		return nil, p.errorAt(colonAt, "kql.error.ambiguous_colon", "kql.hint.operator", p.src[start:p.pos])
	}
	v := Value{Text: cur.String()}
	if wildcard {
		parts = append(parts, cur.String())
		v.Parts = parts
		v.Text = strings.Join(parts, "*")
	}
	return &literal{value: v, spaced: spaced}, nil
}
