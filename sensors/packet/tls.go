package packet

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// TLSRecord is one TLS handshake seen from its ClientHello, with the
// version the server chose when its ServerHello was seen.
type TLSRecord struct {
	RecordContext
	SNI           string   // server_name extension, host_name entry
	ALPN          []string // application_layer_protocol_negotiation values, in order
	ClientVersion string   // highest version the client offers: "TLS 1.3", "TLS 1.2", ...
	Version       string   // version chosen in the ServerHello; empty if none was seen
	JA3           string   // MD5 of JA3String, lowercase hex
	JA3String     string   // SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats
	JA4           string   // FoxIO JA4 TLS client fingerprint, e.g. t13d1516h2_8daaf6152771_e5627efa2ab1
	JA4Raw        string   // JA4_r: the same with the sorted lists in clear instead of hashes
	Ciphers       []uint16 // offered cipher suites in order, GREASE included
}

// maxClientHello bounds the bytes buffered to reassemble a ClientHello
// that spans TCP segments (post-quantum key shares make it ~1.8 KB).
const maxClientHello = 1 << 16

// tlsFlowState is the TLS handshake state of one TCP flow.
type tlsFlowState struct {
	clientDone bool   // the first client payload was handled
	serverDone bool   // the ServerHello was handled or ruled out
	buf        []byte // client bytes of a ClientHello not yet complete
	pending    *TLSRecord
}

// errIncomplete reports that a hello needs more bytes.
var errIncomplete = errors.New("incomplete TLS handshake message")

// tlsSegment handles a TCP segment that may be part of a TLS handshake and
// reports whether it was TLS. It looks at the first client payload (and
// its continuation while a ClientHello is incomplete) and the first server
// payload after a ClientHello.
// NOTE: continuation segments are taken in capture order; a reordered or
// retransmitted segment spoils the reassembly, and the hello is then lost.
func (e *engine) tlsSegment(f *flow, dir int) bool {
	t := &f.tls
	payload := e.info.Payload
	if dir == dirServerToClient {
		if t.pending == nil || t.serverDone {
			return t.pending != nil
		}
		t.serverDone = true
		if v, ok := parseServerHelloVersion(payload); ok {
			t.pending.Version = tlsVersionName(v)
		}
		e.sink.tlsRecord(t.pending)
		t.pending = nil
		return true
	}

	if t.clientDone {
		return t.pending != nil
	}
	if t.buf == nil {
		if !looksLikeClientHello(payload) {
			t.clientDone = true
			return false
		}
		t.buf = make([]byte, 0, 2*len(payload))
	}

	t.buf = append(t.buf, payload...)
	hello, err := clientHelloFromRecords(t.buf)
	if errors.Is(err, errIncomplete) && len(t.buf) < maxClientHello {
		return true
	}

	t.clientDone = true
	t.buf = nil
	if err != nil {
		e.stats.AppErrors++
		return true
	}
	ctx, ok := e.context(f)
	if !ok {
		return true
	}
	rec, err := parseClientHello(hello)
	if err != nil {
		e.stats.AppErrors++
		return true
	}

	rec.RecordContext = ctx
	f.rec.Protocol = "tls"
	t.pending = rec
	return true
}

// looksLikeClientHello checks the TLS record header: content type 22
// (handshake), major version 3, and handshake type 1 (ClientHello).
func looksLikeClientHello(p []byte) bool {
	return len(p) >= 6 && p[0] == 22 && p[1] == 3 && p[2] <= 4 && p[5] == 1
}

// clientHelloFromRecords joins the handshake fragments of consecutive TLS
// records and returns the ClientHello body (after the 4-byte handshake
// header) once it is complete.
func clientHelloFromRecords(b []byte) ([]byte, error) {
	var hs []byte
	for len(b) >= 5 {
		if b[0] != 22 {
			return nil, fmt.Errorf("TLS record type %d inside a ClientHello", b[0])
		}
		n := int(be16(b[3:5]))
		if len(b) < 5+n {
			// A partial record: take what there is. The length check below
			// decides whether the hello is already complete.
			hs = append(hs, b[5:]...)
			b = nil
			break
		}
		hs = append(hs, b[5:5+n]...)
		b = b[5+n:]
		if len(hs) >= 4 && len(hs) >= 4+int(uint32(hs[1])<<16|uint32(hs[2])<<8|uint32(hs[3])) {
			break
		}
	}
	if len(hs) < 4 {
		return nil, errIncomplete
	}
	if hs[0] != 1 {
		return nil, fmt.Errorf("TLS handshake type %d, expected 1 (ClientHello)", hs[0])
	}
	n := int(uint32(hs[1])<<16 | uint32(hs[2])<<8 | uint32(hs[3]))
	if len(hs) < 4+n {
		return nil, errIncomplete
	}
	return hs[4 : 4+n], nil
}

