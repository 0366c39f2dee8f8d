package evtx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
)

// Binary XML tokens. The 0x40 bit of a token marks "more data": an element
// with attributes, an attribute followed by another, or a value token of
// an older writer.
const (
	tokEOF             = 0x00
	tokOpenStart       = 0x01
	tokCloseStart      = 0x02
	tokCloseEmpty      = 0x03
	tokEndElement      = 0x04
	tokValue           = 0x05
	tokAttribute       = 0x06
	tokCDATA           = 0x07
	tokCharRef         = 0x08
	tokEntityRef       = 0x09
	tokPITarget        = 0x0a
	tokPIData          = 0x0b
	tokTemplate        = 0x0c
	tokNormalSubst     = 0x0d
	tokOptionalSubst   = 0x0e
	tokFragmentHeader  = 0x0f
	tokMoreBit         = 0x40
	maxDepth           = 64
	maxTemplateNesting = 16
	// maxElements bounds the elements of one record, counting shared
	// subtrees each time they appear. Real records have a few dozen.
	maxElements = 1 << 16
)

// Element is one decoded XML element of an event record.
type Element struct {
	// Name is the element name.
	Name string
	// Attrs are the element's attributes in document order. Attributes
	// filled by an optional substitution with no value are left out.
	Attrs []Attr
	// Children are the child elements in document order.
	Children []*Element
	// Text is the character content in document order: literal text,
	// CDATA, character and entity references and substituted values.
	Text []Value
}

// Attr is one attribute of an Element.
type Attr struct {
	// Name is the attribute name.
	Name string
	// Value is the attribute value. An attribute made of several pieces
	// is joined into one string value.
	Value Value
}

// Attr returns the value of the named attribute.
func (e *Element) Attr(name string) (Value, bool) {
	for _, a := range e.Attrs {
		if a.Name == name {
			return a.Value, true
		}
	}

	return Value{}, false
}

// Child returns the first child element with the given name, or nil.
func (e *Element) Child(name string) *Element {
	for _, c := range e.Children {
		if c.Name == name {
			return c
		}
	}

	return nil
}

// TextValue returns the element's character content: the single value
// when there is one piece (keeping its type), the pieces joined as a
// string otherwise, and a null value when there is none.
func (e *Element) TextValue() Value {
	switch len(e.Text) {
	case 0:
		return Value{}
	case 1:
		return e.Text[0]
	}

	var b strings.Builder
	for _, v := range e.Text {
		b.WriteString(v.String())
	}

	return stringValue(b.String())
}

// part kinds of a parsed template or fragment.
const (
	partText = iota
	partElement
	partSubst
	partResolved
)

// part is one piece of element content or attribute value before the
// substitution values are known.
type part struct {
	kind     uint8
	optional bool
	vtype    byte
	index    uint16
	text     Value
	elem     *node
	resolved []*Element
}

// node is an element of a template definition.
type node struct {
	name  string
	attrs []nodeAttr
	kids  []part
}

type nodeAttr struct {
	name  string
	parts []part
}

// template is a parsed template definition, cached per chunk by offset.
type template struct {
	parts []part
}

// parser reads Binary XML tokens from a chunk between pos and end. Offsets
// are relative to the chunk start, as the format's name and template
// offsets are.
type parser struct {
	c       *chunk
	pos     uint32
	end     uint32
	depth   int
	nesting int
}

var errTruncated = errors.New("binary XML runs past its end")

func (p *parser) need(n uint64) error {
	if uint64(p.pos)+n > uint64(p.end) {
		return fmt.Errorf("%w: %d bytes needed at offset %d, end %d", errTruncated, n, p.pos, p.end)
	}

	return nil
}

func (p *parser) u8() (byte, error) {
	if err := p.need(1); err != nil {
		return 0, err
	}
	v := p.c.data[p.pos]
	p.pos++
	return v, nil
}

func (p *parser) u16() (uint16, error) {
	if err := p.need(2); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint16(p.c.data[p.pos:])
	p.pos += 2
	return v, nil
}

func (p *parser) u32() (uint32, error) {
	if err := p.need(4); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(p.c.data[p.pos:])
	p.pos += 4
	return v, nil
}

