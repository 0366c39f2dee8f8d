package logparse

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/canhgac/canhgac/ecs"
)

// maxJSONDepth matches encoding/json's nesting limit.
const maxJSONDepth = 10000

// jsonFlattener parses one JSON object straight into flat fields. Nested
// objects become dotted names ("a.b"). Arrays stay arrays ([]any, with
// objects inside them as map[string]any). Numbers stay json.Number until the
// caller converts them, and strings without escapes share the line's memory.
// It accepts what encoding/json accepts (FuzzJSONLine compares the two) and
// is faster, because it builds no intermediate maps and caches the dotted
// names, which repeat on every line.
type jsonFlattener struct {
	s     string
	i     int
	depth int
	names *fieldNames
	out   ecs.Fields
	// opened lists the dotted prefixes of objects flattened so far, to
	// clear them when a duplicate key replaces an object.
	opened []string
}

var errJSONSyntax = errors.New("invalid JSON")

func (p *jsonFlattener) fail(problem string) error {
	return fmt.Errorf("%w: %s at byte %d", errJSONSyntax, problem, p.i)
}

// flattenJSON parses s, which must hold one JSON object and nothing else but
// white space, into out (a new map when nil).
func flattenJSON(s string, names *fieldNames, out ecs.Fields) (ecs.Fields, error) {
	if out == nil {
		out = make(ecs.Fields, 32)
	}

	p := jsonFlattener{s: s, names: names, out: out}
	p.skipSpace()
	if p.i >= len(s) || s[p.i] != '{' {
		return nil, errNotObject
	}

	if err := p.object(""); err != nil {
		return nil, err
	}

	p.skipSpace()
	if p.i != len(s) {
		return nil, p.fail("data after the JSON value")
	}

	return p.out, nil
}

var errNotObject = errors.New("not a JSON object")

func (p *jsonFlattener) skipSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// object flattens the object at p.i into p.out under prefix ("" or "a.b.").
func (p *jsonFlattener) object(prefix string) error {
	p.depth++
	if p.depth > maxJSONDepth {
		return p.fail("nesting too deep")
	}
	defer func() { p.depth-- }()
	p.i++ // '{'
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return nil
	}

	for {
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return p.fail("expected a key")
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return p.fail("expected ':'")
		}
		p.i++
		p.skipSpace()
		name := p.names.join(prefix, key)
		if p.i < len(p.s) && p.s[p.i] == '{' {
			if p.emptyObjectAhead() {
				p.i = strings.IndexByte(p.s[p.i:], '}') + p.i + 1
				p.set(name, map[string]any{})
			} else {
				delete(p.out, name)
				p.clearObject(name)
				p.opened = append(p.opened, name)
				if err := p.object(p.names.join(name, ".")); err != nil {
					return err
				}
			}
		} else {
			v, err := p.value()
			if err != nil {
				return err
			}
			p.set(name, v)
		}
		p.skipSpace()
		if p.i >= len(p.s) {
			return p.fail("unterminated object")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.fail("expected ',' or '}'")
		}
	}
}

// set stores a leaf. A key repeated in one object replaces the earlier
// value, nested fields included, as encoding/json does.
func (p *jsonFlattener) set(name string, v any) {
	if len(p.opened) > 0 {
		p.clearObject(name)
	}

	p.out[name] = v
}

// clearObject removes the fields nested under name when an object of that
// name was flattened before (a duplicate key).
func (p *jsonFlattener) clearObject(name string) {
	for i, o := range p.opened {
		if o != name {
			continue
		}
		dotted := name + "."
		for k := range p.out {
			if strings.HasPrefix(k, dotted) {
				delete(p.out, k)
			}
		}
		p.opened = append(p.opened[:i], p.opened[i+1:]...)
		return
	}
}

func (p *jsonFlattener) emptyObjectAhead() bool {
	j := p.i + 1
	for j < len(p.s) && (p.s[j] == ' ' || p.s[j] == '\t' || p.s[j] == '\n' || p.s[j] == '\r') {
		j++
	}

	return j < len(p.s) && p.s[j] == '}'
}

// value parses any JSON value as a generic Go value (objects as
// map[string]any, numbers as json.Number).
func (p *jsonFlattener) value() (any, error) {
	if p.i >= len(p.s) {
		return nil, p.fail("unexpected end")
	}

	switch c := p.s[p.i]; {
	case c == '"':
		return p.str()
	case c == '{':
		return p.genericObject()
	case c == '[':
		return p.array()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	case c == '-' || isDigit(c):
		return p.number()
	}

	return nil, p.fail("unexpected character")
}

func (p *jsonFlattener) literal(word string) error {
	if !strings.HasPrefix(p.s[p.i:], word) {
		return p.fail("invalid literal")
	}

	p.i += len(word)
	return nil
}

