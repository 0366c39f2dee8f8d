package packet

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// Magic numbers of the capture file formats, as read big-endian from the
// first four bytes of the file.
const (
	magicPcapMicro        = 0xa1b2c3d4
	magicPcapMicroSwapped = 0xd4c3b2a1
	magicPcapNano         = 0xa1b23c4d
	magicPcapNanoSwapped  = 0x4d3cb2a1
	magicPcapNG           = 0x0a0d0d0a // section header block type, same in both byte orders
)

// packetReader is what a capture file and a live interface both provide.
// The returned slice is valid until the next call.
type packetReader interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// captureReader reads packets from a pcap or pcapng stream and knows the
// link type of each packet.
type captureReader struct {
	src    packetReader
	ng     *pcapgo.NgReader // nil for classic pcap
	link   layers.LinkType  // link type of a classic pcap file
	Format string           // "pcap" or "pcapng"
}

// openCapture detects the format by the magic number, not by the file name:
// several public captures named .pcap are pcapng.
func openCapture(r io.Reader) (*captureReader, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	head, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("read capture header: %w (the input is shorter than 4 bytes, so it is neither pcap nor pcapng)", err)
	}
	magic := binary.BigEndian.Uint32(head)
	switch magic {
	case magicPcapNG:
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return nil, fmt.Errorf("read pcapng section header: %w", err)
		}
		return &captureReader{src: ng, ng: ng, Format: "pcapng"}, nil
	case magicPcapMicro, magicPcapMicroSwapped, magicPcapNano, magicPcapNanoSwapped:
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read pcap file header: %w", err)
		}
		return &captureReader{src: pr, link: pr.LinkType(), Format: "pcap"}, nil
	}
	return nil, fmt.Errorf("unknown capture magic number 0x%08x: expected pcap (0xa1b2c3d4, 0xa1b23c4d or byte-swapped) or pcapng (0x0a0d0d0a); convert the file with editcap or mergecap first", magic)
}

// linkType returns the link type of the packet just read. A pcapng file
// may hold interfaces of different link types; pcapgo reports the
// interface of each packet in CaptureInfo.InterfaceIndex.
func (c *captureReader) linkType(ci *gopacket.CaptureInfo) layers.LinkType {
	if c.ng == nil {
		return c.link
	}
	iface, err := c.ng.Interface(ci.InterfaceIndex)
	if err != nil {
		return c.ng.LinkType()
	}
	return iface.LinkType
}
