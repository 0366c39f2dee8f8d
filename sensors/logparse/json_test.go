package logparse

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

func decodeOne(t *testing.T, format Format, line string) Record {
	t.Helper()
	d, err := NewDecoder(format, Options{Location: time.UTC, Reference: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var out []Record
	d.Decode(Line{Data: []byte(line)}, func(r Record) { out = append(out, r) })
	d.Flush(func(r Record) { out = append(out, r) })
	if len(out) != 1 {
		t.Fatalf("%d records for %q", len(out), line)
	}
	return out[0]
}

// TestOTRFWindowsJSON maps every event of the OTRF (Mordor) samples to the
// Winlogbeat shape and checks the mapping against the source keys.
func TestOTRFWindowsJSON(t *testing.T) {
	files, _ := filepath.Glob(dataDir + "logs/windows_json/otrf/*.json")
	if len(files) == 0 {
		t.Fatal("no OTRF files")
	}
	total := 0
	for _, path := range files {
		lines := readLines(t, path)
		recs := decodeAll(t, FormatJSON, Options{}, lines, nil)
		for _, l := range lines {
			var src map[string]any
			dec := json.NewDecoder(strings.NewReader(l.text))
			dec.UseNumber()
			if err := dec.Decode(&src); err != nil {
				t.Fatalf("%s:%d: %v", path, l.no, err)
			}
			rec := recs[l.offset]
			if rec.Err != nil {
				t.Errorf("%s:%d: %v", path, l.no, rec.Err)
				continue
			}
			total++
			f := rec.Fields
			id, _ := strconv.ParseInt(string(src["EventID"].(json.Number)), 10, 64)
			channel := src["Channel"].(string)
			if f["winlog.event_id"] != id || f["winlog.channel"] != channel || f["event.code"] != strconv.FormatInt(id, 10) {
				t.Errorf("%s:%d: event_id %v channel %v", path, l.no, f["winlog.event_id"], f["winlog.channel"])
			}
			if f["event.dataset"] != "windows."+strings.ToLower(channel) || f["host.name"] != src["Hostname"] || f["winlog.provider_name"] != src["SourceName"] {
				t.Errorf("%s:%d: dataset %v host %v provider %v", path, l.no, f["event.dataset"], f["host.name"], f["winlog.provider_name"])
			}
			for k, v := range src {
				if otrfSystemKeys[k] || v == nil {
					continue
				}
				want, _ := scalarText(v)
				if got := f["winlog.event_data."+k]; got != want {
					t.Errorf("%s:%d: event_data.%s = %v, source %v", path, l.no, k, got, want)
				}
			}
			if rec.Timestamp.IsZero() || rec.Timestamp.Year() != 2020 {
				t.Errorf("%s:%d: time %v", path, l.no, rec.Timestamp)
			}
		}
	}
	t.Logf("OTRF: %d Windows events mapped", total)
}

// TestSigmaRegressionEvtxJSON maps SigmaHQ's regression events (evtx_dump
// JSON, pretty-printed, sometimes several per file) to the Winlogbeat shape.
func TestSigmaRegressionEvtxJSON(t *testing.T) {
	var files []string
	err := filepath.WalkDir(dataDir+"sigma/regression_data", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("walk regression data: %v (%d files)", err, len(files))
	}
	total := 0
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		for {
			var raw json.RawMessage
			if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, raw); err != nil {
				t.Fatal(err)
			}
			var src struct {
				Event struct {
					System struct {
						EventID       json.Number
						EventRecordID json.Number
						Channel       string
						Computer      string
						Provider      struct {
							Attributes struct{ Name string } `json:"#attributes"`
						}
						TimeCreated struct {
							Attributes struct{ SystemTime string } `json:"#attributes"`
						}
					}
					EventData map[string]any
				}
			}
			d2 := json.NewDecoder(bytes.NewReader(raw))
			d2.UseNumber()
			if err := d2.Decode(&src); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			rec := decodeOne(t, FormatAuto, compact.String())
			if rec.Err != nil {
				t.Errorf("%s: %v", path, rec.Err)
				continue
			}
			total++
			f := rec.Fields
			sys := src.Event.System
			id, _ := sys.EventID.Int64()
			rid, _ := sys.EventRecordID.Int64()
			if f["winlog.event_id"] != id || f["winlog.record_id"] != rid || f["winlog.channel"] != sys.Channel ||
				f["winlog.computer_name"] != sys.Computer || f["winlog.provider_name"] != sys.Provider.Attributes.Name {
				t.Errorf("%s: system fields %v %v %v %v %v", path, f["winlog.event_id"], f["winlog.record_id"], f["winlog.channel"], f["winlog.computer_name"], f["winlog.provider_name"])
			}
			if f["event.dataset"] != "windows."+strings.ToLower(sys.Channel) {
				t.Errorf("%s: dataset %v", path, f["event.dataset"])
			}
			want, _ := ecs.ParseTime(sys.TimeCreated.Attributes.SystemTime)
			if !rec.Timestamp.Equal(want) {
				t.Errorf("%s: time %v, SystemTime %v", path, rec.Timestamp, want)
			}
			for k, v := range src.Event.EventData {
				if k == "Data" || k == "#attributes" {
					continue
				}
				w, ok := scalarText(v)
				if !ok {
					continue
				}
				if got := f["winlog.event_data."+k]; got != w {
					t.Errorf("%s: event_data.%s = %v, source %q", path, k, got, w)
				}
			}
		}
	}
	t.Logf("Sigma regression data: %d events from %d files mapped", total, len(files))
}

