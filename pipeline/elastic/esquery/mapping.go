package esquery

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline/kql"
)

// FreeTextField is the field that collects a copy of every string of every
// keyword field (mapping copy_to). Free text queries search it, together
// with the words of the text fields.
const FreeTextField = "canhgac.kql.free_text"

// wordsPrefix is the object under which Document writes the words of the
// text fields. The mapping keeps it out of _source, so stored events come
// back without it.
const wordsPrefix = "canhgac.kql.words"

// ignoreAbove is the longest keyword value, in characters, that
// Elasticsearch indexes. Lucene rejects a document whose term exceeds 32766
// bytes, and 8191 characters of up to 4 UTF-8 bytes stay below that, so a
// long value is left unindexed instead of failing its document.
const ignoreAbove = 8191

// WordsField returns the field that holds the words of a text field, for
// example canhgac.kql.words.message for message.
func WordsField(textField string) string { return wordsPrefix + "." + textField }

// fieldKind is the Elasticsearch type the mapping gives a field, as far as
// the compiler can know it.
type fieldKind int

const (
	// kindDynamic is a field the mapping does not declare: keyword for
	// strings, boolean for booleans, double for numbers, whichever came
	// first.
	kindDynamic fieldKind = iota
	kindKeyword
	kindText
	kindIP
	kindDate
	kindNumber
)

// keywordFields are ECS keyword fields declared up front, so that a number
// that reaches one of them first (user.name: 1001) cannot make the field
// numeric and turn the strings that follow into malformed values.
var keywordFields = []string{
	"event.id", "event.kind", "event.category", "event.type", "event.action", "event.outcome",
	"event.dataset", "event.module", "event.code", "event.provider", "event.reason", "event.hash",
	"event.timezone", "canhgac.source_id", "tags",
	"host.name", "host.hostname", "host.id", "host.os.type", "host.os.name", "host.os.version",
	"user.name", "user.id", "user.domain", "user.email", "user.target.name",
	"related.user", "related.hosts", "related.hash",
	"process.name", "process.executable", "process.command_line", "process.args",
	"process.working_directory", "process.parent.name", "process.parent.executable",
	"process.parent.command_line",
	"source.domain", "destination.domain", "client.domain", "server.domain",
	"network.transport", "network.protocol", "network.direction", "network.type",
	"network.community_id",
	"url.original", "url.full", "url.path", "url.query", "url.domain", "url.scheme",
	"http.request.method", "http.request.referrer", "http.version", "user_agent.original",
	"dns.id", "dns.type", "dns.op_code", "dns.question.name", "dns.question.type",
	"dns.question.class", "dns.response_code",
	"tls.version", "tls.cipher", "tls.client.server_name", "tls.client.ja3", "tls.server.ja3s",
	"observer.name", "observer.hostname", "observer.type", "observer.geo.name",
	"service.type", "service.name", "log.level", "log.logger", "log.file.path",
	"rule.id", "rule.name", "rule.uuid",
	"winlog.channel", "winlog.provider_name", "winlog.computer_name", "winlog.record_id",
}

// listKeywordFields are keyword fields of objects inside lists. kql.Match
// does not look inside such objects, so free text must not find their
// strings, and they get no copy to FreeTextField.
//
// NOTE: a query that names such a field (dns.answers.data:1.2.3.4) matches
// in Elasticsearch, while kql.Match and the embedded store find nothing.
// Strings in lists of objects that the mapping does not declare are copied
// to FreeTextField like any dynamic string, so free text finds them.
var listKeywordFields = []string{"dns.answers.name", "dns.answers.type", "dns.answers.class", "dns.answers.data"}

