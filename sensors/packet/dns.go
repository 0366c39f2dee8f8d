package packet

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// DNSRecord is one DNS transaction: a query and, when seen, its response
// (matched by flow and transaction id). A response whose query was not seen
// is a record with Query false.
type DNSRecord struct {
	RecordContext
	ID            uint16
	Query         bool   // the query was seen
	Response      bool   // the response was seen
	OpCode        string // QUERY, IQUERY, STATUS, NOTIFY, UPDATE or the number
	Name          string // first question name, without the trailing dot
	Type          string // first question type (A, AAAA, TXT, ...; TYPE<n> when unnamed)
	QuestionCount int
	Answers       []DNSAnswer
	ResponseCode  string // NOERROR, NXDOMAIN, ... (empty without a response)
	responseTime  time.Time
}

// DNSAnswer is one resource record of the answer section.
type DNSAnswer struct {
	Name string `json:"name"`
	Type string `json:"type"`
	TTL  uint32 `json:"ttl"`
	Data string `json:"data"`
}

// isDNSPort reports whether a UDP or TCP port carries DNS messages:
// DNS (53), multicast DNS (5353) and LLMNR (5355), which share one message
// format and which tshark shows with the same dns.* fields.
func isDNSPort(p uint16) bool { return p == 53 || p == 5353 || p == 5355 }

type dnsKey struct {
	flow flowKey
	id   uint16
}

// dnsState matches queries with responses.
type dnsState struct {
	layer   layers.DNS
	pending map[dnsKey]*DNSRecord
	scratch []*DNSRecord
}

func newDNSState() dnsState {
	return dnsState{pending: make(map[dnsKey]*DNSRecord)}
}

// dnsMessage decodes one DNS message of a flow and writes the transaction
// when its response arrives. A message that does not decode is counted in
// Stats.AppErrors.
func (e *engine) dnsMessage(f *flow, msg []byte, dir int) {
	d := &e.dns.layer
	if err := decodeDNS(d, msg); err != nil {
		e.stats.AppErrors++
		return
	}

	f.rec.Protocol = "dns"
	key, _ := makeFlowKey(&e.info)
	dk := dnsKey{flow: key, id: d.ID}
	ctx, ok := e.context(f)
	if !ok {
		return
	}
	ctx.Client, ctx.Server = e.endpoints(dir, f)

	if !d.QR {
		if old := e.dns.pending[dk]; old != nil {
			// A retransmitted query: the first one stays unanswered.
			e.sink.dnsRecord(old)
		}
		rec := &DNSRecord{RecordContext: ctx, ID: d.ID, Query: true}
		fillDNSHeader(rec, d)
		e.dns.pending[dk] = rec
		return
	}

	rec := e.dns.pending[dk]
	if rec != nil {
		delete(e.dns.pending, dk)
	} else {
		rec = &DNSRecord{RecordContext: ctx, ID: d.ID}
		fillDNSHeader(rec, d)
	}
	rec.Response = true
	rec.responseTime = e.info.Timestamp
	rec.ResponseCode = dnsResponseCode(d.ResponseCode)
	rec.Answers = make([]DNSAnswer, 0, len(d.Answers))
	for i := range d.Answers {
		rec.Answers = append(rec.Answers, dnsAnswer(&d.Answers[i]))
	}
	e.sink.dnsRecord(rec)
}

// decodeDNS decodes one DNS message into d.
// NOTE: gopacket v1.1.19 panics with "slice bounds out of range" inside
// DNSResourceRecord.decode on some malformed records (found by
// FuzzDecodePacket, kept under testdata/fuzz), so the panic is turned
// into an error here.
func decodeDNS(d *layers.DNS, msg []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed DNS message: gopacket panicked: %v", r)
		}
	}()
	return d.DecodeFromBytes(msg, gopacket.NilDecodeFeedback)
}

// endpoints returns client and server of a message: for a packet sent
// client-to-server in the flow, the sender is the client.
func (e *engine) endpoints(dir int, f *flow) (client, server netip.AddrPort) {
	if dir == dirClientToServer {
		return f.rec.Client, f.rec.Server
	}
	return f.rec.Server, f.rec.Client
}

// maxDNSOverTCP bounds the bytes buffered for one DNS-over-TCP message:
// the 2-byte length prefix allows at most 65535 bytes.
const maxDNSOverTCP = 2 + 65535

// dnsOverTCP decodes the length-prefixed DNS messages of a TCP direction.
// A message that ends in a later segment (or a length prefix sent alone,
// as some resolvers do) is buffered until it is complete.
// NOTE: segments are taken in capture order, without sequence numbers, so
// a lost or reordered segment spoils the rest of that direction's stream.
func (e *engine) dnsOverTCP(f *flow, payload []byte, dir int) {
	buf := payload
	if len(f.dnsBuf[dir]) > 0 {
		f.dnsBuf[dir] = append(f.dnsBuf[dir], payload...)
		buf = f.dnsBuf[dir]
	}
	for len(buf) >= 2 {
		n := int(be16(buf))
		if 2+n > len(buf) {
			break
		}
		e.dnsMessage(f, buf[2:2+n], dir)
		buf = buf[2+n:]
	}
	// Keep the incomplete rest. append copies with memmove, so buf may
	// overlap the buffer it is copied into.
	f.dnsBuf[dir] = append(f.dnsBuf[dir][:0], buf...)
	if len(f.dnsBuf[dir]) > maxDNSOverTCP {
		e.stats.AppErrors++
		f.dnsBuf[dir] = nil
	}
}

