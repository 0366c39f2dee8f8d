// Package packet is canhgac's packet sensor. It reads pcap and pcapng
// files and live Linux interfaces in pure Go (gopacket/pcapgo, no libpcap
// and no cgo) and turns packets into two outputs:
//
//   - Summarize and SummarizeFile return a Summary for
//     `canhgac pcap summary FILE --format json`: packet, byte and error
//     counts, and the DNS queries, TLS ClientHellos, HTTP requests and SSH
//     banners of the capture.
//   - Sensor emits ECS events for the pipeline and for offline hunting:
//     one network_traffic.flow event per flow record and one
//     network_traffic.dns, .http, .tls or .ssh event per application
//     record. Sensor.ReadFile reads a file, Sensor.Capture an interface.
//
// # Reading and decoding
//
// The file format is chosen by the magic number, never by the file name.
// Packets are decoded by one gopacket DecodingLayerParser per link type
// (Ethernet with 802.1Q VLAN tags, Linux cooked capture, BSD loopback and
// raw IP), with layer structs reused for every packet, so the decode path
// does not allocate. A packet that is truncated or malformed below its
// transport payload counts in Stats.DecodeErrors. A file cut inside its
// last packet ends the read without an error, and that packet counts as a
// decode error. IPv4 and IPv6 fragments are counted in Stats.Fragments
// and in their flow (without ports) but not reassembled.
//
// # Flows
//
// A flow is bidirectional: packets of the same 5-tuple in either
// direction. The client is the sender of the first packet, or the
// receiver of a SYN-ACK seen first. Each record counts packets and wire
// bytes per direction and the union of TCP flags. A record ends after
// Options.IdleTimeout without a packet (default 60 s), or
// Options.ActiveTimeout after its start (default 30 min). After an active
// timeout a new record continues the flow. When Options.MaxFlows flows are
// open (default 1,048,576), a new flow first evicts the flow idle the
// longest, whose record is written early and counted in Stats.Evicted. Timeouts run on packet time, not the wall clock,
// so a file gives the same records however fast it is read. At the end of
// a file or a live capture every open flow is written.
//
// # Application records
//
//   - DNS over UDP and TCP (length-prefixed, buffered across segments) on
//     ports 53, 5353 (mDNS) and 5355 (LLMNR). A query and its response,
//     matched by flow and transaction id, form one record. A query without
//     response is written after waiting IdleTimeout, or at the end.
//   - HTTP/1.x requests whose request line starts a client TCP segment, on
//     any port, with Host and User-Agent from the same segment. There is
//     no TCP reassembly, so headers in a later segment are missed.
//   - TLS ClientHello (reassembled across TCP segments in capture order)
//     with SNI, ALPN, the highest offered version, JA3 and JA4 (FoxIO's
//     TLS client fingerprint), plus the version chosen in the ServerHello.
//   - SSH identification strings of both sides.
//
// # Events
//
// Event ids are ecs.PositionID(source, packetIndex<<8 | slot): packetIndex
// is the 1-based index of the packet that started the record and slot the
// record's index within that packet, or 255 for flow records. The source
// id is the file path, or "iface:NAME@START" for a live capture. Fields outside
// ECS 8.x: tls.client.ja4, tls.client.alpn, network.tcp_flags,
// network.fragments, and ssh.client and ssh.server (the identification
// strings, in a network_traffic.ssh event written once both sides sent
// theirs or when the flow ends).
//
// Errors that reach users are *Error values with a message from the i18n
// catalog (keys "packet.*"), for example the live capture that lacks root
// or CAP_NET_RAW.
package packet
