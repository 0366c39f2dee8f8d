package sigma

import (
	"strings"
	"testing"
)

// FuzzPairFilter checks that the pair filter never changes a
// case-insensitive contains: the matcher agrees with strings.Contains on
// the lowered strings, whether the pattern is cut from the value or not.
func FuzzPairFilter(f *testing.F) {
	line := `192.0.2.7 - - [04/Dec/2026:10:00:00 +0000] "GET /cgi-bin/../../etc/passwd HTTP/1.1" 404 209 "-" "curl/8.5"`
	f.Add(line, "/etc/passwd", 10, 5)
	f.Add(line, "cmd.exe", 0, 0)
	f.Add(strings.Repeat("Aa", 40), "aA", 3, 7)
	f.Add("ĐĂNG NHẬP THẤT BẠI cho người dùng root từ 10.0.0.1", "thất bại", 0, 0)
	var e Engine
	f.Fuzz(func(t *testing.T, value, pattern string, from, length int) {
		if from >= 0 && length > 0 && from+length <= len(value) {
			pattern = value[from : from+length]
		}
		m := stringMatcher(parseSigmaString(pattern), "contains", false, pattern)
		if m.op != opContains {
			return // wildcards make a glob, which the filter does not serve
		}
		var v cachedValue
		v.set(value, true)
		want := strings.Contains(strings.ToLower(value), m.s)
		if got := e.matchScalar(&m, &v); got != want {
			t.Fatalf("contains %q in %q: got %v, want %v", m.s, value, got, want)
		}
	})
}

func TestPatternPairsSpread(t *testing.T) {
	cases := []struct {
		pattern string
		want    uint8
	}{
		{"", 0}, {"a", 0}, {"ab", 1}, {"abc", 2}, {"abcd", 3}, {"/etc/passwd", 4},
	}
	for _, c := range cases {
		pairs, n := patternPairs(c.pattern)
		if n != c.want {
			t.Errorf("patternPairs(%q) gives %d pairs, want %d", c.pattern, n, c.want)
		}
		if n > 0 && pairs[0] != pairHash(c.pattern[0], c.pattern[1]) {
			t.Errorf("patternPairs(%q) does not start with the first pair", c.pattern)
		}
		if last := len(c.pattern) - 2; n > 1 && pairs[n-1] != pairHash(c.pattern[last], c.pattern[last+1]) {
			t.Errorf("patternPairs(%q) does not end with the last pair", c.pattern)
		}
	}
}