func (p *parser) peek() (byte, error) {
	if err := p.need(1); err != nil {
		return 0, err
	}

	return p.c.data[p.pos], nil
}

// utf16String reads a string of n UTF-16 code units.
func (p *parser) utf16String(n uint32) (string, error) {
	if err := p.need(2 * uint64(n)); err != nil {
		return "", err
	}
	s := decodeUTF16(p.c.data[p.pos : p.pos+2*n])
	p.pos += 2 * n
	return s, nil
}

// name reads a name offset and returns the name, skipping it when it is
// stored inline right after the offset.
func (p *parser) name() (string, error) {
	off, err := p.u32()
	if err != nil {
		return "", err
	}

	s, size, err := p.c.name(off)
	if err != nil {
		return "", err
	}

	if off == p.pos {
		if err := p.need(uint64(size)); err != nil {
			return "", err
		}
		p.pos += size
	}

	return s, nil
}

// name returns the name string at a chunk offset and its stored size.
func (c *chunk) name(off uint32) (string, uint32, error) {
	if uint64(off)+8 > uint64(len(c.data)) {
		return "", 0, fmt.Errorf("name offset %d outside the chunk", off)
	}

	n := uint32(binary.LittleEndian.Uint16(c.data[off+6:]))
	size := 8 + 2*n + 2
	if uint64(off)+uint64(size) > uint64(len(c.data)) {
		return "", 0, fmt.Errorf("name at offset %d with %d characters runs past the chunk", off, n)
	}

	if s, ok := c.names[off]; ok {
		return s, size, nil
	}

	s := decodeUTF16(c.data[off+8 : off+8+2*n])
	c.names[off] = s
	return s, size, nil
}

// decodeRecord decodes the Binary XML of one record and returns its root
// element.
func (c *chunk) decodeRecord(start, end uint32) (*Element, error) {
	p := &parser{c: c, pos: start, end: end}
	parts, err := p.content(false)
	if err != nil {
		return nil, err
	}

	elems, err := p.c.slab.resolveParts(parts, nil, 0)
	if err != nil {
		return nil, err
	}

	if len(elems) == 0 {
		return nil, errors.New("record contains no element")
	}

	budget := maxElements
	if !withinBudget(elems[0], &budget) {
		return nil, fmt.Errorf("record expands to more than %d elements", maxElements)
	}

	return elems[0], nil
}

// withinBudget walks the tree and reports whether it has at most *budget
// elements. A template can use one Binary XML substitution value many
// times, so shared subtrees can make a small record expand to an
// exponential number of elements. This check bounds what later walks (the
// field mapping, XML rendering) visit.
func withinBudget(e *Element, budget *int) bool {
	*budget--
	if *budget < 0 {
		return false
	}

	for _, c := range e.Children {
		if !withinBudget(c, budget) {
			return false
		}
	}

	return true
}

// content parses tokens until the end of the fragment (top level) or the
// end of the enclosing element (inElement).
func (p *parser) content(inElement bool) ([]part, error) {
	var parts []part
	for {
		if p.pos >= p.end && !inElement {
			return parts, nil
		}

		tok, err := p.u8()
		if err != nil {
			return nil, err
		}

		switch tok &^ tokMoreBit {
		case tokEOF:
			if inElement {
				return nil, fmt.Errorf("end of fragment inside an element at offset %d", p.pos-1)
			}
			return parts, nil
		case tokEndElement:
			if !inElement {
				return nil, fmt.Errorf("end element token outside an element at offset %d", p.pos-1)
			}
			return parts, nil
		case tokOpenStart:
			n, err := p.element(tok&tokMoreBit != 0)
			if err != nil {
				return nil, err
			}
			parts = append(parts, part{kind: partElement, elem: n})
		case tokValue, tokCDATA, tokCharRef, tokEntityRef, tokNormalSubst, tokOptionalSubst:
			pt, err := p.valuePart(tok &^ tokMoreBit)
			if err != nil {
				return nil, err
			}
			parts = append(parts, pt)
		case tokPITarget:
			if _, err := p.name(); err != nil {
				return nil, err
			}
		case tokPIData:
			n, err := p.u16()
			if err != nil {
				return nil, err
			}
			if _, err := p.utf16String(uint32(n)); err != nil {
				return nil, err
			}
		case tokTemplate:
			elems, err := p.templateInstance()
			if err != nil {
				return nil, err
			}
			parts = append(parts, part{kind: partResolved, resolved: elems})
		case tokFragmentHeader:
			if err := p.need(3); err != nil {
				return nil, err
			}
			p.pos += 3
		default:
			return nil, fmt.Errorf("unknown binary XML token 0x%02x at offset %d", tok, p.pos-1)
		}
	}
}

