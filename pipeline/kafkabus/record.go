package kafkabus

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/canhgac/canhgac/ecs"
)

// EventFormat is the value of the format header on event messages, and the
// "v" member of their JSON value.
const (
	EventFormat       = "canhgac.event.v1"
	eventFormatNumber = 1
)

// The event value is a flat JSON object:
//
//	{"v":1,"id":"…","ts":"2026-12-04T10:00:00.5Z","src":"/var/log/auth.log","seq":7,
//	 "fields":{"source.ip":"192.0.2.1","source.port":22,"score":{"f":1.5}}}
//
// The ECS document form of ecs.Event.MarshalJSON does not round-trip the Go
// types: an integral float64 comes back as int64, a []any of strings as
// []string, a map[string]any value is flattened into dotted names, and
// encoding/json replaces invalid UTF-8 (common in raw log lines) with U+FFFD.
// So each field value is written in a typed form:
//
//	string (valid UTF-8)   "text"
//	string (other bytes)   {"b64":"base64 of the bytes"}
//	int64 (and int)        123
//	float64                {"f":1.5}, or {"f":"NaN"}, {"f":"+Inf"}, {"f":"-Inf"}
//	bool, nil              true, false, null
//	[]string               ["a","b"] when every element is valid UTF-8 and
//	                       the slice is not nil, else {"strings":[value...]} or {"strings":null}
//	[]any                  {"list":[value...]} or {"list":null}
//	map[string]any         {"map":{"name":value,...}} or {"map":null}
//
// Field names are written sorted, so one event always encodes to the same bytes.

var encodeBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// EncodeEvent appends the JSON value of ev to dst. It fails on a field value
// of a type outside ecs.Fields' set, a field name that is not valid UTF-8, or
// a timestamp outside the years 0 to 9999, naming the field.
func EncodeEvent(dst []byte, ev *ecs.Event) ([]byte, error) {
	if ev == nil {
		return dst, errors.New("encode event: nil event")
	}

	dst = append(dst, `{"v":`...)
	dst = strconv.AppendInt(dst, eventFormatNumber, 10)

	var err error
	if ev.ID != "" {
		dst = append(dst, `,"id":`...)
		if dst, err = appendString(dst, ev.ID); err != nil {
			return dst, fmt.Errorf("encode event: id: %w", err)
		}
	}

	if !ev.Timestamp.IsZero() {
		ts := ev.Timestamp.UTC()
		if y := ts.Year(); y < 0 || y > 9999 {
			return dst, fmt.Errorf("encode event %s: timestamp %s is outside the years 0 to 9999", ev.ID, ts)
		}
		dst = append(dst, `,"ts":"`...)
		dst = ts.AppendFormat(dst, time.RFC3339Nano)
		dst = append(dst, '"')
	}

	if ev.SourceID != "" {
		dst = append(dst, `,"src":`...)
		if dst, err = appendString(dst, ev.SourceID); err != nil {
			return dst, fmt.Errorf("encode event %s: source id: %w", ev.ID, err)
		}
	}

	if ev.Seq != 0 {
		dst = append(dst, `,"seq":`...)
		dst = strconv.AppendUint(dst, ev.Seq, 10)
	}

	if ev.Fields != nil {
		dst = append(dst, `,"fields":`...)
		if dst, err = appendObject(dst, ev.Fields); err != nil {
			return dst, fmt.Errorf("encode event %s: %w", ev.ID, err)
		}
	}

	return append(dst, '}'), nil
}

// appendString writes s as a JSON string, or as {"b64":…} when s is not
// valid UTF-8, so the bytes survive unchanged.
func appendString(dst []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		dst = append(dst, `{"b64":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, []byte(s))
		return append(dst, `"}`...), nil
	}
	return jsontext.AppendQuote(dst, s)
}

func appendObject(dst []byte, m map[string]any) ([]byte, error) {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)

	dst = append(dst, '{')
	for i, name := range names {
		if i > 0 {
			dst = append(dst, ',')
		}
		if !utf8.ValidString(name) {
			return dst, fmt.Errorf("field name %q is not valid UTF-8", name)
		}
		var err error
		if dst, err = jsontext.AppendQuote(dst, name); err != nil {
			return dst, fmt.Errorf("field name %q: %w", name, err)
		}
		dst = append(dst, ':')
		if dst, err = appendValue(dst, m[name]); err != nil {
			return dst, fmt.Errorf("field %s: %w", name, err)
		}
	}
	return append(dst, '}'), nil
}

