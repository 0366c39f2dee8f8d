package esquery

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline/kql/kqltest"
)

// viaDocument is the reference encoding: Document's maps written by
// AppendJSON.
func viaDocument(t testing.TB, e *ecs.Event) string {
	t.Helper()
	var buf bytes.Buffer
	if err := AppendJSON(&buf, Document(e)); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func encoded(t testing.TB, enc *Encoder, e *ecs.Event) string {
	t.Helper()
	var buf bytes.Buffer
	if err := enc.Append(&buf, e); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestEncoderEqualsDocument checks that the Encoder writes exactly the
// bytes of Document's maps for the events the parsers make of the shared
// logs, captures and Windows events.
func TestEncoderEqualsDocument(t *testing.T) {
	events := kqltest.Events(t, sharedData)
	events = append(events, parseLogFile(t, "logs/linux/elastic-beats/auth_test.log", 200)...)
	events = append(events, readCapture(t, "pcap/zeek-traces/http_get.pcap")...)
	var enc Encoder
	for _, e := range events {
		if got, want := encoded(t, &enc, e), viaDocument(t, e); got != want {
			t.Fatalf("event %s:\n got %s\nwant %s", e.ID, got, want)
		}
	}
}

// TestEncoderCollidingNames covers the names that Document nests in its
// own way: a value at a name that other names extend, and fields at the
// names Document writes from the event itself.
func TestEncoderCollidingNames(t *testing.T) {
	ts := time.Date(2026, 12, 5, 1, 2, 3, 4, time.UTC)
	cases := []ecs.Fields{
		{"a": "x", "a.b": "y", "a!": int64(1)},
		{"event": "scalar", "message": "m"},
		{"event.id": "from fields", "event.sequence": int64(9), "@timestamp": "text", "canhgac.source_id": "f"},
		{"canhgac": int64(1), "message": "words here"},
		{"canhgac.kql.words.message": "own", "message": "words here"},
		{"canhgac.other": "x", "message": "Đăng nhập", "event.original": []any{"a b", int64(3), "..."}},
		{"a..b": "x", ".c": "y", "d.": "z", "": "empty"},
		{"dns.answers": []any{map[string]any{"data": "1.2.3.4", "ttl": int64(60)}}, "x.y.z": map[string]any{"k": "v"}},
		{"message": "...", "event.original": []string{"", "--"}},
		{"message": "\u2028 tab\t \"quoted\" ÀÉ Ω", "tags": []string{"a\xffb"}},
		{},
	}
	var enc Encoder
	for i, f := range cases {
		for _, e := range []*ecs.Event{
			{ID: "id", Timestamp: ts, SourceID: "src", Seq: 7, Fields: f},
			{Timestamp: ts, Fields: f},
		} {
			if got, want := encoded(t, &enc, e), viaDocument(t, e); got != want {
				t.Errorf("case %d (%+v):\n got %s\nwant %s", i, e, got, want)
			}
		}
	}
}

// FuzzEncoder builds events whose field names come from the input, split
// at '|', and expects the Encoder to write Document's bytes, as valid JSON.
func FuzzEncoder(f *testing.F) {
	f.Add("source.ip|source.port|message|event.original", "Failed password for root")
	f.Add("a|a.b|a.b.c|a!|event|canhgac.x", "x")
	f.Add("event.id|@timestamp|canhgac.kql|.|..", "ÀÉ \xff")
	f.Fuzz(func(t *testing.T, names, value string) {
		fields := ecs.Fields{}
		for i, name := range strings.Split(names, "|") {
			switch i % 4 {
			case 0:
				fields[name] = value
			case 1:
				fields[name] = int64(i)
			case 2:
				fields[name] = []string{value, name}
			default:
				fields[name] = []any{value, 1.5, map[string]any{name: value}}
			}
		}
		// The same names with other values, and one name changed, check
		// the reuse of the last order.
		renamed := ecs.Fields{}
		for k, v := range fields {
			renamed[k] = v
		}
		for k, v := range fields {
			delete(renamed, k)
			renamed[k+"x"] = v
			break
		}
		var enc Encoder
		for _, e := range []*ecs.Event{
			{ID: value, SourceID: "src", Seq: 1, Fields: fields},
			{ID: value + "2", SourceID: "src", Seq: 2, Fields: fields},
			{ID: value, SourceID: "src", Seq: 3, Fields: renamed},
			{Fields: fields},
		} {
			got := encoded(t, &enc, e)
			if want := viaDocument(t, e); got != want {
				t.Fatalf("got %s\nwant %s", got, want)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("invalid JSON: %s", got)
			}
		}
	})
}

// TestEncoderReusedOrder encodes events whose names change while their
// number and shape stay the same, so the Encoder must notice that the
// last order no longer fits.
func TestEncoderReusedOrder(t *testing.T) {
	ts := time.Date(2026, 12, 5, 1, 2, 3, 0, time.UTC)
	events := []*ecs.Event{
		{ID: "1", Timestamp: ts, Fields: ecs.Fields{"a.b": "1", "c": "2", "message": "one"}},
		{ID: "2", Timestamp: ts, Fields: ecs.Fields{"a.b": "3", "c": "4", "message": "two"}},
		{ID: "3", Timestamp: ts, Fields: ecs.Fields{"a.b": "5", "d": "6", "message": "three"}},
		{ID: "4", Timestamp: ts, Fields: ecs.Fields{"a.b": "5", "d": "6", "message": "..."}},
		{ID: "5", Timestamp: ts, Fields: ecs.Fields{"a.b": "5", "@timestamp": "x", "message": "five"}},
		{ID: "6", Timestamp: ts, Fields: ecs.Fields{"a.b": "5", "e": "x", "message": "six"}},
		{ID: "7", Timestamp: ts, Seq: 7, Fields: ecs.Fields{"a.b": "5", "e": "x", "message": "seven"}},
		{ID: "8", Timestamp: ts, Fields: ecs.Fields{"a": "5", "a.b": "x", "message": "eight"}},
		{ID: "9", Timestamp: ts, Fields: ecs.Fields{"a": "5", "a.b": "x", "message": "nine"}},
	}
	var enc Encoder
	for _, e := range events {
		if got, want := encoded(t, &enc, e), viaDocument(t, e); got != want {
			t.Errorf("event %s:\n got %s\nwant %s", e.ID, got, want)
		}
	}
}

func BenchmarkEncoder(b *testing.B) {
	events := kqltest.Events(b, sharedData)
	var buf bytes.Buffer
	b.Run("Encoder", func(b *testing.B) {
		var enc Encoder
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			buf.Reset()
			if err := enc.Append(&buf, events[i%len(events)]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Document", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			buf.Reset()
			if err := AppendJSON(&buf, Document(events[i%len(events)])); err != nil {
				b.Fatal(err)
			}
		}
	})
}
