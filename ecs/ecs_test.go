package ecs

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestDocumentNestsDottedNames(t *testing.T) {
	ev := Event{
		ID:        "id1",
		Timestamp: time.Date(2026, 12, 4, 10, 0, 0, 500, time.UTC),
		SourceID:  "/var/log/auth.log",
		Seq:       7,
		Fields:    Fields{"source.ip": "192.0.2.1", "event.action": "ssh_login", "user.name": "root"},
	}
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal(data, &doc)
	if doc["@timestamp"] != "2026-12-04T10:00:00.0000005Z" {
		t.Errorf("@timestamp = %v", doc["@timestamp"])
	}
	event := doc["event"].(map[string]any)
	if event["id"] != "id1" || event["action"] != "ssh_login" || event["sequence"] != float64(7) {
		t.Errorf("event object = %v", event)
	}
	if doc["source"].(map[string]any)["ip"] != "192.0.2.1" {
		t.Errorf("source object = %v", doc["source"])
	}
	if doc["canhgac"].(map[string]any)["source_id"] != "/var/log/auth.log" {
		t.Errorf("canhgac object = %v", doc["canhgac"])
	}
}

func TestNestKeepsLeafAndPrefix(t *testing.T) {
	got := Fields{"a": "leaf", "a.b": "child"}.Nest()
	want := map[string]any{"a": "leaf", "a.b": "child"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Nest = %v, want %v", got, want)
	}
}

func TestJSONRoundTrip(t *testing.T) {
	in := `{"@timestamp":"2026-12-04T10:00:00Z","event":{"id":"x","sequence":3,"category":["authentication"]},` +
		`"source":{"ip":"192.0.2.9","port":22},"dns":{"answers":[{"name":"a","data":"1.2.3.4"}]},"canhgac":{"source_id":"s"},"score":1.5}`
	var ev Event
	if err := json.Unmarshal([]byte(in), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ID != "x" || ev.Seq != 3 || ev.SourceID != "s" || !ev.Timestamp.Equal(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("struct fields: %+v", ev)
	}
	if ev.Fields["source.port"] != int64(22) || ev.Fields["score"] != 1.5 {
		t.Errorf("numbers: port %T %v, score %T %v", ev.Fields["source.port"], ev.Fields["source.port"], ev.Fields["score"], ev.Fields["score"])
	}
	if cat, ok := ev.Fields["event.category"].([]string); !ok || cat[0] != "authentication" {
		t.Errorf("event.category = %#v, want []string", ev.Fields["event.category"])
	}
	answers, ok := ev.Fields["dns.answers"].([]any)
	if !ok || answers[0].(map[string]any)["data"] != "1.2.3.4" {
		t.Errorf("dns.answers = %#v", ev.Fields["dns.answers"])
	}
	out, _ := json.Marshal(ev)
	var again Event
	if err := json.Unmarshal(out, &again); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, ev) {
		t.Errorf("round trip changed the event:\n%+v\n%+v", ev, again)
	}
}

func TestUnmarshalRejectsBadTimestamp(t *testing.T) {
	var ev Event
	err := json.Unmarshal([]byte(`{"@timestamp":"yesterday"}`), &ev)
	if err == nil {
		t.Fatal("invalid @timestamp accepted")
	}
}

func TestIDsAreDeterministic(t *testing.T) {
	if PositionID("a", 1) != PositionID("a", 1) {
		t.Error("PositionID differs for the same input")
	}
	if PositionID("a", 1) == PositionID("a", 2) || PositionID("a", 1) == PositionID("b", 1) {
		t.Error("PositionID collides for different inputs")
	}
	if ContentID("a", []byte("x")) == PositionID("a", 'x') {
		t.Error("ContentID and PositionID share a domain")
	}
	if len(PositionID("a", 1)) != 22 {
		t.Errorf("id length %d, want 22 (128 bits, base64url)", len(PositionID("a", 1)))
	}
}

func TestFieldAccessors(t *testing.T) {
	f := Fields{"n": int64(5), "s": "7", "fl": 2.0, "b": true, "list": []string{"x"}}
	if v, ok := f.Int("n"); !ok || v != 5 {
		t.Errorf("Int(n) = %v, %v", v, ok)
	}
	if v, ok := f.Int("s"); !ok || v != 7 {
		t.Errorf("Int(s) = %v, %v", v, ok)
	}
	if v, ok := f.String("b"); !ok || v != "true" {
		t.Errorf("String(b) = %q, %v", v, ok)
	}
	if _, ok := f.String("list"); ok {
		t.Error("String(list) succeeded")
	}
	f.SetString("empty", "")
	if _, ok := f["empty"]; ok {
		t.Error("SetString stored an empty value")
	}
}

func TestAlertStatusNames(t *testing.T) {
	for _, s := range []AlertStatus{StatusOpen, StatusAcknowledged, StatusClosed} {
		back, err := ParseAlertStatus(s.String())
		if err != nil || back != s {
			t.Errorf("ParseAlertStatus(%q) = %v, %v", s.String(), back, err)
		}
	}
	if _, err := ParseAlertStatus("resolved"); err == nil {
		t.Error("unknown status accepted")
	}
}

func FuzzUnmarshalEvent(f *testing.F) {
	f.Add([]byte(`{"@timestamp":"2026-12-04T10:00:00Z","a":{"b":[1,"x",{"c":null}]}}`))
	f.Add([]byte(`{"event":{"sequence":-1},"x.y":1e400}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev Event
		if err := json.Unmarshal(data, &ev); err != nil {
			return
		}
		if _, err := json.Marshal(ev); err != nil {
			t.Fatalf("decoded event does not encode: %v", err)
		}
	})
}