func fillDNSHeader(rec *DNSRecord, d *layers.DNS) {
	rec.OpCode = dnsOpCode(d.OpCode)
	rec.QuestionCount = len(d.Questions)
	if len(d.Questions) > 0 {
		rec.Name = string(d.Questions[0].Name)
		rec.Type = dnsTypeName(d.Questions[0].Type)
	}
}

func dnsAnswer(rr *layers.DNSResourceRecord) DNSAnswer {
	a := DNSAnswer{Name: string(rr.Name), Type: dnsTypeName(rr.Type), TTL: rr.TTL}
	switch rr.Type {
	case layers.DNSTypeA, layers.DNSTypeAAAA:
		if rr.IP != nil {
			a.Data = rr.IP.String()
		}
	case layers.DNSTypeCNAME:
		a.Data = string(rr.CNAME)
	case layers.DNSTypeNS:
		a.Data = string(rr.NS)
	case layers.DNSTypePTR:
		a.Data = string(rr.PTR)
	case layers.DNSTypeMX:
		a.Data = string(rr.MX.Name)
	case layers.DNSTypeSOA:
		a.Data = string(rr.SOA.MName)
	case layers.DNSTypeSRV:
		a.Data = string(rr.SRV.Name)
	case layers.DNSTypeTXT:
		parts := make([]string, len(rr.TXTs))
		for i, t := range rr.TXTs {
			parts[i] = string(t)
		}
		a.Data = strings.Join(parts, "")
	default:
		data := rr.Data
		if len(data) > 64 {
			data = data[:64]
		}
		a.Data = hex.EncodeToString(data)
	}
	return a
}

// dnsTypeNames covers the record types seen in practice; others print as
// TYPE<n> (the RFC 3597 form).
var dnsTypeNames = map[uint16]string{
	1: "A", 2: "NS", 5: "CNAME", 6: "SOA", 10: "NULL", 12: "PTR", 13: "HINFO", 15: "MX", 16: "TXT",
	17: "RP", 18: "AFSDB", 24: "SIG", 25: "KEY", 28: "AAAA", 29: "LOC", 32: "NB", 33: "SRV", 35: "NAPTR",
	36: "KX", 37: "CERT", 39: "DNAME", 41: "OPT", 42: "APL", 43: "DS", 44: "SSHFP", 45: "IPSECKEY",
	46: "RRSIG", 47: "NSEC", 48: "DNSKEY", 49: "DHCID", 50: "NSEC3", 51: "NSEC3PARAM", 52: "TLSA",
	53: "SMIMEA", 55: "HIP", 59: "CDS", 60: "CDNSKEY", 61: "OPENPGPKEY", 62: "CSYNC", 63: "ZONEMD",
	64: "SVCB", 65: "HTTPS", 99: "SPF", 249: "TKEY", 250: "TSIG", 251: "IXFR", 252: "AXFR",
	253: "MAILB", 254: "MAILA", 255: "ANY", 256: "URI", 257: "CAA",
}

func dnsTypeName(t layers.DNSType) string {
	if n, ok := dnsTypeNames[uint16(t)]; ok {
		return n
	}
	return "TYPE" + strconv.Itoa(int(t))
}

var dnsRCodes = [...]string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE"}

func dnsResponseCode(c layers.DNSResponseCode) string {
	if int(c) < len(dnsRCodes) {
		return dnsRCodes[c]
	}
	return "RCODE" + strconv.Itoa(int(c))
}

func dnsOpCode(op layers.DNSOpCode) string {
	switch op {
	case 0:
		return "QUERY"
	case 1:
		return "IQUERY"
	case 2:
		return "STATUS"
	case 4:
		return "NOTIFY"
	case 5:
		return "UPDATE"
	}
	return strconv.Itoa(int(op))
}

// expire writes the queries that waited longer than idle for a response.
func (s *dnsState) expire(now int64, idle time.Duration, sink recordSink) {
	s.scratch = s.scratch[:0]
	for k, r := range s.pending {
		if now-r.Timestamp.UnixNano() > int64(idle) {
			s.scratch = append(s.scratch, r)
			delete(s.pending, k)
		}
	}
	s.writeSorted(sink)
}

// flushAll writes every unanswered query.
func (s *dnsState) flushAll(sink recordSink) {
	s.scratch = s.scratch[:0]
	for k, r := range s.pending {
		s.scratch = append(s.scratch, r)
		delete(s.pending, k)
	}
	s.writeSorted(sink)
}

func (s *dnsState) writeSorted(sink recordSink) {
	sort.Slice(s.scratch, func(i, j int) bool {
		a, b := s.scratch[i], s.scratch[j]
		if a.PacketIndex != b.PacketIndex {
			return a.PacketIndex < b.PacketIndex
		}
		return a.Record < b.Record
	})
	for _, r := range s.scratch {
		sink.dnsRecord(r)
	}
}
