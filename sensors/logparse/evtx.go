package logparse

import (
	"strconv"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// evtxFields maps the JSON that evtx_dump writes for one record
// ({"Event":{"System":{...},"EventData":{...}}}), already flattened, to the
// Winlogbeat shape. XML attributes appear as "#attributes" objects and
// element text with attributes as "#text". EventData is either named values
// ("Event.EventData.<Name>") or a "Data" list of {"#attributes":{"Name":...},
// "#text":...} items or bare values, which get the names param1, param2, ...
// as Winlogbeat gives them. UserData is kept under winlog.user_data.
func evtxFields(doc ecs.Fields, names *fieldNames) (ecs.Fields, time.Time) {
	const sys = "Event.System."
	f := make(ecs.Fields, len(doc)+16)
	var w winSystem
	w.channel, _ = scalarText(doc[sys+"Channel"])
	if n, ok := jsonInt(doc[sys+"EventID"]); ok {
		w.eventID = n
	} else {
		w.eventID, _ = jsonInt(doc[sys+"EventID.#text"])
	}
	w.provider, _ = scalarText(doc[sys+"Provider.#attributes.Name"])
	w.providerGUID, _ = scalarText(doc[sys+"Provider.#attributes.Guid"])
	w.computer, _ = scalarText(doc[sys+"Computer"])
	if n, ok := jsonInt(doc[sys+"EventRecordID"]); ok {
		w.recordID, w.hasRecordID = n, true
	}
	w.level, _ = scalarText(doc[sys+"Level"])
	w.task, _ = scalarText(doc[sys+"Task"])
	w.opcode, _ = scalarText(doc[sys+"Opcode"])
	w.keywords, _ = scalarText(doc[sys+"Keywords"])
	w.version, _ = scalarText(doc[sys+"Version"])
	w.pid, _ = jsonInt(doc[sys+"Execution.#attributes.ProcessID"])
	w.tid, _ = jsonInt(doc[sys+"Execution.#attributes.ThreadID"])
	w.userID, _ = scalarText(doc[sys+"Security.#attributes.UserID"])
	setWinlog(f, &w)
	var ts time.Time
	if s, ok := doc[sys+"TimeCreated.#attributes.SystemTime"].(string); ok {
		if t, err := ecs.ParseTime(s); err == nil {
			ts = t
		}
	}

	for k, v := range doc {
		switch {
		case strings.HasPrefix(k, "Event.EventData."):
			name := k[len("Event.EventData."):]
			switch {
			case name == "Data":
				evtxDataList(v, f)
			case name == "Data.#text":
				// A single unnamed or named Data element.
				n, _ := doc["Event.EventData.Data.#attributes.Name"].(string)
				if n == "" {
					n = "param1"
				}
				if s, ok := scalarText(v); ok {
					f["winlog.event_data."+n] = s
				}
			case strings.HasPrefix(name, "#attributes") || strings.HasPrefix(name, "Data.#attributes"):
			default:
				if s, ok := scalarText(v); ok {
					f[names.join("winlog.event_data.", name)] = s
				} else if v != nil {
					f[names.join("winlog.event_data.", name)] = ecs.NormalizeValue(v)
				}
			}
		case strings.HasPrefix(k, "Event.UserData."):
			f["winlog.user_data."+k[len("Event.UserData."):]] = ecs.NormalizeValue(v)
		}
	}

	return f, ts
}

// evtxDataList maps an EventData "Data" list.
func evtxDataList(v any, f ecs.Fields) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}

	for i, item := range list {
		name := "param" + strconv.Itoa(i+1)
		value := item
		if m, ok := item.(map[string]any); ok {
			if a, ok := m["#attributes"].(map[string]any); ok {
				if n, ok := a["Name"].(string); ok && n != "" {
					name = n
				}
			}
			value = m["#text"]
		}
		if s, ok := scalarText(value); ok {
			f["winlog.event_data."+name] = s
		}
	}
}
