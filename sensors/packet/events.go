package packet

import (
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// Event datasets written by the sensor (Packetbeat naming).
const (
	DatasetFlow = "network_traffic.flow"
	DatasetDNS  = "network_traffic.dns"
	DatasetHTTP = "network_traffic.http"
	DatasetTLS  = "network_traffic.tls"
	DatasetSSH  = "network_traffic.ssh"
)

// flowRecordSlot is the record index that event ids reserve for flow
// records; application records use 0..maxRecordsPerPacket-1.
const flowRecordSlot = 0xff

// Sensor reads packets from a capture file or a live interface and emits
// one ECS event per flow record and per DNS, HTTP, TLS and SSH record.
//
// Event ids are ecs.PositionID(sourceID, packetIndex<<8 | slot), where
// packetIndex is the 1-based index of the packet that started the record
// (the query for DNS, the first packet for a flow) and slot is the index of
// the record within that packet, or 255 for a flow record. Reading the same
// file again therefore yields the same ids. Seq numbers the events of one
// read from 1 in emission order.
//
// A Sensor is not safe for concurrent use; run one per source.
type Sensor struct {
	// Options sets the flow timeouts and the flow table bound.
	Options Options
	// Emit receives each event. The sensor does not touch an event after
	// Emit returns. An error from Emit stops the read and is returned.
	Emit func(*ecs.Event) error
	// Logger receives start, stop and error messages; nil uses slog.Default.
	Logger *slog.Logger
}

func (s *Sensor) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// ReadFile reads a pcap or pcapng file. The source id is the path, and
// every event carries log.file.path.
func (s *Sensor) ReadFile(ctx context.Context, path string) (Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, newError("packet.file.open", err, path)
	}
	defer f.Close()
	stats, err := s.read(ctx, f, path, path)
	if err != nil {
		return stats, fmt.Errorf("read capture %s: %w", path, err)
	}
	return stats, nil
}

// Read reads a pcap or pcapng stream whose events get sourceID.
func (s *Sensor) Read(ctx context.Context, r io.Reader, sourceID string) (Stats, error) {
	return s.read(ctx, r, sourceID, "")
}

func (s *Sensor) read(ctx context.Context, r io.Reader, sourceID, filePath string) (Stats, error) {
	if s.Emit == nil {
		return Stats{}, fmt.Errorf("packet sensor for %s: Emit is nil", sourceID)
	}
	cr, err := openCapture(r)
	if err != nil {
		return Stats{}, newError("packet.file.format", err)
	}
	log := s.logger().With("source", sourceID)
	log.Info("packet capture read started", "format", cr.Format)
	sink := &eventSink{sourceID: sourceID, filePath: filePath, emit: s.Emit}
	eng := newEngine(s.Options, sink)
	err = readAll(ctx, cr, eng, sink.failed)
	if err == nil {
		err = sink.err
	}
	if err != nil {
		log.Error("packet capture read failed", "err", err, "packets", eng.stats.Packets)
		return eng.stats, err
	}
	log.Info("packet capture read finished", "packets", eng.stats.Packets, "events", sink.seq,
		"decode_errors", eng.stats.DecodeErrors, "flows", eng.stats.Flows)
	return eng.stats, nil
}

// eventSink turns records into ECS events. After the first Emit error it
// drops further records and failed returns that error, which stops the
// read loop after the current packet.
type eventSink struct {
	sourceID string
	filePath string
	emit     func(*ecs.Event) error
	seq      uint64
	err      error
}

func (k *eventSink) failed() error { return k.err }

func (k *eventSink) send(pos uint64, ts time.Time, f ecs.Fields) {
	if k.err != nil {
		return
	}
	k.seq++
	if k.filePath != "" {
		f["log.file.path"] = k.filePath
	}
	ev := &ecs.Event{
		ID:        ecs.PositionID(k.sourceID, pos),
		Timestamp: ts,
		SourceID:  k.sourceID,
		Seq:       k.seq,
		Fields:    f,
	}
	if err := k.emit(ev); err != nil {
		k.err = fmt.Errorf("emit event %d of %s: %w", k.seq, k.sourceID, err)
	}
}

