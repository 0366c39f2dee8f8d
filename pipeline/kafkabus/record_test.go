package kafkabus

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
)

func roundTrip(t *testing.T, ev *ecs.Event) *ecs.Event {
	t.Helper()
	data, err := EncodeEvent(nil, ev)
	if err != nil {
		t.Fatalf("encode %s: %v", ev.ID, err)
	}
	got, err := DecodeEvent(data)
	if err != nil {
		t.Fatalf("decode %s: %v\nvalue: %s", ev.ID, err, data)
	}
	return got
}

// sameEvent compares two events field by field; timestamps compare as
// instants because the decoded one is in UTC.
func sameEvent(t *testing.T, want, got *ecs.Event) {
	t.Helper()
	if !got.Timestamp.Equal(want.Timestamp) {
		t.Errorf("%s: timestamp %v, want %v", want.ID, got.Timestamp, want.Timestamp)
	}
	w, g := *want, *got
	w.Timestamp, g.Timestamp = time.Time{}, time.Time{}
	if !reflect.DeepEqual(w, g) {
		for k, v := range want.Fields {
			if gv, ok := got.Fields[k]; !ok || !reflect.DeepEqual(v, gv) {
				t.Errorf("%s: field %s = %#v, want %#v", want.ID, k, gv, v)
			}
		}
		t.Errorf("%s: decoded event differs:\n got %#v\nwant %#v", want.ID, g, w)
	}
}

func TestEventRoundTripRealLogs(t *testing.T) {
	for _, path := range sampleLogs {
		t.Run(path[strings.LastIndex(path, "/")+1:], func(t *testing.T) {
			events := loadEvents(t, path)
			for _, ev := range events {
				sameEvent(t, ev, roundTrip(t, ev))
			}
			t.Logf("%d events", len(events))
		})
	}
}

func TestEventRoundTripValueTypes(t *testing.T) {
	ts := time.Date(2026, 12, 4, 10, 0, 0, 123456789, time.FixedZone("ICT", 7*3600))
	tests := []struct {
		name   string
		fields ecs.Fields
	}{
		{"integral float stays float", ecs.Fields{"score": 2.0, "n": int64(2)}},
		{"float extremes", ecs.Fields{"a": math.MaxFloat64, "b": math.SmallestNonzeroFloat64, "c": -0.5, "d": 1e21}},
		{"infinities", ecs.Fields{"p": math.Inf(1), "m": math.Inf(-1)}},
		{"int64 extremes", ecs.Fields{"max": int64(math.MaxInt64), "min": int64(math.MinInt64)}},
		{"invalid UTF-8 string", ecs.Fields{"event.original": "user \xff\xfe root", "ok": "tiếng Việt"}},
		{"invalid UTF-8 in list", ecs.Fields{"tags": []string{"a", "\xc3"}}},
		{"nil and empty string lists", ecs.Fields{"nil": []string(nil), "empty": []string{}}},
		{"list of strings as []any", ecs.Fields{"mixed": []any{"a", "b"}, "nil": []any(nil), "empty": []any{}}},
		{"nested objects", ecs.Fields{"dns.answers": []any{map[string]any{"name": "a", "ttl": int64(30), "data": "192.0.2.1"}},
			"m": map[string]any{"x": map[string]any{"y": []string{"z"}}}, "nilmap": map[string]any(nil)}},
		{"leaf and prefix", ecs.Fields{"a": "leaf", "a.b": "child"}},
		{"null and bools", ecs.Fields{"x": nil, "t": true, "f": false}},
		{"escapes", ecs.Fields{"q": "\"quoted\"\n\t\\ <html> \u2028", "ctl": "\x00\x01"}},
		{"no fields", nil},
		{"empty fields", ecs.Fields{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &ecs.Event{ID: "id-" + tt.name, Timestamp: ts, SourceID: "src\xff", Seq: math.MaxUint64, Fields: tt.fields}
			sameEvent(t, ev, roundTrip(t, ev))
		})
	}
}

