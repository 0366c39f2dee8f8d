package evtx

import (
	"strconv"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/sensors/logparse"
)

// eventFields maps a decoded Event element to the Winlogbeat shape, field
// for field as sensors/logparse maps the evtx_dump JSON of the same record.
// System values are text, except the record id and the process and thread
// ids (int64). EventData values are text, and arrays are lists. UserData
// is flattened under winlog.user_data with evtx_dump's "#attributes" and
// "#text" keys. It also returns TimeCreated/@SystemTime and whether the
// event has one.
func eventFields(root *Element, keys *fieldKeys) (ecs.Fields, time.Time, bool) {
	if keys == nil {
		keys = newFieldKeys()
	}
	f := make(ecs.Fields, 48)
	var ts time.Time
	var hasTime bool
	sys := root.Child("System")
	if sys == nil {
		sys = &Element{}
	}

	text := func(name string) string {
		if c := sys.Child(name); c != nil {
			return c.TextValue().Text
		}
		return ""
	}
	attr := func(elem, name string) (Value, bool) {
		if c := sys.Child(elem); c != nil {
			return c.Attr(name)
		}
		return Value{}, false
	}
	attrText := func(elem, name string) string {
		v, _ := attr(elem, name)
		return v.Text
	}

	channel := text("Channel")
	eventID, _ := strconv.ParseInt(strings.TrimSpace(text("EventID")), 10, 64)
	f["winlog.channel"] = channel
	f["winlog.event_id"] = eventID
	f["event.code"] = strconv.FormatInt(eventID, 10)
	provider := attrText("Provider", "Name")
	f.SetString("winlog.provider_name", provider)
	f.SetString("event.provider", provider)
	f.SetString("winlog.provider_guid", attrText("Provider", "Guid"))
	computer := text("Computer")
	f.SetString("winlog.computer_name", computer)
	f.SetString("host.name", computer)
	if n, ok := parseInt(text("EventRecordID")); ok {
		f["winlog.record_id"] = n
	}
	f.SetString("winlog.task", text("Task"))
	f.SetString("winlog.opcode", text("Opcode"))
	f.SetString("winlog.keywords", text("Keywords"))
	f.SetString("winlog.version", text("Version"))
	if n, ok := parseInt(attrText("Execution", "ProcessID")); ok && n != 0 {
		f["winlog.process.pid"] = n
	}
	if n, ok := parseInt(attrText("Execution", "ThreadID")); ok && n != 0 {
		f["winlog.process.thread.id"] = n
	}
	f.SetString("winlog.user.identifier", attrText("Security", "UserID"))
	if lv := logparse.WindowsLevel(text("Level")); lv != "" {
		f["log.level"] = lv
	}
	f["event.dataset"] = keys.dataset(channel)
	f["event.module"] = "windows"
	f["event.kind"] = "event"
	if v, ok := attr("TimeCreated", "SystemTime"); ok {
		if t, ok := v.Time(); ok {
			ts, hasTime = t, true
		} else if t, err := ecs.ParseTime(v.Text); err == nil {
			ts, hasTime = t, true
		}
	}

	if data := root.Child("EventData"); data != nil {
		eventData(data, f, keys)
	}

	if user := root.Child("UserData"); user != nil {
		for _, c := range user.Children {
			flattenElement(f, "winlog.user_data."+c.Name, c)
		}
	}

	return f, ts, hasTime
}

// eventData maps the children of EventData. Data elements with a Name
// attribute become winlog.event_data.<Name>, and unnamed ones are numbered
// by their position among the Data elements (param1, param2, ...). Other
// children keep their element name. An element without content is left
// out, as evtx_dump writes it as null.
// NOTE: evtx_dump is known here only through its JSON in the Sigma
// regression data. Trailing white space is trimmed as that JSON shows.
// Leading white space is kept, since no sample shows what evtx_dump does.
func eventData(data *Element, f ecs.Fields, keys *fieldKeys) {
	index := 0
	for _, c := range data.Children {
		name := c.Name
		if c.Name == "Data" {
			index++
			name = "param" + strconv.Itoa(index)
			if v, ok := c.Attr("Name"); ok && v.Text != "" {
				name = v.Text
			}
		}
		if len(c.Text) == 0 {
			continue
		}
		v := c.TextValue()
		key := keys.eventData(name)
		if v.Type&TypeArray != 0 {
			f[key] = v.Native()
			continue
		}
		// evtx_dump drops trailing white space from EventData text (the
		// Sigma regression JSON shows it on Sysmon command lines), and rules
		// written against that JSON expect the trimmed value.
		f[key] = strings.TrimRight(v.Text, " \t\r\n")
	}
}

// flattenElement writes an element the way evtx_dump's JSON of it is
// flattened. Attributes go under "<prefix>.#attributes.<name>" and child
// elements under "<prefix>.<child>". Text is "<prefix>", or
// "<prefix>.#text" when the element has attributes. An empty element is
// null.
func flattenElement(f ecs.Fields, prefix string, e *Element) {
	for _, a := range e.Attrs {
		f[prefix+".#attributes."+a.Name] = a.Value.Native()
	}

	for _, c := range e.Children {
		flattenElement(f, prefix+"."+c.Name, c)
	}

	switch {
	case len(e.Text) > 0 && len(e.Attrs) > 0:
		f[prefix+".#text"] = e.TextValue().Native()
	case len(e.Text) > 0:
		f[prefix] = e.TextValue().Native()
	case len(e.Attrs) == 0 && len(e.Children) == 0:
		f[prefix] = nil
	}
}

// fieldKeys caches the field names and values built from event names,
// so each is allocated once per file.
type fieldKeys struct {
	data     map[string]string
	datasets map[string]string
}

func newFieldKeys() *fieldKeys {
	return &fieldKeys{data: make(map[string]string), datasets: make(map[string]string)}
}

// eventData returns "winlog.event_data." + name.
func (k *fieldKeys) eventData(name string) string {
	if s, ok := k.data[name]; ok {
		return s
	}

	s := "winlog.event_data." + name
	k.data[name] = s
	return s
}

// dataset returns "windows." + the channel in lower case.
func (k *fieldKeys) dataset(channel string) string {
	if s, ok := k.datasets[channel]; ok {
		return s
	}

	s := "windows." + strings.ToLower(channel)
	k.datasets[channel] = s
	return s
}

// parseInt reads a decimal or 0x-prefixed hex integer.
func parseInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		n, err := strconv.ParseInt(s[2:], 16, 64)
		return n, err == nil
	}

	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}
