package esquery

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/internal/jsonenc"
	"github.com/canhgac/canhgac/pipeline/kql"
)

// Encoder writes events as the JSON of the documents that Document
// returns, byte for byte, without building the nested maps: it sorts the
// dotted field names once and opens and closes the objects on the way.
// The pipeline encodes every stored event, and the maps cost more than the
// rest of the encoding. Events of one source mostly have the same names,
// so the Encoder keeps the last sorted order and reuses it while the names
// stay the same. An Encoder keeps its scratch space between calls and is
// not safe for concurrent use; the zero value is ready to use.
type Encoder struct {
	entries []docEntry
	// order is the sorted entries, without values, of the last event
	// that was sorted. The other fields describe that event: skipped are
	// its fields that Document overwrites, fields its number of fields and
	// shape its shapeOf.
	order   []docEntry
	skipped []string
	fields  int
	shape   uint8
}

// docEntry is one leaf of the document: a dotted name, where its value
// comes from, and the value.
type docEntry struct {
	key   string
	kind  entryKind
	value any
}

// entryKind is the source of a leaf's value.
type entryKind uint8

const (
	entryField      entryKind = iota // the event field of the same name
	entryTimestamp                   // @timestamp
	entryID                          // event.id
	entrySeq                         // event.sequence
	entrySource                      // canhgac.source_id
	entryEmptyEvent                  // the event object of an event without event fields
	entryWords                       // canhgac.kql, written from the text fields
)

// Bits of Encoder.shape: the parts of an event besides its field names
// that decide the document's leaves.
const (
	shapeID uint8 = 1 << iota
	shapeSeq
	shapeSource
	shapeWords
)

// emptyObject is the empty event object that Document adds to an event
// without event fields.
var emptyObject = map[string]any{}

// sortedTextFields are kql.TextFields in the order of their JSON keys.
var sortedTextFields = func() []string {
	fields := slices.Clone(kql.TextFields)
	slices.Sort(fields)
	return fields
}()

// Append writes the document of e to buf. Events whose field names
// collide with the object paths (a value at "a" and another at "a.b", or
// fields at the names Document writes itself) are encoded through
// Document, so the output is always Document's.
func (enc *Encoder) Append(buf *bytes.Buffer, e *ecs.Event) error {
	shape := shapeOf(e)
	if entries, ok := enc.reuse(e, shape); ok {
		return enc.write(buf, e, entries)
	}
	entries, ok := enc.collect(e, shape)
	if !ok {
		return AppendJSON(buf, Document(e))
	}
	slices.SortFunc(entries, func(a, b docEntry) int { return compareDotted(a.key, b.key) })
	for i := 1; i < len(entries); i++ {
		prev, next := entries[i-1].key, entries[i].key
		if len(next) > len(prev) && next[len(prev)] == '.' && next[:len(prev)] == prev {
			return AppendJSON(buf, Document(e))
		}
	}
	enc.order = enc.order[:0]
	for _, en := range entries {
		en.value = nil
		enc.order = append(enc.order, en)
	}
	enc.fields, enc.shape = len(e.Fields), shape
	return enc.write(buf, e, entries)
}

func shapeOf(e *ecs.Event) uint8 {
	var shape uint8
	if e.ID != "" {
		shape |= shapeID
	}
	if e.Seq != 0 {
		shape |= shapeSeq
	}
	if e.SourceID != "" {
		shape |= shapeSource
	}
	for _, f := range sortedTextFields {
		if hasWords(e.Fields[f]) {
			shape |= shapeWords
			break
		}
	}
	return shape
}

// reuse fills the last sorted order with the values of e when e has the
// same shape and field names: the same number of fields, and each name
// of the order and each skipped name present.
func (enc *Encoder) reuse(e *ecs.Event, shape uint8) ([]docEntry, bool) {
	if len(enc.order) == 0 || shape != enc.shape || len(e.Fields) != enc.fields {
		return nil, false
	}
	for _, k := range enc.skipped {
		if _, ok := e.Fields[k]; !ok {
			return nil, false
		}
	}
	entries := enc.entries[:0]
	for _, en := range enc.order {
		if en.kind == entryField {
			v, ok := e.Fields[en.key]
			if !ok {
				enc.entries = entries[:0]
				return nil, false
			}
			en.value = v
		} else {
			en.value = leafValue(e, en.kind)
		}
		entries = append(entries, en)
	}
	enc.entries = entries[:0]
	return entries, true
}

