package packet

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
)

// Summary is the triage view of one capture, the output of
// `canhgac pcap summary FILE --format json`. Lists are in packet order.
type Summary struct {
	File   string `json:"file,omitempty"`
	Format string `json:"format"` // "pcap" or "pcapng", from the magic number
	Stats
	DNSQueries      []DNSQuery       `json:"dns_queries"`
	TLSClientHellos []TLSClientHello `json:"tls_client_hellos"`
	HTTPRequests    []HTTPRequest    `json:"http_requests"`
	SSHBanners      []SSHBanner      `json:"ssh_banners"`
}

// DNSQuery is one DNS query message with the answers of its response.
type DNSQuery struct {
	Packet       uint64      `json:"packet"` // index of the query packet
	Client       string      `json:"client"`
	Server       string      `json:"server"`
	Transport    string      `json:"transport"`
	Name         string      `json:"name"`
	Type         string      `json:"type"`
	ResponseCode string      `json:"response_code,omitempty"`
	Answers      []DNSAnswer `json:"answers"`
}

// TLSClientHello is one TLS ClientHello with its fingerprints.
type TLSClientHello struct {
	Packet        uint64   `json:"packet"` // index of the packet that completed the hello
	Client        string   `json:"client"`
	Server        string   `json:"server"`
	SNI           string   `json:"sni"`
	Version       string   `json:"version"`        // chosen by the server; the client's highest offer if no ServerHello was seen
	ClientVersion string   `json:"client_version"` // highest version offered
	ALPN          []string `json:"alpn"`
	JA4           string   `json:"ja4"`
	JA3           string   `json:"ja3"`
}

// HTTPRequest is one HTTP/1.x request.
type HTTPRequest struct {
	Packet    uint64 `json:"packet"`
	Client    string `json:"client"`
	Server    string `json:"server"`
	Method    string `json:"method"`
	Host      string `json:"host"` // Host header as sent, with the port if it has one
	Path      string `json:"path"` // without the query
	URI       string `json:"uri"`  // request target as sent
	UserAgent string `json:"user_agent"`
}

// SSHBanner is one SSH identification string.
type SSHBanner struct {
	Packet uint64 `json:"packet"` // packet of the first banner of the connection
	Client string `json:"client"`
	Server string `json:"server"`
	Role   string `json:"role"` // "client" or "server"
	Banner string `json:"banner"`
}

// Summarize reads a pcap or pcapng stream (the format is detected from the
// magic number) and summarizes it. On a read error it returns the summary
// of the packets before the error together with the error.
func Summarize(r io.Reader, opts Options) (*Summary, error) {
	return summarize(context.Background(), r, opts)
}

// SummarizeFile is Summarize on the file at path; Summary.File is set.
func SummarizeFile(path string, opts Options) (*Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, newError("packet.file.open", err, path)
	}
	defer f.Close()
	s, err := summarize(context.Background(), f, opts)
	if s != nil {
		s.File = path
	}
	if err != nil {
		return s, fmt.Errorf("summarize %s: %w", path, err)
	}
	return s, nil
}

func summarize(ctx context.Context, r io.Reader, opts Options) (*Summary, error) {
	cr, err := openCapture(r)
	if err != nil {
		return nil, newError("packet.file.format", err)
	}
	sink := &summarySink{}
	eng := newEngine(opts, sink)
	err = readAll(ctx, cr, eng, nil)
	s := sink.finish()
	s.Format = cr.Format
	s.Stats = eng.stats
	return s, err
}

// summarySink collects records into a Summary.
type summarySink struct {
	s        Summary
	dnsOrder []uint64 // packet index<<8|record of each DNS query, for sorting
	tlsOrder []uint64
	sshOrder []uint64
}

func position(c *RecordContext) uint64 { return c.PacketIndex<<8 | uint64(c.Record) }

func (k *summarySink) flowRecord(*FlowRecord) {}

func (k *summarySink) dnsRecord(r *DNSRecord) {
	if !r.Query {
		return
	}
	answers := r.Answers
	if answers == nil {
		answers = []DNSAnswer{}
	}
	k.s.DNSQueries = append(k.s.DNSQueries, DNSQuery{
		Packet: r.PacketIndex, Client: r.Client.String(), Server: r.Server.String(),
		Transport: transportName(r.Transport), Name: r.Name, Type: r.Type,
		ResponseCode: r.ResponseCode, Answers: answers,
	})
	k.dnsOrder = append(k.dnsOrder, position(&r.RecordContext))
}

func (k *summarySink) httpRecord(r *HTTPRecord) {
	k.s.HTTPRequests = append(k.s.HTTPRequests, HTTPRequest{
		Packet: r.PacketIndex, Client: r.Client.String(), Server: r.Server.String(),
		Method: r.Method, Host: r.Host, Path: r.Path, URI: r.URI, UserAgent: r.UserAgent,
	})
}

func (k *summarySink) tlsRecord(r *TLSRecord) {
	version := r.Version
	if version == "" {
		version = r.ClientVersion
	}
	alpn := r.ALPN
	if alpn == nil {
		alpn = []string{}
	}
	k.s.TLSClientHellos = append(k.s.TLSClientHellos, TLSClientHello{
		Packet: r.PacketIndex, Client: r.Client.String(), Server: r.Server.String(),
		SNI: r.SNI, Version: version, ClientVersion: r.ClientVersion, ALPN: alpn, JA4: r.JA4, JA3: r.JA3,
	})
	k.tlsOrder = append(k.tlsOrder, position(&r.RecordContext))
}

func (k *summarySink) sshRecord(r *SSHRecord) {
	for _, b := range []struct{ role, banner string }{{"client", r.ClientBanner}, {"server", r.ServerBanner}} {
		if b.banner == "" {
			continue
		}
		k.s.SSHBanners = append(k.s.SSHBanners, SSHBanner{
			Packet: r.PacketIndex, Client: r.Client.String(), Server: r.Server.String(), Role: b.role, Banner: b.banner,
		})
		k.sshOrder = append(k.sshOrder, position(&r.RecordContext))
	}
}

// finish orders the lists by packet; records are written when a
// transaction completes, which is not always the order they started in.
func (k *summarySink) finish() *Summary {
	sortBy(k.s.DNSQueries, k.dnsOrder)
	sortBy(k.s.TLSClientHellos, k.tlsOrder)
	sortBy(k.s.SSHBanners, k.sshOrder)
	s := k.s
	if s.DNSQueries == nil {
		s.DNSQueries = []DNSQuery{}
	}
	if s.TLSClientHellos == nil {
		s.TLSClientHellos = []TLSClientHello{}
	}
	if s.HTTPRequests == nil {
		s.HTTPRequests = []HTTPRequest{}
	}
	if s.SSHBanners == nil {
		s.SSHBanners = []SSHBanner{}
	}
	return &s
}

// sortBy sorts items stably by the parallel keys.
func sortBy[T any](items []T, keys []uint64) {
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	sorted := make([]T, len(items))
	for i, j := range idx {
		sorted[i] = items[j]
	}
	copy(items, sorted)
}

// transportName names an IP protocol the way ECS network.transport does.
func transportName(p uint8) string {
	switch p {
	case protoTCP:
		return "tcp"
	case protoUDP:
		return "udp"
	case protoICMPv4:
		return "icmp"
	case protoICMPv6:
		return "ipv6-icmp"
	case 47:
		return "gre"
	case 50:
		return "esp"
	case 132:
		return "sctp"
	case 2:
		return "igmp"
	}
	return fmt.Sprintf("%d", p)
}
