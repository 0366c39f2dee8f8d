package kql

import (
	"net/netip"
	"strings"
	"time"
	"unicode"

	"github.com/canhgac/canhgac/ecs"
)

// FieldType says how a field is compared. Backends must use it, so that the
// in-memory evaluator and every store agree. Numbers are not a field type:
// an int64 or float64 value compares numerically with a numeric query value,
// a string value compares as a string, whatever the field.
type FieldType int

// The field types.
const (
	// Keyword fields match a value exactly and case-sensitively (ECS
	// keyword). Every field that is not listed below is a keyword field.
	Keyword FieldType = iota
	// Text fields are analyzed: a value matches when one of its words is
	// a word of the field, a quoted phrase when its words appear in order.
	// Words are lowercased runs of letters and digits (Tokenize).
	Text
	// IP fields hold addresses; values are addresses or CIDR ranges.
	IP
	// Date fields hold times; values are RFC 3339 times or dates.
	Date
)

// TextFields are the analyzed fields. Free text searches them and every
// keyword field.
var TextFields = []string{"message", "event.original"}

var dateFields = map[string]bool{
	"@timestamp": true, "event.created": true, "event.ingested": true,
	"event.start": true, "event.end": true,
}

// TypeOf returns the type of a field: Text for TextFields, Date for
// @timestamp and event.created|ingested|start|end, IP for "ip" and every
// name ending in ".ip" (source.ip, related.ip, ...), Keyword for the rest.
func TypeOf(field string) FieldType {
	switch {
	case field == "message" || field == "event.original":
		return Text
	case dateFields[field]:
		return Date
	case field == "ip" || strings.HasSuffix(field, ".ip"):
		return IP
	}
	return Keyword
}

// ParseIPRange parses an IP address or a CIDR range. An address yields a
// single-address prefix. IPv4-mapped IPv6 addresses are unmapped, so
// ::ffff:10.0.0.1 and 10.0.0.1 are the same address.
func ParseIPRange(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), true
}

// ParseIP parses one address as stored in an event; zones are dropped and
// IPv4-mapped addresses unmapped.
func ParseIP(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// PrefixBounds returns the first and last address of a prefix as 16 bytes.
func PrefixBounds(p netip.Prefix) (lo, hi [16]byte) {
	lo = p.Masked().Addr().As16()
	hi = lo
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	for i := bits; i < 128; i++ {
		hi[i/8] |= 1 << (7 - uint(i%8))
	}
	return lo, hi
}

// ParseDate parses a date value: RFC 3339 with or without fraction or
// zone (UTC when missing), or a date alone (midnight UTC).
func ParseDate(s string) (time.Time, bool) {
	if t, err := ecs.ParseTime(s); err == nil {
		return t, true
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// Tokenize splits text into lowercased words: maximal runs of Unicode
// letters, digits and private-use characters. It matches SQLite FTS5's
// unicode61 tokenizer with remove_diacritics 0, so that the embedded store's
// full-text index and Match agree.
func Tokenize(s string) []string {
	var words []string
	start := -1
	for i, r := range s {
		if isTokenRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			words = append(words, strings.ToLower(s[start:i]))
			start = -1
		}
	}
	if start >= 0 {
		words = append(words, strings.ToLower(s[start:]))
	}
	return words
}

func isTokenRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// Glob reports whether s matches the wildcard pattern given by its literal
// parts (Value.Parts): s starts with the first part, ends with the last, and
// contains the middle parts in order. Comparison is byte-wise.
func Glob(parts []string, s string) bool {
	if len(parts) == 0 {
		return s == ""
	}
	if len(parts) == 1 {
		return s == parts[0]
	}
	first, last := parts[0], parts[len(parts)-1]
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}
