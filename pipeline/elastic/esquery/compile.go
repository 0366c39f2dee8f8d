package esquery

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/canhgac/canhgac/pipeline/kql"
)

// CompileString parses a KQL query and compiles it. An empty or blank
// query matches every document. A parse error is returned unchanged as the
// *kql.Error, whose Message the console and the CLI show in the user's
// language.
func CompileString(query string) (map[string]any, error) {
	n, err := kql.Parse(query)
	if err != nil {
		return nil, err
	}
	return Compile(n)
}

// Compile turns a parsed KQL query into the Elasticsearch query DSL object
// that goes under "query" in a search request. The query assumes an index
// created with Mapping and documents indexed as Document returns them. It
// returns an *Error for a query that Elasticsearch cannot run (a wildcard
// value with more than 256 bytes of text), and a plain error for a nil
// node or a node type that package kql does not define.
func Compile(n kql.Node) (map[string]any, error) {
	if n == nil {
		return nil, errors.New("esquery: compile a nil KQL node: parse the query with kql.Parse first")
	}
	return compile(n)
}

func compile(n kql.Node) (map[string]any, error) {
	switch n := n.(type) {
	case kql.MatchAll:
		return matchAll(), nil
	case *kql.And:
		terms, err := compileAll(n.Terms)
		if err != nil {
			return nil, err
		}
		return boolQuery("filter", terms), nil
	case *kql.Or:
		terms, err := compileAll(n.Terms)
		if err != nil {
			return nil, err
		}
		return anyOf(terms), nil
	case *kql.Not:
		term, err := compile(n.Term)
		if err != nil {
			return nil, err
		}
		return boolQuery("must_not", []any{term}), nil
	case *kql.Exists:
		return exists(n.Field), nil
	case *kql.Is:
		if n.Value.Wildcard() {
			if err := checkWildcard(n.Value); err != nil {
				return nil, err
			}
		}
		return compileIs(n), nil
	case *kql.Range:
		return compileRange(n), nil
	}
	return nil, fmt.Errorf("esquery: unsupported KQL node %T", n)
}

func compileAll(nodes []kql.Node) ([]any, error) {
	out := make([]any, len(nodes))
	for i, t := range nodes {
		q, err := compile(t)
		if err != nil {
			return nil, err
		}
		out[i] = q
	}
	return out, nil
}

func matchAll() map[string]any  { return map[string]any{"match_all": map[string]any{}} }
func matchNone() map[string]any { return map[string]any{"match_none": map[string]any{}} }

func boolQuery(occur string, clauses []any) map[string]any {
	return map[string]any{"bool": map[string]any{occur: clauses}}
}

// anyOf returns a query that matches when one clause matches. A single
// clause is returned as it is.
func anyOf(clauses []any) map[string]any {
	if len(clauses) == 1 {
		return clauses[0].(map[string]any)
	}
	return map[string]any{"bool": map[string]any{"should": clauses, "minimum_should_match": 1}}
}

func exists(field string) map[string]any {
	return map[string]any{"exists": map[string]any{"field": field}}
}

func term(field string, value any) map[string]any {
	return map[string]any{"term": map[string]any{field: value}}
}

func wildcard(field, pattern string) map[string]any {
	return map[string]any{"wildcard": map[string]any{field: map[string]any{"value": pattern}}}
}

func rangeQuery(field string, bounds map[string]any) map[string]any {
	return map[string]any{"range": map[string]any{field: bounds}}
}

var rangeKeys = map[kql.RangeOp]string{kql.Less: "lt", kql.LessOrEqual: "lte", kql.Greater: "gt", kql.GreaterOrEqual: "gte"}

func compileIs(n *kql.Is) map[string]any {
	v := n.Value
	if n.Field == "" {
		return freeText(v)
	}
	if kql.IsFieldPattern(n.Field) {
		return queryString(n.Field, isQueryText(v))
	}
	switch kindOf(n.Field) {
	case kindText:
		return textIs(n.Field, v)
	case kindIP:
		p, ok := kql.ParseIPRange(v.Text)
		if !ok || v.Wildcard() {
			return matchNone()
		}
		return ipPrefix(n.Field, p)
	case kindDate:
		t, ok := kql.ParseDate(v.Text)
		if !ok || v.Wildcard() || !nanosRange(t) {
			return matchNone()
		}
		return term(n.Field, formatTime(t))
	case kindNumber:
		f, ok := number(v)
		if !ok || v.Wildcard() || math.IsNaN(f) || math.IsInf(f, 0) {
			return matchNone()
		}
		return term(n.Field, formatNumber(f))
	case kindKeyword:
		return keywordIs(n.Field, v)
	}
	// A dynamic field is keyword or double. A lenient match query compares
	// exactly on both and skips a value that is not a number on a double
	// field, where term would fail the whole search.
	if v.Wildcard() {
		return queryString(n.Field, isQueryText(v))
	}
	return map[string]any{"match": map[string]any{n.Field: map[string]any{"query": v.Text, "lenient": true}}}
}

