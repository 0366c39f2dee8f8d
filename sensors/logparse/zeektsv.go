package logparse

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/canhgac/canhgac/ecs"
)

// zeekTSV is the header state of a Zeek tab-separated log: the "#separator",
// "#set_separator", "#empty_field", "#unset_field", "#path", "#fields" and
// "#types" lines that precede the data lines, until "#close".
//
// NOTE: the state lives only in the decoder. A reader that resumes a Zeek
// TSV file from a checkpoint after its header gets the following data lines
// as raw system.syslog events; Pending does not hold checkpoints at the header.
type zeekTSV struct {
	active bool
	sep    string
	setSep string
	empty  string
	unset  string
	path   string
	fields []string
	types  []string
}

// header applies a Zeek header line and reports whether s was one. Header
// lines carry no event, so they yield no record.
func (z *zeekTSV) header(s string) bool {
	if strings.HasPrefix(s, "#separator ") {
		*z = zeekTSV{sep: unescapeZeek(s[len("#separator "):]), setSep: ",", empty: "(empty)", unset: "-"}
		return true
	}
	if z.sep == "" || !strings.HasPrefix(s, "#") {
		return false
	}
	name, value, ok := strings.Cut(s[1:], z.sep)
	switch name {
	case "set_separator":
		z.setSep = value
	case "empty_field":
		z.empty = value
	case "unset_field":
		z.unset = value
	case "path":
		z.path = value
	case "open":
	case "fields":
		z.fields = strings.Split(value, z.sep)
		z.active = z.path != "" && isHostName(z.path)
	case "types":
		z.types = strings.Split(value, z.sep)
	case "close":
		*z = zeekTSV{}
	default:
		return false
	}
	return ok || name == "close"
}

// unescapeZeek decodes the \xHH escapes of the #separator line.
func unescapeZeek(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if n, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseZeekTSV parses a data line of the current Zeek log into the same
// fields as Zeek's JSON output (see zeekFields). Numeric types become
// numbers, set and vector types lists, and unset fields are left out.
func (d *Decoder) parseZeekTSV(s string) (parsed, bool) {
	z := &d.zeek
	values := strings.Split(s, z.sep)
	if len(values) != len(z.fields) {
		return parsed{}, false
	}
	flat := make(ecs.Fields, len(values)+1)
	flat["_path"] = z.path
	for i, v := range values {
		if v == z.unset {
			continue
		}
		typ := ""
		if i < len(z.types) {
			typ = z.types[i]
		}
		flat[z.fields[i]] = zeekValue(v, typ, z)
	}
	f, ts := zeekFields(flat, z.path, &d.names)
	return parsed{ts: ts, fields: f}, true
}

func zeekValue(v, typ string, z *zeekTSV) any {
	if strings.HasPrefix(typ, "set[") || strings.HasPrefix(typ, "vector[") {
		if v == z.empty {
			return []string{}
		}
		return strings.Split(v, z.setSep)
	}
	if v == z.empty {
		return ""
	}
	switch typ {
	case "count", "int", "port", "double", "time", "interval":
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return json.Number(v)
		}
	case "bool":
		return v == "T"
	}
	return v
}
