package packet

import (
	"bytes"
	"net"
	"net/url"
	"strings"
)

// HTTPRecord is one HTTP/1.x request line with its Host and User-Agent
// headers.
type HTTPRecord struct {
	RecordContext
	Method    string
	URI       string // request target as sent: origin form "/a?b" or absolute form
	Path      string // URI path without the query
	Query     string // URI query without the "?"
	Host      string // Host header as sent (or the host of an absolute-form target), port included
	Domain    string // Host without the port
	Port      string // port of Host, if it has one
	Version   string // "1.0" or "1.1"
	UserAgent string
}

// httpMethods are the request methods recognized at the start of a
// segment (RFC 9110 and WebDAV).
var httpMethods = []string{
	"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PATCH",
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT",
}

// maxHTTPLine bounds the request line searched for.
const maxHTTPLine = 8 << 10

// httpSegment records an HTTP/1.x request that starts at the beginning of
// a client-to-server TCP segment, on any port.
// NOTE: there is no TCP reassembly: a request line split across segments
// is missed, and Host or User-Agent headers that arrive in a later segment
// than the request line are left empty.
func (e *engine) httpSegment(f *flow, payload []byte) {
	if !startsWithMethod(payload) {
		return
	}
	rec, ok := parseHTTPRequest(payload)
	if !ok {
		return
	}
	ctx, ok := e.context(f)
	if !ok {
		return
	}
	rec.RecordContext = ctx
	f.rec.Protocol = "http"
	e.sink.httpRecord(rec)
}

func startsWithMethod(p []byte) bool {
	if len(p) < 4 || p[0] < 'A' || p[0] > 'Z' {
		return false
	}
	for _, m := range httpMethods {
		if len(p) > len(m) && p[len(m)] == ' ' && string(p[:len(m)]) == m {
			return true
		}
	}
	return false
}

// parseHTTPRequest parses "METHOD SP target SP HTTP/x.y" and the headers
// that follow in the same segment.
func parseHTTPRequest(p []byte) (*HTTPRecord, bool) {
	if len(p) > maxHTTPLine {
		p = p[:maxHTTPLine]
	}
	end := bytes.IndexByte(p, '\n')
	if end < 0 {
		return nil, false
	}
	line := bytes.TrimRight(p[:end], "\r")
	sp1 := bytes.IndexByte(line, ' ')
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp1 <= 0 || sp2 <= sp1 {
		return nil, false
	}
	proto := line[sp2+1:]
	if !bytes.HasPrefix(proto, []byte("HTTP/")) {
		return nil, false
	}
	rec := &HTTPRecord{
		Method:  string(line[:sp1]),
		URI:     string(line[sp1+1 : sp2]),
		Version: string(proto[len("HTTP/"):]),
	}
	target := rec.URI
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		if u, err := url.Parse(target); err == nil {
			rec.Host = u.Host
			target = u.RequestURI()
		}
	}
	rec.Path, rec.Query, _ = strings.Cut(target, "?")

	for rest := p[end+1:]; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break // header line cut by the segment end
		}
		h := bytes.TrimRight(rest[:i], "\r")
		rest = rest[i+1:]
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte{':'})
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case asciiEqualFold(name, "host"):
			rec.Host = string(value)
		case asciiEqualFold(name, "user-agent"):
			rec.UserAgent = string(value)
		}
	}
	rec.Domain = rec.Host
	if host, port, err := net.SplitHostPort(rec.Host); err == nil {
		rec.Domain, rec.Port = host, port
	}
	return rec, true
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
