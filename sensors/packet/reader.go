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

// packetReader is the read method of pcapgo's file readers. The returned
// slice is valid until the next call.
type packetReader interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// captureReader reads packets from a pcap or pcapng stream and returns
// the link type of each packet.
type captureReader struct {
	src    packetReader
	ng     *pcapgo.NgReader // nil for classic pcap
	link   layers.LinkType  // link type of a classic pcap file
	Format string           // "pcap" or "pcapng"

	ngLinks []layers.LinkType // link type per pcapng interface, cached
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
		ng, err := pcapgo.NewNgReader(&ngGuard{r: br}, pcapgo.NgReaderOptions{WantMixedLinkType: true, SkipUnknownVersion: true})
		if err != nil {
			return nil, fmt.Errorf("read pcapng section header: %w", err)
		}
		return &captureReader{src: ng, ng: ng, Format: "pcapng"}, nil
	case magicPcapMicro, magicPcapMicroSwapped, magicPcapNano, magicPcapNanoSwapped:
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read pcap file header: %w", err)
		}
		// pcapgo allocates a buffer of the header's snap length for the
		// first packet, so a corrupt header could ask for 4 GiB.
		if pr.Snaplen() > maxPacketLength {
			pr.SetSnaplen(maxPacketLength)
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
	i := ci.InterfaceIndex
	if i < 0 || i >= len(c.ngLinks) {
		// A new interface description block: NgInterface is a large
		// struct, so the link types are copied out once.
		c.ngLinks = c.ngLinks[:0]
		for j := 0; j < c.ng.NInterfaces(); j++ {
			iface, _ := c.ng.Interface(j)
			c.ngLinks = append(c.ngLinks, iface.LinkType)
		}
		if i < 0 || i >= len(c.ngLinks) {
			return c.ng.LinkType()
		}
	}
	return c.ngLinks[i]
}

// maxPacketLength is the largest captured packet accepted: tcpdump's
// default snap length (262144). Larger claims come from corrupt files.
const maxPacketLength = 262144

// maxNgBlock bounds a pcapng block, far above any real one.
const maxNgBlock = 16 << 20

// ngGuard passes a pcapng stream through unchanged but checks each block
// header first. pcapgo v1.1.19 allocates a packet buffer of the claimed
// capture length before it reads the block, so a corrupt length of 4 GiB
// in a small file would exhaust memory (found by FuzzReadCapture).
type ngGuard struct {
	r         *bufio.Reader
	order     binary.ByteOrder
	offset    int64 // file offset of the next block
	remaining int   // bytes of the current block still to pass on
}

// Read implements io.Reader.
func (g *ngGuard) Read(p []byte) (int, error) {
	if g.remaining == 0 {
		if err := g.checkBlock(); err != nil {
			return 0, err
		}
	}
	if len(p) > g.remaining {
		p = p[:g.remaining]
	}
	n, err := g.r.Read(p)
	g.remaining -= n
	g.offset += int64(n)
	return n, err
}

func (g *ngGuard) checkBlock() error {
	head, err := g.r.Peek(12)
	if len(head) < 8 {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	typ := binary.BigEndian.Uint32(head[:4])
	if typ == magicPcapNG {
		if len(head) < 12 {
			return io.ErrUnexpectedEOF
		}
		switch binary.LittleEndian.Uint32(head[8:12]) {
		case 0x1a2b3c4d:
			g.order = binary.LittleEndian
		case 0x4d3c2b1a:
			g.order = binary.BigEndian
		default:
			return fmt.Errorf("pcapng section header at offset %d: invalid byte-order magic", g.offset)
		}
	}
	if g.order == nil {
		return fmt.Errorf("pcapng block at offset %d: no section header before it", g.offset)
	}
	length := g.order.Uint32(head[4:8])
	if length < 12 || length > maxNgBlock {
		return fmt.Errorf("pcapng block at offset %d: length %d outside 12..%d; the file is corrupt", g.offset, length, maxNgBlock)
	}
	switch g.order.Uint32(head[:4]) {
	case 6, 2: // enhanced packet block, obsolete packet block: captured length at byte 20
		if b, _ := g.r.Peek(24); len(b) == 24 {
			if caplen := g.order.Uint32(b[20:24]); caplen > length-32 || caplen > maxPacketLength {
				return fmt.Errorf("pcapng packet block at offset %d: captured length %d does not fit its block of %d bytes", g.offset, caplen, length)
			}
		}
	case 3: // simple packet block: original length at byte 8
		if origlen := g.order.Uint32(head[8:12]); origlen > maxPacketLength && origlen > length-16 {
			return fmt.Errorf("pcapng simple packet block at offset %d: packet length %d exceeds %d", g.offset, origlen, maxPacketLength)
		}
	}
	g.remaining = int(length)
	return nil
}
