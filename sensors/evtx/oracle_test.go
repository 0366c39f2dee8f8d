package evtx

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// dataRoots are the shared data folders that hold .evtx files.
var dataRoots = []string{
	"../../../shared/data/evtx",
	"../../../shared/data/sigma/regression_data",
}

// sharedEVTX lists every .evtx file under the shared data folders.
func sharedEVTX(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, root := range dataRoots {
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(path, ".evtx") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("list %s: %v", root, err)
		}
	}

	sort.Strings(files)
	if len(files) == 0 {
		t.Fatal("no .evtx files under the shared data folders")
	}

	return files
}

// oracleRecord is one line of testdata/evtx_oracle.py.
type oracleRecord struct {
	File     string      `json:"file"`
	RecordID uint64      `json:"record_id"`
	EventID  string      `json:"event_id"`
	Channel  string      `json:"channel"`
	Computer string      `json:"computer"`
	Time     string      `json:"time"`
	Data     [][2]string `json:"data"`
	Error    string      `json:"error"`
	Count    *int        `json:"count"`
}

// ensurePythonEVTX makes python-evtx importable, installing it with pip
// when it is missing.
func ensurePythonEVTX(t *testing.T) {
	t.Helper()
	if os.Getenv("CANHGAC_SKIP_EVTX_ORACLE") == "1" {
		t.Skip("CANHGAC_SKIP_EVTX_ORACLE=1: comparison with python-evtx skipped")
	}

	if exec.Command("python3", "-c", "import Evtx").Run() == nil {
		return
	}

	out, err := exec.Command("python3", "-m", "pip", "install", "python-evtx").CombinedOutput()
	if err != nil {
		t.Fatalf("python-evtx is missing and pip install python-evtx failed (set CANHGAC_SKIP_EVTX_ORACLE=1 to skip this comparison): %v\n%s", err, out)
	}

	if out, err := exec.Command("python3", "-c", "import Evtx").CombinedOutput(); err != nil {
		t.Fatalf("python-evtx installed but import Evtx fails: %v\n%s", err, out)
	}
}

// runOracle returns python-evtx's records and counts per file.
func runOracle(t *testing.T, files []string) (map[string][]oracleRecord, map[string]int) {
	t.Helper()
	cmd := exec.Command("python3", append([]string{"testdata/evtx_oracle.py"}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("testdata/evtx_oracle.py: %v\n%s", err, stderr.String())
	}

	records := make(map[string][]oracleRecord)
	counts := make(map[string]int)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var r oracleRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("oracle line %q: %v", sc.Text(), err)
		}
		if r.Count != nil {
			counts[r.File] = *r.Count
			continue
		}
		records[r.File] = append(records[r.File], r)
	}

	return records, counts
}

// readAll decodes every record of an EVTX file.
func readAll(t testing.TB, path string) ([]Record, Stats) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}

	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}

	var recs []Record
	st, err := f.Records(func(r Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatalf("records %s: %v", path, err)
	}

	return recs, st
}

// sameValue reports whether a value of this reader and python-evtx's text
// of it are the same value. The two write some types differently: GUIDs
// (braces, case), hex numbers (zero padding), times (separator, zone),
// booleans (case) and binary (base64 against hex).
func sameValue(ours, theirs string) bool {
	if ours == theirs {
		return true
	}

	trim := func(s string) string { return strings.ToUpper(strings.Trim(s, "{}")) }
	if trim(ours) == trim(theirs) {
		return true
	}

	if a, ok := parseInt(ours); ok {
		if b, ok := parseInt(theirs); ok && a == b {
			return true
		}
	}

	// XML parsing turns CR LF into LF, and the reader trims trailing
	// white space from EventData as evtx_dump does.
	if strings.ReplaceAll(ours, "\r\n", "\n") == strings.TrimRight(strings.ReplaceAll(theirs, "\r\n", "\n"), " \t\r\n") {
		return true
	}

	if closeTimes(ours, theirs) {
		return true
	}

	if raw, err := base64.StdEncoding.DecodeString(theirs); err == nil && strings.EqualFold(hex.EncodeToString(raw), ours) {
		return true
	}

	return false
}

// normalizeTime writes "2006-01-02 15:04:05.999999+00:00" as
// "2006-01-02T15:04:05.999999Z".
func normalizeTime(s string) string {
	s = strings.Replace(s, " ", "T", 1)
	s = strings.TrimSuffix(s, "+00:00")
	s = strings.TrimSuffix(s, "Z")
	if i := strings.IndexByte(s, '.'); i < 0 && len(s) == 19 {
		s += ".000000"
	}
	return s + "Z"
}