func TestJSONLines(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		reason Reason
		check  map[string]any
		time   string
	}{
		{name: "nested ECS", line: `{"@timestamp":"2024-05-01T12:00:00.5Z","event":{"dataset":"custom.app","action":"login"},"source":{"ip":"192.0.2.1","port":22}}`,
			check: map[string]any{"event.dataset": "custom.app", "event.module": "custom", "event.action": "login", "source.ip": "192.0.2.1", "source.port": int64(22)}, time: "2024-05-01T12:00:00.5Z"},
		{name: "dotted ECS", line: `{"@timestamp":"2024-05-01T12:00:00Z","user.name":"alice","event.dataset":"x.y"}`,
			check: map[string]any{"user.name": "alice", "event.dataset": "x.y"}, time: "2024-05-01T12:00:00Z"},
		{name: "winlogbeat without dataset", line: `{"@timestamp":"2024-05-01T12:00:00Z","winlog":{"channel":"Security","event_id":4625}}`,
			check: map[string]any{"event.dataset": "windows.security", "winlog.event_id": int64(4625)}},
		{name: "evtx_dump Data list", line: `{"Event":{"System":{"Provider":{"#attributes":{"Name":"Service Control Manager"}},"EventID":{"#text":7045,"#attributes":{"Qualifiers":16384}},"Channel":"System","Computer":"pc1","TimeCreated":{"#attributes":{"SystemTime":"2019-03-19T00:41:29.008934Z"}},"EventRecordID":12},"EventData":{"Data":[{"#attributes":{"Name":"ServiceName"},"#text":"evil"},"plain"]}}}`,
			check: map[string]any{"winlog.event_id": int64(7045), "winlog.event_data.ServiceName": "evil", "winlog.event_data.param2": "plain", "event.dataset": "windows.system", "host.name": "pc1"}, time: "2019-03-19T00:41:29.008934Z"},
		{name: "invalid JSON", line: `{"a":`, reason: ReasonJSONInvalid},
		{name: "trailing data", line: `{"a":1} x`, reason: ReasonJSONInvalid},
		{name: "bad timestamp", line: `{"@timestamp":"yesterday"}`, reason: ReasonJSONTimestamp},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := decodeOne(t, FormatAuto, tc.line)
			if tc.reason != "" {
				var pe *ParseError
				if !errors.As(rec.Err, &pe) || pe.Reason != tc.reason {
					t.Fatalf("err = %v, want reason %s", rec.Err, tc.reason)
				}
				if string(rec.Raw) != tc.line || rec.Fields != nil {
					t.Errorf("dead letter raw %q fields %v", rec.Raw, rec.Fields)
				}
				return
			}
			if rec.Err != nil {
				t.Fatal(rec.Err)
			}
			for k, want := range tc.check {
				if got := rec.Fields[k]; got != want {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
			if tc.time != "" {
				want, _ := time.Parse(time.RFC3339Nano, tc.time)
				if !rec.Timestamp.Equal(want) {
					t.Errorf("time %v, want %v", rec.Timestamp, want)
				}
			}
		})
	}
}