func keywordIs(field string, v kql.Value) map[string]any {
	if v.Wildcard() {
		return wildcard(field, wildcardPattern(v.Parts, false))
	}
	return term(field, v.Text)
}

func compileRange(n *kql.Range) map[string]any {
	v := n.Value
	key := rangeKeys[n.Op]
	if kql.IsFieldPattern(n.Field) {
		return queryString(n.Field, rangeQueryText(n.Op, v.Text))
	}
	switch kindOf(n.Field) {
	case kindIP:
		a, ok := kql.ParseIP(v.Text)
		if !ok {
			return matchNone()
		}
		return ipRange(n.Field, n.Op, a)
	case kindDate:
		t, ok := kql.ParseDate(v.Text)
		if !ok {
			return matchNone()
		}
		return dateRange(n.Field, n.Op, t)
	case kindNumber:
		f, ok := number(v)
		if !ok {
			return matchNone()
		}
		return numberRange(n.Field, n.Op, f)
	case kindKeyword:
		return rangeQuery(n.Field, map[string]any{key: v.Text})
	case kindText:
		// NOTE: kql.Match compares the whole text byte-wise, but a range
		// on a text field compares its analyzed words, so this matches
		// when any word of the field lies in the range.
		return rangeQuery(n.Field, map[string]any{key: v.Text})
	}
	// A range query fails on a double field when the value is not a
	// number, so dynamic fields use a lenient query_string range.
	return queryString(n.Field, rangeQueryText(n.Op, v.Text))
}

// number parses a numeric query value as kql.Match does.
func number(v kql.Value) (float64, bool) {
	f, err := strconv.ParseFloat(v.Text, 64)
	return f, err == nil
}

