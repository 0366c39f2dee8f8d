package ecs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// TimeFormat is the layout of @timestamp in JSON output: RFC 3339 in UTC
// with nanoseconds, which Elasticsearch's date_nanos type accepts.
const TimeFormat = "2006-01-02T15:04:05.999999999Z07:00"

// Nest turns dotted field names into nested objects: {"a.b": 1} becomes
// {"a": {"b": 1}}. When a name is both a leaf and a prefix ("a" and "a.b"),
// the leaf keeps its dotted name beside the object so nothing is lost.
func (f Fields) Nest() map[string]any {
	out := make(map[string]any, len(f))
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	// Shorter names first, so a leaf "a" is placed before "a.b" meets it.
	sort.Strings(keys)
	for _, k := range keys {
		insertNested(out, k, f[k])
	}
	return out
}

func insertNested(out map[string]any, key string, value any) {
	node := out
	rest := key
	for {
		i := strings.IndexByte(rest, '.')
		if i < 0 {
			break
		}
		head := rest[:i]
		child, exists := node[head]
		m, isMap := child.(map[string]any)
		if exists && !isMap {
			// A scalar already sits at this prefix: keep the remaining
			// dotted name flat inside the current object.
			break
		}
		if !exists {
			m = make(map[string]any)
			node[head] = m
		}
		node = m
		rest = rest[i+1:]
	}
	node[rest] = value
}

// Document returns the event as one nested ECS object, ready to encode as
// JSON or to index.
func (e *Event) Document() map[string]any {
	doc := e.Fields.Nest()
	doc["@timestamp"] = e.Timestamp.UTC().Format(TimeFormat)
	ev, _ := doc["event"].(map[string]any)
	if ev == nil {
		ev = make(map[string]any)
		doc["event"] = ev
	}
	if e.ID != "" {
		ev["id"] = e.ID
	}
	if e.Seq != 0 {
		ev["sequence"] = e.Seq
	}
	if e.SourceID != "" {
		c, _ := doc["canhgac"].(map[string]any)
		if c == nil {
			c = make(map[string]any)
			doc["canhgac"] = c
		}
		c["source_id"] = e.SourceID
	}
	return doc
}

// MarshalJSON encodes the event as a nested ECS document.
func (e Event) MarshalJSON() ([]byte, error) {
	return json.Marshal(e.Document())
}

// UnmarshalJSON decodes a nested or dotted ECS document. Unknown fields are
// kept; @timestamp, event.id, event.sequence and canhgac.source_id fill the
// struct fields.
func (e *Event) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return err
	}
	fields := Flatten(doc)
	*e = Event{Fields: fields}
	if ts, ok := fields["@timestamp"].(string); ok {
		t, err := ParseTime(ts)
		if err != nil {
			return fmt.Errorf("field @timestamp: %w", err)
		}
		e.Timestamp = t
		delete(fields, "@timestamp")
	}
	if id, ok := fields["event.id"].(string); ok {
		e.ID = id
		delete(fields, "event.id")
	}
	if seq, ok := fields.Int("event.sequence"); ok && seq > 0 {
		e.Seq = uint64(seq)
		delete(fields, "event.sequence")
	}
	if src, ok := fields["canhgac.source_id"].(string); ok {
		e.SourceID = src
		delete(fields, "canhgac.source_id")
	}
	return nil
}

// Flatten turns a decoded JSON object into flat Fields. Objects become
// dotted names; arrays stay arrays (arrays of strings become []string);
// json.Number becomes int64 when integral, else float64.
func Flatten(doc map[string]any) Fields {
	out := make(Fields, len(doc))
	flattenInto(out, "", doc)
	return out
}

func flattenInto(out Fields, prefix string, doc map[string]any) {
	for k, v := range doc {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		if m, ok := v.(map[string]any); ok && len(m) > 0 {
			flattenInto(out, name, m)
			continue
		}
		out[name] = NormalizeValue(v)
	}
}

// NormalizeValue converts a value decoded by encoding/json into one of the
// types Fields allows.
func NormalizeValue(v any) any {
	switch v := v.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, err := v.Float64()
		if err != nil {
			return v.String()
		}
		return f
	case float64:
		if v == float64(int64(v)) && v < 1<<53 && v > -(1<<53) {
			return int64(v)
		}
		return v
	case int:
		return int64(v)
	case []any:
		allStrings := true
		for i, item := range v {
			v[i] = NormalizeValue(item)
			if _, ok := v[i].(string); !ok {
				allStrings = false
			}
		}
		if allStrings {
			s := make([]string, len(v))
			for i, item := range v {
				s[i] = item.(string)
			}
			return s
		}
		return v
	case map[string]any:
		for k, item := range v {
			v[k] = NormalizeValue(item)
		}
		return v
	}
	return v
}

// ParseTime parses the timestamp forms found in ECS and Windows JSON:
// RFC 3339 with or without fractional seconds, and the same without a zone
// (taken as UTC).
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q: expected RFC 3339, such as 2024-05-01T12:00:00Z", s)
}