func (p *jsonFlattener) number() (any, error) {
	start := p.i
	s := p.s
	if s[p.i] == '-' {
		p.i++
	}

	switch {
	case p.i < len(s) && s[p.i] == '0':
		p.i++
	case p.i < len(s) && s[p.i] >= '1' && s[p.i] <= '9':
		for p.i < len(s) && isDigit(s[p.i]) {
			p.i++
		}
	default:
		return nil, p.fail("invalid number")
	}

	if p.i < len(s) && s[p.i] == '.' {
		p.i++
		if p.i >= len(s) || !isDigit(s[p.i]) {
			return nil, p.fail("invalid number")
		}
		for p.i < len(s) && isDigit(s[p.i]) {
			p.i++
		}
	}

	if p.i < len(s) && (s[p.i] == 'e' || s[p.i] == 'E') {
		p.i++
		if p.i < len(s) && (s[p.i] == '+' || s[p.i] == '-') {
			p.i++
		}
		if p.i >= len(s) || !isDigit(s[p.i]) {
			return nil, p.fail("invalid number")
		}
		for p.i < len(s) && isDigit(s[p.i]) {
			p.i++
		}
	}

	return json.Number(s[start:p.i]), nil
}

func (p *jsonFlattener) array() (any, error) {
	p.depth++
	if p.depth > maxJSONDepth {
		return nil, p.fail("nesting too deep")
	}
	defer func() { p.depth-- }()
	p.i++ // '['
	p.skipSpace()
	out := []any{}
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return out, nil
	}

	for {
		p.skipSpace()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, p.fail("unterminated array")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return out, nil
		default:
			return nil, p.fail("expected ',' or ']'")
		}
	}
}

func (p *jsonFlattener) genericObject() (any, error) {
	p.depth++
	if p.depth > maxJSONDepth {
		return nil, p.fail("nesting too deep")
	}
	defer func() { p.depth-- }()
	p.i++ // '{'
	out := map[string]any{}
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return out, nil
	}

	for {
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return nil, p.fail("expected a key")
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, p.fail("expected ':'")
		}
		p.i++
		p.skipSpace()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out[key] = v
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, p.fail("unterminated object")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return out, nil
		default:
			return nil, p.fail("expected ',' or '}'")
		}
	}
}

// str parses a string at p.i (which is '"'). Strings of printable ASCII
// without escapes are returned as substrings of the line.
func (p *jsonFlattener) str() (string, error) {
	start := p.i + 1
	for j := start; j < len(p.s); j++ {
		c := p.s[j]
		switch {
		case c == '"':
			p.i = j + 1
			return p.s[start:j], nil
		case c == '\\' || c >= utf8.RuneSelf:
			return p.slowStr(start)
		case c < 0x20:
			p.i = j
			return "", p.fail("control character in string")
		}
	}

	p.i = len(p.s)
	return "", p.fail("unterminated string")
}

// slowStr decodes escapes and replaces invalid UTF-8 and unpaired
// surrogates with U+FFFD, as encoding/json does.
func (p *jsonFlattener) slowStr(start int) (string, error) {
	var b strings.Builder
	// Size the buffer to this string, not to the rest of the line.
	end := start
	for end < len(p.s) && p.s[end] != '"' {
		if p.s[end] == '\\' {
			end++
		}
		end++
	}
	b.Grow(min(end, len(p.s)) - start)
	j := start
	for j < len(p.s) {
		// Copy a run of plain ASCII at once.
		k := j
		for k < len(p.s) {
			c := p.s[k]
			if c == '"' || c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
				break
			}
			k++
		}
		if k > j {
			b.WriteString(p.s[j:k])
			j = k
			continue
		}
		c := p.s[j]
		switch {
		case c == '"':
			p.i = j + 1
			return b.String(), nil
		case c < 0x20:
			p.i = j
			return "", p.fail("control character in string")
		case c == '\\':
			if j+1 >= len(p.s) {
				p.i = j
				return "", p.fail("unterminated escape")
			}
			e := p.s[j+1]
			j += 2
			switch e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				r, ok := hex4(p.s, j)
				if !ok {
					p.i = j
					return "", p.fail("invalid \\u escape")
				}
				j += 4
				if utf16.IsSurrogate(r) {
					r2, ok2 := rune(-1), false
					if j+6 <= len(p.s) && p.s[j] == '\\' && p.s[j+1] == 'u' {
						r2, ok2 = hex4(p.s, j+2)
					}
					if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
						r = dec
						j += 6
					} else {
						r = utf8.RuneError
					}
				}
				b.WriteRune(r)
			default:
				p.i = j - 1
				return "", p.fail("invalid escape")
			}
		default:
			r, size := utf8.DecodeRuneInString(p.s[j:])
			if r == utf8.RuneError && size == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				b.WriteString(p.s[j : j+size])
			}
			j += size
		}
	}

	p.i = len(p.s)
	return "", p.fail("unterminated string")
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}

	var r rune
	for k := i; k < i+4; k++ {
		c := s[k]
		var v byte
		switch {
		case isDigit(c):
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}

	return r, true
}
