package sigma

import (
	"strings"
	"unicode/utf8"
)

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
// to the last star, and a star followed by a literal jumps straight to the
// literal's next occurrence, so the cost is O(len(s) × tokens) at worst.
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
				if next := toks[ti]; next.kind == globLiteral {
					i := strings.Index(s[si:], next.lit)
					if i < 0 {
						return false
					}
					starPos = si + i
					si = starPos
				}
				continue
			case globOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			case globLiteral:
				if strings.HasPrefix(s[si:], t.lit) {
					si += len(t.lit)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		// Mismatch: let the last star take one more character.
		if starTok < 0 || starPos >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starPos:])
		starPos += n
		if next := toks[starTok+1]; next.kind == globLiteral {
			i := strings.Index(s[starPos:], next.lit)
			if i < 0 {
				return false
			}
			starPos += i
		}
		ti, si = starTok+1, starPos
	}
}