func appendValue(dst []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return appendString(dst, v)
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case int:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case float64:
		return appendFloat(dst, v), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case []string:
		return appendStrings(dst, v)
	case []any:
		if v == nil {
			return append(dst, `{"list":null}`...), nil
		}
		dst = append(dst, `{"list":[`...)
		for i, item := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendValue(dst, item); err != nil {
				return dst, fmt.Errorf("element %d: %w", i, err)
			}
		}
		return append(dst, "]}"...), nil
	case map[string]any:
		if v == nil {
			return append(dst, `{"map":null}`...), nil
		}
		dst = append(dst, `{"map":`...)
		dst, err := appendObject(dst, v)
		if err != nil {
			return dst, err
		}
		return append(dst, '}'), nil
	}
	return dst, fmt.Errorf("unsupported value type %T: expected string, int64, float64, bool, nil, []string, []any or map[string]any, the types of ecs.Fields", v)
}

func appendFloat(dst []byte, f float64) []byte {
	dst = append(dst, `{"f":`...)
	switch {
	case math.IsNaN(f):
		dst = append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		dst = append(dst, `"+Inf"`...)
	case math.IsInf(f, -1):
		dst = append(dst, `"-Inf"`...)
	default:
		dst = strconv.AppendFloat(dst, f, 'g', -1, 64)
	}
	return append(dst, '}')
}

func appendStrings(dst []byte, list []string) ([]byte, error) {
	plain := list != nil
	for _, s := range list {
		if !utf8.ValidString(s) {
			plain = false
			break
		}
	}

	if !plain {
		if list == nil {
			return append(dst, `{"strings":null}`...), nil
		}
		dst = append(dst, `{"strings":[`...)
	} else {
		dst = append(dst, '[')
	}
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendString(dst, s); err != nil {
			return dst, err
		}
	}
	if !plain {
		return append(dst, "]}"...), nil
	}
	return append(dst, ']'), nil
}

// maxValueBytes bounds one message value the decoder accepts; Kafka's own
// default limit for a message is about 1 MiB, so this leaves a wide margin.
const maxValueBytes = 64 << 20

// DecodeError reports a message value that is not a valid event. Reason is
// a short code for the dead-letter store.
type DecodeError struct {
	Reason string
	Err    error
}

