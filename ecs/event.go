package ecs

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"time"
)

// Event is one normalized security event.
//
// Fields holds every ECS field except the four that the struct carries
// itself: ID ("event.id"), Timestamp ("@timestamp"), Seq ("event.sequence")
// and SourceID ("canhgac.source_id"). An Event is not safe for concurrent
// mutation; stages hand it on and do not touch it afterwards.
type Event struct {
	// ID is deterministic: the same input at the same position always gets
	// the same ID, so a store that writes by ID stores a replayed batch once.
	ID string
	// Timestamp is the event time (ECS @timestamp), not the time of ingest.
	Timestamp time.Time
	// SourceID names the input that produced the event: a file path, a
	// syslog listener, a capture interface or a pcap file.
	SourceID string
	// Seq numbers the events of one source from 1 upwards without gaps, so
	// the pipeline can measure completeness per source.
	Seq uint64
	// Fields are the remaining ECS fields, flat and keyed by dotted name.
	Fields Fields
}

// Fields maps dotted ECS field names to values. Values are string, int64,
// float64, bool, nil, []string, []any or map[string]any (for arrays of
// objects such as dns.answers); encoders and matchers handle exactly these.
type Fields map[string]any

// Get returns the value of a field and whether it is present.
func (f Fields) Get(name string) (any, bool) {
	v, ok := f[name]
	return v, ok
}

// String returns the field as a string. Numbers and booleans are formatted;
// a missing field or a list yields "" and false.
func (f Fields) String(name string) (string, bool) {
	v, ok := f[name]
	if !ok {
		return "", false
	}
	return ScalarString(v)
}

// Int returns the field as an int64 when it is an integer or a string that
// holds one.
func (f Fields) Int(name string) (int64, bool) {
	switch v := f[name].(type) {
	case int64:
		return v, true
	case int:
		return int64(v), true
	case float64:
		return int64(v), v == float64(int64(v))
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// SetString stores a string field unless the value is empty, so parsers can
// copy optional captures without a check at each call.
func (f Fields) SetString(name, value string) {
	if value != "" {
		f[name] = value
	}
}

// ScalarString formats a scalar field value as text. It returns false for
// nil, lists and objects.
func ScalarString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case int64:
		return strconv.FormatInt(v, 10), true
	case int:
		return strconv.Itoa(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

// Clone returns a copy of the event whose Fields map can be changed without
// affecting the original. Values inside lists are shared.
func (e *Event) Clone() *Event {
	c := *e
	c.Fields = make(Fields, len(e.Fields))
	for k, v := range e.Fields {
		c.Fields[k] = v
	}
	return &c
}

// PositionID returns the deterministic event ID for the event found at a
// byte offset or record number of a source. Two calls with the same source
// and position return the same ID.
func PositionID(sourceID string, position uint64) string {
	h := sha256.New()
	h.Write([]byte(sourceID))
	var b [9]byte
	b[0] = 0
	binary.BigEndian.PutUint64(b[1:], position)
	h.Write(b[:])
	return encodeID(h.Sum(nil))
}

// ContentID returns the deterministic event ID for an input that has no
// stable position, such as a syslog message received over the network: the
// hash of the source and the raw bytes.
func ContentID(sourceID string, raw []byte) string {
	h := sha256.New()
	h.Write([]byte(sourceID))
	h.Write([]byte{1})
	h.Write(raw)
	return encodeID(h.Sum(nil))
}

// encodeID keeps 128 bits of the hash: enough to make a collision between
// two events of one deployment improbable, short enough for a document id.
func encodeID(sum []byte) string {
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}
