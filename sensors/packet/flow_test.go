package packet

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// collectSink keeps every record in emission order.
type collectSink struct {
	flows []FlowRecord
	dns   []DNSRecord
	http  []HTTPRecord
	tls   []TLSRecord
	ssh   []SSHRecord
}

func (c *collectSink) flowRecord(r *FlowRecord) { c.flows = append(c.flows, *r) }
func (c *collectSink) dnsRecord(r *DNSRecord)   { c.dns = append(c.dns, *r) }
func (c *collectSink) httpRecord(r *HTTPRecord) { c.http = append(c.http, *r) }
func (c *collectSink) tlsRecord(r *TLSRecord)   { c.tls = append(c.tls, *r) }
func (c *collectSink) sshRecord(r *SSHRecord)   { c.ssh = append(c.ssh, *r) }

// capturedPacket is one packet read from a shared capture, copied.
type capturedPacket struct {
	ci   gopacket.CaptureInfo
	link layers.LinkType
	data []byte
}

func readPackets(t testing.TB, path string) []capturedPacket {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := openCapture(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []capturedPacket
	for {
		data, ci, err := cr.src.ZeroCopyReadPacketData()
		if err != nil {
			break
		}
		out = append(out, capturedPacket{ci: ci, link: cr.linkType(&ci), data: append([]byte(nil), data...)})
	}
	return out
}

// runPackets feeds packets through an engine and returns the records.
func runPackets(opts Options, pkts []capturedPacket) (*collectSink, Stats) {
	sink := &collectSink{}
	eng := newEngine(opts, sink)
	for i := range pkts {
		eng.packet(uint64(i+1), &pkts[i].ci, pkts[i].link, pkts[i].data)
	}
	eng.flush()
	return sink, eng.stats
}

// convLine matches a tshark -z conv line: A <-> B, frames and bytes B->A,
// frames and bytes A->B, total frames.
var convLine = regexp.MustCompile(`^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+\d+\s+\S+\s+(\d+)\s+\d+\s+\S+\s+(\d+)\s`)

func TestFlowsMatchTsharkConversations(t *testing.T) {
	tshark := requireTshark(t)
	files := []string{
		"zeek-traces/ssh_sshguess.pcap",
		"zeek-traces/wikipedia.pcap",
		"chrissanders-packets/arppoison.pcapng",
		"evtx-attack-samples/cmds_over_dns_txt_queries_and_reponses.pcap",
		"esnet-curated/nmap/nmap_80_w_service_detection.pcap",
		"otrf/empire_shell_rubeus_asktgt_ptt_2020-09-21223848.cap",
	}
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(pcapDir, name)
			// Timeouts longer than the capture, so that a flow is a conversation.
			sink, _ := runPackets(Options{ActiveTimeout: 1000 * time.Hour, IdleTimeout: 1000 * time.Hour}, readPackets(t, file))
			got := map[string]string{}
			for _, f := range sink.flows {
				if f.Transport != protoTCP && f.Transport != protoUDP {
					continue
				}
				a, b := f.Client, f.Server
				fwd, rev := f.Packets[0], f.Packets[1]
				if b.Addr().Less(a.Addr()) || (a.Addr() == b.Addr() && b.Port() < a.Port()) {
					a, b, fwd, rev = b, a, rev, fwd
				}
				got[fmt.Sprintf("%d %s %s", f.Transport, a, b)] = fmt.Sprintf("%d/%d", fwd, rev)
			}
			want := map[string]string{}
			for _, proto := range []struct {
				num  uint8
				name string
			}{{protoTCP, "tcp"}, {protoUDP, "udp"}} {
				out := tsharkRaw(t, tshark, "-n", "-q", "-r", file, "-z", "conv,"+proto.name)
				for _, line := range bytes.Split(out, []byte("\n")) {
					m := convLine.FindStringSubmatch(string(line))
					if m == nil {
						continue
					}
					a, b := parseConvEndpoint(t, m[1]), parseConvEndpoint(t, m[2])
					atob, btoa := m[4], m[3]
					if b.Addr().Less(a.Addr()) || (a.Addr() == b.Addr() && b.Port() < a.Port()) {
						a, b, atob, btoa = b, a, btoa, atob
					}
					want[fmt.Sprintf("%d %s %s", proto.num, a, b)] = atob + "/" + btoa
				}
			}
			if len(want) == 0 {
				t.Fatal("tshark listed no conversations")
			}
			if len(got) != len(want) {
				t.Errorf("TCP+UDP flows = %d, tshark conversations = %d", len(got), len(want))
			}
			for k, w := range want {
				if got[k] != w {
					t.Errorf("flow %s: packets A->B/B->A = %q, tshark %q", k, got[k], w)
				}
			}
		})
	}
}

