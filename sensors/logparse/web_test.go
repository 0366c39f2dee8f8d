package logparse

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestAccessLogFiles parses whole access logs and checks each record against
// an independent regular expression over the same line.
func TestAccessLogFiles(t *testing.T) {
	re := regexp.MustCompile(`^(\S+) \S+ (\S+) \[([^\]]+)\] "(\S+) (\S+) HTTP/([\d.]+)" (\d{3}) (\d+|-)`)
	for _, name := range []string{"elastic-examples/apache_access_combined.log", "evtx-attack-samples/web_attack_and_isp_webshell_localhost_access_log.txt"} {
		lines := readLines(t, dataDir+"logs/web/"+name)
		recs := decodeAll(t, FormatAccess, Options{}, lines, nil)
		checked := 0
		for _, l := range lines {
			rec := recs[l.offset]
			if rec.Err != nil {
				t.Errorf("%s:%d: %v", name, l.no, rec.Err)
				continue
			}
			m := re.FindStringSubmatch(l.text)
			if m == nil {
				continue
			}
			checked++
			f := rec.Fields
			status, _ := strconv.ParseInt(m[7], 10, 64)
			ts, _ := time.Parse("02/Jan/2006:15:04:05 -0700", m[3])
			if f["source.ip"] != m[1] && f["source.address"] != m[1] || f["http.request.method"] != m[4] || f["url.original"] != m[5] ||
				f["http.version"] != m[6] || f["http.response.status_code"] != status || !rec.Timestamp.Equal(ts) {
				t.Errorf("%s:%d: fields %v", name, l.no, f)
			}
			if m[8] != "-" {
				n, _ := strconv.ParseInt(m[8], 10, 64)
				if f["http.response.body.bytes"] != n {
					t.Errorf("%s:%d: bytes %v", name, l.no, f["http.response.body.bytes"])
				}
			}
			if (status >= 400) != (f["event.outcome"] == "failure") {
				t.Errorf("%s:%d: outcome %v for %d", name, l.no, f["event.outcome"], status)
			}
		}
		if checked < len(lines)*9/10 {
			t.Errorf("%s: only %d of %d lines matched the reference expression", name, checked, len(lines))
		}
		t.Logf("%s: %d lines parsed, %d cross-checked", name, len(lines), checked)
	}
}

func TestWebLines(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		line   string
		check  map[string]any
	}{
		{"combined with query", FormatAccess, `192.0.2.1 - bob [10/Oct/2000:13:55:36 -0700] "GET /a/b?x=1&y=2 HTTP/1.1" 401 2326 "http://ref/" "curl/8.0"`,
			map[string]any{"user.name": "bob", "url.path": "/a/b", "url.query": "x=1&y=2", "http.request.referrer": "http://ref/", "user_agent.original": "curl/8.0", "event.outcome": "failure", "source.ip": "192.0.2.1"}},
		{"common with escaped quote", FormatAccess, `::1 - - [10/Oct/2000:13:55:36 +0000] "GET /\"x HTTP/1.0" 200 -`,
			map[string]any{"url.original": `/\"x`, "http.response.body.bytes": nil, "source.ip": "::1"}},
		{"garbage request", FormatAccess, `192.0.2.1 - - [10/Oct/2000:13:55:36 +0000] "\x16\x03\x01" 400 150`,
			map[string]any{"url.original": `\x16\x03\x01`, "http.request.method": nil}},
		{"apache 2.4", FormatApacheError, `[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:1234] AH00037: Symbolic link not allowed`,
			map[string]any{"log.level": "error", "apache.error.module": "core", "process.pid": int64(35708), "process.thread.id": int64(4328636416), "source.ip": "72.15.99.187", "source.port": int64(1234), "error.code": "AH00037", "message": "AH00037: Symbolic link not allowed"}},
		{"apache 2.2 auth", FormatApacheError, `[Thu Jul 11 01:21:43 2013] [error] [client 194.228.20.113] user dsfasdf not found: /`,
			map[string]any{"event.action": ActionWebAuth, "event.outcome": "failure", "user.name": "dsfasdf", "source.ip": "194.228.20.113"}},
		{"apache client in message", FormatApacheError, `[Sat Jun 01 02:17:42 2013] [error] [client 192.168.33.1] File does not exist: /srv/http/site/[client 192.168.0.1] user root not found`,
			map[string]any{"source.ip": "192.168.33.1", "event.action": nil}},
		{"nginx error", FormatNginxError, `2023/01/02 15:04:05 [error] 1234#0: *5 open() "/x" failed (2: No such file or directory), client: 1.2.3.4, server: example.org, request: "GET /x HTTP/1.1", host: "example.org"`,
			map[string]any{"log.level": "error", "process.pid": int64(1234), "process.thread.id": int64(0), "nginx.error.connection_id": int64(5), "source.ip": "1.2.3.4", "http.request.method": "GET", "url.original": "/x", "url.domain": "example.org", "message": `open() "/x" failed (2: No such file or directory)`}},
		{"nginx auth injection", FormatNginxError, `2014/04/03 22:20:40 [error] 30708#0: *3 user "test": password mismatch, client: 127.0.0.1, server: test, request: "GET / HTTP/1.1", host: "localhost:8443"": was not found in "/etc/nginx/.htpasswd", client: 192.0.2.2, server: , request: "GET / HTTP/1.1", host: "localhost:8443"`,
			map[string]any{"source.ip": "192.0.2.2", "event.outcome": "failure"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := decodeOne(t, tc.format, tc.line)
			if rec.Err != nil {
				t.Fatal(rec.Err)
			}
			for k, want := range tc.check {
				got, ok := rec.Fields[k]
				if want == nil {
					if ok {
						t.Errorf("%s = %#v, want absent", k, got)
					}
					continue
				}
				if got != want {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
		})
	}
}

func TestExplicitFormatMismatch(t *testing.T) {
	rec := decodeOne(t, FormatAccess, "Jan  1 00:00:00 h prog: hello")
	if pe, ok := rec.Err.(*ParseError); !ok || pe.Reason != ReasonFormatMismatch {
		t.Fatalf("err %v", rec.Err)
	}
	if pe := rec.Err.(*ParseError); pe.Text("vi") == "" || pe.Reason.CatalogKey() != "logparse.deadletter.format_mismatch" {
		t.Errorf("catalog text missing")
	}
}