// numberFields are the numeric ECS fields and the numeric fields that
// canhgac's sensors write. They are double, not long, because kql.Match
// compares numbers as float64 (event.severity 7.5 stays 7.5).
var numberFields = []string{
	"event.sequence", "event.severity", "event.duration", "event.risk_score",
	"source.port", "destination.port", "client.port", "server.port", "url.port",
	"source.bytes", "destination.bytes", "source.packets", "destination.packets",
	"client.bytes", "server.bytes", "network.bytes", "network.packets",
	"http.response.status_code", "http.request.bytes", "http.response.bytes",
	"http.request.body.bytes", "http.response.body.bytes",
	"process.pid", "process.parent.pid", "process.thread.id", "process.exit_code",
	"log.offset", "log.syslog.priority", "log.syslog.facility.code", "log.syslog.severity.code",
	"winlog.event_id", "winlog.process.pid", "winlog.process.thread.id",
	"auditd.log.sequence", "dns.answers.ttl",
}

var dateFields = []string{"@timestamp", "event.created", "event.ingested", "event.start", "event.end"}

var declaredKinds = func() map[string]fieldKind {
	m := make(map[string]fieldKind)
	for _, f := range keywordFields {
		m[f] = kindKeyword
	}
	for _, f := range listKeywordFields {
		m[f] = kindKeyword
	}
	for _, f := range numberFields {
		m[f] = kindNumber
	}
	for _, f := range dateFields {
		m[f] = kindDate
	}
	for _, f := range kql.TextFields {
		m[f] = kindText
	}
	return m
}()

// kindOf returns the mapped type of a field. kql.TypeOf decides text, IP
// and date fields, so the compiler and kql.Match agree on them.
func kindOf(field string) fieldKind {
	switch kql.TypeOf(field) {
	case kql.Text:
		return kindText
	case kql.IP:
		return kindIP
	case kql.Date:
		return kindDate
	}
	return declaredKinds[field]
}

func keywordMapping() map[string]any {
	return map[string]any{"type": "keyword", "ignore_above": ignoreAbove, "copy_to": []any{FreeTextField}}
}

func numberMapping() map[string]any {
	return map[string]any{"type": "double", "ignore_malformed": true}
}

func ipMapping() map[string]any {
	return map[string]any{"type": "ip", "ignore_malformed": true}
}

// dateMapping accepts only ISO 8601 text, as kql.ParseDate does: the
// default format would also read a JSON number as epoch milliseconds.
func dateMapping() map[string]any {
	return map[string]any{"type": "date_nanos", "format": "strict_date_optional_time_nanos", "ignore_malformed": true}
}

// Mapping returns the "mappings" object of an event index or index
// template. Compile's queries assume it:
//
//   - _source leaves out the words that Document adds (canhgac.kql);
//   - dynamic templates map every field named ip or ending in .ip as ip.
//     Other strings become keyword fields copied to FreeTextField,
//     booleans boolean fields, and numbers double fields. Strings are
//     never detected as dates or numbers;
//   - properties declare the text, date, keyword and numeric ECS fields.
//
// Values that do not fit their field's type (a string in an ip, date or
// double field) are kept in _source but not indexed (ignore_malformed), so
// a document is not rejected for them. The exception is @timestamp, where
// data streams do not allow ignore_malformed: Elasticsearch rejects an
// event whose time lies before 1970 or after 2262-04-11, the span of
// date_nanos. The result is a new map on every call.
func Mapping() map[string]any {
	props := map[string]any{}
	for _, f := range keywordFields {
		setProperty(props, f, keywordMapping())
	}
	for _, f := range listKeywordFields {
		setProperty(props, f, map[string]any{"type": "keyword", "ignore_above": ignoreAbove})
	}
	for _, f := range numberFields {
		setProperty(props, f, numberMapping())
	}
	for _, f := range dateFields {
		m := dateMapping()
		if f == "@timestamp" {
			// Data streams reject ignore_malformed on @timestamp.
			delete(m, "ignore_malformed")
		}
		setProperty(props, f, m)
	}
	for _, f := range kql.TextFields {
		setProperty(props, f, map[string]any{"type": "text", "analyzer": "standard"})
		// The whitespace analyzer keeps Document's words as they are.
		// Norms serve only scoring.
		setProperty(props, WordsField(f), map[string]any{"type": "text", "analyzer": "whitespace", "norms": false})
	}
	setProperty(props, FreeTextField, map[string]any{"type": "keyword", "ignore_above": ignoreAbove, "doc_values": false})

	return map[string]any{
		"date_detection":    false,
		"numeric_detection": false,
		"_source":           map[string]any{"excludes": []any{"canhgac.kql"}},
		"dynamic_templates": []any{
			map[string]any{"kql_ip": map[string]any{
				"match":              "ip",
				"match_mapping_type": []any{"string", "long", "double"},
				"mapping":            ipMapping(),
			}},
			map[string]any{"kql_strings": map[string]any{
				"match_mapping_type": "string",
				"mapping":            keywordMapping(),
			}},
			map[string]any{"kql_booleans": map[string]any{
				"match_mapping_type": "boolean",
				"mapping":            map[string]any{"type": "boolean", "ignore_malformed": true},
			}},
			map[string]any{"kql_numbers": map[string]any{
				"match_mapping_type": []any{"long", "double"},
				"mapping":            numberMapping(),
			}},
		},
		"properties": props,
	}
}

