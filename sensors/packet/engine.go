package packet

import (
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Options configures flow expiry. The zero value uses the defaults.
type Options struct {
	// ActiveTimeout ends a flow record this long after its first packet;
	// a new record continues the flow. Default DefaultActiveTimeout (30 min).
	ActiveTimeout time.Duration
	// IdleTimeout ends a flow that has seen no packet for this long, in
	// packet time. Default DefaultIdleTimeout (60 s).
	IdleTimeout time.Duration
	// MaxFlows bounds the open flows. When a new flow would exceed it, the
	// flow idle the longest is written early with reason "evicted".
	// Default DefaultMaxFlows.
	MaxFlows int
}

func (o Options) withDefaults() Options {
	if o.ActiveTimeout <= 0 {
		o.ActiveTimeout = DefaultActiveTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.MaxFlows <= 0 {
		o.MaxFlows = DefaultMaxFlows
	}
	return o
}

// Stats counts what a reader saw. Every packet read is in Packets; a packet
// that could not be decoded is also in DecodeErrors.
type Stats struct {
	Packets       uint64    `json:"packets"`
	Bytes         uint64    `json:"bytes"`          // sum of original (wire) lengths
	CapturedBytes uint64    `json:"captured_bytes"` // sum of captured lengths
	DecodeErrors  uint64    `json:"decode_errors"`  // truncated or malformed packets and unsupported link types
	NonIP         uint64    `json:"non_ip"`         // decoded packets without IPv4/IPv6 (ARP, STP, ...)
	Fragments     uint64    `json:"fragments"`      // IPv4 and IPv6 fragments (not reassembled)
	Truncated     uint64    `json:"truncated"`      // packets cut by the capture length (snaplen)
	Evicted       uint64    `json:"evicted_flows"`  // flow records written early because MaxFlows was reached
	Flows         uint64    `json:"flows"`          // flow records written
	AppErrors     uint64    `json:"app_errors"`     // DNS messages or TLS hellos on their port that did not parse
	First         time.Time `json:"first_packet,omitzero"`
	Last          time.Time `json:"last_packet,omitzero"`
}

// RecordContext locates an application record: the packet it came from
// and the endpoints of the exchange.
type RecordContext struct {
	PacketIndex uint64 // 1-based index of the packet in its source
	Record      uint8  // index among the records found in the same packet
	Timestamp   time.Time
	Transport   uint8          // IP protocol number (6 TCP, 17 UDP)
	Client      netip.AddrPort // the host that sent the request
	Server      netip.AddrPort
}

// recordSink receives the records the engine finds, in a deterministic
// order for a given input. A FlowRecord pointer is valid only during the
// call, because the engine reuses flow state.
type recordSink interface {
	flowRecord(*FlowRecord)
	dnsRecord(*DNSRecord)
	httpRecord(*HTTPRecord)
	tlsRecord(*TLSRecord)
	sshRecord(*SSHRecord)
}

// engine turns packets into flow and application records. It is not safe
// for concurrent use; one engine serves one source.
type engine struct {
	opts  Options
	dec   *decoder
	table *flowTable
	dns   dnsState
	sink  recordSink
	info  packetInfo
	stats Stats

	recordSeq uint8 // next record index within the current packet

	firstNS, lastNS int64 // Stats.First and Stats.Last as nanoseconds
}

func newEngine(opts Options, sink recordSink) *engine {
	opts = opts.withDefaults()
	return &engine{
		opts:  opts,
		dec:   newDecoder(),
		table: newFlowTable(opts.ActiveTimeout, opts.IdleTimeout),
		dns:   newDNSState(),
		sink:  sink,
	}
}

// maxRecordsPerPacket keeps the record index below 255, which event ids
// reserve for the flow record (see recordPosition).
const maxRecordsPerPacket = 254

// context returns the context of the next record found in the current
// packet, or false when the packet already produced maxRecordsPerPacket.
func (e *engine) context(f *flow) (RecordContext, bool) {
	if e.recordSeq >= maxRecordsPerPacket {
		return RecordContext{}, false
	}
	c := RecordContext{
		PacketIndex: e.info.Index,
		Record:      e.recordSeq,
		Timestamp:   e.info.Timestamp,
		Transport:   e.info.Proto,
		Client:      f.rec.Client,
		Server:      f.rec.Server,
	}
	e.recordSeq++
	return c, true
}

// packet processes one captured packet. index is its 1-based position.
func (e *engine) packet(index uint64, ci *gopacket.CaptureInfo, lt layers.LinkType, data []byte) {
	info := &e.info
	info.Index = index
	info.Timestamp = ci.Timestamp
	info.UnixNano = ci.Timestamp.UnixNano()
	info.Length = ci.Length
	if info.Length < len(data) {
		info.Length = len(data)
	}
	e.recordSeq = 0

	s := &e.stats
	s.Packets++
	s.Bytes += uint64(info.Length)
	s.CapturedBytes += uint64(len(data))
	if s.Packets == 1 || info.UnixNano < e.firstNS {
		s.First, e.firstNS = info.Timestamp, info.UnixNano
	}
	if s.Packets == 1 || info.UnixNano > e.lastNS {
		s.Last, e.lastNS = info.Timestamp, info.UnixNano
	}
	if ci.CaptureLength < ci.Length {
		s.Truncated++
	}

	if e.table.dueForSweep(info.UnixNano) {
		e.expireIdle(info.UnixNano)
	}

	if err := e.dec.decode(lt, data, info); err != nil {
		s.DecodeErrors++
		return
	}
	if !info.HasIP {
		s.NonIP++
		return
	}
	if info.Fragment {
		s.Fragments++
	}

	f, dir := e.lookup(info)
	f.rec.Packets[dir]++
	f.rec.Bytes[dir] += uint64(info.Length)
	f.rec.TCPFlags |= info.TCPFlags
	if info.Fragment {
		f.rec.Fragments++
		return
	}
	if len(info.Payload) == 0 {
		return
	}
	switch info.Proto {
	case protoUDP:
		if isDNSPort(info.SrcPort) || isDNSPort(info.DstPort) {
			e.dnsMessage(f, info.Payload, dir)
		}
	case protoTCP:
		e.tcpPayload(f, dir)
	}
}

// lookup returns the flow of the packet, creating it or starting its next
// record when a timeout has passed, and the packet's direction in it.
func (e *engine) lookup(info *packetInfo) (*flow, int) {
	t := e.table
	key, srcIsA := makeFlowKey(info)
	f := t.flows[key]
	switch {
	case f == nil:
		if len(t.flows) >= e.opts.MaxFlows {
			e.evictOldest()
		}
		f = t.start(key, info, srcIsA)
	case info.UnixNano-f.endNS > int64(e.opts.IdleTimeout):
		// Normally the sweep ends idle flows; this catches a flow whose
		// next packet comes before the sweep does.
		f.rec.Reason = FlowEndIdle
		t.remove(f)
		e.endFlow(f)
		t.release(f)
		f = t.start(key, info, srcIsA)
	case info.UnixNano-f.startNS >= int64(e.opts.ActiveTimeout):
		f.rec.Reason = FlowEndActive
		t.remove(f)
		e.endFlow(f)
		next := t.start(key, info, srcIsA)
		next.continueFrom(f)
		t.release(f)
		f = next
	default:
		t.touch(f)
	}
	if info.UnixNano > f.endNS {
		f.rec.End, f.endNS = info.Timestamp, info.UnixNano
	}
	return f, f.direction(srcIsA)
}

// tcpPayload hands a TCP segment to the application parser that claims it.
// Each parser looks only at the first payload bytes of a direction (plus
// the rest of a TLS ClientHello), so the cost per segment stays small.
func (e *engine) tcpPayload(f *flow, dir int) {
	info := &e.info
	payload := info.Payload
	if isDNSPort(info.SrcPort) || isDNSPort(info.DstPort) {
		e.dnsOverTCP(f, payload, dir)
		return
	}
	if e.tlsSegment(f, dir) || f.rec.Protocol == "tls" {
		// Encrypted application data after the handshake is not parsed.
		return
	}
	if e.sshSegment(f, payload, dir) {
		return
	}
	if dir == dirClientToServer {
		e.httpSegment(f, payload)
	}
}

// evictOldest writes the flow idle the longest to make room for a new one.
func (e *engine) evictOldest() {
	old := e.table.head
	if old == nil {
		return
	}
	old.rec.Reason = FlowEndEvicted
	e.table.remove(old)
	e.endFlow(old)
	e.table.release(old)
	e.stats.Evicted++
}

// expireIdle writes the flows and DNS transactions idle at now
// (nanoseconds since the Unix epoch).
func (e *engine) expireIdle(now int64) {
	for _, f := range e.table.expireIdle(now) {
		e.endFlow(f)
		e.table.release(f)
	}
	e.dns.expire(now, e.opts.IdleTimeout, e.sink)
}

// endFlow writes the pending application records of a flow, then the flow
// record. The caller has set rec.Reason.
func (e *engine) endFlow(f *flow) {
	if f.tls.pending != nil {
		e.sink.tlsRecord(f.tls.pending)
		f.tls.pending = nil
	}
	if f.ssh != nil {
		e.sink.sshRecord(f.ssh)
		f.ssh = nil
	}
	e.stats.Flows++
	e.sink.flowRecord(&f.rec)
}

// flush writes every open flow and DNS transaction, at the end of a file
// or of a live capture.
func (e *engine) flush() {
	for _, f := range e.table.expireAll() {
		e.endFlow(f)
		e.table.release(f)
	}
	e.dns.flushAll(e.sink)
}