// helloReader reads the length-prefixed fields of a hello message.
type helloReader struct {
	b   []byte
	bad bool
}

func (r *helloReader) bytes(n int) []byte {
	if r.bad || n > len(r.b) {
		r.bad = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *helloReader) u8() int {
	v := r.bytes(1)
	if v == nil {
		return 0
	}
	return int(v[0])
}

func (r *helloReader) u16() int {
	v := r.bytes(2)
	if v == nil {
		return 0
	}
	return int(be16(v))
}

func u16s(b []byte) []uint16 {
	out := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		out = append(out, be16(b[i:]))
	}
	return out
}

// isGREASE reports the RFC 8701 reserved values 0x0a0a, 0x1a1a, ... 0xfafa.
func isGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// clientHello holds the fields of a ClientHello that the fingerprints use.
type clientHello struct {
	version      uint16
	ciphers      []uint16
	extensions   []uint16
	groups       []uint16
	pointFormats []byte
	sigAlgs      []uint16
	versions     []uint16 // supported_versions
	sni          string
	alpn         []string
}

// parseClientHello parses a ClientHello body and computes the record.
func parseClientHello(body []byte) (*TLSRecord, error) {
	var h clientHello
	r := helloReader{b: body}
	h.version = uint16(r.u16())
	r.bytes(32) // random
	r.bytes(r.u8())
	h.ciphers = u16s(r.bytes(r.u16()))
	r.bytes(r.u8()) // compression methods
	if r.bad {
		return nil, errors.New("ClientHello shorter than its fixed fields")
	}
	if len(r.b) >= 2 {
		ext := helloReader{b: r.bytes(r.u16())}
		for len(ext.b) >= 4 && !ext.bad {
			typ := uint16(ext.u16())
			data := ext.bytes(ext.u16())
			if ext.bad {
				break
			}
			h.extensions = append(h.extensions, typ)
			h.parseExtension(typ, data)
		}
		if ext.bad {
			return nil, errors.New("ClientHello extension longer than the message")
		}
	}
	return h.record(), nil
}

func (h *clientHello) parseExtension(typ uint16, data []byte) {
	d := helloReader{b: data}
	switch typ {
	case 0x0000: // server_name
		list := helloReader{b: d.bytes(d.u16())}
		for len(list.b) >= 3 && !list.bad {
			kind := list.u8()
			name := list.bytes(list.u16())
			if kind == 0 && name != nil && h.sni == "" {
				h.sni = string(name)
			}
		}
	case 0x0010: // application_layer_protocol_negotiation
		list := helloReader{b: d.bytes(d.u16())}
		for len(list.b) >= 1 && !list.bad {
			p := list.bytes(list.u8())
			if p != nil {
				h.alpn = append(h.alpn, string(p))
			}
		}
	case 0x000a: // supported_groups
		h.groups = u16s(d.bytes(d.u16()))
	case 0x000b: // ec_point_formats
		h.pointFormats = d.bytes(d.u8())
	case 0x000d: // signature_algorithms
		h.sigAlgs = u16s(d.bytes(d.u16()))
	case 0x002b: // supported_versions
		h.versions = u16s(d.bytes(d.u8()))
	}
}

func (h *clientHello) record() *TLSRecord {
	rec := &TLSRecord{
		SNI:     h.sni,
		ALPN:    h.alpn,
		Ciphers: h.ciphers,
	}
	rec.ClientVersion = tlsVersionName(h.maxVersion())
	rec.JA3String = h.ja3String()
	sum := md5.Sum([]byte(rec.JA3String))
	rec.JA3 = hex.EncodeToString(sum[:])
	rec.JA4, rec.JA4Raw = h.ja4()
	return rec
}

// maxVersion is the highest non-GREASE supported_versions entry, or the
// legacy version field without that extension.
func (h *clientHello) maxVersion() uint16 {
	v := uint16(0)
	for _, x := range h.versions {
		if !isGREASE(x) && x > v {
			v = x
		}
	}
	if v == 0 {
		v = h.version
	}
	return v
}

// ja3String builds the JA3 input: decimal values, GREASE values removed,
// fields separated by commas and list items by dashes.
func (h *clientHello) ja3String() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(h.version)))
	writeList := func(vals []uint16) {
		b.WriteByte(',')
		first := true
		for _, v := range vals {
			if isGREASE(v) {
				continue
			}
			if !first {
				b.WriteByte('-')
			}
			first = false
			b.WriteString(strconv.Itoa(int(v)))
		}
	}
	writeList(h.ciphers)
	writeList(h.extensions)
	writeList(h.groups)
	b.WriteByte(',')
	for i, p := range h.pointFormats {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(strconv.Itoa(int(p)))
	}
	return b.String()
}

