package logparse

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// parseJSON parses one JSON line. Recognised shapes, in order:
//
//   - evtx_dump output {"Event":{"System":{...},"EventData":{...}}}: mapped
//     to the Winlogbeat shape;
//   - flat Windows event JSON as in the OTRF (Mordor) data sets, with
//     EventID and Channel at the top level: mapped to the Winlogbeat shape;
//   - Zeek JSON logs (with "ts" and "@stream" or "_path"): event.dataset
//     zeek.<stream>, see zeekFields;
//   - anything else is an ECS document, nested or dotted, kept as it is.
//
// Invalid JSON and JSON that is not an object are dead letters.
func (d *Decoder) parseJSON(s string) parsed {
	// The flat map is reused across lines when the record gets a map of its
	// own (Windows shapes); an ECS document keeps it.
	flat, err := flattenJSON(s, &d.names, d.jsonScratch)
	d.jsonScratch = nil
	if errors.Is(err, errNotObject) {
		return parsed{err: parseErr(ReasonJSONNotObject, jsonKindOf(s), nil)}
	}

	if err != nil {
		return parsed{err: parseErr(ReasonJSONInvalid, "decode", err)}
	}

	if _, ok := flat["Event.System.Channel"]; ok {
		f, ts := evtxFields(flat, &d.names)
		d.recycle(flat)
		return parsed{ts: ts, fields: f}
	}

	if _, ok := flat["EventID"]; ok {
		if _, ok := flat["Channel"]; ok {
			if _, ok := flat["winlog.channel"]; !ok {
				f, ts := flatWindowsFields(flat, &d.names)
				d.recycle(flat)
				return parsed{ts: ts, fields: f}
			}
		}
	}

	if stream := zeekStream(flat); stream != "" {
		f, ts := zeekFields(flat, stream, &d.names)
		d.recycle(flat)
		return parsed{ts: ts, fields: f}
	}

	return ecsDocument(flat)
}

// recycle keeps a flat map for the next JSON line. The values it held stay
// referenced by the record (strings share the line), so only the map is
// reused.
func (d *Decoder) recycle(m ecs.Fields) {
	clear(m)
	d.jsonScratch = m
}

// jsonKindOf names the kind of the JSON value that starts s.
func jsonKindOf(s string) string {
	s = strings.TrimLeft(s, " \t\r\n")
	if s == "" {
		return "empty"
	}

	switch c := s[0]; {
	case c == '[':
		return "array"
	case c == '"':
		return "string"
	case c == '-' || isDigit(c):
		return "number"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	}

	return "value"
}

// ecsDocument keeps an ECS document's fields; @timestamp becomes the event
// time. Winlogbeat documents without event.dataset get windows.<channel>.
func ecsDocument(f ecs.Fields) parsed {
	for k, v := range f {
		switch v.(type) {
		case json.Number, []any, map[string]any:
			f[k] = ecs.NormalizeValue(v)
		}
	}

	var ts time.Time
	if v, ok := f["@timestamp"]; ok {
		str, isStr := v.(string)
		t, err := ecs.ParseTime(str)
		if !isStr || err != nil {
			return parsed{err: parseErr(ReasonJSONTimestamp, strconv.Quote(str), err)}
		}
		ts = t
		delete(f, "@timestamp")
	}

	if _, ok := f["event.dataset"]; !ok {
		if ch, ok := f["winlog.channel"].(string); ok && ch != "" {
			f["event.dataset"] = "windows." + strings.ToLower(ch)
			f["event.module"] = "windows"
		}
	}

	return parsed{ts: ts, fields: f}
}

// winSystem is the System part of a Windows event.
type winSystem struct {
	channel, provider, providerGUID, computer string
	eventID, recordID                         int64
	hasRecordID                               bool
	level, task, opcode, keywords, version    string
	pid, tid                                  int64
	userID                                    string
	message                                   string
}

// setWinlog writes the Winlogbeat fields of a Windows event.
func setWinlog(f ecs.Fields, sys *winSystem) {
	f["winlog.channel"] = sys.channel
	f["winlog.event_id"] = sys.eventID
	f["event.code"] = strconv.FormatInt(sys.eventID, 10)
	f.SetString("winlog.provider_name", sys.provider)
	f.SetString("event.provider", sys.provider)
	f.SetString("winlog.provider_guid", sys.providerGUID)
	f.SetString("winlog.computer_name", sys.computer)
	f.SetString("host.name", sys.computer)
	if sys.hasRecordID {
		f["winlog.record_id"] = sys.recordID
	}
	f.SetString("winlog.task", sys.task)
	f.SetString("winlog.opcode", sys.opcode)
	f.SetString("winlog.keywords", sys.keywords)
	f.SetString("winlog.version", sys.version)
	if sys.pid != 0 {
		f["winlog.process.pid"] = sys.pid
	}

	if sys.tid != 0 {
		f["winlog.process.thread.id"] = sys.tid
	}
	f.SetString("winlog.user.identifier", sys.userID)
	if lv := WindowsLevel(sys.level); lv != "" {
		f["log.level"] = lv
	}
	f.SetString("message", sys.message)
	f["event.dataset"] = "windows." + strings.ToLower(sys.channel)
	f["event.module"] = "windows"
	f["event.kind"] = "event"
}

