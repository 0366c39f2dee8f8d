package i18n

import (
	"strings"
	"testing"
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

func TestValidateFindsProblems(t *testing.T) {
	Register(map[string]Message{
		"test.verbs": {VI: "có %d", EN: "has %d and %s"},
		"test.nfd":   {VI: "ca\u0302\u0300u", EN: "ok"},
	})
	defer func() {
		mu.Lock()
		delete(catalog, "test.verbs")
		delete(catalog, "test.nfd")
		mu.Unlock()
	}()
	problems := strings.Join(Validate(), "\n")
	if !strings.Contains(problems, "test.verbs") {
		t.Errorf("verb mismatch not found: %s", problems)
	}
	if !strings.Contains(problems, "test.nfd") {
		t.Errorf("NFD text not found: %s", problems)
	}
}
