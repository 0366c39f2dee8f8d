package packet

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// httpRequestPacket returns the Ethernet frame of the GET request in
// zeek-traces/http_get.pcap (Ethernet, IPv4 with 20-byte header, TCP).
func httpRequestPacket(t testing.TB) []byte {
	t.Helper()
	for _, p := range readPackets(t, filepath.Join(pcapDir, "zeek-traces/http_get.pcap")) {
		if bytes.Contains(p.data, []byte("GET /")) {
			return p.data
		}
	}
	t.Fatal("no GET request in http_get.pcap")
	return nil
}

func TestDecodeRealPacket(t *testing.T) {
	info, err := decodeOne(layers.LinkTypeEthernet, httpRequestPacket(t))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !info.HasIP || info.Proto != protoTCP {
		t.Fatalf("HasIP=%v proto=%d, want an IPv4 TCP packet", info.HasIP, info.Proto)
	}
	if info.DstPort != 80 {
		t.Errorf("destination port = %d, want 80", info.DstPort)
	}
	if !bytes.HasPrefix(info.Payload, []byte("GET /")) {
		t.Errorf("payload starts %q, want the request line", info.Payload[:min(len(info.Payload), 16)])
	}
}

// TestDecodeMalformed cuts and corrupts a real packet; every variant must
// decode without panic, and those broken below the payload must fail.
func TestDecodeMalformed(t *testing.T) {
	good := httpRequestPacket(t)
	corrupt := func(i int, v ...byte) []byte {
		b := append([]byte(nil), good...)
		copy(b[i:], v)
		return b
	}
	tcpHeader := int(good[14+20+12]>>4) * 4
	tests := []struct {
		name    string
		data    []byte
		wantErr bool
	}{
		{"empty", nil, true},
		{"ethernet cut", good[:10], true},
		{"ipv4 header cut", good[:14+12], true},
		{"tcp header cut", good[:14+20+10], true},
		{"ipv4 ihl below 5", corrupt(14, 0x43), true},
		{"ipv4 total length below header", corrupt(16, 0, 10), true},
		{"ipv4 total length zero", corrupt(16, 0, 0), false}, // gopacket reads 0 as segmentation offload and uses the captured length
		{"tcp data offset beyond packet", corrupt(14+20+12, 0xf0), true},
		{"payload cut is fine", good[:14+20+tcpHeader+5], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeOne(layers.LinkTypeEthernet, tc.data)
			if (err != nil) != tc.wantErr {
				t.Errorf("decode error = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

// writePcap writes frames into an in-memory pcap file.
func writePcap(t testing.TB, frames [][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: testEpoch.Add(timeStep * time.Duration(i)), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestSummaryCountsDecodeErrors(t *testing.T) {
	good := httpRequestPacket(t)
	frames := [][]byte{good, good[:10], good[:14+12], good[:14+20+10], good}
	s, err := Summarize(bytes.NewReader(writePcap(t, frames)), Options{})
	if err != nil {
		t.Fatalf("Summarize: %v", err)
	}
	if s.Packets != 5 {
		t.Errorf("packets = %d, want 5", s.Packets)
	}
	if s.DecodeErrors != 3 {
		t.Errorf("decode_errors = %d, want 3 (the three cut frames)", s.DecodeErrors)
	}
	if len(s.HTTPRequests) != 2 {
		t.Errorf("HTTP requests = %d, want 2 (the two whole frames)", len(s.HTTPRequests))
	}
}

func TestSummaryTruncatedFile(t *testing.T) {
	good := httpRequestPacket(t)
	file := writePcap(t, [][]byte{good, good})
	s, err := Summarize(bytes.NewReader(file[:len(file)-20]), Options{})
	if err != nil {
		t.Fatalf("Summarize of a file cut in its last packet: %v", err)
	}
	if s.Packets != 2 || s.DecodeErrors != 1 {
		t.Errorf("packets = %d, decode_errors = %d; want 2 and 1 (the cut packet)", s.Packets, s.DecodeErrors)
	}
}

func TestSummaryRejectsUnknownFormat(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"text", "hello world", "0x68656c6c"},
		{"too short", "ab", "shorter than 4 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Summarize(strings.NewReader(tc.input), Options{})
			if err == nil {
				t.Fatal("Summarize accepted a non-capture input")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestFormatDetectedByMagic(t *testing.T) {
	// dns.pcap is pcapng despite its name.
	s, err := SummarizeFile(filepath.Join(pcapDir, "chrissanders-packets/dns.pcap"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Format != "pcapng" {
		t.Errorf("format = %q, want pcapng", s.Format)
	}
	if s.Packets != 7 {
		t.Errorf("packets = %d, want 7", s.Packets)
	}
}

func FuzzDecodePacket(f *testing.F) {
	for _, name := range []string{"zeek-traces/http_get.pcap", "suricata-verify/dns-tcp-www-google-com/dns.pcap",
		"zeek-traces/tls_chrome-1250-tls-x25519-kyber.pcap", "zeek-traces/ssh_single-conn.pcap", "zeek-traces/wikipedia.pcap"} {
		for i, p := range readPackets(f, filepath.Join(pcapDir, name)) {
			if i < 8 {
				f.Add(p.data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A whole engine, so the application parsers see the payload too.
		eng := newEngine(Options{}, &collectSink{})
		ci := gopacket.CaptureInfo{Timestamp: testEpoch, CaptureLength: len(data), Length: len(data)}
		eng.packet(1, &ci, layers.LinkTypeEthernet, data)
		eng.packet(2, &ci, layers.LinkTypeEthernet, data)
		eng.flush()
		if eng.stats.Packets != 2 {
			t.Fatalf("packets = %d, want 2", eng.stats.Packets)
		}
	})
}

func FuzzReadCapture(f *testing.F) {
	for _, name := range []string{"chrissanders-packets/dns_query_response.pcapng", "chrissanders-packets/tcp_handshake.pcapng",
		"zeek-traces/dns53.pcap", "chrissanders-packets/dns.pcap", "zeek-traces/smb_SMBGhost.pcap"} {
		raw, err := readFile(filepath.Join(pcapDir, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Summarize(bytes.NewReader(data), Options{})
		if err == nil && s == nil {
			t.Fatal("nil summary without an error")
		}
	})
}

// TestPcapngHugeCaptureLength patches the captured length of the first
// packet block of a real pcapng file to 4 GiB; the reader must reject it
// without allocating that much.
func TestPcapngHugeCaptureLength(t *testing.T) {
	raw, err := readFile(filepath.Join(pcapDir, "chrissanders-packets/dns_query_response.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	// Walk the little-endian blocks to the first enhanced packet block.
	off := 0
	for off+8 <= len(raw) && binary.LittleEndian.Uint32(raw[off:]) != 6 {
		off += int(binary.LittleEndian.Uint32(raw[off+4:]))
	}
	if off+24 > len(raw) {
		t.Fatal("no enhanced packet block found")
	}
	binary.LittleEndian.PutUint32(raw[off+20:], 0xfffffff0)
	s, err := Summarize(bytes.NewReader(raw), Options{})
	if err == nil {
		t.Fatal("Summarize accepted a 4 GiB captured length")
	}
	if !strings.Contains(err.Error(), "captured length 4294967280") {
		t.Errorf("error %q does not name the bad length", err)
	}
	if s == nil || s.Format != "pcapng" {
		t.Errorf("summary = %+v, want the partial pcapng summary with the error", s)
	}
}

// TestDecodeLinkTypes wraps the IPv4 packet of a real Ethernet frame in
// the other supported link layers and expects the same transport fields.
func TestDecodeLinkTypes(t *testing.T) {
	frame := httpRequestPacket(t)
	ip := frame[14:]
	vlan := append(append(append([]byte(nil), frame[:12]...), 0x81, 0x00, 0x00, 0x64), frame[12:]...)
	qinq := append(append(append([]byte(nil), frame[:12]...), 0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x64), frame[12:]...)
	// Linux cooked capture v1: packet type, ARPHRD, address length,
	// 8 address bytes, protocol.
	sll := append([]byte{0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00}, ip...)
	loop := append([]byte{2, 0, 0, 0}, ip...) // BSD loopback: AF_INET in host order
	tests := []struct {
		name string
		link layers.LinkType
		data []byte
	}{
		{"ethernet", layers.LinkTypeEthernet, frame},
		{"802.1Q VLAN", layers.LinkTypeEthernet, vlan},
		{"802.1ad QinQ", layers.LinkTypeEthernet, qinq},
		{"linux SLL", layers.LinkTypeLinuxSLL, sll},
		{"raw IP", layers.LinkTypeRaw, ip},
		{"raw IPv4", layers.LinkTypeIPv4, ip},
		{"BSD loopback", layers.LinkTypeNull, loop},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := decodeOne(tc.link, tc.data)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if info.Proto != protoTCP || info.DstPort != 80 {
				t.Errorf("proto %d port %d, want TCP to port 80", info.Proto, info.DstPort)
			}
			if !bytes.HasPrefix(info.Payload, []byte("GET /")) {
				t.Errorf("payload does not start with the request line")
			}
		})
	}
	if _, err := decodeOne(layers.LinkType(147), frame); err == nil {
		t.Error("decode accepted a user-defined link type (147)")
	}
}
