package packet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// IP protocol numbers used in flow keys.
const (
	protoICMPv4 = uint8(layers.IPProtocolICMPv4)
	protoTCP    = uint8(layers.IPProtocolTCP)
	protoUDP    = uint8(layers.IPProtocolUDP)
	protoICMPv6 = uint8(layers.IPProtocolICMPv6)
)

// TCP flag bits as they appear in byte 13 of the TCP header.
const (
	tcpFIN = 1 << iota
	tcpSYN
	tcpRST
	tcpPSH
	tcpACK
	tcpURG
	tcpECE
	tcpCWR
)

// packetInfo is the decoded view of one packet. The decoder overwrites it
// for every packet, and Payload points into the capture buffer, so nothing
// in it may be kept after the next packet without a copy.
type packetInfo struct {
	Index     uint64 // 1-based position of the packet in its source
	Timestamp time.Time
	UnixNano  int64 // Timestamp as nanoseconds, for cheap comparisons
	Length    int   // original length on the wire, in bytes

	HasIP     bool
	Src, Dst  netip.Addr
	Proto     uint8 // IP protocol number of the transport layer
	Fragment  bool  // IPv4 or IPv6 fragment; ports and payload are unknown
	SrcPort   uint16
	DstPort   uint16
	TCPFlags  uint8
	TCPSeq    uint32
	ICMPType  uint8
	ICMPCode  uint8
	Payload   []byte // transport payload (TCP or UDP), capture bytes only
	Truncated bool   // the capture holds fewer bytes than the IP length
}

// decoder decodes link, network and transport layers with one
// DecodingLayerParser per first layer. The layer structs are reused for
// every packet, so decoding allocates nothing unless a packet is malformed
// (gopacket builds an error value then).
type decoder struct {
	eth      layers.Ethernet
	dot1q    layers.Dot1Q
	sll      layers.LinuxSLL
	loopback layers.Loopback
	ip4      layers.IPv4
	ip6      layers.IPv6
	tcp      layers.TCP
	udp      layers.UDP
	icmp4    layers.ICMPv4
	icmp6    layers.ICMPv6

	fromEthernet *gopacket.DecodingLayerParser
	fromSLL      *gopacket.DecodingLayerParser
	fromLoop     *gopacket.DecodingLayerParser
	fromIPv4     *gopacket.DecodingLayerParser
	fromIPv6     *gopacket.DecodingLayerParser
	decoded      []gopacket.LayerType
}

// errUnsupportedLinkType is returned for a link type the decoder has no
// parser for; the packet counts as a decode error.
var errUnsupportedLinkType = errors.New("unsupported link type")

func newDecoder() *decoder {
	d := &decoder{decoded: make([]gopacket.LayerType, 0, 8)}
	// One container serves all parsers: it only maps a layer type to its
	// decoder, and a slice indexed by layer type finds it without the map
	// lookup of gopacket's default container.
	var dlc gopacket.DecodingLayerContainer = gopacket.DecodingLayerSparse(nil)
	for _, l := range []gopacket.DecodingLayer{&d.eth, &d.dot1q, &d.sll, &d.loopback, &d.ip4, &d.ip6, &d.tcp, &d.udp, &d.icmp4, &d.icmp6} {
		dlc = dlc.Put(l)
	}
	mk := func(first gopacket.LayerType) *gopacket.DecodingLayerParser {
		p := gopacket.NewDecodingLayerParser(first)
		p.SetDecodingLayerContainer(dlc)
		// A layer without a decoder here (ARP, IGMP, GRE, ...) ends decoding
		// without an error: the packet still counts, it just has no flow.
		p.IgnoreUnsupported = true
		return p
	}
	d.fromEthernet = mk(layers.LayerTypeEthernet)
	d.fromSLL = mk(layers.LayerTypeLinuxSLL)
	d.fromLoop = mk(layers.LayerTypeLoopback)
	d.fromIPv4 = mk(layers.LayerTypeIPv4)
	d.fromIPv6 = mk(layers.LayerTypeIPv6)
	return d
}

