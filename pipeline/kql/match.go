package kql

import (
	"strconv"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// Match reports whether the event matches the query. It is the reference
// semantics of KQL in canhgac: every backend must return the same events.
//
//   - Fields are looked up by their flat dotted name. @timestamp, event.id,
//     event.sequence and canhgac.source_id come from the Event struct.
//     A list matches when one element matches; objects inside lists (such
//     as dns.answers) are not searched.
//   - Keyword fields (TypeOf): a string equals the value exactly and
//     case-sensitively; wildcards match the whole string. An int64 or
//     float64 equals a value that parses as the same number; a bool equals
//     "true" or "false". Quoting changes nothing on keyword fields.
//   - Text fields: an unquoted value matches when any of its words
//     (Tokenize) is a word of the field, a quoted value when all its words
//     appear in order, a wildcard value when one word of the field matches
//     the lowercased pattern. A value without words matches nothing.
//   - IP fields: the address equals the value or lies in the CIDR range.
//   - Date fields: times compare as instants.
//   - Ranges: numbers compare numerically with a numeric value, strings
//     compare byte-wise, IPs and dates by address and time.
//   - Free text (no field) matches when a text field matches as above, or
//     a string value of a keyword field (not IP, not date, not numbers)
//     matches as a keyword value.
//   - `field:*` matches a present value that is not null and not an empty
//     list.
func Match(n Node, e *ecs.Event) bool {
	switch n := n.(type) {
	case MatchAll:
		return true
	case *And:
		for _, t := range n.Terms {
			if !Match(t, e) {
				return false
			}
		}
		return true
	case *Or:
		for _, t := range n.Terms {
			if Match(t, e) {
				return true
			}
		}
		return false
	case *Not:
		return !Match(n.Term, e)
	case *Exists:
		return anyField(e, n.Field, func(name string, v any) bool { return exists(name, v) })
	case *Is:
		if n.Field == "" {
			return matchFreeText(e, n.Value)
		}
		return anyField(e, n.Field, func(name string, v any) bool { return matchIs(name, v, n.Value) })
	case *Range:
		return anyField(e, n.Field, func(name string, v any) bool { return matchRange(name, v, n.Op, n.Value) })
	}
	return false
}

// Lookup returns the value of a field of an event, including the four that
// the Event struct carries itself.
func Lookup(e *ecs.Event, field string) (any, bool) {
	switch field {
	case "@timestamp":
		if e.Timestamp.IsZero() {
			return nil, false
		}
		return e.Timestamp, true
	case "event.id":
		if e.ID == "" {
			return nil, false
		}
		return e.ID, true
	case "event.sequence":
		if e.Seq == 0 {
			return nil, false
		}
		return int64(e.Seq), true
	case "canhgac.source_id":
		if e.SourceID == "" {
			return nil, false
		}
		return e.SourceID, true
	}
	v, ok := e.Fields[field]
	return v, ok
}

// anyField calls fn for the field, or for every field whose name matches a
// field pattern, until fn returns true.
func anyField(e *ecs.Event, field string, fn func(name string, v any) bool) bool {
	if !IsFieldPattern(field) {
		v, ok := Lookup(e, field)
		return ok && fn(field, v)
	}
	parts := strings.Split(field, "*")
	for _, name := range []string{"@timestamp", "event.id", "event.sequence", "canhgac.source_id"} {
		if Glob(parts, name) {
			if v, ok := Lookup(e, name); ok && fn(name, v) {
				return true
			}
		}
	}
	for name, v := range e.Fields {
		if Glob(parts, name) && fn(name, v) {
			return true
		}
	}
	return false
}

// eachScalar calls fn for a scalar value or for each scalar element of a
// list, until fn returns true.
func eachScalar(v any, fn func(any) bool) bool {
	switch v := v.(type) {
	case []string:
		for _, s := range v {
			if fn(s) {
				return true
			}
		}
		return false
	case []any:
		for _, item := range v {
			switch item.(type) {
			case []any, []string, map[string]any:
				continue
			}
			if item != nil && fn(item) {
				return true
			}
		}
		return false
	case map[string]any, nil:
		return false
	}
	return fn(v)
}

func exists(name string, v any) bool {
	switch TypeOf(name) {
	case IP:
		return eachScalar(v, func(x any) bool {
			s, ok := x.(string)
			if !ok {
				return false
			}
			_, ok = ParseIP(s)
			return ok
		})
	case Date:
		return eachScalar(v, func(x any) bool {
			_, ok := toTime(x)
			return ok
		})
	}
	switch v := v.(type) {
	case nil:
		return false
	case []string:
		return len(v) > 0
	case []any:
		for _, item := range v {
			if item != nil {
				return true
			}
		}
		return false
	case map[string]any:
		return len(v) > 0
	}
	return true
}

func toTime(v any) (time.Time, bool) {
	switch v := v.(type) {
	case time.Time:
		return v, true
	case string:
		return ParseDate(v)
	}
	return time.Time{}, false
}

func matchIs(name string, v any, q Value) bool {
	switch TypeOf(name) {
	case IP:
		p, ok := ParseIPRange(q.Text)
		if !ok || q.Wildcard() {
			return false
		}
		return eachScalar(v, func(x any) bool {
			s, ok := x.(string)
			if !ok {
				return false
			}
			a, ok := ParseIP(s)
			return ok && p.Contains(a)
		})
	case Date:
		want, ok := ParseDate(q.Text)
		if !ok || q.Wildcard() {
			return false
		}
		return eachScalar(v, func(x any) bool {
			t, ok := toTime(x)
			return ok && t.Equal(want)
		})
	case Text:
		return eachScalar(v, func(x any) bool {
			s, ok := x.(string)
			return ok && MatchText(s, q)
		})
	}
	return eachScalar(v, func(x any) bool { return matchKeyword(x, q) })
}

// matchKeyword compares one scalar of a keyword field with a value.
func matchKeyword(x any, q Value) bool {
	switch x := x.(type) {
	case string:
		if q.Wildcard() {
			return Glob(q.Parts, x)
		}
		return x == q.Text
	case int64, float64, int:
		if q.Wildcard() {
			return false
		}
		f, err := strconv.ParseFloat(q.Text, 64)
		return err == nil && toFloat(x) == f
	case bool:
		return !q.Wildcard() && q.Text == strconv.FormatBool(x)
	}
	return false
}

func toFloat(x any) float64 {
	switch x := x.(type) {
	case int64:
		return float64(x)
	case int:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

// MatchText applies a value to the content of a text field.
func MatchText(content string, q Value) bool {
	words := Tokenize(content)
	if q.Wildcard() {
		parts := make([]string, len(q.Parts))
		for i, part := range q.Parts {
			parts[i] = strings.ToLower(part)
		}
		for _, w := range words {
			if Glob(parts, w) {
				return true
			}
		}
		return false
	}
	want := Tokenize(q.Text)
	if len(want) == 0 {
		return false
	}
	if q.Quoted {
		return containsPhrase(words, want)
	}
	for _, w := range want {
		for _, have := range words {
			if w == have {
				return true
			}
		}
	}
	return false
}

func containsPhrase(words, phrase []string) bool {
	for i := 0; i+len(phrase) <= len(words); i++ {
		ok := true
		for j, w := range phrase {
			if words[i+j] != w {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func matchRange(name string, v any, op RangeOp, q Value) bool {
	switch TypeOf(name) {
	case IP:
		want, ok := ParseIP(q.Text)
		if !ok {
			return false
		}
		return eachScalar(v, func(x any) bool {
			s, ok := x.(string)
			if !ok {
				return false
			}
			a, ok := ParseIP(s)
			return ok && a.Is4() == want.Is4() && compareOK(a.Compare(want), op)
		})
	case Date:
		want, ok := ParseDate(q.Text)
		if !ok {
			return false
		}
		return eachScalar(v, func(x any) bool {
			t, ok := toTime(x)
			return ok && compareOK(t.Compare(want), op)
		})
	}
	num, numErr := strconv.ParseFloat(q.Text, 64)
	return eachScalar(v, func(x any) bool {
		switch x := x.(type) {
		case string:
			return compareOK(strings.Compare(x, q.Text), op)
		case int64, float64, int:
			if numErr != nil {
				return false
			}
			f := toFloat(x)
			c := 0
			if f < num {
				c = -1
			} else if f > num {
				c = 1
			}
			return compareOK(c, op)
		}
		return false
	})
}

func compareOK(c int, op RangeOp) bool {
	switch op {
	case Less:
		return c < 0
	case LessOrEqual:
		return c <= 0
	case Greater:
		return c > 0
	case GreaterOrEqual:
		return c >= 0
	}
	return false
}

// matchFreeText searches the text fields and the string values of keyword
// fields.
func matchFreeText(e *ecs.Event, q Value) bool {
	for _, name := range TextFields {
		if v, ok := e.Fields[name]; ok && matchIs(name, v, q) {
			return true
		}
	}
	if id := e.ID; id != "" && matchKeyword(id, q) {
		return true
	}
	if e.SourceID != "" && matchKeyword(e.SourceID, q) {
		return true
	}
	for name, v := range e.Fields {
		if TypeOf(name) != Keyword {
			continue
		}
		if eachScalar(v, func(x any) bool {
			s, ok := x.(string)
			return ok && matchKeyword(s, q)
		}) {
			return true
		}
	}
	return false
}