// leafValue returns the value of a leaf that Document writes from the
// event itself.
func leafValue(e *ecs.Event, kind entryKind) any {
	switch kind {
	case entryTimestamp:
		return e.Timestamp.UTC().Format(ecs.TimeFormat)
	case entryID:
		return e.ID
	case entrySeq:
		return e.Seq
	case entrySource:
		return e.SourceID
	case entryEmptyEvent:
		return emptyObject
	}
	return nil
}

// collect gathers the document's leaves and notes the fields it skips,
// or reports false when the event needs Document's handling of colliding
// names.
func (enc *Encoder) collect(e *ecs.Event, shape uint8) ([]docEntry, bool) {
	entries := enc.entries[:0]
	defer func() { enc.entries = entries[:0] }()
	enc.order, enc.skipped = enc.order[:0], enc.skipped[:0]

	hasEvent := e.ID != "" || e.Seq != 0
	for k, v := range e.Fields {
		switch {
		case k == "event", k == "canhgac", k == "canhgac.kql", strings.HasPrefix(k, "canhgac.kql."):
			return nil, false
		case k == "@timestamp",
			k == "event.id" && e.ID != "",
			k == "event.sequence" && e.Seq != 0,
			k == "canhgac.source_id" && e.SourceID != "":
			// Document writes these from the event itself.
			enc.skipped = append(enc.skipped, k)
			continue
		}
		if !hasEvent && strings.HasPrefix(k, "event.") {
			hasEvent = true
		}
		entries = append(entries, docEntry{key: k, value: v})
	}

	extra := func(key string, kind entryKind) {
		entries = append(entries, docEntry{key: key, kind: kind, value: leafValue(e, kind)})
	}
	extra("@timestamp", entryTimestamp)
	if e.ID != "" {
		extra("event.id", entryID)
	}
	if e.Seq != 0 {
		extra("event.sequence", entrySeq)
	}
	if !hasEvent {
		extra("event", entryEmptyEvent)
	}
	if e.SourceID != "" {
		extra("canhgac.source_id", entrySource)
	}
	if shape&shapeWords != 0 {
		extra("canhgac.kql", entryWords)
	}
	return entries, true
}

// write writes the sorted entries as nested objects. open is the dotted
// path of the innermost open object and depth its number of names.
func (enc *Encoder) write(buf *bytes.Buffer, e *ecs.Event, entries []docEntry) error {
	buf.WriteByte('{')
	open, depth := "", 0
	comma := false
	member := func(name string) {
		if comma {
			buf.WriteByte(',')
		}
		jsonenc.AppendString(buf, name)
		buf.WriteByte(':')
	}
	for _, en := range entries {
		parent, parentDepth, leaf := "", 0, en.key
		if i := strings.LastIndexByte(en.key, '.'); i >= 0 {
			parent, parentDepth, leaf = en.key[:i], strings.Count(en.key, "."), en.key[i+1:]
		}
		common := commonDepth(open, depth, parent, parentDepth)
		for ; depth > common; depth-- {
			buf.WriteByte('}')
			comma = true
		}
		rest := parent
		for i := 0; i < common; i++ {
			rest = rest[strings.IndexByte(rest, '.')+1:]
		}
		for depth < parentDepth {
			name := rest
			if i := strings.IndexByte(rest, '.'); i >= 0 {
				name, rest = rest[:i], rest[i+1:]
			}
			member(name)
			buf.WriteByte('{')
			comma = false
			depth++
		}
		open = parent
		member(leaf)
		if en.kind == entryWords {
			writeWords(buf, e.Fields)
		} else if err := AppendJSON(buf, en.value); err != nil {
			return err
		}
		comma = true
	}
	for ; depth > 0; depth-- {
		buf.WriteByte('}')
	}
	buf.WriteByte('}')
	return nil
}

// commonDepth returns how many leading names the dotted paths a and b,
// of depths da and db, share.
func commonDepth(a string, da int, b string, db int) int {
	n := 0
	for n < da && n < db {
		ia, ib := strings.IndexByte(a, '.'), strings.IndexByte(b, '.')
		headA, headB := a, b
		if ia >= 0 {
			headA = a[:ia]
		}
		if ib >= 0 {
			headB = b[:ib]
		}
		if headA != headB {
			break
		}
		n++
		a, b = a[len(headA):], b[len(headB):]
		if len(a) > 0 {
			a = a[1:]
		}
		if len(b) > 0 {
			b = b[1:]
		}
	}
	return n
}

// compareDotted orders dotted names as the objects they nest into are
// written: name by name, each in byte order, so that "a.b" comes before
// "a!" and every name follows the names it extends.
func compareDotted(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := a[i], b[i]
		switch {
		case ca == cb:
			continue
		case ca == '.':
			return -1
		case cb == '.':
			return 1
		case ca < cb:
			return -1
		default:
			return 1
		}
	}
	return len(a) - len(b)
}