// valuePart parses a token that yields character data or a substitution.
func (p *parser) valuePart(tok byte) (part, error) {
	switch tok {
	case tokValue:
		typ, err := p.u8()
		if err != nil {
			return part{}, err
		}
		if typ != typeString {
			return part{}, fmt.Errorf("value token of type 0x%02x at offset %d, only strings are inline", typ, p.pos-1)
		}
		fallthrough
	case tokCDATA:
		n, err := p.u16()
		if err != nil {
			return part{}, err
		}
		s, err := p.utf16String(uint32(n))
		if err != nil {
			return part{}, err
		}
		return part{kind: partText, text: stringValue(s)}, nil
	case tokCharRef:
		r, err := p.u16()
		if err != nil {
			return part{}, err
		}
		return part{kind: partText, text: stringValue(string(rune(r)))}, nil
	case tokEntityRef:
		s, err := p.name()
		if err != nil {
			return part{}, err
		}
		return part{kind: partText, text: stringValue(entity(s))}, nil
	case tokNormalSubst, tokOptionalSubst:
		idx, err := p.u16()
		if err != nil {
			return part{}, err
		}
		typ, err := p.u8()
		if err != nil {
			return part{}, err
		}
		return part{kind: partSubst, index: idx, vtype: typ, optional: tok == tokOptionalSubst}, nil
	}

	return part{}, fmt.Errorf("token 0x%02x is not a value", tok)
}

// entity returns the character of a predefined XML entity, or the
// reference as written for any other name.
func entity(name string) string {
	switch name {
	case "lt":
		return "<"
	case "gt":
		return ">"
	case "amp":
		return "&"
	case "quot":
		return "\""
	case "apos":
		return "'"
	}

	return "&" + name + ";"
}

// element parses an element after its open start token.
func (p *parser) element(hasAttrs bool) (*node, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, fmt.Errorf("elements nested deeper than %d at offset %d", maxDepth, p.pos)
	}

	// Dependency identifier (2 bytes) and data size (4 bytes).
	if err := p.need(6); err != nil {
		return nil, err
	}
	p.pos += 6
	name, err := p.name()
	if err != nil {
		return nil, err
	}

	n := &node{name: name}
	if hasAttrs {
		if _, err := p.u32(); err != nil { // attribute list size
			return nil, err
		}
		for {
			tok, err := p.peek()
			if err != nil {
				return nil, err
			}
			if tok&^tokMoreBit != tokAttribute {
				break
			}
			p.pos++
			a, err := p.attribute()
			if err != nil {
				return nil, err
			}
			n.attrs = append(n.attrs, a)
		}
	}

	tok, err := p.u8()
	if err != nil {
		return nil, err
	}

	switch tok {
	case tokCloseEmpty:
		return n, nil
	case tokCloseStart:
		kids, err := p.content(true)
		if err != nil {
			return nil, err
		}
		n.kids = kids
		return n, nil
	}

	return nil, fmt.Errorf("element %q: token 0x%02x at offset %d, expected close start or close empty", name, tok, p.pos-1)
}

// attribute parses an attribute's name and value pieces.
func (p *parser) attribute() (nodeAttr, error) {
	name, err := p.name()
	if err != nil {
		return nodeAttr{}, err
	}

	a := nodeAttr{name: name}
	for {
		tok, err := p.peek()
		if err != nil {
			return nodeAttr{}, err
		}
		switch tok &^ tokMoreBit {
		case tokValue, tokCharRef, tokEntityRef, tokNormalSubst, tokOptionalSubst, tokCDATA:
			p.pos++
			pt, err := p.valuePart(tok &^ tokMoreBit)
			if err != nil {
				return nodeAttr{}, err
			}
			a.parts = append(a.parts, pt)
		default:
			return a, nil
		}
	}
}

