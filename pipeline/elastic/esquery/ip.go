package esquery

import (
	"net/netip"

	"github.com/canhgac/canhgac/pipeline/kql"
)

// Elasticsearch stores every address in 16 bytes, an IPv4 address as the
// IPv4-mapped IPv6 address ::ffff:a.b.c.d, so IPv6 ranges and prefixes
// such as ::/0 also cover IPv4 addresses. kql.Match never puts an IPv4
// address in an IPv6 range, so IPv6 conditions leave out the mapped block.
var (
	mappedFirst = netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff})
	mappedLast  = netip.AddrFrom16([16]byte{10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff})
	v4First     = netip.AddrFrom4([4]byte{})
	v4Last      = netip.AddrFrom4([4]byte{255, 255, 255, 255})
	v6First     = netip.IPv6Unspecified()
	v6Last      = netip.AddrFrom16([16]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
)

// interval is a closed range of addresses of one family.
type interval struct{ first, last netip.Addr }

// ipPrefix returns a query for the addresses in a prefix: a term query in
// CIDR form, unless an IPv6 prefix covers mapped addresses and must be
// split into ranges.
func ipPrefix(field string, p netip.Prefix) map[string]any {
	if p.Addr().Is4() {
		return term(field, prefixText(p))
	}
	lo, hi := kql.PrefixBounds(p)
	first, last := netip.AddrFrom16(lo), netip.AddrFrom16(hi)
	if last.Less(mappedFirst) || mappedLast.Less(first) {
		return term(field, prefixText(p))
	}
	return ipIntervals(field, withoutMapped(interval{first, last}))
}

// prefixText writes a prefix as Elasticsearch reads it: a lone address
// without "/bits".
func prefixText(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// ipRange returns a query that compares the addresses of a's family with a.
func ipRange(field string, op kql.RangeOp, a netip.Addr) map[string]any {
	first, last := v6First, v6Last
	if a.Is4() {
		first, last = v4First, v4Last
	}
	iv := interval{first, last}
	switch op {
	case kql.Less:
		if a == first {
			return matchNone()
		}
		iv.last = a.Prev()
	case kql.LessOrEqual:
		iv.last = a
	case kql.Greater:
		if a == last {
			return matchNone()
		}
		iv.first = a.Next()
	case kql.GreaterOrEqual:
		iv.first = a
	}
	if a.Is4() {
		return ipIntervals(field, []interval{iv})
	}
	return ipIntervals(field, withoutMapped(iv))
}

// withoutMapped removes the IPv4-mapped block from an IPv6 interval.
func withoutMapped(iv interval) []interval {
	var out []interval
	if iv.first.Less(mappedFirst) {
		last := iv.last
		if !last.Less(mappedFirst) {
			last = mappedFirst.Prev()
		}
		out = append(out, interval{iv.first, last})
	}
	if mappedLast.Less(iv.last) {
		first := iv.first
		if !mappedLast.Less(first) {
			first = mappedLast.Next()
		}
		out = append(out, interval{first, iv.last})
	}
	return out
}

func ipIntervals(field string, ivs []interval) map[string]any {
	if len(ivs) == 0 {
		return matchNone()
	}
	clauses := make([]any, len(ivs))
	for i, iv := range ivs {
		clauses[i] = rangeQuery(field, map[string]any{"gte": iv.first.String(), "lte": iv.last.String()})
	}
	return anyOf(clauses)
}
