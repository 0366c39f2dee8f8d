package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/i18n"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/sensors/logparse"
)

func TestSetupIsIdempotent(t *testing.T) {
	s, _ := newTestStore(t, nil)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := s.Setup(ctx); err != nil {
			t.Fatalf("Setup run %d: %v", i+2, err)
		}
	}
	if s.HasILM() {
		t.Error("HasILM = true, but the test node has no ILM module")
	}
	for _, path := range []string{
		"/_index_template/" + templateLogs,
		"/_index_template/" + templateAudit,
		"/_index_template/" + templateDeadLetters,
		"/_component_template/" + componentMappings,
		"/" + AlertsIndex + "/_mapping",
		"/" + GroupsIndex + "/_mapping",
	} {
		status, body, err := s.do(ctx, http.MethodGet, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusOK {
			t.Errorf("GET %s = HTTP %d: %s", path, status, body)
		}
	}
	// A second store on the same cluster sets up again without error.
	newTestStore(t, nil)
}

func TestNewRejectsInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		key  string
	}{
		{"no urls", Options{Region: "dc1"}, "elastic.option.urls"},
		{"no region", Options{URLs: []string{"http://127.0.0.1:1"}}, "elastic.option.region"},
		{"region with dash", Options{URLs: []string{"http://127.0.0.1:1"}, Region: "dc-1"}, "elastic.option.region_invalid"},
		{"upper-case region", Options{URLs: []string{"http://127.0.0.1:1"}, Region: "DC1"}, "elastic.option.region_invalid"},
		{"negative replicas", Options{URLs: []string{"http://127.0.0.1:1"}, Region: "dc1", Replicas: -1}, "elastic.option.negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(context.Background(), tt.opts)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("New error = %v, want *Error", err)
			}
			if e.Key != tt.key {
				t.Errorf("key = %s, want %s", e.Key, tt.key)
			}
			if vi := e.Message(i18n.VI); vi == "" || vi == tt.key {
				t.Errorf("no Vietnamese text for %s", tt.key)
			}
		})
	}
}

func TestNewReportsUnreachableNode(t *testing.T) {
	// Port 1 on 127.0.0.1 has no listener.
	_, err := New(context.Background(), Options{URLs: []string{"http://127.0.0.1:1"}, Region: "dc1"})
	var e *Error
	if !errors.As(err, &e) || e.Key != "elastic.unreachable" {
		t.Fatalf("New error = %v, want elastic.unreachable", err)
	}
	if !strings.Contains(err.Error(), "http://127.0.0.1:1") {
		t.Errorf("error %q does not name the URL", err)
	}
	if !strings.Contains(e.Message(i18n.EN), "start the node") {
		t.Errorf("message %q does not say what to do", e.Message(i18n.EN))
	}
}