func TestEventRoundTripNaN(t *testing.T) {
	got := roundTrip(t, &ecs.Event{ID: "n", Fields: ecs.Fields{"v": math.NaN()}})
	if f, ok := got.Fields["v"].(float64); !ok || !math.IsNaN(f) {
		t.Errorf("v = %#v, want NaN", got.Fields["v"])
	}
}

func TestEventRoundTripZeroEvent(t *testing.T) {
	ev := &ecs.Event{}
	sameEvent(t, ev, roundTrip(t, ev))
}

func TestEncodeIntBecomesInt64(t *testing.T) {
	got := roundTrip(t, &ecs.Event{ID: "i", Fields: ecs.Fields{"port": 22}})
	if got.Fields["port"] != int64(22) {
		t.Errorf("port = %#v, want int64(22)", got.Fields["port"])
	}
}

func TestEncodeRejects(t *testing.T) {
	tests := []struct {
		name string
		ev   *ecs.Event
		want string
	}{
		{"nil event", nil, "nil event"},
		{"unsupported type", &ecs.Event{ID: "x", Fields: ecs.Fields{"t": time.Now()}}, "field t: unsupported value type time.Time"},
		{"nested unsupported", &ecs.Event{ID: "x", Fields: ecs.Fields{"l": []any{uint8(1)}}}, "field l: element 0: unsupported value type uint8"},
		{"invalid name", &ecs.Event{ID: "x", Fields: ecs.Fields{"a\xff": "v"}}, "not valid UTF-8"},
		{"year out of range", &ecs.Event{ID: "x", Timestamp: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "outside the years 0 to 9999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := EncodeEvent(nil, tt.ev)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name, value, reason string
	}{
		{"not JSON", "Feb 21 21:54:44 web1 sshd[3402]: Failed password", ReasonInvalidJSON},
		{"truncated", `{"v":1,"id":"a","fields":{"x":`, ReasonInvalidJSON},
		{"array", `[1,2]`, ReasonInvalidEvent},
		{"no version", `{"id":"a"}`, ReasonUnknownFormat},
		{"future version", `{"v":2,"id":"a"}`, ReasonUnknownFormat},
		{"ECS document", `{"@timestamp":"2026-12-04T10:00:00Z","event":{"id":"x"}}`, ReasonInvalidEvent},
		{"bad timestamp", `{"v":1,"ts":"yesterday"}`, ReasonInvalidEvent},
		{"float without wrapper", `{"v":1,"fields":{"x":1.5}}`, ReasonInvalidEvent},
		{"unknown wrapper", `{"v":1,"fields":{"x":{"date":"2026"}}}`, ReasonInvalidEvent},
		{"two members in wrapper", `{"v":1,"fields":{"x":{"f":1,"b64":"AA=="}}}`, ReasonInvalidEvent},
		{"bad base64", `{"v":1,"fields":{"x":{"b64":"!!"}}}`, ReasonInvalidEvent},
		{"number in plain array", `{"v":1,"fields":{"x":[1]}}`, ReasonInvalidEvent},
		{"negative seq", `{"v":1,"seq":-1}`, ReasonInvalidEvent},
		{"trailing data", `{"v":1}{"v":1}`, ReasonInvalidJSON},
		{"invalid UTF-8", "{\"v\":1,\"id\":\"\xff\"}", ReasonInvalidJSON},
		{"empty", ``, ReasonInvalidJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeEvent([]byte(tt.value))
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error = %v, want a *DecodeError", err)
			}
			if de.Reason != tt.reason {
				t.Errorf("reason = %s (%v), want %s", de.Reason, err, tt.reason)
			}
		})
	}
}

func TestEncodeIsDeterministic(t *testing.T) {
	ev := loadEvents(t, sampleLogs[3])[0]
	first, err := EncodeEvent(nil, ev)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		again, _ := EncodeEvent(nil, ev)
		if string(again) != string(first) {
			t.Fatalf("encodings differ:\n%s\n%s", first, again)
		}
	}
}