// Error returns the reason and the cause.
func (e *DecodeError) Error() string { return e.Reason + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

// Reasons of DecodeError.
const (
	ReasonInvalidJSON   = "kafka_invalid_json"
	ReasonInvalidEvent  = "kafka_invalid_event"
	ReasonUnknownFormat = "kafka_unknown_format"
)

type eventDecoder struct {
	dec *jsontext.Decoder
	r   bytes.Reader
	// names contains the field names decoded so far, so that the few
	// hundred names of a stream are allocated once and not per event.
	names map[string]string
}

// maxInternedNames bounds eventDecoder.names. A full map starts again
// empty, so a stream of ever new field names cannot grow it without bound.
const maxInternedNames = 4096

// decoderOptions let duplicate names through the JSON decoder: readObject
// rejects duplicate field names with a map lookup, which costs less than
// the decoder's name tracking, and decode rejects repeated members.
var decoderOptions = jsontext.AllowDuplicateNames(true)

var decoderPool = sync.Pool{New: func() any {
	d := &eventDecoder{}
	d.dec = jsontext.NewDecoder(&d.r, decoderOptions)
	return d
}}

// DecodeEvent decodes a value written by EncodeEvent. Every error is a
// *DecodeError. The decoded Timestamp is in UTC.
func DecodeEvent(data []byte) (*ecs.Event, error) {
	if len(data) > maxValueBytes {
		return nil, &DecodeError{Reason: ReasonInvalidEvent, Err: fmt.Errorf("value of %d bytes exceeds the limit of %d", len(data), maxValueBytes)}
	}
	d := decoderPool.Get().(*eventDecoder)
	defer decoderPool.Put(d)
	d.r.Reset(data)
	d.dec.Reset(&d.r, decoderOptions)

	ev, err := d.decode()
	if err != nil {
		var de *DecodeError
		if errors.As(err, &de) {
			return nil, err
		}
		return nil, &DecodeError{Reason: ReasonInvalidJSON, Err: err}
	}
	// Trailing data after the object is not a valid value either.
	if _, err := d.dec.ReadToken(); err == nil {
		return nil, &DecodeError{Reason: ReasonInvalidJSON, Err: errors.New("data after the event object")}
	}
	return ev, nil
}

func invalidEvent(format string, args ...any) error {
	return &DecodeError{Reason: ReasonInvalidEvent, Err: fmt.Errorf(format, args...)}
}

func (d *eventDecoder) decode() (*ecs.Event, error) {
	tok, err := d.dec.ReadToken()
	if err != nil {
		return nil, err
	}
	if tok.Kind() != '{' {
		return nil, invalidEvent("value is a JSON %s, expected an object", tok.Kind())
	}

	ev := &ecs.Event{}
	sawVersion := false
	seen := make(map[string]bool, 6)
	for d.dec.PeekKind() != '}' {
		nameTok, err := d.dec.ReadToken()
		if err != nil {
			return nil, err
		}
		name := nameTok.String()
		if seen[name] {
			return nil, invalidEvent("member %q appears twice", name)
		}
		seen[name] = true
		switch name {
		case "v":
			n, err := d.readUint(name)
			if err != nil {
				return nil, err
			}
			if n != eventFormatNumber {
				return nil, &DecodeError{Reason: ReasonUnknownFormat, Err: fmt.Errorf("format version %d, this build reads %d", n, eventFormatNumber)}
			}
			sawVersion = true
		case "id":
			if ev.ID, err = d.readString(name); err != nil {
				return nil, err
			}
		case "src":
			if ev.SourceID, err = d.readString(name); err != nil {
				return nil, err
			}
		case "seq":
			if ev.Seq, err = d.readUint(name); err != nil {
				return nil, err
			}
		case "ts":
			s, err := d.readString(name)
			if err != nil {
				return nil, err
			}
			if ev.Timestamp, err = time.Parse(time.RFC3339Nano, s); err != nil {
				return nil, invalidEvent("ts %q: %v", s, err)
			}
			ev.Timestamp = ev.Timestamp.UTC()
		case "fields":
			if d.dec.PeekKind() != '{' {
				return nil, invalidEvent("fields is a JSON %s, expected an object", d.dec.PeekKind())
			}
			m, err := d.readObject()
			if err != nil {
				return nil, err
			}
			ev.Fields = ecs.Fields(m)
		default:
			return nil, invalidEvent("unknown member %q", name)
		}
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, err
	}
	if !sawVersion {
		return nil, &DecodeError{Reason: ReasonUnknownFormat, Err: errors.New(`member "v" (format version) is missing`)}
	}
	return ev, nil
}

func (d *eventDecoder) readString(member string) (string, error) {
	if d.dec.PeekKind() == '{' {
		v, err := d.readValue()
		if err != nil {
			return "", err
		}
		if s, ok := v.(string); ok {
			return s, nil
		}
		return "", invalidEvent("%s is a %T, expected a string", member, v)
	}
	tok, err := d.dec.ReadToken()
	if err != nil {
		return "", err
	}
	if tok.Kind() != '"' {
		return "", invalidEvent("%s is a JSON %s, expected a string", member, tok.Kind())
	}
	return tok.String(), nil
}

func (d *eventDecoder) readUint(member string) (uint64, error) {
	tok, err := d.dec.ReadToken()
	if err != nil {
		return 0, err
	}
	if tok.Kind() != '0' {
		return 0, invalidEvent("%s is a JSON %s, expected a number", member, tok.Kind())
	}
	n, err := strconv.ParseUint(tok.String(), 10, 64)
	if err != nil {
		return 0, invalidEvent("%s %s is not an unsigned integer", member, tok.String())
	}
	return n, nil
}

func (d *eventDecoder) readObject() (map[string]any, error) {
	if _, err := d.dec.ReadToken(); err != nil { // '{'
		return nil, err
	}
	m := make(map[string]any, 16)
	for d.dec.PeekKind() != '}' {
		name, err := d.readName()
		if err != nil {
			return nil, err
		}
		v, err := d.readValue()
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", name, err)
		}
		if _, dup := m[name]; dup {
			return nil, invalidEvent("field %s appears twice", name)
		}
		m[name] = v
	}
	_, err := d.dec.ReadToken() // '}'
	return m, err
}

// readName reads an object member name, interned in d.names.
func (d *eventDecoder) readName() (string, error) {
	raw, err := d.dec.ReadValue()
	if err != nil {
		return "", err
	}
	if len(raw) < 2 || bytes.IndexByte(raw, '\\') >= 0 {
		// Escaped names are rare, so they are unquoted and not interned.
		name, err := jsontext.AppendUnquote(nil, raw)
		return string(name), err
	}
	body := raw[1 : len(raw)-1]
	if name, ok := d.names[string(body)]; ok {
		return name, nil
	}
	if d.names == nil || len(d.names) >= maxInternedNames {
		d.names = make(map[string]string)
	}
	name := string(body)
	d.names[name] = name
	return name, nil
}