func TestWriteBatchStoresReplayOnce(t *testing.T) {
	s, reg := newTestStore(t, nil)
	region := s.Region()
	ssh, _ := parseFile(t, "linux/loghub/OpenSSH/OpenSSH_2k.log", logparse.FormatSyslog, 400, region)
	web, _ := parseFile(t, "web/elastic-examples/apache_access_combined.log", logparse.FormatAccess, 300, region)
	events := append(ssh, web...)
	ctx := context.Background()
	w := &pipeline.Write{Events: events}
	for i := 0; i < 2; i++ {
		if err := s.WriteBatch(ctx, w); err != nil {
			t.Fatalf("WriteBatch run %d: %v", i+1, err)
		}
	}
	refresh(t, s)
	if got := regionCount(t, s, region); got != int64(len(events)) {
		t.Errorf("stored %d events, want %d", got, len(events))
	}
	if got := counterValue(t, reg, "canhgac_elastic_documents_total", "result", "created"); got != float64(len(events)) {
		t.Errorf("created counter = %v, want %d", got, len(events))
	}
	if got := counterValue(t, reg, "canhgac_elastic_documents_total", "result", "duplicate"); got != float64(len(events)) {
		t.Errorf("duplicate counter = %v, want %d", got, len(events))
	}
	for _, ds := range []string{"system.auth", "web.access"} {
		n, err := s.count(ctx, DataStream(ds, region))
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("data stream %s is empty", DataStream(ds, region))
		}
	}
	got, err := s.Event(ctx, events[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != events[0].ID || !got.Timestamp.Equal(events[0].Timestamp) || got.SourceID != events[0].SourceID {
		t.Errorf("Event = %+v, want id %s at %s", got, events[0].ID, events[0].Timestamp)
	}
	if got.Fields["event.original"] != events[0].Fields["event.original"] {
		t.Errorf("event.original = %q, want %q", got.Fields["event.original"], events[0].Fields["event.original"])
	}
}

func TestWriteBatchDeadLettersRejectedEvent(t *testing.T) {
	s, reg := newTestStore(t, nil)
	region := s.Region()
	events, _ := parseFile(t, "linux/loghub/OpenSSH/OpenSSH_2k.log", logparse.FormatSyslog, 50, region)
	bad := events[10].Clone()
	bad.ID = ecs.PositionID("test:bad", 1)
	// Malformed addresses and numbers are kept unindexed (ignore_malformed
	// in esquery's mapping); an object where a keyword belongs is rejected.
	bad.Fields["user.name"] = map[string]any{"first": "root"}
	bad2 := events[11].Clone()
	bad2.ID = ecs.PositionID("test:bad", 2)
	bad2.Fields["host.name"] = map[string]any{"id": int64(7)}
	batch := append(append([]*ecs.Event{}, events...), bad, bad2)
	parseFailure := pipeline.DeadLetter{Time: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), SourceID: "file:/var/log/odd.log",
		Offset: 42, Raw: []byte("\xff\xfe not UTF-8"), Reason: "unknown format"}
	ctx := context.Background()
	w := &pipeline.Write{Events: batch, DeadLetters: []pipeline.DeadLetter{parseFailure}}
	for i := 0; i < 2; i++ {
		if err := s.WriteBatch(ctx, w); err != nil {
			t.Fatalf("WriteBatch run %d: %v", i+1, err)
		}
	}
	refresh(t, s)
	if got := regionCount(t, s, region); got != int64(len(events)) {
		t.Errorf("stored %d events, want the %d good ones", got, len(events))
	}
	n, err := s.count(ctx, DataStream(deadLetterDataset, region))
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("dead-letter stream holds %d documents, want 3 (two rejected events, one parse failure)", n)
	}
	if got := counterValue(t, reg, "canhgac_elastic_dead_letters_total", "stage", stageIndex); got != 2 {
		t.Errorf("index dead-letter counter = %v, want 2", got)
	}
	dls, err := s.DeadLetters(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	byEvent := map[string]DeadLetter{}
	var parsed *DeadLetter
	for i, d := range dls {
		if d.Region != region {
			continue
		}
		if d.Stage == stageParse {
			parsed = &dls[i]
		} else {
			byEvent[d.EventID] = d
		}
	}
	for _, ev := range []*ecs.Event{bad, bad2} {
		d, ok := byEvent[ev.ID]
		if !ok {
			t.Errorf("rejected event %s not in the dead letters", ev.ID)
			continue
		}
		if !containsAll(d.Reason, ev.ID, "exception") {
			t.Errorf("reason %q does not name the event and the error", d.Reason)
		}
		var back ecs.Event
		if err := json.Unmarshal(d.Raw, &back); err != nil {
			t.Fatalf("dead letter of %s does not hold the event: %v", ev.ID, err)
		}
		if back.ID != ev.ID || back.Fields["event.original"] != ev.Fields["event.original"] {
			t.Errorf("dead letter of %s lost fields: %+v", ev.ID, back)
		}
		if d.SourceID != ev.SourceID || d.Offset < 0 {
			t.Errorf("dead letter of %s: source %q offset %d", ev.ID, d.SourceID, d.Offset)
		}
	}
	if parsed == nil {
		t.Fatal("parse failure not in the dead letters")
	}
	if string(parsed.Raw) != string(parseFailure.Raw) || parsed.Reason != parseFailure.Reason || parsed.Offset != 42 {
		t.Errorf("parse dead letter = %+v, want %+v", parsed.DeadLetter, parseFailure)
	}
}

func TestWriteBatchRejectsEventWithoutID(t *testing.T) {
	s, _ := newTestStore(t, nil)
	err := s.WriteBatch(context.Background(), &pipeline.Write{Events: []*ecs.Event{{Timestamp: time.Now(), SourceID: "x", Seq: 3}}})
	if err == nil || !strings.Contains(err.Error(), "no id") {
		t.Fatalf("WriteBatch error = %v, want a missing-id error", err)
	}
}

func TestPipelineWritesThroughStore(t *testing.T) {
	s, _ := newTestStore(t, nil)
	region := s.Region()
	events, _ := parseFile(t, "linux/loghub/OpenSSH/OpenSSH_2k.log", logparse.FormatSyslog, 500, region)
	for _, e := range events {
		delete(e.Fields, "observer.geo.name") // the pipeline stamps the region
	}
	p := pipeline.New(s, nil, pipeline.Options{Region: region, Sensor: "sensor-1", MaxWriteEvents: 128})
	ctx := context.Background()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	committed := 0
	for i := 0; i < len(events); i += 100 {
		b := &pipeline.Batch{SourceID: events[0].SourceID, Events: events[i:min(i+100, len(events))], Commit: func() { committed++ }}
		if err := p.Submit(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if committed != (len(events)+99)/100 {
		t.Errorf("%d batches committed, want %d", committed, (len(events)+99)/100)
	}
	refresh(t, s)
	if n := regionCount(t, s, region); n != int64(len(events)) {
		t.Errorf("stored %d events, want %d", n, len(events))
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
