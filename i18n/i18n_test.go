package i18n

import (
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestParseLanguage(t *testing.T) {
	cases := map[string]Lang{"vi": VI, "en": EN, "en-US": EN, "vi_VN.UTF-8": VI, "EN": EN, "en-GB,en;q=0.9": EN}
	for in, want := range cases {
		got, ok := Parse(in)
		if !ok || got != want {
			t.Errorf("Parse(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := Parse("fr"); ok {
		t.Errorf("Parse(fr) succeeded; want failure")
	}
}

func TestAcceptLanguageOrder(t *testing.T) {
	if got := FromAcceptLanguage("fr-FR,en-US;q=0.8,vi;q=0.5"); got != EN {
		t.Errorf("got %q, want en", got)
	}
	if got := FromAcceptLanguage(""); got != VI {
		t.Errorf("empty header: got %q, want vi", got)
	}
}

func TestFromEnvDefault(t *testing.T) {
	t.Setenv("CANHGAC_LANG", "")
	if got := FromEnv(); got != VI {
		t.Errorf("got %q, want vi", got)
	}
	t.Setenv("CANHGAC_LANG", "en_US.UTF-8")
	if got := FromEnv(); got != EN {
		t.Errorf("got %q, want en", got)
	}
}

// TestCatalogText checks every registered message: valid UTF-8, Vietnamese in
// NFC, and the same format verbs in both languages.
func TestCatalogText(t *testing.T) {
	for _, key := range Keys("") {
		vi, en := T(VI, key), T(EN, key)
		if !utf8.ValidString(vi) || !norm.NFC.IsNormalString(vi) {
			t.Errorf("%s: Vietnamese text is not NFC UTF-8", key)
		}
		if countVerbs(vi) != countVerbs(en) {
			t.Errorf("%s: %d format verbs in Vietnamese, %d in English", key, countVerbs(vi), countVerbs(en))
		}
	}
}

func countVerbs(s string) int {
	n := 0
	for i := 0; i < len(s)-1; i++ {
		if s[i] == '%' {
			if s[i+1] == '%' {
				i++
				continue
			}
			n++
		}
	}
	return n
}