// closeTimes reports whether two time texts are within 3 µs of each other.
// python-evtx converts FILETIME through a float, so its microseconds are
// often off by one or two.
func closeTimes(a, b string) bool {
	ta, errA := time.Parse(time.RFC3339Nano, normalizeTime(a))
	tb, errB := time.Parse(time.RFC3339Nano, normalizeTime(b))
	if errA != nil || errB != nil {
		return false
	}

	d := ta.Sub(tb)
	return d < 3*time.Microsecond && d > -3*time.Microsecond
}

// TestMatchesPythonEVTX compares every record of every shared .evtx file
// with python-evtx: record count, record id, event id, channel, computer,
// TimeCreated and every EventData name and value.
func TestMatchesPythonEVTX(t *testing.T) {
	ensurePythonEVTX(t)
	files := sharedEVTX(t)
	oracle, counts := runOracle(t, files)
	totalRecords, totalPass := 0, 0
	for _, path := range files {
		t.Run(strings.TrimPrefix(path, "../../../shared/data/"), func(t *testing.T) {
			recs, st := readAll(t, path)
			want := oracle[path]
			if st.BadChunks != 0 || st.BadRecords != 0 {
				t.Errorf("bad chunks %d, bad records %d: %v", st.BadChunks, st.BadRecords, st.Errors)
			}
			if len(recs) != counts[path] {
				t.Fatalf("records: %d, python-evtx %d", len(recs), counts[path])
			}

			pass := 0
			for i, w := range want {
				if w.Error != "" {
					t.Errorf("python-evtx cannot render record %d: %s", w.RecordID, w.Error)
					continue
				}
				if diffs := compareOracle(recs[i], w); len(diffs) > 0 {
					t.Errorf("record %d: %s", w.RecordID, strings.Join(diffs, "; "))
					continue
				}
				pass++
			}
			totalRecords += len(want)
			totalPass += pass
			t.Logf("%d of %d records equal python-evtx", pass, len(want))
		})
	}
	t.Logf("all files: %d of %d records equal python-evtx", totalPass, totalRecords)
}

// compareOracle lists the differences between a record and python-evtx's
// view of it.
func compareOracle(r Record, w oracleRecord) []string {
	var diffs []string
	f := r.Fields
	if r.ID != w.RecordID {
		diffs = append(diffs, "record id "+strconv.FormatUint(r.ID, 10))
	}
	if id, _ := f.Int("winlog.event_id"); strconv.FormatInt(id, 10) != w.EventID {
		diffs = append(diffs, "event id "+strconv.FormatInt(id, 10)+" != "+w.EventID)
	}
	if s, _ := f.String("winlog.channel"); s != w.Channel {
		diffs = append(diffs, "channel "+s+" != "+w.Channel)
	}
	if s, _ := f.String("winlog.computer_name"); s != w.Computer {
		diffs = append(diffs, "computer "+s+" != "+w.Computer)
	}
	if !closeTimes(r.Timestamp.Format(timeLayout), w.Time) {
		diffs = append(diffs, "time "+r.Timestamp.Format(timeLayout)+" != "+w.Time)
	}

	seen := make(map[string]bool)
	for _, kv := range w.Data {
		name, theirs := kv[0], kv[1]
		seen[name] = true
		v, ok := f["winlog.event_data."+name]
		if !ok {
			if theirs != "" {
				diffs = append(diffs, "event_data."+name+" missing, python-evtx "+strconv.Quote(theirs))
			}
			continue
		}
		if list, isList := v.([]string); isList {
			// python-evtx writes a string array as <string> elements.
			var b strings.Builder
			for _, item := range list {
				b.WriteString("<string>" + item + "</string>\n")
			}
			v = b.String()
		}
		ours, isText := v.(string)
		if !isText {
			diffs = append(diffs, "event_data."+name+" is not text")
			continue
		}
		if !sameValue(ours, theirs) {
			diffs = append(diffs, "event_data."+name+" "+strconv.Quote(ours)+" != "+strconv.Quote(theirs))
		}
	}

	for k := range f {
		if name, ok := strings.CutPrefix(k, "winlog.event_data."); ok && !seen[name] {
			diffs = append(diffs, "event_data."+name+" not in python-evtx")
		}
	}

	return diffs
}
