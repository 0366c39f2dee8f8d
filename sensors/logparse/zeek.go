package logparse

import (
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// zeekStream returns the log stream of a Zeek JSON line ("conn", "dns"),
// named by "@stream" (as JSON shippers write it) or "_path" (Zeek's own JSON
// writer with path output), or "" when the line is not Zeek output.
func zeekStream(flat ecs.Fields) string {
	if _, ok := flat["ts"]; !ok {
		return ""
	}

	for _, k := range [...]string{"@stream", "_path"} {
		if s, ok := flat[k].(string); ok && s != "" && isHostName(s) {
			return s
		}
	}

	return ""
}

// zeekFields maps a Zeek JSON log line to ECS: event.dataset zeek.<stream>,
// the connection tuple (id.orig_h or id_orig_h, ...) to source.* and
// destination.*, uid to zeek.session_id, and every field to
// zeek.<stream>.<name>. A few stream fields get their ECS names too
// (dns.question.name, http.request.method, url.original, ...).
// Zeek's tab-separated format arrives here through parseZeekTSV.
func zeekFields(flat ecs.Fields, stream string, names *fieldNames) (ecs.Fields, time.Time) {
	f := make(ecs.Fields, len(flat)+16)
	f["event.dataset"] = "zeek." + stream
	f["event.module"] = "zeek"
	f["event.kind"] = "event"
	f["event.category"] = categoryNetwork
	prefix := names.join("zeek.", stream+".")
	for k, v := range flat {
		if k == "@stream" || k == "_path" || k == "ts" {
			continue
		}
		f[names.join(prefix, k)] = ecs.NormalizeValue(v)
	}

	tuple := func(ecsName string, keys ...string) {
		for _, k := range keys {
			if v, ok := flat[k]; ok && v != nil {
				f[ecsName] = ecs.NormalizeValue(v)
				return
			}
		}
	}
	tuple("source.ip", "id.orig_h", "id_orig_h")
	tuple("source.port", "id.orig_p", "id_orig_p")
	tuple("destination.ip", "id.resp_h", "id_resp_h")
	tuple("destination.port", "id.resp_p", "id_resp_p")
	tuple("network.transport", "proto")
	tuple("zeek.session_id", "uid")
	if s, ok := flat["@system"].(string); ok {
		f["observer.hostname"] = s
	}

	switch stream {
	case "conn":
		tuple("network.protocol", "service")
	case "dns":
		tuple("dns.question.name", "query")
		tuple("dns.question.type", "qtype_name")
		tuple("dns.response_code", "rcode_name")
	case "http":
		tuple("http.request.method", "method")
		tuple("url.original", "uri")
		tuple("url.domain", "host")
		tuple("http.response.status_code", "status_code")
		tuple("user_agent.original", "user_agent")
	case "ssl":
		tuple("tls.version", "version")
		tuple("tls.cipher", "cipher")
		tuple("tls.client.server_name", "server_name")
	}

	var ts time.Time
	switch v := flat["ts"].(type) {
	case json.Number:
		if sec, err := v.Float64(); err == nil && !math.IsInf(sec, 0) && math.Abs(sec) < 1e11 {
			whole, frac := math.Modf(sec)
			ts = time.Unix(int64(whole), int64(math.Round(frac*1e6))*1000).UTC()
		}
	case string:
		if t, err := ecs.ParseTime(strings.TrimSpace(v)); err == nil {
			ts = t
		}
	}

	return f, ts
}