// parserFor picks the parser for a link type. Raw IP link types choose
// IPv4 or IPv6 by the version nibble of the first byte.
func (d *decoder) parserFor(lt layers.LinkType, data []byte) *gopacket.DecodingLayerParser {
	switch lt {
	case layers.LinkTypeEthernet:
		return d.fromEthernet
	case layers.LinkTypeLinuxSLL:
		return d.fromSLL
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return d.fromLoop
	case layers.LinkTypeIPv4:
		return d.fromIPv4
	case layers.LinkTypeIPv6:
		return d.fromIPv6
	case layers.LinkTypeRaw, 12, 14: // DLT_RAW has the value 12 or 14 on some BSDs
		if len(data) > 0 && data[0]>>4 == 6 {
			return d.fromIPv6
		}
		return d.fromIPv4
	}
	return nil
}

// decode fills info from one packet. It returns an error for a packet that
// is truncated or malformed below the transport payload; info then holds
// whatever was decoded before the error.
func (d *decoder) decode(lt layers.LinkType, data []byte, info *packetInfo) error {
	info.HasIP = false
	info.Fragment = false
	info.Truncated = false
	info.Proto = 0
	info.SrcPort, info.DstPort = 0, 0
	info.TCPFlags = 0
	info.TCPSeq = 0
	info.ICMPType, info.ICMPCode = 0, 0
	info.Payload = nil

	p := d.parserFor(lt, data)
	if p == nil {
		return fmt.Errorf("link type %d: %w", lt, errUnsupportedLinkType)
	}
	err := p.DecodeLayers(data, &d.decoded)
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			info.HasIP = true
			info.Src = addr4(d.ip4.SrcIP)
			info.Dst = addr4(d.ip4.DstIP)
			info.Proto = uint8(d.ip4.Protocol)
			if d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0 {
				info.Fragment = true
			}
		case layers.LayerTypeIPv6:
			info.HasIP = true
			info.Src = addr16(d.ip6.SrcIP)
			info.Dst = addr16(d.ip6.DstIP)
			info.Proto = uint8(d.ip6.NextHeader)
			if d.ip6.HopByHop != nil {
				info.Proto = uint8(d.ip6.HopByHop.NextHeader)
			}
			if layers.IPProtocol(info.Proto) == layers.IPProtocolIPv6Fragment {
				// The fragment header is 8 bytes: next header, reserved,
				// offset and flags, identification.
				info.Fragment = true
				if pl := d.ip6.Payload; len(pl) >= 8 {
					info.Proto = pl[0]
				}
			}
		case layers.LayerTypeTCP:
			info.SrcPort = uint16(d.tcp.SrcPort)
			info.DstPort = uint16(d.tcp.DstPort)
			info.TCPFlags = tcpFlags(&d.tcp)
			info.TCPSeq = d.tcp.Seq
			info.Payload = d.tcp.Payload
		case layers.LayerTypeUDP:
			info.SrcPort = uint16(d.udp.SrcPort)
			info.DstPort = uint16(d.udp.DstPort)
			info.Payload = d.udp.Payload
		case layers.LayerTypeICMPv4:
			info.ICMPType = d.icmp4.TypeCode.Type()
			info.ICMPCode = d.icmp4.TypeCode.Code()
		case layers.LayerTypeICMPv6:
			info.ICMPType = d.icmp6.TypeCode.Type()
			info.ICMPCode = d.icmp6.TypeCode.Code()
		}
	}
	info.Truncated = p.Truncated
	if err != nil {
		return err
	}
	return nil
}

func addr4(b []byte) netip.Addr {
	if len(b) != 4 {
		return netip.Addr{}
	}
	return netip.AddrFrom4([4]byte(b))
}

func addr16(b []byte) netip.Addr {
	if len(b) != 16 {
		return netip.Addr{}
	}
	return netip.AddrFrom16([16]byte(b))
}

func tcpFlags(t *layers.TCP) uint8 {
	var f uint8
	if t.FIN {
		f |= tcpFIN
	}
	if t.SYN {
		f |= tcpSYN
	}
	if t.RST {
		f |= tcpRST
	}
	if t.PSH {
		f |= tcpPSH
	}
	if t.ACK {
		f |= tcpACK
	}
	if t.URG {
		f |= tcpURG
	}
	if t.ECE {
		f |= tcpECE
	}
	if t.CWR {
		f |= tcpCWR
	}
	return f
}

// tcpFlagNames lists the names of the bits set in f, in header order.
func tcpFlagNames(f uint8) []string {
	names := [...]string{"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}
	var out []string
	for i, n := range names {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// be16 reads a big-endian uint16; callers check the length first.
func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