// readValue reads one typed field value (see the format at the top of the file).
func (d *eventDecoder) readValue() (any, error) {
	switch kind := d.dec.PeekKind(); kind {
	case '{':
		return d.readWrapped()
	case '[':
		if _, err := d.dec.ReadToken(); err != nil {
			return nil, err
		}
		list := []string{}
		for d.dec.PeekKind() != ']' {
			tok, err := d.dec.ReadToken()
			if err != nil {
				return nil, err
			}
			if tok.Kind() != '"' {
				return nil, invalidEvent("a plain array holds only strings, found a JSON %s", tok.Kind())
			}
			list = append(list, tok.String())
		}
		_, err := d.dec.ReadToken()
		return list, err
	}

	tok, err := d.dec.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case 'n':
		return nil, nil
	case 't', 'f':
		return tok.Bool(), nil
	case '"':
		return tok.String(), nil
	case '0':
		n, err := strconv.ParseInt(tok.String(), 10, 64)
		if err != nil {
			return nil, invalidEvent("number %s is not an int64 (floats are written as {\"f\":…})", tok.String())
		}
		return n, nil
	}
	return nil, invalidEvent("unexpected JSON %s", tok.Kind())
}

// readWrapped reads a one-member object that carries a type: b64, f,
// strings, list or map.
func (d *eventDecoder) readWrapped() (any, error) {
	if _, err := d.dec.ReadToken(); err != nil { // '{'
		return nil, err
	}
	if d.dec.PeekKind() == '}' {
		return nil, invalidEvent("empty object, expected one of b64, f, strings, list, map")
	}
	tagTok, err := d.dec.ReadToken()
	if err != nil {
		return nil, err
	}

	var v any
	switch tag := tagTok.String(); tag {
	case "b64":
		v, err = d.readBase64()
	case "f":
		v, err = d.readFloat()
	case "strings":
		v, err = d.readStrings()
	case "list":
		v, err = d.readList()
	case "map":
		if d.dec.PeekKind() == 'n' {
			_, err = d.dec.ReadToken()
			v = map[string]any(nil)
		} else if d.dec.PeekKind() != '{' {
			err = invalidEvent("map is a JSON %s, expected an object", d.dec.PeekKind())
		} else {
			v, err = d.readObject()
		}
	default:
		err = invalidEvent("unknown value type %q, expected one of b64, f, strings, list, map", tag)
	}
	if err != nil {
		return nil, err
	}

	tok, err := d.dec.ReadToken()
	if err != nil {
		return nil, err
	}
	if tok.Kind() != '}' {
		return nil, invalidEvent("typed value has more than one member")
	}
	return v, nil
}

func (d *eventDecoder) readBase64() (string, error) {
	tok, err := d.dec.ReadToken()
	if err != nil {
		return "", err
	}
	if tok.Kind() != '"' {
		return "", invalidEvent("b64 is a JSON %s, expected a string", tok.Kind())
	}
	raw, err := base64.StdEncoding.DecodeString(tok.String())
	if err != nil {
		return "", invalidEvent("b64: %v", err)
	}
	return string(raw), nil
}

func (d *eventDecoder) readFloat() (float64, error) {
	tok, err := d.dec.ReadToken()
	if err != nil {
		return 0, err
	}
	switch tok.Kind() {
	case '0':
		f, err := strconv.ParseFloat(tok.String(), 64)
		if err != nil {
			return 0, invalidEvent("f %s: %v", tok.String(), err)
		}
		return f, nil
	case '"':
		switch s := tok.String(); s {
		case "NaN":
			return math.NaN(), nil
		case "+Inf":
			return math.Inf(1), nil
		case "-Inf":
			return math.Inf(-1), nil
		default:
			return 0, invalidEvent("f %q: expected a number, NaN, +Inf or -Inf", s)
		}
	}
	return 0, invalidEvent("f is a JSON %s, expected a number", tok.Kind())
}

func (d *eventDecoder) readStrings() ([]string, error) {
	if d.dec.PeekKind() == 'n' {
		_, err := d.dec.ReadToken()
		return nil, err
	}
	if d.dec.PeekKind() != '[' {
		return nil, invalidEvent("strings is a JSON %s, expected an array", d.dec.PeekKind())
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, err
	}
	list := []string{}
	for d.dec.PeekKind() != ']' {
		s, err := d.readString("strings element")
		if err != nil {
			return nil, err
		}
		list = append(list, s)
	}
	_, err := d.dec.ReadToken()
	return list, err
}

func (d *eventDecoder) readList() ([]any, error) {
	if d.dec.PeekKind() == 'n' {
		_, err := d.dec.ReadToken()
		return nil, err
	}
	if d.dec.PeekKind() != '[' {
		return nil, invalidEvent("list is a JSON %s, expected an array", d.dec.PeekKind())
	}
	if _, err := d.dec.ReadToken(); err != nil {
		return nil, err
	}
	list := []any{}
	for d.dec.PeekKind() != ']' {
		v, err := d.readValue()
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	_, err := d.dec.ReadToken()
	return list, err
}