// baseFields sets the fields every packet sensor event has.
func baseFields(dataset, protocol string, transport uint8, client, server netip.AddrPort) ecs.Fields {
	f := ecs.Fields{
		"event.kind":        "event",
		"event.module":      "network_traffic",
		"event.dataset":     dataset,
		"event.category":    []string{"network"},
		"network.transport": transportName(transport),
		"source.ip":         client.Addr().String(),
		"destination.ip":    server.Addr().String(),
	}
	if protocol != "" {
		f["network.protocol"] = protocol
	}
	if client.Addr().Is4() {
		f["network.type"] = "ipv4"
	} else {
		f["network.type"] = "ipv6"
	}
	if transport == protoTCP || transport == protoUDP {
		f["source.port"] = int64(client.Port())
		f["destination.port"] = int64(server.Port())
		f["network.community_id"] = communityID(transport, client, server)
	}
	return f
}

func (k *eventSink) flowRecord(r *FlowRecord) {
	f := baseFields(DatasetFlow, r.Protocol, r.Transport, r.Client, r.Server)
	f["event.type"] = []string{"connection", "end"}
	f["event.action"] = "network_flow"
	f["event.reason"] = r.Reason.String()
	f["event.start"] = r.Start.UTC().Format(time.RFC3339Nano)
	f["event.end"] = r.End.UTC().Format(time.RFC3339Nano)
	f["event.duration"] = r.End.Sub(r.Start).Nanoseconds()
	f["source.packets"] = int64(r.Packets[dirClientToServer])
	f["source.bytes"] = int64(r.Bytes[dirClientToServer])
	f["destination.packets"] = int64(r.Packets[dirServerToClient])
	f["destination.bytes"] = int64(r.Bytes[dirServerToClient])
	f["network.packets"] = int64(r.Packets[0] + r.Packets[1])
	f["network.bytes"] = int64(r.Bytes[0] + r.Bytes[1])
	if r.Transport == protoTCP {
		// Not in ECS: the union of the TCP flags seen in both directions.
		f["network.tcp_flags"] = tcpFlagNames(r.TCPFlags)
	}
	if r.Fragments > 0 {
		// Not in ECS: IP fragments of the flow, which carry no ports.
		f["network.fragments"] = int64(r.Fragments)
	}
	k.send(r.FirstPacket<<8|flowRecordSlot, r.Start, f)
}

func (k *eventSink) dnsRecord(r *DNSRecord) {
	f := baseFields(DatasetDNS, "dns", r.Transport, r.Client, r.Server)
	f["event.type"] = []string{"protocol"}
	f["event.action"] = "dns_query"
	f["dns.id"] = strconv.Itoa(int(r.ID))
	f["dns.op_code"] = r.OpCode
	f.SetString("dns.question.name", r.Name)
	f.SetString("dns.question.type", r.Type)
	if r.Response {
		f["dns.type"] = "answer"
		f["dns.response_code"] = r.ResponseCode
		if r.ResponseCode == "NOERROR" {
			f["event.outcome"] = "success"
		} else {
			f["event.outcome"] = "failure"
		}
		answers := make([]any, len(r.Answers))
		var resolved []string
		for i, a := range r.Answers {
			answers[i] = map[string]any{"name": a.Name, "type": a.Type, "ttl": int64(a.TTL), "data": a.Data}
			if a.Type == "A" || a.Type == "AAAA" {
				resolved = append(resolved, a.Data)
			}
		}
		f["dns.answers"] = answers
		if len(resolved) > 0 {
			f["dns.resolved_ip"] = resolved
		}
		if r.Query {
			f["event.end"] = r.responseTime.UTC().Format(time.RFC3339Nano)
			f["event.duration"] = r.responseTime.Sub(r.Timestamp).Nanoseconds()
		}
	} else {
		f["dns.type"] = "query"
	}
	k.send(position(&r.RecordContext), r.Timestamp, f)
}