// writeWords writes the canhgac.kql object of Document: the words of the
// text fields that have any.
func writeWords(buf *bytes.Buffer, fields ecs.Fields) {
	buf.WriteString(`{"words":{`)
	first := true
	for _, f := range sortedTextFields {
		v := fields[f]
		if !hasWords(v) {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		jsonenc.AppendString(buf, f)
		buf.WriteByte(':')
		switch v := v.(type) {
		case string:
			appendWords(buf, v)
		case []string:
			appendWordList(buf, len(v), func(i int) any { return v[i] })
		case []any:
			appendWordList(buf, len(v), func(i int) any { return v[i] })
		}
	}
	buf.WriteString(`}}`)
}

// hasWords reports whether textWords(v) is not nil.
func hasWords(v any) bool {
	switch v := v.(type) {
	case string:
		return stringHasWords(v)
	case []string:
		return slices.ContainsFunc(v, stringHasWords)
	case []any:
		return slices.ContainsFunc(v, func(item any) bool {
			s, ok := item.(string)
			return ok && stringHasWords(s)
		})
	}
	return false
}

func stringHasWords(s string) bool {
	for _, r := range s {
		if _, ok := wordRune(r); ok {
			return true
		}
	}
	return false
}

func appendWordList(buf *bytes.Buffer, n int, at func(int) any) {
	buf.WriteByte('[')
	first := true
	for i := range n {
		s, ok := at(i).(string)
		if !ok || !stringHasWords(s) {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		appendWords(buf, s)
	}
	buf.WriteByte(']')
}

// appendWords writes joinedWords(s) as a JSON string. Words contain only
// letters, digits and private-use characters, none of which JSON escapes.
// It appends to the buffer's free space, which costs less per byte than
// WriteByte on the long lines of event.original.
func appendWords(buf *bytes.Buffer, s string) {
	buf.Grow(len(s) + 2)
	b := buf.AvailableBuffer()
	b = append(b, '"')
	inWord, wrote := false, false
	for i := 0; i < len(s); {
		c := s[i]
		var lower rune
		var isWord bool
		if c < utf8.RuneSelf {
			if w := asciiWords[c]; w != 0 {
				lower, isWord = rune(w), true
			}
			i++
		} else {
			r, size := utf8.DecodeRuneInString(s[i:])
			lower, isWord = wordRune(r)
			i += size
		}
		if !isWord {
			inWord = false
			continue
		}
		if !inWord && wrote {
			b = append(b, ' ')
		}
		inWord, wrote = true, true
		b = utf8.AppendRune(b, lower)
	}
	b = append(b, '"')
	buf.Write(b)
}

// asciiWords maps each ASCII byte that is part of a word to its lower
// case, and the others to 0.
var asciiWords = func() (t [utf8.RuneSelf]byte) {
	for c := range rune(utf8.RuneSelf) {
		if lower, ok := wordRune(c); ok {
			t[c] = byte(lower)
		}
	}
	return t
}()

// AppendJSON writes a value of the types ecs.Fields allows as JSON,
// without reflection, with the keys of objects sorted. Other types (never
// produced by the parsers) fall back to encoding/json.
func AppendJSON(buf *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		buf.WriteString("null")
	case string:
		jsonenc.AppendString(buf, v)
	case int64:
		buf.WriteString(strconv.FormatInt(v, 10))
	case int:
		buf.WriteString(strconv.Itoa(v))
	case uint64:
		buf.WriteString(strconv.FormatUint(v, 10))
	case float64:
		appendFloat(buf, v)
	case bool:
		buf.WriteString(strconv.FormatBool(v))
	case []string:
		jsonenc.AppendStrings(buf, v)
	case []any:
		buf.WriteByte('[')
		for i, item := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := AppendJSON(buf, item); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			jsonenc.AppendString(buf, k)
			buf.WriteByte(':')
			if err := AppendJSON(buf, v[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case ecs.Fields:
		return AppendJSON(buf, map[string]any(v))
	default:
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		buf.Write(data)
	}
	return nil
}

// appendFloat writes a float as JSON. NaN and infinities have no JSON
// form, so they are written as strings and stay visible in _source
// instead of being changed silently.
func appendFloat(buf *bytes.Buffer, f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		jsonenc.AppendString(buf, strconv.FormatFloat(f, 'g', -1, 64))
		return
	}
	buf.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
}
