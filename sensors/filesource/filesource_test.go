package filesource

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/sensors/logparse"
)

const data = "../../../shared/data"

// readAll reads a file and returns its events and dead letters.
func readAll(t *testing.T, path string, opts Options) ([]*ecs.Event, []pipeline.DeadLetter) {
	t.Helper()
	var events []*ecs.Event
	var dead []pipeline.DeadLetter
	_, _, err := Read(context.Background(), path, opts, func(b *pipeline.Batch) error {
		events = append(events, b.Events...)
		dead = append(dead, b.DeadLetters...)
		return nil
	})
	if err != nil {
		t.Fatalf("Read(%s): %v", path, err)
	}
	return events, dead
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			n++
		}
	}
	return n
}

func TestReadEveryLineOnce(t *testing.T) {
	for _, path := range []string{
		data + "/logs/linux/loghub/OpenSSH/OpenSSH_2k.log",
		data + "/logs/web/elastic-examples/apache_access_combined.log",
		data + "/logs/windows_json/otrf/cmd_seatbelt_group_user_2020-11-0216391814.json",
	} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			events, dead := readAll(t, path, Options{BatchSize: 100})
			want := countLines(t, path)
			if got := len(events) + len(dead); got != want {
				t.Errorf("%d events + %d dead letters, want %d non-empty lines", len(events), len(dead), want)
			}
			ids := map[string]bool{}
			for i, ev := range events {
				if ids[ev.ID] {
					t.Fatalf("event %d: duplicate id %s", i, ev.ID)
				}
				ids[ev.ID] = true
				if i > 0 && ev.Seq <= events[i-1].Seq {
					t.Fatalf("event %d: seq %d after %d", i, ev.Seq, events[i-1].Seq)
				}
			}
			again, _ := readAll(t, path, Options{BatchSize: 7})
			for i := range again {
				if again[i].ID != events[i].ID {
					t.Fatalf("event %d: id %s on the second read, %s on the first", i, again[i].ID, events[i].ID)
				}
			}
		})
	}
}

// TestAuditdEventIDsUseFirstLine checks that an auditd event grouped from
// several lines gets the line number of its first record.
func TestAuditdEventIDsUseFirstLine(t *testing.T) {
	path := data + "/logs/auditd/go-libaudit/audit-rhel7.log"
	events, _ := readAll(t, path, Options{Format: logparse.FormatAuditd})
	if len(events) == 0 {
		t.Fatal("no auditd events")
	}
	abs, _ := filepath.Abs(path)
	for _, ev := range events {
		off, ok := ev.Fields.Int("log.offset")
		if !ok {
			t.Fatalf("event %s has no log.offset", ev.ID)
		}
		if ev.Seq == 0 {
			t.Fatalf("event at offset %d has no line number", off)
		}
		if ev.ID != ecs.PositionID(abs, ev.Seq) {
			t.Fatalf("event at offset %d: id does not derive from line %d", off, ev.Seq)
		}
	}
}

func TestSniffKinds(t *testing.T) {
	cases := map[string]Kind{
		data + "/pcap/zeek-traces/http_get.pcap":           KindPcap,
		data + "/pcap/chrissanders-packets/dns.pcap":       KindPcapng,
		data + "/evtx/deepbluecli/new-user-security.evtx":  KindEVTX,
		data + "/logs/linux/loghub/OpenSSH/OpenSSH_2k.log": KindText,
	}
	for path, want := range cases {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 8)
		io.ReadFull(f, head)
		f.Close()
		if got := Sniff(head); got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
}

func TestReadCaptureWithoutReaderFails(t *testing.T) {
	_, _, err := Read(context.Background(), data+"/pcap/zeek-traces/http_get.pcap", Options{}, func(*pipeline.Batch) error { return nil })
	if err == nil {
		t.Fatal("reading a capture without a PacketReader succeeded")
	}
}

func TestReadJSONDocument(t *testing.T) {
	path := data + "/sigma/regression_data/rules/windows/process_creation/proc_creation_win_wmic_recon_process/221b251a-357a-49a9-920a-271802777cc0.json"
	events, dead := readAll(t, path, Options{})
	if len(events) != 1 || len(dead) != 0 {
		t.Fatalf("%d events and %d dead letters, want one event from the pretty-printed object", len(events), len(dead))
	}
	if id, _ := events[0].Fields.Int("winlog.event_id"); id != 1 {
		t.Errorf("winlog.event_id = %v, want 1 (Sysmon process creation)", events[0].Fields["winlog.event_id"])
	}
}

func TestReadJSONArray(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.json")
	os.WriteFile(path, []byte("[\n {\"@timestamp\": \"2026-12-04T10:00:00Z\", \"message\": \"a\"},\n {\"@timestamp\": \"2026-12-04T10:00:01Z\", \"message\": \"b\"}\n]\n"), 0o644)
	events, dead := readAll(t, path, Options{})
	if len(events) != 2 || len(dead) != 0 {
		t.Fatalf("%d events and %d dead letters, want 2 events", len(events), len(dead))
	}
	if events[0].ID == events[1].ID {
		t.Error("two objects of one array share an id")
	}
}

func TestReadRejectsBinaryFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blob.bin")
	os.WriteFile(path, []byte("ELF\x00\x01\x02 some text\nmore\n"), 0o644)
	_, _, err := Read(context.Background(), path, Options{}, func(*pipeline.Batch) error { return nil })
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v, want ErrUnsupported", err)
	}
}

func TestSniffJSONLinesIsText(t *testing.T) {
	if k := Sniff([]byte("{\"a\":1}\n{\"a\":2}\n")); k != KindText {
		t.Errorf("JSON lines sniffed as %s, want text", k)
	}
	if k := Sniff([]byte("{\n  \"a\": 1\n}\n")); k != KindJSONDocument {
		t.Errorf("pretty-printed JSON sniffed as %s, want json", k)
	}
}

func TestSniffTextWithFewNULs(t *testing.T) {
	f, err := os.Open(data + "/logs/web/evtx-attack-samples/web_attack_and_isp_webshell_localhost_access_log.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, sniffBytes)
	n, _ := io.ReadFull(f, head)
	if k := Sniff(head[:n]); k != KindText {
		t.Errorf("access log with a raw TLS handshake sniffed as %s, want text", k)
	}
	if k := Sniff([]byte("[Sun Dec 04 04:47:44 2005] [notice] workerEnv.init() ok\n")); k != KindText {
		t.Errorf("Apache error log sniffed as %s, want text", k)
	}
}