func (k *eventSink) httpRecord(r *HTTPRecord) {
	f := baseFields(DatasetHTTP, "http", r.Transport, r.Client, r.Server)
	f["event.category"] = []string{"network", "web"}
	f["event.type"] = []string{"protocol", "access"}
	f["event.action"] = "http_request"
	f["http.request.method"] = r.Method
	f.SetString("http.version", r.Version)
	f["url.original"] = r.URI
	f.SetString("url.path", r.Path)
	f.SetString("url.query", r.Query)
	f.SetString("url.domain", r.Domain)
	if p, err := strconv.Atoi(r.Port); err == nil {
		f["url.port"] = int64(p)
	}
	f.SetString("user_agent.original", r.UserAgent)
	k.send(position(&r.RecordContext), r.Timestamp, f)
}

func (k *eventSink) tlsRecord(r *TLSRecord) {
	f := baseFields(DatasetTLS, "tls", r.Transport, r.Client, r.Server)
	f["event.type"] = []string{"protocol"}
	f["event.action"] = "tls_client_hello"
	f.SetString("tls.client.server_name", r.SNI)
	f["tls.client.ja3"] = r.JA3
	// Not in ECS 8.x: the FoxIO JA4 fingerprint next to the ECS ja3 field.
	f["tls.client.ja4"] = r.JA4
	version := r.Version
	f["tls.established"] = false
	if version != "" {
		f["tls.established"] = true
	} else {
		version = r.ClientVersion
	}
	if proto, num, ok := strings.Cut(version, " "); ok {
		f["tls.version_protocol"] = strings.ToLower(proto)
		f["tls.version"] = num
	}
	if len(r.ALPN) > 0 {
		// Not in ECS: the ALPN values the client offered.
		f["tls.client.alpn"] = append([]string(nil), r.ALPN...)
	}
	// ECS wants IANA cipher suite names here; without a name table the
	// sensor writes the code points as hex ("0x1301").
	ciphers := make([]string, len(r.Ciphers))
	for i, c := range r.Ciphers {
		ciphers[i] = fmt.Sprintf("0x%04x", c)
	}
	f["tls.client.supported_ciphers"] = ciphers
	k.send(position(&r.RecordContext), r.Timestamp, f)
}

func (k *eventSink) sshRecord(r *SSHRecord) {
	f := baseFields(DatasetSSH, "ssh", r.Transport, r.Client, r.Server)
	f["event.type"] = []string{"protocol"}
	f["event.action"] = "ssh_banner"
	// Not in ECS: the identification strings of the two sides.
	f.SetString("ssh.client", r.ClientBanner)
	f.SetString("ssh.server", r.ServerBanner)
	k.send(position(&r.RecordContext), r.Timestamp, f)
}

// communityID computes the Community ID flow hash, version 1 with seed 0
// (https://github.com/corelight/community-id-spec): base64 of SHA-1 over
// seed, the lower endpoint's address, the other address, protocol, a zero
// byte, and the two ports in the same order.
func communityID(proto uint8, a, b netip.AddrPort) string {
	if c := a.Addr().Compare(b.Addr()); c > 0 || (c == 0 && a.Port() > b.Port()) {
		a, b = b, a
	}
	h := sha1.New()
	var buf [2]byte
	h.Write(buf[:]) // seed 0
	h.Write(a.Addr().AsSlice())
	h.Write(b.Addr().AsSlice())
	h.Write([]byte{proto, 0})
	binary.BigEndian.PutUint16(buf[:], a.Port())
	h.Write(buf[:])
	binary.BigEndian.PutUint16(buf[:], b.Port())
	h.Write(buf[:])
	return "1:" + base64.StdEncoding.EncodeToString(h.Sum(nil))
}