// templateInstance parses a template instance: the definition reference
// (with the definition inline the first time it is used in a chunk) and
// the substitution values, and returns the filled-in elements.
func (p *parser) templateInstance() ([]*Element, error) {
	if p.nesting >= maxTemplateNesting {
		return nil, fmt.Errorf("template instances nested deeper than %d", maxTemplateNesting)
	}

	if err := p.need(5); err != nil { // unknown byte, template id
		return nil, err
	}
	p.pos += 5
	defOff, err := p.u32()
	if err != nil {
		return nil, err
	}

	tpl, err := p.c.template(defOff, p.nesting+1)
	if err != nil {
		return nil, err
	}

	if defOff == p.pos {
		if err := p.need(24); err != nil {
			return nil, err
		}
		size := binary.LittleEndian.Uint32(p.c.data[p.pos+20:])
		if err := p.need(24 + uint64(size)); err != nil {
			return nil, err
		}
		p.pos += 24 + size
	}

	count, err := p.u32()
	if err != nil {
		return nil, err
	}

	if err := p.need(4 * uint64(count)); err != nil {
		return nil, fmt.Errorf("substitution array of %d entries: %w", count, err)
	}

	// The descriptors (2-byte size, type byte, padding byte) come first,
	// then the values in the same order.
	descs := p.pos
	p.pos += 4 * count
	values := make([]Value, count)
	for i := range values {
		d := p.c.data[descs+4*uint32(i):]
		size, typ := binary.LittleEndian.Uint16(d), d[2]
		if err := p.need(uint64(size)); err != nil {
			return nil, fmt.Errorf("substitution %d (type 0x%02x, %d bytes): %w", i, typ, size, err)
		}
		v, err := p.c.decodeValue(typ, p.pos, uint32(size), p.nesting+1)
		if err != nil {
			return nil, fmt.Errorf("substitution %d: %w", i, err)
		}
		values[i] = v
		p.pos += uint32(size)
	}

	return p.c.slab.resolveParts(tpl.parts, values, 0)
}

// template returns the parsed template definition at a chunk offset.
func (c *chunk) template(off uint32, nesting int) (*template, error) {
	if t, ok := c.templates[off]; ok {
		if t == nil {
			return nil, fmt.Errorf("template at offset %d refers to itself", off)
		}
		return t, nil
	}

	if uint64(off)+24 > uint64(len(c.data)) {
		return nil, fmt.Errorf("template definition offset %d outside the chunk", off)
	}

	size := binary.LittleEndian.Uint32(c.data[off+20:])
	end := uint64(off) + 24 + uint64(size)
	if end > uint64(len(c.data)) {
		return nil, fmt.Errorf("template definition at offset %d with %d bytes runs past the chunk", off, size)
	}

	c.templates[off] = nil // marks the definition as being parsed
	p := &parser{c: c, pos: off + 24, end: uint32(end), nesting: nesting}
	parts, err := p.content(false)
	if err != nil {
		delete(c.templates, off)
		return nil, fmt.Errorf("template definition at offset %d: %w", off, err)
	}

	t := &template{parts: parts}
	c.templates[off] = t
	return t, nil
}

// arenaBatch is how many elements, values or attributes an arena
// allocates at once.
const arenaBatch = 64

// arena hands out elements and the backing arrays of their Text and Attrs
// slices from batches, which saves most per-record allocations. Each piece
// is handed out once, and slices are capped at their length, so appends
// never write into another element's piece.
type arena struct {
	elems  []Element
	values []Value
	attrs  []Attr
}

func (a *arena) element() *Element {
	if len(a.elems) == 0 {
		a.elems = make([]Element, arenaBatch)
	}
	e := &a.elems[0]
	a.elems = a.elems[1:]
	return e
}

func (a *arena) valueSlice(n int) []Value {
	if len(a.values) < n {
		a.values = make([]Value, max(n, arenaBatch))
	}
	s := a.values[:0:n]
	a.values = a.values[n:]
	return s
}