// WindowsLevel maps a Windows event's numeric level to Winlogbeat's
// log.level name ("information", "critical", ...). The EVTX reader uses it
// too, so a record gets the same level from its .evtx and its JSON form.
func WindowsLevel(l string) string {
	switch l {
	case "":
		return ""
	case "0", "4":
		return "information"
	case "1":
		return "critical"
	case "2":
		return "error"
	case "3":
		return "warning"
	case "5":
		return "verbose"
	}

	return strings.ToLower(l)
}

// scalarText formats a JSON scalar as Winlogbeat stores event data: text.
func scalarText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	}

	return "", false
}

// jsonInt reads an integer written as a JSON number or as decimal or 0x
// text.
func jsonInt(v any) (int64, bool) {
	switch v := v.(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case string:
		s := strings.TrimSpace(v)
		if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
			n, err := strconv.ParseInt(s[2:], 16, 64)
			return n, err == nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}

	return 0, false
}

// otrfSystemKeys are the top-level keys of OTRF/NXLog Windows JSON that
// describe the event rather than carry its EventData.
var otrfSystemKeys = map[string]bool{
	"SourceName": true, "TimeCreated": true, "Hostname": true, "Task": true, "Channel": true,
	"Message": true, "EventID": true, "Level": true, "Keywords": true, "ProviderGuid": true,
	"@timestamp": true, "EventTime": true, "RecordNumber": true, "EventRecordID": true,
	"ExecutionProcessID": true, "ExecutionThreadID": true, "Version": true, "Opcode": true,
	"OpcodeValue": true, "SeverityValue": true, "Severity": true, "EventReceivedTime": true,
	"SourceModuleName": true, "SourceModuleType": true, "@version": true, "tags": true,
	"port": true, "host": true, "Category": true, "AccountName": true, "AccountType": true,
	"Domain": true, "UserID": true,
}

// flatWindowsFields maps flat Windows event JSON (OTRF, NXLog) to the
// Winlogbeat shape: known system keys to winlog.*, every other key to
// winlog.event_data.<key>. The time is @timestamp, else TimeCreated, else
// EventTime; a time without a zone is taken as UTC.
func flatWindowsFields(doc ecs.Fields, names *fieldNames) (ecs.Fields, time.Time) {
	f := make(ecs.Fields, len(doc)+16)
	var sys winSystem
	sys.channel, _ = scalarText(doc["Channel"])
	sys.eventID, _ = jsonInt(doc["EventID"])
	sys.provider, _ = scalarText(doc["SourceName"])
	sys.providerGUID, _ = scalarText(doc["ProviderGuid"])
	sys.computer, _ = scalarText(doc["Hostname"])
	if n, ok := jsonInt(doc["RecordNumber"]); ok {
		sys.recordID, sys.hasRecordID = n, true
	} else if n, ok := jsonInt(doc["EventRecordID"]); ok {
		sys.recordID, sys.hasRecordID = n, true
	}
	sys.task, _ = scalarText(doc["Task"])
	sys.opcode, _ = scalarText(doc["Opcode"])
	sys.keywords, _ = scalarText(doc["Keywords"])
	sys.version, _ = scalarText(doc["Version"])
	sys.level, _ = scalarText(doc["Level"])
	sys.pid, _ = jsonInt(doc["ExecutionProcessID"])
	sys.tid, _ = jsonInt(doc["ExecutionThreadID"])
	sys.userID, _ = scalarText(doc["UserID"])
	sys.message, _ = scalarText(doc["Message"])
	setWinlog(f, &sys)
	for k, v := range doc {
		if otrfSystemKeys[k] {
			continue
		}
		if s, ok := scalarText(v); ok {
			f[names.join("winlog.event_data.", k)] = s
		} else if v != nil {
			f[names.join("winlog.event_data.", k)] = ecs.NormalizeValue(v)
		}
	}

	var ts time.Time
	for _, k := range [...]string{"@timestamp", "TimeCreated", "EventTime"} {
		if s, ok := doc[k].(string); ok {
			if t, err := ecs.ParseTime(s); err == nil {
				ts = t
				break
			}
		}
	}

	return f, ts
}
