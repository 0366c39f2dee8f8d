package elastic

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/internal/jsonenc"
	"github.com/canhgac/canhgac/pipeline/elastic/esquery"
)

// appendDocument appends the event as the JSON document that esquery's
// compiled queries expect (esquery.Document). It writes the value types
// that ecs.Fields allows without reflection; other types (never produced
// by the parsers) fall back to encoding/json.
func appendDocument(buf *bytes.Buffer, ev *ecs.Event) error {
	return appendValue(buf, esquery.Document(ev))
}

func appendValue(buf *bytes.Buffer, v any) error {
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
		buf.WriteByte('[')
		for i, s := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			jsonenc.AppendString(buf, s)
		}
		buf.WriteByte(']')
	case []any:
		buf.WriteByte('[')
		for i, item := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := appendValue(buf, item); err != nil {
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
			if err := appendValue(buf, v[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case ecs.Fields:
		return appendValue(buf, map[string]any(v))
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
