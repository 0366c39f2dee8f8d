package embedded

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/internal/jsonenc"
	"github.com/canhgac/canhgac/pipeline/kql"
)

type columnKind int

const (
	colString columnKind = iota // keyword string column
	colIP                       // 16-byte address
	colText                     // analyzed text, also in events_fts
)

// column is an ECS field promoted to a real column of the events table.
type column struct {
	field string
	name  string
	kind  columnKind
}

// promoted lists the promoted fields in the order of the events table
// after the struct fields (id, ts, source_id, seq).
var promoted = []column{
	{"event.dataset", "dataset", colString},
	{"event.module", "module", colString},
	{"event.action", "action", colString},
	{"event.outcome", "outcome", colString},
	{"event.kind", "kind", colString},
	{"host.name", "host", colString},
	{"user.name", "user", colString},
	{"observer.geo.name", "region", colString},
	{"observer.name", "observer", colString},
	{"source.ip", "src_ip", colIP},
	{"destination.ip", "dst_ip", colIP},
	{"message", "message", colText},
	{"event.original", "original", colText},
}

var promotedByField = func() map[string]column {
	m := make(map[string]column, len(promoted))
	for _, c := range promoted {
		m[c.field] = c
	}
	return m
}()

// eventColumns is the SELECT list that decodeRow reads.
const eventColumns = "id, ts, source_id, seq, dataset, module, action, outcome, kind, host, user, region, observer, src_ip, dst_ip, message, original, doc"

const numEventColumns = 18

// numPromoted is len(promoted); Open checks it.
const numPromoted = 13

// row is one events row ready to insert.
type row struct {
	id       string
	ts       int64
	sourceID any
	seq      any
	cols     [numPromoted]any
	doc      []byte
	spilled  []string
}

// encodeEvent splits an event into its columns and the JSON document of
// the remaining fields. A promoted field whose value does not fit its
// column stays in the document and is reported in row.spilled.
func encodeEvent(e *ecs.Event, buf *bytes.Buffer) (row, error) {
	if e.ID == "" {
		return row{}, fmt.Errorf("event without id at %s: every event needs ecs.PositionID or ecs.ContentID", e.Timestamp)
	}
	if e.Timestamp.IsZero() {
		return row{}, fmt.Errorf("event %s has no @timestamp", e.ID)
	}
	r := row{id: e.ID, ts: e.Timestamp.UnixNano()}
	if e.SourceID != "" {
		r.sourceID = e.SourceID
	}
	if e.Seq != 0 {
		r.seq = int64(e.Seq)
	}
	var keep [numPromoted]bool // true: the field also stays in the document
	for i, c := range promoted {
		v, ok := e.Fields[c.field]
		if !ok {
			continue
		}
		s, isString := v.(string)
		switch {
		case isString && c.kind != colIP:
			r.cols[i] = s
		case isString && c.kind == colIP:
			a, valid := kql.ParseIP(s)
			if !valid {
				keep[i] = true
				r.spilled = append(r.spilled, c.field)
				continue
			}
			b := a.As16()
			r.cols[i] = b[:]
			if a.String() != s {
				// Keep the text as sent for display; queries use the column.
				keep[i] = true
			}
		default:
			keep[i] = true
			r.spilled = append(r.spilled, c.field)
		}
	}
	buf.Reset()
	buf.WriteByte('{')
	first := true
	for name, v := range e.Fields {
		if c, ok := promotedByField[name]; ok && !keep[indexOf(c)] {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		jsonenc.AppendString(buf, name)
		buf.WriteByte(':')
		if err := writeJSONValue(buf, v); err != nil {
			return row{}, fmt.Errorf("event %s field %s: %w", e.ID, name, err)
		}
	}
	buf.WriteByte('}')
	r.doc = append([]byte(nil), buf.Bytes()...)
	return r, nil
}

func indexOf(c column) int {
	for i := range promoted {
		if promoted[i].field == c.field {
			return i
		}
	}
	return -1
}

func writeJSONValue(buf *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		buf.WriteString("null")
	case string:
		jsonenc.AppendString(buf, v)
	case int64:
		buf.WriteString(strconv.FormatInt(v, 10))
	case int:
		buf.WriteString(strconv.Itoa(v))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("invalid number %v: JSON has no NaN or infinity", v)
		}
		b := strconv.AppendFloat(buf.AvailableBuffer(), v, 'g', -1, 64)
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			// Keep a float a float when decoded again.
			b = strconv.AppendFloat(buf.AvailableBuffer(), v, 'f', 1, 64)
		}
		buf.Write(b)
	case bool:
		buf.WriteString(strconv.FormatBool(v))
	case []string:
		jsonenc.AppendStrings(buf, v)
	case time.Time:
		jsonenc.AppendString(buf, v.UTC().Format(ecs.TimeFormat))
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	return nil
}

// decodeRow rebuilds an event from the values of eventColumns.
func decodeRow(vals []any) (*ecs.Event, error) {
	e := &ecs.Event{Fields: ecs.Fields{}}
	e.ID = asString(vals[0])
	ts, _ := vals[1].(int64)
	e.Timestamp = time.Unix(0, ts).UTC()
	e.SourceID = asString(vals[2])
	if seq, ok := vals[3].(int64); ok {
		e.Seq = uint64(seq)
	}
	if doc := asBytes(vals[17]); len(doc) > 0 {
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("decode document of event %s: %w", e.ID, err)
		}
		for k, v := range m {
			e.Fields[k] = ecs.NormalizeValue(v)
		}
	}
	for i, c := range promoted {
		v := vals[4+i]
		if v == nil {
			continue
		}
		if _, kept := e.Fields[c.field]; kept {
			continue
		}
		if c.kind == colIP {
			b := asBytes(v)
			if len(b) != 16 {
				continue
			}
			e.Fields[c.field] = netip.AddrFrom16([16]byte(b)).Unmap().String()
			continue
		}
		e.Fields[c.field] = asString(v)
	}
	return e, nil
}

func asString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}

func asBytes(v any) []byte {
	switch v := v.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	}
	return nil
}