func TestDeadLetterRoundTrip(t *testing.T) {
	d := pipeline.DeadLetter{Time: time.Date(2026, 12, 4, 10, 0, 0, 5, time.UTC), SourceID: "/var/log/auth.log",
		Offset: 4096, Raw: []byte("Feb 21 21:54:44 \xff\x00 broken"), Reason: "syslog_invalid: no timestamp"}
	m, err := DeadLetterMessage("dc2", d)
	if err != nil {
		t.Fatal(err)
	}
	if m.Topic != TopicDeadLetter || string(m.Key) != d.SourceID {
		t.Errorf("topic %s key %q, want %s keyed by the source", m.Topic, m.Key, TopicDeadLetter)
	}
	got, err := DecodeDeadLetter(m.Value)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Errorf("dead letter round trip:\n got %+v\nwant %+v", got, d)
	}
	if _, err := DecodeDeadLetter([]byte(`{"v":9}`)); err == nil {
		t.Error("unknown dead-letter version accepted")
	}
}

func TestEventKey(t *testing.T) {
	ev := &ecs.Event{SourceID: "src", Fields: ecs.Fields{"host.name": "web1", "network.community_id": "1:abc"}}
	tests := []struct {
		name string
		ev   *ecs.Event
		by   KeyBy
		want string
	}{
		{"host", ev, KeyHost, "web1"},
		{"flow", ev, KeyFlow, "1:abc"},
		{"flow without id", &ecs.Event{SourceID: "src", Fields: ecs.Fields{"host.name": "web1"}}, KeyFlow, "web1"},
		{"no host", &ecs.Event{SourceID: "src"}, KeyHost, "src"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(EventKey(tt.ev, tt.by)); got != tt.want {
				t.Errorf("EventKey = %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, path := range sampleLogs {
		for _, ev := range loadEvents(f, path)[:5] {
			data, err := EncodeEvent(nil, ev)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte(`{"v":1,"fields":{"a":{"list":[{"map":{"b":{"f":"NaN"}}},{"strings":[{"b64":"/w=="}]},null,[]]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := DecodeEvent(data)
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is not a *DecodeError", err)
			}
			return
		}
		// Whatever decodes must encode again and decode to the same event.
		again, err := EncodeEvent(nil, ev)
		if err != nil {
			t.Fatalf("decoded event does not encode: %v", err)
		}
		ev2, err := DecodeEvent(again)
		if err != nil {
			t.Fatalf("re-encoded event does not decode: %v\n%s", err, again)
		}
		third, _ := EncodeEvent(nil, ev2)
		if string(third) != string(again) {
			t.Fatalf("encoding is not stable:\n%s\n%s", again, third)
		}
	})
}

func TestKeyPartitionMatchesSarama(t *testing.T) {
	hash := sarama.NewHashPartitioner("t")
	for _, key := range []string{"", "web1", "LabSZ", "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "tiếng Việt", "\xff\x00"} {
		for _, n := range []int32{1, 3, 6, 7, 100} {
			want, err := hash.Partition(&sarama.ProducerMessage{Key: sarama.StringEncoder(key)}, n)
			if err != nil {
				t.Fatal(err)
			}
			if got := keyPartition([]byte(key), n); got != want {
				t.Errorf("keyPartition(%q, %d) = %d, sarama's hash partitioner %d", key, n, got, want)
			}
		}
	}
}

func TestDecodeEventRejectsRepeatedNames(t *testing.T) {
	for _, data := range []string{
		`{"v":1,"id":"a","id":"b"}`,
		`{"v":1,"fields":{"user.name":"a","user.name":"b"}}`,
		`{"v":1,"fields":{"x":{"map":{"k":1,"k":2}}}}`,
	} {
		_, err := DecodeEvent([]byte(data))
		var de *DecodeError
		if !errors.As(err, &de) || de.Reason != ReasonInvalidEvent {
			t.Errorf("DecodeEvent(%s) = %v, want an invalid event error", data, err)
		}
	}
}
