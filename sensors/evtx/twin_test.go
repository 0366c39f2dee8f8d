package evtx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/sensors/logparse"
)

// twinRecords parses the evtx_dump JSON next to an .evtx file (a stream of
// pretty-printed objects) with logparse, one record per object.
func twinRecords(t *testing.T, path string) []logparse.Record {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}

	d, err := logparse.NewDecoder(logparse.FormatJSON, logparse.Options{})
	if err != nil {
		t.Fatal(err)
	}

	var out []logparse.Record
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var line bytes.Buffer
		if err := json.Compact(&line, raw); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		d.Decode(logparse.Line{Data: line.Bytes(), SourceID: path}, func(r logparse.Record) {
			if r.Err != nil {
				t.Fatalf("%s: logparse: %v", path, r.Err)
			}
			out = append(out, r)
		})
	}

	return out
}

// twinEdited lists values where a Sigma regression .json differs from its
// .evtx itself: python-evtx reads the .evtx value, so the .json was edited.
var twinEdited = map[string]string{
	"ad691d92-15f2-4181-9aa4-723c74f9ddc3.json winlog.event_data.ParentCommandLine": `C:\Windows\Explorer.EXE`,
}

// twinIgnored are fields logparse adds for any JSON line, not taken from
// the event.
var twinIgnored = map[string]bool{"event.original": true}

// TestMatchesJSONTwin checks that every record of each Sigma regression
// .evtx file gets the same fields, value types and timestamp as logparse
// gives the evtx_dump JSON next to it, so a rule matches both alike.
func TestMatchesJSONTwin(t *testing.T) {
	var files []string
	for _, path := range sharedEVTX(t) {
		if strings.Contains(path, "regression_data") {
			files = append(files, path)
		}
	}

	if len(files) == 0 {
		t.Fatal("no .evtx files under sigma/regression_data")
	}

	events, passed := 0, 0
	for _, path := range files {
		jsonPath := strings.TrimSuffix(path, ".evtx") + ".json"
		if _, err := os.Stat(jsonPath); err != nil {
			continue
		}
		name := strings.TrimPrefix(path, "../../../shared/data/sigma/regression_data/")
		t.Run(name, func(t *testing.T) {
			twins := twinRecords(t, jsonPath)
			byID := make(map[int64]logparse.Record, len(twins))
			for _, r := range twins {
				id, _ := r.Fields.Int("winlog.record_id")
				byID[id] = r
			}

			recs, _ := readAll(t, path)
			if len(recs) != len(twins) {
				t.Errorf("records: .evtx %d, .json %d", len(recs), len(twins))
			}

			for _, rec := range recs {
				events++
				id, _ := rec.Fields.Int("winlog.record_id")
				twin, ok := byID[id]
				if !ok {
					t.Errorf("record %d: not in %s", id, jsonPath)
					continue
				}
				if diffs := diffFields(filepath.Base(jsonPath), rec.Fields, twin.Fields); len(diffs) > 0 {
					t.Errorf("record %d:\n%s", id, strings.Join(diffs, "\n"))
					continue
				}
				// evtx_dump writes microseconds, the .evtx holds 100 ns.
				if !rec.Timestamp.Truncate(time.Microsecond).Equal(twin.Timestamp.Truncate(time.Microsecond)) {
					t.Errorf("record %d: @timestamp %s, .json %s", id, rec.Timestamp, twin.Timestamp)
					continue
				}
				passed++
			}
		})
	}
	t.Logf("%d of %d events equal their evtx_dump JSON twin through logparse", passed, events)
}

// diffFields lists the fields that differ in value or Go type.
func diffFields(file string, ours, theirs ecs.Fields) []string {
	var diffs []string
	for k, want := range theirs {
		if twinIgnored[k] {
			continue
		}
		got, ok := ours[k]
		if !ok {
			diffs = append(diffs, fmt.Sprintf("  %s missing, .json %#v", k, want))
			continue
		}
		if edited, ok := twinEdited[file+" "+k]; ok && got == edited {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			diffs = append(diffs, fmt.Sprintf("  %s = %#v, .json %#v", k, got, want))
		}
	}

	for k, v := range ours {
		if _, ok := theirs[k]; !ok {
			diffs = append(diffs, fmt.Sprintf("  %s = %#v, not in .json", k, v))
		}
	}

	sort.Strings(diffs)
	return diffs
}
