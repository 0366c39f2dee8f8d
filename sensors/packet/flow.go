package packet

import (
	"cmp"
	"net/netip"
	"slices"
	"time"
)

// Default flow timeouts, the same as the usual NetFlow/IPFIX exporter
// defaults: a flow record is written after 30 minutes of activity even if
// the connection goes on, and after 60 seconds without a packet.
const (
	DefaultActiveTimeout = 30 * time.Minute
	DefaultIdleTimeout   = 60 * time.Second
)

// DefaultMaxFlows bounds the flow table so that a SYN flood cannot exhaust
// a sensor's memory. An open flow takes 400 bytes of state plus its map
// entry, so the bound is about 500 MB (an estimate, on amd64).
const DefaultMaxFlows = 1 << 20

// Flow directions. The client is the host that sent the first packet of
// the flow, except that a TCP SYN-ACK seen first makes its receiver the
// client.
const (
	dirClientToServer = 0
	dirServerToClient = 1
)

// FlowEnd is the reason a flow record was written.
type FlowEnd uint8

// The reasons a flow record is written.
const (
	FlowEndIdle    FlowEnd = iota + 1 // no packet for IdleTimeout
	FlowEndActive                     // the flow lasted ActiveTimeout; a new record continues it
	FlowEndFlush                      // end of the capture file or of the live capture
	FlowEndEvicted                    // the table reached Options.MaxFlows and this flow was idle the longest
)

// String returns "idle-timeout", "active-timeout", "end-of-capture" or
// "evicted".
func (e FlowEnd) String() string {
	switch e {
	case FlowEndIdle:
		return "idle-timeout"
	case FlowEndActive:
		return "active-timeout"
	case FlowEndFlush:
		return "end-of-capture"
	case FlowEndEvicted:
		return "evicted"
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
// parsers' state. Flows sit in a list ordered by last packet, so the idle
// sweep looks only at the flows that expire.
type flow struct {
	rec            FlowRecord
	key            flowKey
	startNS, endNS int64 // rec.Start and rec.End as nanoseconds
	clientIsA      bool
	prev, next     *flow // neighbours in flowTable's list, oldest first

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

// init starts a flow with the packet in info as its first packet.
func (f *flow) init(key flowKey, info *packetInfo, srcIsA bool) {
	*f = flow{key: key, clientIsA: srcIsA, startNS: info.UnixNano, endNS: info.UnixNano}
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
}

// continueFrom makes f the record that follows old after an active
// timeout: same endpoints and client, counters from zero, and no
// handshake parsing, since the handshakes belong to the old record.
func (f *flow) continueFrom(old *flow) {
	f.clientIsA = old.clientIsA
	f.rec.Client, f.rec.Server = old.rec.Client, old.rec.Server
	f.rec.Protocol = old.rec.Protocol
	f.sshD = [2]bool{true, true}
	f.tls.clientDone, f.tls.serverDone = true, true
}

// flowSlab is how many flows are allocated at once.
const flowSlab = 256

// flowTable holds the open flows and expires them on packet time.
type flowTable struct {
	active, idle time.Duration
	flows        map[flowKey]*flow
	head, tail   *flow   // list by last packet: head idles longest
	free         []*flow // released flows for reuse
	slab         []flow  // unused part of the last allocated slab
	nextSweep    int64   // packet time of the next sweep, in nanoseconds
	expired      []*flow // scratch for sweep
}

func newFlowTable(active, idle time.Duration) *flowTable {
	return &flowTable{active: active, idle: idle, flows: make(map[flowKey]*flow)}
}

// start adds a new flow for key, reusing a released one when there is one.
func (t *flowTable) start(key flowKey, info *packetInfo, srcIsA bool) *flow {
	var f *flow
	if n := len(t.free); n > 0 {
		f, t.free = t.free[n-1], t.free[:n-1]
	} else {
		if len(t.slab) == 0 {
			t.slab = make([]flow, flowSlab)
		}
		f, t.slab = &t.slab[0], t.slab[1:]
	}
	f.init(key, info, srcIsA)
	t.flows[key] = f
	t.pushBack(f)
	return f
}

func (t *flowTable) pushBack(f *flow) {
	f.prev, f.next = t.tail, nil
	if t.tail != nil {
		t.tail.next = f
	} else {
		t.head = f
	}
	t.tail = f
}

func (t *flowTable) unlink(f *flow) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		t.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		t.tail = f.prev
	}
	f.prev, f.next = nil, nil
}

// touch moves f to the end of the list after one of its packets.
func (t *flowTable) touch(f *flow) {
	if t.tail == f {
		return
	}
	t.unlink(f)
	t.pushBack(f)
}

// remove takes f out of the table; release returns it for reuse once its
// record was written.
func (t *flowTable) remove(f *flow) {
	t.unlink(f)
	delete(t.flows, f.key)
}

func (t *flowTable) release(f *flow) {
	f.tls.pending, f.ssh = nil, nil
	f.dnsBuf = [2][]byte{}
	t.free = append(t.free, f)
}

// sweepInterval returns the packet-time interval between idle sweeps: a
// quarter of the idle timeout, at most 5 seconds. A record is therefore
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

// dueForSweep reports whether now (nanoseconds) is past the next sweep
// time, and moves the next sweep time on.
func (t *flowTable) dueForSweep(now int64) bool {
	if now < t.nextSweep {
		return false
	}
	t.nextSweep = now + int64(t.sweepInterval())
	return true
}

// expireIdle removes the flows idle at now (nanoseconds) and returns them
// ordered by their first packet, so output order does not depend on the
// order packets touched them. The caller writes and releases them.
func (t *flowTable) expireIdle(now int64) []*flow {
	t.expired = t.expired[:0]
	for f := t.head; f != nil && now-f.endNS > int64(t.idle); f = t.head {
		f.rec.Reason = FlowEndIdle
		t.remove(f)
		t.expired = append(t.expired, f)
	}
	sortFlows(t.expired)
	return t.expired
}

// expireAll removes every flow, ordered by first packet.
func (t *flowTable) expireAll() []*flow {
	t.expired = t.expired[:0]
	for f := t.head; f != nil; f = t.head {
		f.rec.Reason = FlowEndFlush
		t.remove(f)
		t.expired = append(t.expired, f)
	}
	sortFlows(t.expired)
	return t.expired
}

func sortFlows(fs []*flow) {
	slices.SortFunc(fs, func(a, b *flow) int { return cmp.Compare(a.rec.FirstPacket, b.rec.FirstPacket) })
}
