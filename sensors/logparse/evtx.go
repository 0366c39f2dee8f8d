package logparse

import (
	"strconv"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// attr returns m["#attributes"][name], the form evtx_dump gives to XML
// attributes.
func attr(m map[string]any, name string) any {
	a, _ := m["#attributes"].(map[string]any)
	return a[name]
}

func child(m map[string]any, name string) map[string]any {
	c, _ := m[name].(map[string]any)
	return c
}

// evtxFields maps the JSON that evtx_dump writes for one record
// ({"Event":{"System":{...},"EventData":{...}}}) to the Winlogbeat shape.
// EventData is either named values ({"Name": value}) or a "Data" list of
// {"#attributes":{"Name":...},"#text":...} items or bare values, which get the
// names param1, param2, ... as Winlogbeat gives them. UserData is flattened
// under winlog.user_data.
func evtxFields(ev, sys map[string]any) (ecs.Fields, time.Time) {
	f := make(ecs.Fields, 48)
	var w winSystem
	w.channel, _ = scalarText(sys["Channel"])
	w.eventID, _ = jsonInt(sys["EventID"])
	if p := child(sys, "Provider"); p != nil {
		w.provider, _ = scalarText(attr(p, "Name"))
		w.providerGUID, _ = scalarText(attr(p, "Guid"))
	}
	w.computer, _ = scalarText(sys["Computer"])
	if n, ok := jsonInt(sys["EventRecordID"]); ok {
		w.recordID, w.hasRecordID = n, true
	}
	w.level, _ = scalarText(sys["Level"])
	w.task, _ = scalarText(sys["Task"])
	w.opcode, _ = scalarText(sys["Opcode"])
	w.keywords, _ = scalarText(sys["Keywords"])
	w.version, _ = scalarText(sys["Version"])
	if e := child(sys, "Execution"); e != nil {
		w.pid, _ = jsonInt(attr(e, "ProcessID"))
		w.tid, _ = jsonInt(attr(e, "ThreadID"))
	}
	if s := child(sys, "Security"); s != nil {
		w.userID, _ = scalarText(attr(s, "UserID"))
	}
	setWinlog(f, &w)
	var ts time.Time
	if tc := child(sys, "TimeCreated"); tc != nil {
		if s, ok := attr(tc, "SystemTime").(string); ok {
			if t, err := ecs.ParseTime(s); err == nil {
				ts = t
			}
		}
	}
	if data, ok := ev["EventData"].(map[string]any); ok {
		evtxEventData(data, f)
	}
	if ud, ok := ev["UserData"].(map[string]any); ok {
		for k, v := range ecs.Flatten(ud) {
			f["winlog.user_data."+k] = v
		}
	}
	return f, ts
}

func evtxEventData(data map[string]any, f ecs.Fields) {
	items, hasList := data["Data"]
	if !hasList {
		for k, v := range data {
			if k == "#attributes" {
				continue
			}
			if s, ok := scalarText(v); ok {
				f["winlog.event_data."+k] = s
			} else if v != nil {
				f["winlog.event_data."+k] = ecs.NormalizeValue(v)
			}
		}
		return
	}
	list, ok := items.([]any)
	if !ok {
		list = []any{items}
	}
	for i, item := range list {
		name := "param" + strconv.Itoa(i+1)
		value := item
		if m, ok := item.(map[string]any); ok {
			if n, ok := attr(m, "Name").(string); ok && n != "" {
				name = n
			}
			value = m["#text"]
		}
		if s, ok := scalarText(value); ok {
			f["winlog.event_data."+name] = s
		}
	}
}
