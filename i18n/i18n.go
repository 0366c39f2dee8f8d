// Package i18n is canhgac's one message catalog. Every text a user sees —
// CLI help and output, error messages, console screens — is looked up here by
// key, in Vietnamese (the default) or English.
//
// Packages add their messages at init time with Register. The catalog
// rejects a key registered twice and a message missing either language, so a
// text cannot ship in one language only. Keys are dotted and start with the
// owning package ("cli.hunt.short", "ui.alerts.title").
package i18n

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Lang is a supported user language.
type Lang string

// The supported languages. Vietnamese is the default.
const (
	VI Lang = "vi"
	EN Lang = "en"
)

// Message is one text in both languages. Texts are fmt format strings.
type Message struct {
	VI string
	EN string
}

var (
	mu      sync.RWMutex
	catalog = map[string]Message{}
)

// Register adds messages to the catalog. It panics on a duplicate key or a
// message without both languages, because either is a programming error
// that must fail at start-up, not when a user first meets the text.
func Register(msgs map[string]Message) {
	mu.Lock()
	defer mu.Unlock()
	for key, m := range msgs {
		if _, dup := catalog[key]; dup {
			panic("i18n: message " + key + " registered twice")
		}
		if m.VI == "" || m.EN == "" {
			panic("i18n: message " + key + " lacks a Vietnamese or an English text")
		}
		catalog[key] = m
	}
}

// T returns the message for key in lang, formatted with args. An unknown key
// returns the key itself, so a missing text is visible instead of blank.
func T(lang Lang, key string, args ...any) string {
	mu.RLock()
	m, ok := catalog[key]
	mu.RUnlock()
	if !ok {
		return key
	}
	format := m.VI
	if lang == EN {
		format = m.EN
	}
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// Has reports whether key is in the catalog.
func Has(key string) bool {
	mu.RLock()
	defer mu.RUnlock()
	_, ok := catalog[key]
	return ok
}

// Keys returns the registered keys that start with prefix, sorted.
func Keys(prefix string) []string {
	mu.RLock()
	defer mu.RUnlock()
	var keys []string
	for k := range catalog {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// Table returns every message whose key starts with prefix in one language,
// for the web console, which loads its texts as JSON.
func Table(lang Lang, prefix string) map[string]string {
	out := make(map[string]string)
	for _, k := range Keys(prefix) {
		out[k] = T(lang, k)
	}
	return out
}

// Parse returns the language named by s ("vi", "en", or a locale or
// Accept-Language value such as "en-US,en;q=0.9"). It returns false for
// anything else.
func Parse(s string) (Lang, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexAny(s, ",;"); i >= 0 {
		s = s[:i]
	}
	if i := strings.IndexAny(s, "-_."); i >= 0 {
		s = s[:i]
	}
	switch s {
	case "vi":
		return VI, true
	case "en":
		return EN, true
	}
	return "", false
}

// FromEnv returns the language chosen by the CANHGAC_LANG variable, or
// Vietnamese when it is unset or names no supported language.
func FromEnv() Lang {
	if l, ok := Parse(os.Getenv("CANHGAC_LANG")); ok {
		return l
	}
	return VI
}

// FromAcceptLanguage picks the first supported language of an HTTP
// Accept-Language header, in the order the browser lists them, or
// Vietnamese.
func FromAcceptLanguage(header string) Lang {
	for _, part := range strings.Split(header, ",") {
		if l, ok := Parse(part); ok {
			return l
		}
	}
	return VI
}

// Validate checks every registered message: Vietnamese text in NFC
// UTF-8, and the same number of format verbs in both languages (a mismatch
// prints %!(EXTRA …) or %!s(MISSING) to a user). It returns one line per
// problem; a test of the binary, which links every package, calls it.
func Validate() []string {
	var problems []string
	for _, key := range Keys("") {
		mu.RLock()
		m := catalog[key]
		mu.RUnlock()
		if !utf8.ValidString(m.VI) || !norm.NFC.IsNormalString(m.VI) {
			problems = append(problems, key+": Vietnamese text is not NFC UTF-8")
		}
		if v, e := countVerbs(m.VI), countVerbs(m.EN); v != e {
			problems = append(problems, fmt.Sprintf("%s: %d format verbs in Vietnamese, %d in English", key, v, e))
		}
	}
	return problems
}

// countVerbs counts fmt verbs, not counting the escaped "%%".
func countVerbs(s string) int {
	n := 0
	for i := 0; i < len(s)-1; i++ {
		if s[i] != '%' {
			continue
		}
		if s[i+1] == '%' {
			i++
			continue
		}
		n++
	}
	return n
}