// formatNumber writes a float in a form Java's Double.parseDouble reads;
// strconv.ParseFloat also accepts forms such as hex floats and "inf" that
// Elasticsearch rejects.
func formatNumber(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// numberRange compares a double field with f. NaN and the infinities,
// which no stored number equals, follow kql.Match's comparison: against
// NaN a number is neither less nor greater, so <= and >= hold for every
// number.
func numberRange(field string, op kql.RangeOp, f float64) map[string]any {
	below := op == kql.Less || op == kql.LessOrEqual
	switch {
	case math.IsNaN(f):
		if op == kql.LessOrEqual || op == kql.GreaterOrEqual {
			return exists(field)
		}
		return matchNone()
	case math.IsInf(f, 1):
		if below {
			return exists(field)
		}
		return matchNone()
	case math.IsInf(f, -1):
		if below {
			return matchNone()
		}
		return exists(field)
	}
	return rangeQuery(field, map[string]any{rangeKeys[op]: formatNumber(f)})
}

// date_nanos holds instants from the Unix epoch to 2262-04-11, and a query
// bound outside that span fails the search, so such bounds are resolved here.
var (
	minNanos = time.Unix(0, 0).UTC()
	maxNanos = time.Unix(0, math.MaxInt64).UTC()
)

func nanosRange(t time.Time) bool { return !t.Before(minNanos) && !t.After(maxNanos) }

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func dateRange(field string, op kql.RangeOp, t time.Time) map[string]any {
	below := op == kql.Less || op == kql.LessOrEqual
	switch {
	case t.Before(minNanos):
		if below {
			return matchNone()
		}
		return exists(field)
	case t.After(maxNanos):
		if below {
			return exists(field)
		}
		return matchNone()
	}
	return rangeQuery(field, map[string]any{rangeKeys[op]: formatTime(t)})
}

// textIs returns the query for field:value on a text field. Documents
// that carry the field's words (Document) are searched in the words with
// kql.Match's rules, and others through the standard analyzer.
func textIs(field string, v kql.Value) map[string]any {
	words := WordsField(field)
	var exact, standard map[string]any
	if v.Wildcard() {
		if !wordPattern(v.Parts) {
			return matchNone()
		}
		pattern := wildcardPattern(v.Parts, true)
		exact = wildcard(words, pattern)
		standard = wildcard(field, pattern)
	} else {
		tokens := kql.Tokenize(v.Text)
		if len(tokens) == 0 {
			return matchNone()
		}
		if v.Quoted && len(tokens) > 1 {
			exact = map[string]any{"match_phrase": map[string]any{words: map[string]any{
				"query": strings.Join(tokens, " "), "analyzer": "whitespace"}}}
			standard = map[string]any{"match_phrase": map[string]any{field: v.Text}}
		} else {
			exact = map[string]any{"terms": map[string]any{words: uniqueStrings(tokens)}}
			standard = map[string]any{"match": map[string]any{field: v.Text}}
		}
	}
	return map[string]any{"bool": map[string]any{
		"should": []any{
			boolQuery("filter", []any{exists(words), exact}),
			map[string]any{"bool": map[string]any{
				"filter":   []any{standard},
				"must_not": []any{exists(words)},
			}},
		},
		"minimum_should_match": 1,
	}}
}

// wordPattern reports whether a wildcard value can match a word: a word
// holds only letters, digits and private-use characters, so a part with
// any other character matches none, in kql.Match as here. Documents
// without words get the same answer, although the standard analyzer keeps
// words such as lsass.exe whole.
func wordPattern(parts []string) bool {
	for _, p := range parts {
		for _, r := range strings.ToLower(p) {
			if _, isWord := wordRune(r); !isWord {
				return false
			}
		}
	}
	return true
}

func uniqueStrings(s []string) []any {
	seen := make(map[string]bool, len(s))
	out := make([]any, 0, len(s))
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// freeText returns the query for a value without a field: the text fields
// and every string of a keyword field, as kql.Match searches them.
func freeText(v kql.Value) map[string]any {
	var clauses []any
	for _, f := range kql.TextFields {
		if q := textIs(f, v); q["match_none"] == nil {
			clauses = append(clauses, q)
		}
	}
	clauses = append(clauses, keywordIs(FreeTextField, v))
	return anyOf(clauses)
}

// wildcardPattern joins the literal parts of a KQL wildcard value with '*'.
// It escapes '*', '?' and '\' inside the parts, because Lucene's wildcard
// syntax reserves them and KQL reads them as literals there.
func wildcardPattern(parts []string, lower bool) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('*')
		}
		if lower {
			p = strings.ToLower(p)
		}
		for _, r := range p {
			if r == '*' || r == '?' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// queryString returns a Lucene syntax query over the fields that a name or
// a name pattern selects. Elasticsearch expands the pattern against the
// mapping and applies each field's own type, and lenient skips the fields
// whose type cannot take the value. The field goes in default_field
// because Elasticsearch 8.17 ignored a range such as ">6" when the field
// was given in "fields".
//
// NOTE: a pattern that selects message or event.original searches them
// with the standard analyzer, not with kql.Tokenize's words. A pattern that
// selects canhgac.kql.* also searches the words and the free text copies,
// which kql.Match does not see.
func queryString(field, query string) map[string]any {
	return map[string]any{"query_string": map[string]any{
		"query":            query,
		"default_field":    field,
		"lenient":          true,
		"default_operator": "OR",
	}}
}

// queryStringSpecial are the characters that Lucene query syntax reserves.
const queryStringSpecial = `+-=&|><!(){}[]^"~*?:\/`

func escapeQueryString(s string) string {
	switch s {
	case "AND", "OR", "NOT":
		// Operators when they stand alone; an escaped first letter makes
		// the word a term.
		return `\` + s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(queryStringSpecial, r) || isSpace(r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\f', '\v', '\u3000', '\u00a0':
		return true
	}
	return false
}

// isQueryText writes a KQL value in Lucene query syntax: a quoted phrase,
// a wildcard term or one escaped term.
func isQueryText(v kql.Value) string {
	if v.Quoted {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v.Text) + `"`
	}
	if v.Wildcard() {
		parts := make([]string, len(v.Parts))
		for i, p := range v.Parts {
			parts[i] = escapeQueryString(p)
		}
		return strings.Join(parts, "*")
	}
	if v.Text == "" {
		// An empty query string matches nothing, while an empty phrase
		// matches an empty keyword value as kql.Match does.
		return `""`
	}
	return escapeQueryString(v.Text)
}

func rangeQueryText(op kql.RangeOp, value string) string {
	return op.String() + escapeQueryString(value)
}