// ja4 computes the JA4 TLS client fingerprint (FoxIO, JA4 specification):
//
//	a: "t" (TLS over TCP), two-character version, "d" with SNI or "i"
//	   without, the number of cipher suites and of extensions (two digits
//	   each, at most 99), and the first and last character of the first
//	   ALPN value ("00" without ALPN);
//	b: the first 12 hex digits of SHA-256 over the sorted cipher suites
//	   (4-digit lowercase hex, comma-separated);
//	c: the same over the sorted extensions without SNI (0000) and ALPN
//	   (0010), then "_" and the signature algorithms in their order.
//
// GREASE values are left out everywhere. It returns the fingerprint and
// its raw form (JA4_r) with the lists in clear.
func (h *clientHello) ja4() (fp, raw string) {
	ciphers := nonGREASE(h.ciphers)
	exts := nonGREASE(h.extensions)
	sni := "i"
	if slices.Contains(exts, 0x0000) {
		sni = "d"
	}
	a := "t" + ja4Version(h.maxVersion()) + sni + twoDigits(len(ciphers)) + twoDigits(len(exts)) + ja4ALPN(h.alpn)

	slices.Sort(ciphers)
	cipherList := hexList(ciphers)

	var rest []uint16
	for _, x := range exts {
		if x != 0x0000 && x != 0x0010 {
			rest = append(rest, x)
		}
	}
	slices.Sort(rest)
	extList := hexList(rest)
	if sig := nonGREASE(h.sigAlgs); len(sig) > 0 {
		extList += "_" + hexList(sig)
	}
	return a + "_" + ja4Hash(cipherList) + "_" + ja4Hash(extList), a + "_" + cipherList + "_" + extList
}

func nonGREASE(vals []uint16) []uint16 {
	out := make([]uint16, 0, len(vals))
	for _, v := range vals {
		if !isGREASE(v) {
			out = append(out, v)
		}
	}
	return out
}

func hexList(vals []uint16) string {
	var b strings.Builder
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%04x", v)
	}
	return b.String()
}

// ja4Hash is the first 12 hex digits of SHA-256, or twelve zeros for an
// empty list.
func ja4Hash(s string) string {
	if s == "" {
		return "000000000000"
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:12]
}

func twoDigits(n int) string {
	if n > 99 {
		n = 99
	}
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func ja4Version(v uint16) string {
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

// ja4ALPN returns the first and last character of the first ALPN value.
// When either is not an ASCII letter or digit, it returns the first hex
// digit of the first byte and the last hex digit of the last byte.
func ja4ALPN(alpn []string) string {
	if len(alpn) == 0 || alpn[0] == "" {
		return "00"
	}
	v := alpn[0]
	first, last := v[0], v[len(v)-1]
	if isAlnum(first) && isAlnum(last) {
		return string([]byte{first, last})
	}
	const digits = "0123456789abcdef"
	return string([]byte{digits[first>>4], digits[last&0x0f]})
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// parseServerHelloVersion returns the version a ServerHello chose: the
// supported_versions extension when present (TLS 1.3), else the legacy
// version field. It needs the ServerHello in the first record.
func parseServerHelloVersion(p []byte) (uint16, bool) {
	if len(p) < 9 || p[0] != 22 || p[1] != 3 || p[5] != 2 {
		return 0, false
	}
	n := int(uint32(p[6])<<16 | uint32(p[7])<<8 | uint32(p[8]))
	body := p[9:]
	if len(body) > n {
		body = body[:n]
	}
	r := helloReader{b: body}
	version := uint16(r.u16())
	r.bytes(32)
	r.bytes(r.u8())
	r.bytes(2) // cipher suite
	r.bytes(1) // compression method
	if r.bad {
		return version, version != 0
	}
	ext := helloReader{b: r.bytes(r.u16())}
	for len(ext.b) >= 4 && !ext.bad {
		typ := ext.u16()
		data := ext.bytes(ext.u16())
		if typ == 0x002b && len(data) == 2 {
			return be16(data), true
		}
	}
	return version, true
}

// tlsVersionName names a protocol version the way Suricata and Wireshark
// print it: "TLS 1.2", "SSL 3.0", "DTLS 1.2"; unknown values as hex.
func tlsVersionName(v uint16) string {
	switch v {
	case 0x0304:
		return "TLS 1.3"
	case 0x0303:
		return "TLS 1.2"
	case 0x0302:
		return "TLS 1.1"
	case 0x0301:
		return "TLS 1.0"
	case 0x0300:
		return "SSL 3.0"
	case 0x0002:
		return "SSL 2.0"
	case 0xfeff:
		return "DTLS 1.0"
	case 0xfefd:
		return "DTLS 1.2"
	case 0xfefc:
		return "DTLS 1.3"
	}
	return fmt.Sprintf("0x%04x", v)
}
