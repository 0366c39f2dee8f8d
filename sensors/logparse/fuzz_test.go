package logparse

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// seedLines adds up to n lines of a shared sample file to the corpus.
func seedLines(f *testing.F, path string, n int) {
	lines := readLinesF(f, dataDir+path)
	for i, l := range lines {
		if i >= n {
			break
		}
		f.Add(l)
	}
}

func readLinesF(f *testing.F, path string) []string {
	b, err := osReadFile(path)
	if err != nil {
		f.Fatalf("read %s: %v", path, err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// checkOneRecord decodes line and requires exactly one record whose Raw is
// the input (without line end), parsed or dead letter.
func checkOneRecord(t *testing.T, format Format, line string) {
	d, err := NewDecoder(format, Options{Location: time.UTC, Reference: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	d.Decode(Line{Data: []byte(line)}, func(r Record) { recs = append(recs, r) })
	d.Flush(func(r Record) { recs = append(recs, r) })
	trimmed := bytes.TrimRight([]byte(line), "\r\n")
	if len(bytes.TrimSpace(trimmed)) == 0 || format == FormatAuto && bytes.HasPrefix(trimmed, []byte("#separator ")) {
		if len(recs) != 0 {
			t.Fatalf("records for blank input or a Zeek header")
		}
		return
	}
	if len(recs) != 1 {
		t.Fatalf("%d records for %q", len(recs), line)
	}
	r := recs[0]
	if !bytes.Equal(r.Raw, trimmed) {
		t.Fatalf("raw %q, input %q", r.Raw, trimmed)
	}
	if (r.Err == nil) == (r.Fields == nil) {
		t.Fatalf("err %v with fields %v", r.Err, r.Fields)
	}
	if r.Err == nil {
		checkFieldTypes(t, r.Fields)
	}
}

// checkFieldTypes requires the value types that ecs.Fields allows.
func checkFieldTypes(t *testing.T, f ecs.Fields) {
	for k, v := range f {
		switch v.(type) {
		case string, int64, float64, bool, nil, []string, []any, map[string]any:
		default:
			t.Fatalf("field %s has type %T", k, v)
		}
	}
}

func FuzzSyslog(f *testing.F) {
	seedLines(f, "logs/linux/loghub/OpenSSH/OpenSSH_2k.log", 50)
	seedLines(f, "logs/linux/fail2ban/sshd.log", 400)
	seedLines(f, "logs/linux/elastic-beats/auth_test.log", 20)
	f.Add("<165>1 2003-10-11T22:14:15.003Z host app 1 ID [a b=\"c\"] \ufeffmsg")
	f.Add("<13>sshd: x")
	f.Fuzz(func(t *testing.T, line string) {
		checkOneRecord(t, FormatSyslog, line)
		if fields, _, ok := ParseSyslogMessage([]byte(line), time.Unix(0, 0), time.UTC); ok {
			checkFieldTypes(t, fields)
		}
	})
}

func FuzzSSHD(f *testing.F) {
	for _, l := range readLinesF(f, dataDir+"logs/linux/fail2ban/sshd.log") {
		if i := strings.Index(l, "]: "); i >= 0 {
			f.Add(l[i+3:])
		}
	}
	f.Fuzz(func(t *testing.T, msg string) {
		fields := ecs.Fields{"process.pid": int64(1)}
		parseSSHD(msg, fields)
		var s sshSessions
		s.enrich("h", fields)
		checkFieldTypes(t, fields)
		if o, ok := fields["event.outcome"]; ok && o != "success" && o != "failure" {
			t.Fatalf("outcome %v", o)
		}
	})
}

func FuzzAccessLog(f *testing.F) {
	seedLines(f, "logs/web/elastic-examples/apache_access_combined.log", 50)
	seedLines(f, "logs/web/evtx-attack-samples/web_attack_and_isp_webshell_localhost_access_log.txt", 50)
	seedLines(f, "logs/web/fail2ban/apache-auth.log", 60)
	seedLines(f, "logs/web/fail2ban/nginx-http-auth.log", 30)
	f.Fuzz(func(t *testing.T, line string) {
		checkOneRecord(t, FormatAccess, line)
		checkOneRecord(t, FormatApacheError, line)
		checkOneRecord(t, FormatNginxError, line)
	})
}

func FuzzAuditd(f *testing.F) {
	for _, p := range []string{"logs/auditd/go-libaudit/audit-rhel7.log", "logs/auditd/go-libaudit/test3.log", "logs/auditd/elastic-beats/auditd_test.log"} {
		lines := readLinesF(f, dataDir+p)
		for i := 0; i+3 <= len(lines); i += 3 {
			f.Add(strings.Join(lines[i:i+3], "\n"))
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		d, _ := NewDecoder(FormatAuditd, Options{AuditdWindow: 2})
		var nonEmpty, rawLines int
		emit := func(r Record) {
			rawLines += strings.Count(string(r.Raw), "\n") + 1
			if r.Err == nil {
				checkFieldTypes(t, r.Fields)
			}
		}
		for i, l := range strings.Split(text, "\n") {
			if len(bytes.TrimSpace(bytes.TrimRight([]byte(l), "\r"))) > 0 {
				nonEmpty++
			}
			d.Decode(Line{Data: []byte(l), Offset: int64(i)}, emit)
		}
		d.Flush(emit)
		if rawLines != nonEmpty {
			t.Fatalf("%d lines in records, %d non-empty input lines", rawLines, nonEmpty)
		}
	})
}

func FuzzJSONLine(f *testing.F) {
	seedLines(f, "logs/windows_json/otrf/psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json", 20)
	seedLines(f, "logs/zeek/otrf-apt29-day1/SCRANTON_dns.log", 5)
	f.Add(`{"Event":{"System":{"EventID":{"#text":1},"Channel":"X"},"EventData":{"Data":[1,{"#attributes":{"Name":"a"},"#text":"b"}]}}}`)
	f.Add(`{"@timestamp":"2024-01-01T00:00:00Z","a":{"b":[1,2]}}`)
	f.Add(`{"a":{"b":1},"a":2,"c":"\ud83d\ude00\u00e9\ud800x","d":[{"e":null}],"f":{}}`)
	f.Fuzz(func(t *testing.T, line string) {
		checkOneRecord(t, FormatJSON, line)
		checkOneRecord(t, FormatAuto, line)
		checkFlattenMatchesStd(t, line)
	})
}

// checkFlattenMatchesStd compares the hand-written JSON flattener with
// encoding/json followed by ecs.Flatten: the same inputs must be rejected and
// the same fields produced. Documents whose keys contain dots or are empty
// are skipped when the results differ: "a.b" and {"a":{"b":..}} collide in a
// flat map (encoding/json's map order then decides), and ecs.Flatten drops
// the separator after an empty key while the flattener keeps it.
func checkFlattenMatchesStd(t *testing.T, line string) {
	var names fieldNames
	got, err := flattenJSON(line, &names, nil)
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	var v any
	stdErr := dec.Decode(&v)
	if stdErr == nil {
		if strings.TrimLeft(line[dec.InputOffset():], " \t\r\n") != "" {
			stdErr = errors.New("trailing data")
		} else if _, ok := v.(map[string]any); !ok {
			stdErr = errors.New("not an object")
		}
	}
	if (err == nil) != (stdErr == nil) {
		t.Fatalf("flattener error %v, encoding/json error %v", err, stdErr)
	}
	if err != nil {
		return
	}
	want := ecs.Flatten(v.(map[string]any))
	for k, x := range got {
		got[k] = ecs.NormalizeValue(x)
	}
	if !reflect.DeepEqual(got, want) && !dottedKeys(v) {
		t.Fatalf("flattener %#v\nencoding/json %#v", got, want)
	}
}

func dottedKeys(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if k == "" || strings.Contains(k, ".") || dottedKeys(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if dottedKeys(x) {
				return true
			}
		}
	}
	return false
}