func (a *arena) attrSlice(n int) []Attr {
	if len(a.attrs) < n {
		a.attrs = make([]Attr, max(n, arenaBatch))
	}
	s := a.attrs[:0:n]
	a.attrs = a.attrs[n:]
	return s
}

// resolveParts fills substitutions with values and returns the elements
// of a content list, including elements that substituted Binary XML
// values contribute.
func (a *arena) resolveParts(parts []part, values []Value, depth int) ([]*Element, error) {
	var out []*Element
	for i := range parts {
		pt := &parts[i]
		switch pt.kind {
		case partElement:
			e, err := a.resolveNode(pt.elem, values, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		case partResolved:
			out = append(out, pt.resolved...)
		case partSubst:
			if int(pt.index) < len(values) {
				out = append(out, values[pt.index].XML()...)
			}
		}
	}

	return out, nil
}

// resolveNode fills in one template element.
func (a *arena) resolveNode(n *node, values []Value, depth int) (*Element, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("elements nested deeper than %d", maxDepth)
	}

	e := a.element()
	e.Name = n.name
	if len(n.attrs) > 0 {
		e.Attrs = a.attrSlice(len(n.attrs))
	}
	texts, elems := 0, 0
	for i := range n.kids {
		switch n.kids[i].kind {
		case partText, partSubst:
			texts++
		default:
			elems++
		}
	}
	if texts > 0 {
		e.Text = a.valueSlice(texts)
	}
	if elems > 0 {
		e.Children = make([]*Element, 0, elems)
	}
	for _, na := range n.attrs {
		v, ok := attrValue(na.parts, values)
		if ok {
			e.Attrs = append(e.Attrs, Attr{Name: na.name, Value: v})
		}
	}

	for i := range n.kids {
		pt := &n.kids[i]
		switch pt.kind {
		case partText:
			e.Text = append(e.Text, pt.text)
		case partElement:
			c, err := a.resolveNode(pt.elem, values, depth+1)
			if err != nil {
				return nil, err
			}
			e.Children = append(e.Children, c)
		case partResolved:
			e.Children = append(e.Children, pt.resolved...)
		case partSubst:
			if int(pt.index) >= len(values) {
				if pt.optional {
					continue
				}
				return nil, fmt.Errorf("element %q: substitution %d of %d values", n.name, pt.index, len(values))
			}
			v := values[pt.index]
			switch {
			case v.Type == TypeBinXML:
				e.Children = append(e.Children, v.XML()...)
			case v.Type == TypeNull:
			default:
				e.Text = append(e.Text, v)
			}
		}
	}

	return e, nil
}

// attrValue builds an attribute value from its pieces. It returns false
// when an optional substitution has no value, so the attribute is left
// out.
func attrValue(parts []part, values []Value) (Value, bool) {
	if len(parts) == 1 && parts[0].kind == partText {
		return parts[0].text, true
	}

	var pieces []Value
	for _, pt := range parts {
		switch pt.kind {
		case partText:
			pieces = append(pieces, pt.text)
		case partSubst:
			if int(pt.index) >= len(values) || values[pt.index].Type == TypeNull {
				if pt.optional {
					return Value{}, false
				}
				continue
			}
			pieces = append(pieces, values[pt.index])
		}
	}

	switch len(pieces) {
	case 0:
		return stringValue(""), true
	case 1:
		return pieces[0], true
	}

	var b strings.Builder
	for _, v := range pieces {
		b.WriteString(v.String())
	}

	return stringValue(b.String()), true
}

// decodeUTF16 decodes little-endian UTF-16 and drops trailing NULs.
func decodeUTF16(b []byte) string {
	n := len(b) / 2
	for n > 0 && b[2*n-2] == 0 && b[2*n-1] == 0 {
		n--
	}

	ascii := true
	for i := 0; i < n; i++ {
		if b[2*i+1] != 0 || b[2*i] >= 0x80 {
			ascii = false
			break
		}
	}

	if ascii {
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = b[2*i]
		}
		return string(buf)
	}

	u := make([]uint16, n)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}

	return string(utf16.Decode(u))
}
