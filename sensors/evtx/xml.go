package evtx

import (
	"strings"
)

// XML renders the element and its children as compact XML text. Element
// keeps character content apart from child elements, so mixed content
// (rare in event records) is rendered with the text first.
func (e *Element) XML() string {
	var b strings.Builder
	e.writeXML(&b)
	return b.String()
}

func (e *Element) writeXML(b *strings.Builder) {
	b.WriteByte('<')
	b.WriteString(e.Name)
	for _, a := range e.Attrs {
		b.WriteByte(' ')
		b.WriteString(a.Name)
		b.WriteString(`="`)
		writeEscaped(b, a.Value.Text, true)
		b.WriteByte('"')
	}

	if len(e.Text) == 0 && len(e.Children) == 0 {
		b.WriteString("/>")
		return
	}

	b.WriteByte('>')
	for _, v := range e.Text {
		writeEscaped(b, v.Text, false)
	}

	for _, c := range e.Children {
		c.writeXML(b)
	}

	b.WriteString("</")
	b.WriteString(e.Name)
	b.WriteByte('>')
}

// writeEscaped writes s with the XML special characters escaped, and
// quotes too inside attribute values.
func writeEscaped(b *strings.Builder, s string, attr bool) {
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '"' && attr:
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
}
