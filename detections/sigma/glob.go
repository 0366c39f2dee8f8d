package sigma

import "unicode/utf8"

type globKind uint8

const (
	globLiteral globKind = iota
	globOne              // ? matches one character
	globStar             // * matches any run of characters
)

type globToken struct {
	kind globKind
	lit  string
}

// globMatch reports whether s matches the whole pattern. It backtracks only
// to the last star, so the cost is O(len(s) × tokens) in the worst case.
func globMatch(toks []globToken, s string) bool {
	ti, si := 0, 0
	starTok, starPos := -1, 0
	for {
		if ti < len(toks) {
			t := toks[ti]
			switch t.kind {
			case globStar:
				if ti == len(toks)-1 {
					return true
				}
				starTok, starPos = ti, si
				ti++
				continue
			case globOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			case globLiteral:
				if len(s)-si >= len(t.lit) && s[si:si+len(t.lit)] == t.lit {
					si += len(t.lit)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starTok < 0 || starPos >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starPos:])
		starPos += n
		ti, si = starTok+1, starPos
	}
}
