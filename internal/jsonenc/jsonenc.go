// Package jsonenc writes JSON strings straight into a buffer, for the
// stores' hand-written event encoders, which avoid encoding/json's
// reflection on their hot path.
package jsonenc

import (
	"bytes"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// plain marks the bytes that AppendString copies as they are: printable
// ASCII other than the quote and the backslash. A table lookup per byte
// costs less than the comparisons on long log lines.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendString writes s to buf as a quoted JSON string. Invalid UTF-8
// bytes become U+FFFD, and U+2028 and U+2029 are escaped, as
// encoding/json does.
func AppendString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			buf.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				buf.WriteByte('\\')
				buf.WriteByte(c)
			case '\n':
				buf.WriteString(`\n`)
			case '\r':
				buf.WriteString(`\r`)
			case '\t':
				buf.WriteString(`\t`)
			default:
				buf.WriteString(`\u00`)
				buf.WriteByte(hexDigits[c>>4])
				buf.WriteByte(hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf.WriteString(s[start:i])
			buf.WriteString(`\ufffd`)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript readers
		// of the raw text.
		if r == '\u2028' || r == '\u2029' {
			buf.WriteString(s[start:i])
			buf.WriteString(`\u202`)
			buf.WriteByte(hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}

// AppendStrings writes list as a JSON array of strings, each as
// AppendString writes it.
func AppendStrings(buf *bytes.Buffer, list []string) {
	buf.WriteByte('[')
	for i, s := range list {
		if i > 0 {
			buf.WriteByte(',')
		}
		AppendString(buf, s)
	}
	buf.WriteByte(']')
}