// TestZeekJSON maps every line of the OTRF APT29 Zeek logs and checks the
// connection tuple and time against the source keys.
func TestZeekJSON(t *testing.T) {
	files, _ := filepath.Glob(dataDir + "logs/zeek/otrf-apt29-day1/*.log")
	total := 0
	for _, path := range files {
		lines := readLines(t, path)
		recs := decodeAll(t, FormatAuto, Options{}, lines, nil)
		for _, l := range lines {
			var src map[string]any
			dec := json.NewDecoder(strings.NewReader(l.text))
			dec.UseNumber()
			if err := dec.Decode(&src); err != nil {
				t.Fatal(err)
			}
			rec := recs[l.offset]
			if rec.Err != nil {
				t.Errorf("%s:%d: %v", path, l.no, rec.Err)
				continue
			}
			total++
			f := rec.Fields
			stream := src["@stream"].(string)
			if f["event.dataset"] != "zeek."+stream {
				t.Errorf("%s:%d: dataset %v", path, l.no, f["event.dataset"])
			}
			if h, ok := src["id_orig_h"]; ok && f["source.ip"] != h {
				t.Errorf("%s:%d: source.ip %v, id_orig_h %v", path, l.no, f["source.ip"], h)
			}
			if p, ok := src["id_resp_p"].(json.Number); ok {
				n, _ := p.Int64()
				if f["destination.port"] != n {
					t.Errorf("%s:%d: destination.port %v, id_resp_p %v", path, l.no, f["destination.port"], p)
				}
			}
			sec, _ := src["ts"].(json.Number).Float64()
			if d := rec.Timestamp.Sub(time.Unix(0, int64(sec*1e9))); d > time.Millisecond || d < -time.Millisecond {
				t.Errorf("%s:%d: time %v, ts %v", path, l.no, rec.Timestamp, sec)
			}
		}
	}
	t.Logf("Zeek: %d lines from %d logs mapped", total, len(files))
}

// TestZeekTSV writes the OTRF Zeek conn log (JSON) in Zeek's tab-separated
// format with its header lines and requires the same fields from both.
func TestZeekTSV(t *testing.T) {
	lines := readLines(t, dataDir+"logs/zeek/otrf-apt29-day1/SCRANTON_conn.log")
	names := []string{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration", "orig_bytes", "conn_state", "history"}
	types := []string{"time", "string", "addr", "port", "addr", "port", "enum", "string", "interval", "count", "string", "string"}
	tsv := []string{"#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\tconn",
		"#fields\t" + strings.Join(names, "\t"), "#types\t" + strings.Join(types, "\t")}
	for _, l := range lines {
		var src map[string]any
		dec := json.NewDecoder(strings.NewReader(l.text))
		dec.UseNumber()
		if err := dec.Decode(&src); err != nil {
			t.Fatal(err)
		}
		var row []string
		for _, n := range names {
			v, ok := src[strings.ReplaceAll(n, ".", "_")]
			if !ok {
				row = append(row, "-")
				continue
			}
			s, _ := scalarText(v)
			row = append(row, s)
		}
		tsv = append(tsv, strings.Join(row, "\t"))
	}
	tsv = append(tsv, "#close\t2020-05-01-00-00-00")
	jsonRecs := decodeAll(t, FormatAuto, Options{}, lines, nil)
	d, _ := NewDecoder(FormatAuto, Options{})
	var tsvRecs []Record
	for _, l := range tsv {
		d.Decode(Line{Data: []byte(l)}, func(r Record) { tsvRecs = append(tsvRecs, r) })
	}
	if len(tsvRecs) != len(lines) {
		t.Fatalf("%d records from %d data lines", len(tsvRecs), len(lines))
	}
	for i, l := range lines {
		want, got := jsonRecs[l.offset], tsvRecs[i]
		if got.Err != nil {
			t.Fatalf("line %d: %v", i+1, got.Err)
		}
		for _, k := range []string{"event.dataset", "source.ip", "source.port", "destination.ip", "destination.port", "network.transport", "zeek.session_id", "zeek.conn.conn_state"} {
			if !reflect.DeepEqual(got.Fields[k], want.Fields[k]) {
				t.Errorf("line %d: %s = %#v from TSV, %#v from JSON", i+1, k, got.Fields[k], want.Fields[k])
			}
		}
		if !got.Timestamp.Equal(want.Timestamp) {
			t.Errorf("line %d: time %v from TSV, %v from JSON", i+1, got.Timestamp, want.Timestamp)
		}
	}
	t.Logf("Zeek TSV: %d conn lines agree with the JSON form", len(lines))
}
