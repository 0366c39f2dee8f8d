package esquery

import (
	"unicode/utf8"

	"github.com/canhgac/canhgac/i18n"
	"github.com/canhgac/canhgac/pipeline/kql"
)

func init() {
	i18n.Register(map[string]i18n.Message{
		"esquery.error.wildcard_too_long": {
			EN: "the wildcard value %q is %d bytes long, more than the %d bytes that the Elasticsearch store can search: shorten the value around the * or search the exact value without *",
			VI: "giá trị có ký tự đại diện %q dài %d byte, vượt quá %d byte mà kho Elasticsearch có thể tìm: rút ngắn giá trị quanh dấu * hoặc tìm đúng giá trị không có *",
		},
	})
}

// Error is a valid KQL query that Elasticsearch cannot run. Key is the
// catalog key of the message and Args its arguments, so the console and
// the CLI show it in the user's language with Message.
type Error struct {
	Key  string
	Args []any
}

// Error returns the message in English.
func (e *Error) Error() string { return "esquery: " + e.Message(i18n.EN) }

// Message returns the message in lang.
func (e *Error) Message(lang i18n.Lang) string { return i18n.T(lang, e.Key, e.Args...) }

// maxWildcardBytes bounds a wildcard value: its text and its stars, in
// UTF-8 bytes. Lucene turns a wildcard into an automaton and gives up when
// determinizing it takes too much work, which fails the whole search with
// HTTP 400. On Elasticsearch 8.17.0 the worst patterns tried (*aaa…* and
// *a*b*c… with one letter between stars) passed at 300 bytes and failed
// at 400.
const maxWildcardBytes = 256

// checkWildcard rejects a wildcard value too long for Elasticsearch.
func checkWildcard(v kql.Value) error {
	n := len(v.Text)
	if n <= maxWildcardBytes {
		return nil
	}
	return &Error{Key: "esquery.error.wildcard_too_long", Args: []any{shorten(v.String(), 40), n, maxWildcardBytes}}
}

// shorten cuts s to at most max characters, marking the cut with "…".
func shorten(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}
