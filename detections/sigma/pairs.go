package sigma

// Most contains searches fail, and strings.Contains scans the whole value
// for each of them: the shared rules run hundreds of keyword searches over
// every web log line. A pair set records which adjacent byte pairs a value
// has (hashed into 1024 bits), so a pattern with a pair the value lacks is
// rejected without a scan. A set bit may come from another pair, so a
// pattern that passes is still checked with strings.Contains.

// pairFilterMinLen is the shortest value worth a pair set. Shorter values
// are scanned directly.
const pairFilterMinLen = 32

// maxPatternPairs is how many pairs of a pattern are checked.
const maxPatternPairs = 4

// pairSet is a 1024-bit set of hashed byte pairs.
type pairSet [16]uint64

func pairHash(a, b byte) uint16 {
	return uint16((uint32(a)<<8 | uint32(b)) * 0x9E3779B1 >> 22)
}

// fill replaces the set with the pairs of s.
func (p *pairSet) fill(s string) {
	*p = pairSet{}
	for i := 0; i+1 < len(s); i++ {
		h := pairHash(s[i], s[i+1])
		p[h>>6] |= 1 << (h & 63)
	}
}

func (p *pairSet) has(h uint16) bool { return p[h>>6]&(1<<(h&63)) != 0 }

// patternPairs returns up to maxPatternPairs pair hashes spread over
// pattern, and their count.
func patternPairs(pattern string) ([maxPatternPairs]uint16, uint8) {
	var out [maxPatternPairs]uint16
	pairs := len(pattern) - 1
	if pairs <= 0 {
		return out, 0
	}
	n := min(pairs, maxPatternPairs)
	for i := range n {
		// Spread the chosen pairs from the first to the last.
		at := 0
		if n > 1 {
			at = i * (pairs - 1) / (n - 1)
		}
		out[i] = pairHash(pattern[at], pattern[at+1])
	}
	return out, uint8(n)
}

// mayContain reports whether the lowered value can contain the pattern of
// m, from the pair sets of both.
func (v *cachedValue) mayContain(m *valueMatcher) bool {
	if !v.paired {
		v.pairs.fill(v.lower)
		v.paired = true
	}
	for _, h := range m.pairs[:m.npairs] {
		if !v.pairs.has(h) {
			return false
		}
	}
	return true
}