func tsharkRaw(t *testing.T, tshark string, args ...string) []byte {
	t.Helper()
	out, err := execOutput(tshark, args...)
	if err != nil {
		t.Fatalf("tshark %v: %v", args, err)
	}
	return out
}

// retimed returns copies of pkts with timestamps base + offsets[i].
func retimed(pkts []capturedPacket, base time.Time, offsets []time.Duration) []capturedPacket {
	out := make([]capturedPacket, len(offsets))
	for i, off := range offsets {
		p := pkts[i%len(pkts)]
		p.ci.Timestamp = base.Add(off)
		out[i] = p
	}
	return out
}

func TestFlowTimeouts(t *testing.T) {
	// Three packets of one TCP handshake, replayed with chosen times.
	handshake := readPackets(t, filepath.Join(pcapDir, "chrissanders-packets/tcp_handshake.pcapng"))
	if len(handshake) != 3 {
		t.Fatalf("tcp_handshake.pcapng has %d packets, want 3", len(handshake))
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := time.Second
	tests := []struct {
		name        string
		opts        Options
		offsets     []time.Duration
		wantReasons []FlowEnd
		wantPackets []uint64 // total packets per record
	}{
		{"one flow flushed", Options{}, []time.Duration{0, 1 * s, 2 * s}, []FlowEnd{FlowEndFlush}, []uint64{3}},
		{"idle gap splits", Options{IdleTimeout: 10 * s}, []time.Duration{0, 5 * s, 30 * s}, []FlowEnd{FlowEndIdle, FlowEndFlush}, []uint64{2, 1}},
		{"default idle is 60s", Options{}, []time.Duration{0, 59 * s, 200 * s}, []FlowEnd{FlowEndIdle, FlowEndFlush}, []uint64{2, 1}},
		{"active timeout splits", Options{ActiveTimeout: 10 * s, IdleTimeout: time.Hour}, []time.Duration{0, 4 * s, 8 * s, 12 * s, 16 * s, 20 * s, 24 * s}, []FlowEnd{FlowEndActive, FlowEndActive, FlowEndFlush}, []uint64{3, 3, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sink, stats := runPackets(tc.opts, retimed(handshake, base, tc.offsets))
			if len(sink.flows) != len(tc.wantReasons) {
				t.Fatalf("flow records = %d, want %d: %+v", len(sink.flows), len(tc.wantReasons), sink.flows)
			}
			if stats.Flows != uint64(len(tc.wantReasons)) {
				t.Errorf("Stats.Flows = %d, want %d", stats.Flows, len(tc.wantReasons))
			}
			for i, f := range sink.flows {
				if f.Reason != tc.wantReasons[i] {
					t.Errorf("record %d reason = %v, want %v", i, f.Reason, tc.wantReasons[i])
				}
				if got := f.Packets[0] + f.Packets[1]; got != tc.wantPackets[i] {
					t.Errorf("record %d packets = %d, want %d", i, got, tc.wantPackets[i])
				}
				if f.Client != sink.flows[0].Client {
					t.Errorf("record %d client = %s, want %s as in the first record", i, f.Client, sink.flows[0].Client)
				}
			}
		})
	}
}

func TestFlowEvictionAtMaxFlows(t *testing.T) {
	// The first 10 packets of a SYN scan, each its own flow, through a
	// table of 4 flows.
	scan := readPackets(t, filepath.Join(pcapDir, "chrissanders-packets/synscan.pcapng"))[:10]
	sink, stats := runPackets(Options{MaxFlows: 4}, scan)
	if len(sink.flows) != 10 {
		t.Fatalf("flow records = %d, want 10 (no packet may be lost)", len(sink.flows))
	}
	if stats.Evicted != 6 {
		t.Errorf("Stats.Evicted = %d, want 6", stats.Evicted)
	}
	for i, f := range sink.flows[:6] {
		if f.Reason != FlowEndEvicted || f.FirstPacket != uint64(i+1) {
			t.Errorf("record %d = packet %d %v, want packet %d evicted", i, f.FirstPacket, f.Reason, i+1)
		}
	}
}

func TestFlowIdleSweep(t *testing.T) {
	// Two packets of a SYN scan to different ports are two flows; the
	// second, 100 s later, triggers the sweep that ends the first.
	scan := readPackets(t, filepath.Join(pcapDir, "chrissanders-packets/synscan.pcapng"))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sink, _ := runPackets(Options{IdleTimeout: 10 * time.Second}, retimed(scan[:2], base, []time.Duration{0, 100 * time.Second}))
	if len(sink.flows) != 2 {
		t.Fatalf("flow records = %d, want 2", len(sink.flows))
	}
	if sink.flows[0].Reason != FlowEndIdle || sink.flows[0].FirstPacket != 1 {
		t.Errorf("first record = packet %d %v, want packet 1 idle-timeout", sink.flows[0].FirstPacket, sink.flows[0].Reason)
	}
	if sink.flows[1].Reason != FlowEndFlush {
		t.Errorf("second record reason = %v, want end-of-capture", sink.flows[1].Reason)
	}
}

func TestFlowHandshakeDirections(t *testing.T) {
	sink, _ := runPackets(Options{}, readPackets(t, filepath.Join(pcapDir, "chrissanders-packets/tcp_handshake.pcapng")))
	if len(sink.flows) != 1 {
		t.Fatalf("flows = %d, want 1", len(sink.flows))
	}
	f := sink.flows[0]
	if f.Packets != [2]uint64{2, 1} {
		t.Errorf("packets client->server/server->client = %v, want [2 1] (SYN, ACK / SYN-ACK)", f.Packets)
	}
	if want := uint8(tcpSYN | tcpACK); f.TCPFlags != want {
		t.Errorf("TCP flags = %v, want %v", tcpFlagNames(f.TCPFlags), tcpFlagNames(want))
	}
	if f.Client.Addr().String() != "172.16.16.128" {
		t.Errorf("client = %s, want the SYN sender 172.16.16.128", f.Client)
	}
	if f.End.Before(f.Start) || f.End.Sub(f.Start) != 132768*time.Microsecond {
		t.Errorf("duration = %v, want 132.768ms as capinfos reports", f.End.Sub(f.Start))
	}
}

func TestFlowsOrderedAtFlush(t *testing.T) {
	sink, _ := runPackets(Options{}, readPackets(t, filepath.Join(pcapDir, "chrissanders-packets/synscan.pcapng")))
	if !sort.SliceIsSorted(sink.flows, func(i, j int) bool { return sink.flows[i].FirstPacket < sink.flows[j].FirstPacket }) {
		t.Error("flow records at flush are not ordered by first packet")
	}
	var total uint64
	for _, f := range sink.flows {
		total += f.Packets[0] + f.Packets[1]
	}
	if total != 2011 {
		t.Errorf("packets in flows = %d, want all 2011 packets of synscan.pcapng", total)
	}
}

// parseConvEndpoint parses tshark's "addr:port", where an IPv6 address
// has no brackets.
func parseConvEndpoint(t *testing.T, s string) netip.AddrPort {
	t.Helper()
	i := strings.LastIndexByte(s, ':')
	addr, err := netip.ParseAddr(s[:i])
	if err != nil {
		t.Fatalf("tshark endpoint %q: %v", s, err)
	}
	port, err := strconv.ParseUint(s[i+1:], 10, 16)
	if err != nil {
		t.Fatalf("tshark endpoint %q: %v", s, err)
	}
	return netip.AddrPortFrom(addr, uint16(port))
}

// testEpoch and timeStep time the packets the tests build.
var (
	testEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	timeStep  = time.Millisecond
)

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

// TestCommunityIDMatchesTshark compares the Community ID of every TCP and
// UDP flow with the one tshark computes for the flow's first packet.
func TestCommunityIDMatchesTshark(t *testing.T) {
	tshark := requireTshark(t)
	for _, name := range []string{"zeek-traces/wikipedia.pcap", "suricata-verify/ssh-banner-only/input.pcap", "chrissanders-packets/arppoison.pcapng"} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(pcapDir, name)
			want := map[string]string{}
			for _, r := range tsharkRowsArgs(t, tshark, file, []string{"--enable-protocol", "communityid"}, "tcp or udp", "frame.number", "communityid") {
				want[r[0]] = r[1]
			}
			sink, _ := runPackets(Options{}, readPackets(t, file))
			checked := 0
			for _, f := range sink.flows {
				if f.Transport != protoTCP && f.Transport != protoUDP {
					continue
				}
				frame := strconv.FormatUint(f.FirstPacket, 10)
				w, ok := want[frame]
				if !ok || w == "" {
					continue // tshark computes none for this packet (ICMP error payloads and the like)
				}
				checked++
				if got := communityID(f.Transport, f.Client, f.Server); got != w {
					t.Errorf("flow from frame %s (%s -> %s): community id %s, tshark %s", frame, f.Client, f.Server, got, w)
				}
			}
			if checked == 0 {
				t.Fatal("no flow compared")
			}
		})
	}
}
