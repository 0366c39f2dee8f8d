package sigma

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// This file converts the two Windows JSON shapes of the shared test data
// into Winlogbeat-shaped ECS events: evtx_dump output (Event.System,
// Event.EventData) of the SigmaHQ regression data, and the flat OTRF
// (Mordor) export. Event data values become strings, as Winlogbeat stores
// them.

// readEvtxJSON decodes a stream of evtx_dump JSON documents.
func readEvtxJSON(path string) ([]*ecs.Event, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out []*ecs.Event
	for {
		var doc struct {
			Event struct {
				System    map[string]any `json:"System"`
				EventData any            `json:"EventData"`
				UserData  map[string]any `json:"UserData"`
			} `json:"Event"`
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", path, err)
		}
		sys := doc.Event.System
		f := ecs.Fields{}
		channel := textOf(sys["Channel"])
		f["winlog.channel"] = channel
		f["event.dataset"] = "windows." + strings.ToLower(channel)
		if id, err := strconv.ParseInt(textOf(sys["EventID"]), 10, 64); err == nil {
			f["winlog.event_id"] = id
		}
		if p, ok := sys["Provider"].(map[string]any); ok {
			if attrs, ok := p["#attributes"].(map[string]any); ok {
				f["winlog.provider_name"] = textOf(attrs["Name"])
			}
		}
		f["winlog.computer_name"] = textOf(sys["Computer"])
		f["host.name"] = textOf(sys["Computer"])
		if rid, err := strconv.ParseInt(textOf(sys["EventRecordID"]), 10, 64); err == nil {
			f["winlog.record_id"] = rid
		}
		ev := &ecs.Event{Fields: f}
		if tc, ok := sys["TimeCreated"].(map[string]any); ok {
			if attrs, ok := tc["#attributes"].(map[string]any); ok {
				ev.Timestamp, _ = time.Parse(time.RFC3339Nano, textOf(attrs["SystemTime"]))
			}
		}
		addEventData(f, doc.Event.EventData)
		for _, inner := range doc.Event.UserData {
			addEventData(f, inner)
		}
		out = append(out, ev)
	}
}

func addEventData(f ecs.Fields, data any) {
	m, ok := data.(map[string]any)
	if !ok {
		return
	}
	for k, v := range m {
		if k == "#attributes" || k == "xmlns" {
			continue
		}
		if v == nil {
			continue
		}
		f["winlog.event_data."+k] = textOf(v)
	}
}

// textOf returns a JSON value as Winlogbeat text: {"#text": x} becomes x.
func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case map[string]any:
		return textOf(x["#text"])
	case []any:
		parts := make([]string, 0, len(x))
		for _, p := range x {
			parts = append(parts, textOf(p))
		}
		return strings.Join(parts, ",")
	}
	return ""
}

// otrfSystemFields are the OTRF keys that are not event data.
var otrfSystemFields = map[string]string{
	"EventID": "winlog.event_id", "Channel": "winlog.channel", "Hostname": "winlog.computer_name",
	"SourceName": "winlog.provider_name", "EventRecordID": "winlog.record_id",
}

var otrfSkip = map[string]bool{
	"@timestamp": true, "@version": true, "TimeCreated": true, "EventTime": true, "EventReceivedTime": true,
	"Message": true, "Keywords": true, "Severity": true, "SeverityValue": true, "Task": true, "Opcode": true,
	"Version": true, "Category": true, "ProviderGuid": true, "SourceModuleName": true, "SourceModuleType": true,
	"host": true, "port": true, "tags": true, "ExecutionProcessID": true, "ThreadID": true, "RecordNumber": true,
	"AccountName": true, "AccountType": true, "Domain": true, "UserID": true, "OpcodeValue": true, "Level": true,
	"EventType": true,
}

// readOTRF decodes OTRF JSON lines.
func readOTRF(path string) ([]*ecs.Event, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*ecs.Event
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("decode %s: %w", path, err)
		}
		f := ecs.Fields{}
		for k, v := range m {
			if otrfSkip[k] {
				continue
			}
			if name, ok := otrfSystemFields[k]; ok {
				if name == "winlog.event_id" || name == "winlog.record_id" {
					n, _ := strconv.ParseInt(textOf(v), 10, 64)
					f[name] = n
				} else {
					f[name] = textOf(v)
				}
				continue
			}
			f["winlog.event_data."+k] = textOf(v)
		}
		if msg, ok := m["Message"].(string); ok {
			f["message"] = msg
		}
		ch, _ := f["winlog.channel"].(string)
		f["event.dataset"] = "windows." + strings.ToLower(ch)
		f["host.name"] = f["winlog.computer_name"]
		ev := &ecs.Event{Fields: f}
		if ts, ok := m["@timestamp"].(string); ok {
			ev.Timestamp, _ = time.Parse(time.RFC3339Nano, ts)
		} else if ts, ok := m["TimeCreated"].(string); ok {
			ev.Timestamp, _ = time.Parse("2006-01-02 15:04:05.000", ts)
		}
		out = append(out, ev)
	}
	return out, nil
}