// setProperty puts a field mapping at its dotted path, creating the
// object mappings on the way.
func setProperty(props map[string]any, field string, mapping map[string]any) {
	parts := strings.Split(field, ".")
	for _, p := range parts[:len(parts)-1] {
		obj, ok := props[p].(map[string]any)
		if !ok {
			obj = map[string]any{"properties": map[string]any{}}
			props[p] = obj
		}
		props = obj["properties"].(map[string]any)
	}
	props[parts[len(parts)-1]] = mapping
}

// Document returns the event as the document to index: e.Document() plus,
// under canhgac.kql.words, the words of each text field as kql.Tokenize
// splits them, joined by spaces. Text queries search those words, so that
// "lsass" finds "lsass.exe" as kql.Match does. A list of strings gives a
// list of word strings, so a phrase never spans two elements.
func Document(e *ecs.Event) map[string]any {
	doc := e.Document()
	words := map[string]any{}
	for _, f := range kql.TextFields {
		if w := textWords(e.Fields[f]); w != nil {
			words[f] = w
		}
	}
	if len(words) == 0 {
		return doc
	}
	c, ok := doc["canhgac"].(map[string]any)
	if !ok {
		if doc["canhgac"] != nil {
			// A scalar canhgac field leaves no room for the object, so
			// text queries fall back to the standard analyzer.
			return doc
		}
		c = map[string]any{}
		doc["canhgac"] = c
	}
	// Elasticsearch expands the dotted key event.original into objects.
	c["kql"] = map[string]any{"words": words}
	return doc
}

// textWords returns the joined words of a text field value: a string for
// a string, a list for a list of strings, nil when there are no words.
func textWords(v any) any {
	switch v := v.(type) {
	case string:
		if w := joinedWords(v); w != "" {
			return w
		}
	case []string:
		return wordList(len(v), func(i int) any { return v[i] })
	case []any:
		return wordList(len(v), func(i int) any { return v[i] })
	}
	return nil
}

func wordList(n int, at func(int) any) any {
	var out []any
	for i := range n {
		s, ok := at(i).(string)
		if !ok {
			continue
		}
		if w := joinedWords(s); w != "" {
			out = append(out, w)
		}
	}
	if out == nil {
		return nil
	}
	return out
}

// joinedWords returns strings.Join(kql.Tokenize(s), " ") with one
// allocation, because Document runs for every stored event. FuzzJoinedWords
// checks that both agree.
func joinedWords(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	inWord := false
	for _, r := range s {
		lower, isWord := wordRune(r)
		if !isWord {
			inWord = false
			continue
		}
		if !inWord && b.Len() > 0 {
			b.WriteByte(' ')
		}
		inWord = true
		b.WriteRune(lower)
	}
	return b.String()
}

// wordRune reports whether kql.Tokenize counts r as part of a word, and
// returns it lowercased. ASCII, the bulk of log text, skips the Unicode
// tables.
func wordRune(r rune) (rune, bool) {
	switch {
	case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
		return r, true
	case 'A' <= r && r <= 'Z':
		return r + ('a' - 'A'), true
	case r < utf8.RuneSelf:
		return r, false
	case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r):
		return unicode.ToLower(r), true
	}
	return r, false
}
