package packet

import (
	"net/netip"
	"sort"
	"time"
)

// Default flow timeouts, the same as the usual NetFlow/IPFIX exporter
// defaults: a flow record is written after 30 minutes of activity even if
// the connection goes on, and after 60 seconds without a packet.
const (
	DefaultActiveTimeout = 30 * time.Minute
	DefaultIdleTimeout   = 60 * time.Second
)

// Flow directions. The client is the host that sent the first packet of
// the flow, except that a TCP SYN-ACK seen first makes its receiver the
// client.
const (
	dirClientToServer = 0
	dirServerToClient = 1
)

// FlowEnd says why a flow record was written.
type FlowEnd uint8

// The reasons a flow record is written.
const (
	FlowEndIdle   FlowEnd = iota + 1 // no packet for IdleTimeout
	FlowEndActive                    // the flow lasted ActiveTimeout; a new record continues it
	FlowEndFlush                     // end of the capture file or of the live capture
)

// String returns "idle-timeout", "active-timeout" or "end-of-capture".
func (e FlowEnd) String() string {
	switch e {
	case FlowEndIdle:
		return "idle-timeout"
	case FlowEndActive:
		return "active-timeout"
	case FlowEndFlush:
		return "end-of-capture"
	}
	return "unknown"
}

// flowKey identifies a bidirectional flow: the lower endpoint (by address,
// then port) is always A, so both directions of a connection map to one key.
type flowKey struct {
	a, b         netip.Addr
	aPort, bPort uint16
	proto        uint8
}

func makeFlowKey(info *packetInfo) (key flowKey, srcIsA bool) {
	c := info.Src.Compare(info.Dst)
	if c < 0 || (c == 0 && info.SrcPort <= info.DstPort) {
		return flowKey{a: info.Src, b: info.Dst, aPort: info.SrcPort, bPort: info.DstPort, proto: info.Proto}, true
	}
	return flowKey{a: info.Dst, b: info.Src, aPort: info.DstPort, bPort: info.SrcPort, proto: info.Proto}, false
}

// FlowRecord is one bidirectional flow: all packets with the same 5-tuple
// in either direction between its start and its end. Index 0 of Packets and
// Bytes is the client-to-server direction, index 1 the reverse.
type FlowRecord struct {
	FirstPacket uint64 // index of the packet that started the record
	Start, End  time.Time
	Transport   uint8 // IP protocol number
	Client      netip.AddrPort
	Server      netip.AddrPort
	Packets     [2]uint64
	Bytes       [2]uint64 // original (wire) length of the packets
	TCPFlags    uint8     // union of the TCP flags seen in both directions
	Fragments   uint64    // IP fragments counted in this flow
	Protocol    string    // application protocol seen: dns, http, tls, ssh or ""
	Reason      FlowEnd
}

// flow is the live state of one flow: its record and the application
// parsers' state.
type flow struct {
	rec       FlowRecord
	clientIsA bool

	tls    tlsFlowState
	ssh    *SSHRecord
	sshD   [2]bool   // banner already seen in this direction
	dnsBuf [2][]byte // DNS-over-TCP bytes of an incomplete message, per direction
}

// direction returns the direction of the packet within the flow.
func (f *flow) direction(srcIsA bool) int {
	if srcIsA == f.clientIsA {
		return dirClientToServer
	}
	return dirServerToClient
}

// newFlow starts a flow with the packet in info as its first packet.
func newFlow(info *packetInfo, srcIsA bool) *flow {
	f := &flow{clientIsA: srcIsA}
	client := netip.AddrPortFrom(info.Src, info.SrcPort)
	server := netip.AddrPortFrom(info.Dst, info.DstPort)
	if info.Proto == protoTCP && info.TCPFlags&(tcpSYN|tcpACK) == tcpSYN|tcpACK {
		client, server = server, client
		f.clientIsA = !srcIsA
	}
	f.rec = FlowRecord{
		FirstPacket: info.Index,
		Start:       info.Timestamp,
		End:         info.Timestamp,
		Transport:   info.Proto,
		Client:      client,
		Server:      server,
	}
	return f
}

// continueFlow starts the record that follows an active timeout: same
// endpoints and client, counters from zero.
func continueFlow(old *flow, info *packetInfo) *flow {
	f := &flow{clientIsA: old.clientIsA}
	f.rec = FlowRecord{
		FirstPacket: info.Index,
		Start:       info.Timestamp,
		End:         info.Timestamp,
		Transport:   old.rec.Transport,
		Client:      old.rec.Client,
		Server:      old.rec.Server,
		Protocol:    old.rec.Protocol,
	}
	f.ssh, f.sshD = nil, old.sshD
	f.tls.clientDone, f.tls.serverDone = true, true
	return f
}

// flowTable holds the open flows and expires them on packet time.
type flowTable struct {
	active, idle time.Duration
	flows        map[flowKey]*flow
	nextSweep    time.Time
	expired      []*flow // scratch for sweep
}

func newFlowTable(active, idle time.Duration) *flowTable {
	return &flowTable{active: active, idle: idle, flows: make(map[flowKey]*flow)}
}

// sweepInterval is how often, in packet time, the table looks for idle
// flows: a quarter of the idle timeout, at most 5 seconds, so a record is
// written at most that long after its idle timeout expired.
func (t *flowTable) sweepInterval() time.Duration {
	iv := t.idle / 4
	if iv > 5*time.Second {
		iv = 5 * time.Second
	}
	if iv <= 0 {
		iv = time.Second
	}
	return iv
}

// dueForSweep reports whether now is past the next sweep time, and moves
// the next sweep time on.
func (t *flowTable) dueForSweep(now time.Time) bool {
	if now.Before(t.nextSweep) {
		return false
	}
	t.nextSweep = now.Add(t.sweepInterval())
	return true
}

// expireIdle removes the flows idle at now and returns them ordered by
// their first packet, so output order does not depend on map order.
func (t *flowTable) expireIdle(now time.Time) []*flow {
	t.expired = t.expired[:0]
	for k, f := range t.flows {
		if now.Sub(f.rec.End) > t.idle {
			f.rec.Reason = FlowEndIdle
			t.expired = append(t.expired, f)
			delete(t.flows, k)
		}
	}
	sortFlows(t.expired)
	return t.expired
}

// expireAll removes every flow, ordered by first packet.
func (t *flowTable) expireAll() []*flow {
	t.expired = t.expired[:0]
	for k, f := range t.flows {
		f.rec.Reason = FlowEndFlush
		t.expired = append(t.expired, f)
		delete(t.flows, k)
	}
	sortFlows(t.expired)
	return t.expired
}

func sortFlows(fs []*flow) {
	sort.Slice(fs, func(i, j int) bool { return fs[i].rec.FirstPacket < fs[j].rec.FirstPacket })
}
