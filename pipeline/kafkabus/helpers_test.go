package kafkabus

import (
	"bufio"
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/sensors/logparse"
)

const dataDir = "../../../shared/data/"

// Real logs of different shapes: sshd syslog lines, Apache access lines,
// multi-line auditd events, Windows events in JSON (nested event data).
var sampleLogs = []string{
	dataDir + "logs/linux/loghub/OpenSSH/OpenSSH_2k.log",
	dataDir + "logs/web/elastic-examples/apache_access_combined.log",
	dataDir + "logs/auditd/go-libaudit/audit-rhel7.log",
	dataDir + "logs/windows_json/otrf/psh_powershell_httplistener_2020-11-0204130683.json",
}

// loadEvents parses a shared log with logparse and returns its events with
// position ids and sequence numbers, as the log sensor numbers them.
func loadEvents(t testing.TB, path string) []*ecs.Event {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	dec, err := logparse.NewDecoder(logparse.FormatAuto, logparse.Options{
		Location: time.UTC, Reference: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var out []*ecs.Event
	emit := func(r logparse.Record) {
		if r.Err != nil {
			return
		}
		out = append(out, &ecs.Event{ID: ecs.PositionID(path, uint64(r.Offset)), Timestamp: r.Timestamp,
			SourceID: path, Seq: uint64(len(out) + 1), Fields: r.Fields})
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	var off int64
	for sc.Scan() {
		dec.Decode(logparse.Line{Data: sc.Bytes(), Offset: off, SourceID: path, Path: path}, emit)
		off += int64(len(sc.Bytes())) + 1
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("scan %s: %v", path, err)
	}
	dec.Flush(emit)
	if len(out) == 0 {
		t.Fatalf("%s: no events parsed", path)
	}
	return out
}
