package logparse

import (
	"strconv"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// syslogHeader is the parsed header of an RFC 3164 or RFC 5424 message.
type syslogHeader struct {
	priority int // -1 when the message has no <PRI>
	ts       time.Time
	host     string
	tag      string // program name as written, possibly a path
	pid      string
	msgID    string // RFC 5424 MSGID
	sd       string // RFC 5424 STRUCTURED-DATA, "" for "-"
	version  int    // 1 for RFC 5424, 0 otherwise
	msg      string
}

// parseSyslogHeader parses a syslog line. Accepted forms:
//
//	<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG         (RFC 5424)
//	[<PRI>]Mmm dd hh:mm:ss [HOST] TAG[PID]: MSG             (RFC 3164, files)
//	[<PRI>]yyyy-mm-ddThh:mm:ss[.frac][zone] HOST TAG: MSG   (rsyslog ISO files)
//	<PRI>TAG: MSG                                           (no timestamp)
//
// The host is absent when the word after the timestamp already looks like a
// tag ("sshd[12]:", "[sshd]"). Timestamps without a year or zone are resolved
// with loc and ref (see resolveYear).
func parseSyslogHeader(s string, loc *time.Location, ref time.Time) (syslogHeader, bool) {
	h := syslogHeader{priority: -1}
	i := 0
	if len(s) > 2 && s[0] == '<' {
		j := 1
		p := 0
		for j < len(s) && j < 5 && isDigit(s[j]) {
			p = p*10 + int(s[j]-'0')
			j++
		}
		if j == 1 || j >= len(s) || s[j] != '>' || p > 191 {
			return h, false
		}
		h.priority = p
		i = j + 1
		if len(s) > i+2 && s[i] == '1' && s[i+1] == ' ' {
			return parse5424(s, i+2, h, loc)
		}
	}

	rest := s[i:]
	var ts time.Time
	var n int
	var ok bool
	if len(rest) > 0 && isDigit(rest[0]) {
		ts, n, ok = parseISOStamp(rest, loc)
	} else {
		ts, n, ok = parseBSDStamp(rest, loc, ref)
	}

	if ok {
		h.ts = ts
		rest = rest[n:]
		if len(rest) == 0 || rest[0] != ' ' {
			return h, false
		}
		rest = strings.TrimLeft(rest, " ")
	} else if h.priority < 0 {
		// "HOST TAG[PID]: MSG" without a timestamp (systemd journal short
		// output): accepted only with a numeric pid, which plain text
		// rarely has in its second word.
		host, after := cutSpace(rest)
		word, msg := cutSpace(after)
		tag, pid, isTag := splitTag(word)
		if !isTag || pid == "" || !isHostName(host) || !strings.HasSuffix(word, ":") {
			return h, false
		}
		h.host, h.tag, h.pid, h.msg = host, tag, pid, strings.TrimLeft(msg, " ")
		return h, true
	}

	word, after := cutSpace(rest)
	if !ok {
		// <PRI> without timestamp: the tag comes first.
		if tag, pid, isTag := splitTag(word); isTag {
			h.tag, h.pid = tag, pid
			h.msg = strings.TrimLeft(after, " ")
			return h, true
		}
		h.msg = rest
		return h, true
	}

	if tag, pid, isTag := splitTag(word); isTag {
		h.tag, h.pid = tag, pid
		h.msg = strings.TrimLeft(after, " ")
		return h, true
	}
	h.host = word
	word2, after2 := cutSpace(strings.TrimLeft(after, " "))
	if tag, pid, isTag := splitTag(word2); isTag {
		h.tag, h.pid = tag, pid
		h.msg = strings.TrimLeft(after2, " ")
		return h, true
	}
	h.msg = strings.TrimLeft(after, " ")
	return h, true
}

// splitTag recognises a syslog tag word: "prog:", "prog[pid]:", "prog[pid]",
// "[prog]" or "[prog]:". The program may be a path or carry a PAM suffix
// such as "vsftpd(pam_unix)".
func splitTag(w string) (tag, pid string, ok bool) {
	if len(w) < 2 {
		return "", "", false
	}

	if w[0] == '[' {
		w = strings.TrimSuffix(w, ":")
		if w[len(w)-1] == ']' && len(w) > 2 && strings.IndexByte(w[1:len(w)-1], '[') < 0 {
			return w[1 : len(w)-1], "", true
		}
		return "", "", false
	}

	colon := w[len(w)-1] == ':'
	if colon {
		w = w[:len(w)-1]
	}

	if len(w) > 0 && w[len(w)-1] == ']' {
		if j := strings.LastIndexByte(w, '['); j > 0 {
			p := w[j+1 : len(w)-1]
			if isAllDigits(p) {
				return w[:j], p, true
			}
		}
	}

	if colon && len(w) > 0 && w[0] != '[' {
		return w, "", true
	}

	return "", "", false
}

func parse5424(s string, i int, h syslogHeader, loc *time.Location) (syslogHeader, bool) {
	h.version = 1
	rest := s[i:]
	word, rest := cutSpace(rest)
	if word != "-" {
		ts, n, ok := parseISOStamp(word, loc)
		if !ok || n != len(word) {
			return h, false
		}
		h.ts = ts
	}

	var host, app, procID, msgID string
	host, rest = cutSpace(rest)
	app, rest = cutSpace(rest)
	procID, rest = cutSpace(rest)
	msgID, rest = cutSpace(rest)
	if msgID == "" {
		return h, false
	}
	h.host, h.tag, h.pid, h.msgID = nilValue(host), nilValue(app), nilValue(procID), nilValue(msgID)
	if strings.HasPrefix(rest, "-") {
		rest = rest[1:]
	} else if strings.HasPrefix(rest, "[") {
		end := structuredDataEnd(rest)
		if end < 0 {
			return h, false
		}
		h.sd = rest[:end]
		rest = rest[end:]
	} else {
		return h, false
	}

	rest = strings.TrimPrefix(rest, " ")
	h.msg = strings.TrimPrefix(rest, "\ufeff")
	return h, true
}

// structuredDataEnd returns the index after the last SD-ELEMENT of s, which
// starts with '['. Quoted PARAM-VALUEs may contain escaped '"', ']' and '\'.
func structuredDataEnd(s string) int {
	i := 0
	for i < len(s) && s[i] == '[' {
		i++
		inQuote := false
		for ; i < len(s); i++ {
			c := s[i]
			if inQuote {
				if c == '\\' {
					i++
				} else if c == '"' {
					inQuote = false
				}
				continue
			}
			if c == '"' {
				inQuote = true
			} else if c == ']' {
				break
			}
		}
		if i >= len(s) {
			return -1
		}
		i++
	}

	return i
}

func nilValue(s string) string {
	if s == "-" {
		return ""
	}

	return s
}

// cutSpace splits s at its first space.
func cutSpace(s string) (string, string) {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}

	return s, ""
}

func isAllDigits(s string) bool {
	if s == "" {
		return false
	}

	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}

	return true
}

// ParseSyslogMessage parses one syslog message received over the network
// (RFC 3164 or RFC 5424, with or without <PRI>, structured data and BOM) and
// returns its ECS fields and event time, with the same program-specific
// parsing as the file decoder. received is the receive time: it dates
// messages without a timestamp and resolves the year of BSD timestamps; loc
// is the zone of timestamps without one (nil means time.Local). The message
// must not contain the transport's framing (octet count or trailing newline).
// A message that is not syslog is kept as a raw system.syslog event, so ok is
// false only for an empty message.
func ParseSyslogMessage(msg []byte, received time.Time, loc *time.Location) (fields ecs.Fields, ts time.Time, ok bool) {
	s := strings.TrimRight(string(msg), "\r\n\x00")
	if strings.TrimSpace(s) == "" {
		return nil, time.Time{}, false
	}

	if loc == nil {
		loc = time.Local
	}

	d := Decoder{loc: loc, ref: received, now: time.Now}
	p := d.parseSyslogLine(s)
	rec := d.finish(p, s, Line{})
	return rec.Fields, rec.Timestamp, true
}

// parseSyslog parses a syslog line; ok is false when s has no syslog header.
func (d *Decoder) parseSyslog(s string) (parsed, bool) {
	ref := d.reference()
	h, ok := parseSyslogHeader(s, d.loc, ref)
	if !ok {
		return parsed{}, false
	}

	return d.syslogFields(h, ref), true
}

// parseSyslogLine parses s as syslog and falls back to a raw event.
func (d *Decoder) parseSyslogLine(s string) parsed {
	if p, ok := d.parseSyslog(s); ok {
		return p
	}

	return d.rawEvent(s)
}

func (d *Decoder) syslogFields(h syslogHeader, ref time.Time) parsed {
	f := make(ecs.Fields, 24)
	ts := h.ts
	if ts.IsZero() {
		ts = ref
	}
	f.SetString("host.hostname", h.host)
	prog, pamModule := programName(h.tag)
	f.SetString("process.name", prog)
	if h.pid != "" {
		if pid, err := strconv.ParseInt(h.pid, 10, 64); err == nil {
			f["process.pid"] = pid
		}
	}

	if h.priority >= 0 {
		f["log.syslog.priority"] = int64(h.priority)
		f["log.syslog.facility.code"] = int64(h.priority / 8)
		f["log.syslog.severity.code"] = int64(h.priority % 8)
	}

	if h.version == 1 {
		f["log.syslog.version"] = "1"
		f.SetString("log.syslog.msgid", h.msgID)
		f.SetString("log.syslog.structured_data", h.sd)
		f.SetString("log.syslog.appname", h.tag)
		f.SetString("log.syslog.hostname", h.host)
	}
	// Trailing blanks (common after PAM's "rhost=HOST ") are not content.
	msg := strings.TrimRight(h.msg, " \t")
	f["message"] = msg
	dataset := "system.syslog"
	auth, innerTS := d.parseProgram(prog, pamModule, msg, h.host, f)
	if auth {
		dataset = "system.auth"
	}

	if h.ts.IsZero() && !innerTS.IsZero() {
		ts = innerTS
	}

	if _, ok := f["event.dataset"]; !ok {
		f["event.dataset"] = dataset
	}

	return parsed{ts: ts, fields: f}
}

// programName returns the base name of a syslog tag ("/usr/sbin/sshd" →
// "sshd") and a PAM module written in parentheses ("vsftpd(pam_unix)").
func programName(tag string) (prog, pamModule string) {
	if i := strings.LastIndexByte(tag, '/'); i >= 0 && i < len(tag)-1 && tag[0] == '/' {
		tag = tag[i+1:]
	}

	if i := strings.IndexByte(tag, '('); i > 0 && tag[len(tag)-1] == ')' {
		return tag[:i], tag[i+1 : len(tag)-1]
	}

	return tag, ""
}

// parseProgram runs the program-specific parser for a syslog message and
// reports whether the message belongs to the system.auth dataset. A web
// server log line carried in the message returns its own time.
func (d *Decoder) parseProgram(prog, pamModule, msg, host string, f ecs.Fields) (auth bool, ts time.Time) {
	switch {
	case prog == "sshd" || prog == "sshd-session" || prog == "sshd-auth":
		parseSSHD(msg, f)
		d.ssh.enrich(host, f)
		return true, ts
	case prog == "sudo":
		if !parsePAM(msg, pamModule, f) {
			parseSudo(msg, f)
		}
		return true, ts
	case prog == "su":
		if !parsePAM(msg, pamModule, f) {
			parseSu(msg, f)
		}
		return true, ts
	case prog == "vsftpd":
		if parseVsftpdMessage(msg, f) {
			return true, ts
		}
	case prog == "nginx":
		if p, ok := d.parseNginxError(msg); ok {
			mergeWeb(f, p.fields)
			return isAuthEvent(f), p.ts
		}
		if p, ok := d.parseAccess(msg); ok {
			mergeWeb(f, p.fields)
			return false, p.ts
		}
	case strings.HasPrefix(prog, "httpd") || strings.HasPrefix(prog, "apache"):
		// ErrorLog syslog: the error log line without its timestamp.
		if strings.HasPrefix(msg, "[") {
			wf := make(ecs.Fields, 16)
			if rest, ok := apacheErrorBody(msg, wf); ok {
				wf["message"] = rest
				classifyApacheMessage(rest, wf)
				mergeWeb(f, wf)
				return false, ts
			}
		}
	}

	return parsePAM(msg, pamModule, f), ts
}

func isAuthEvent(f ecs.Fields) bool {
	cats, _ := f["event.category"].([]string)
	for _, c := range cats {
		if c == "authentication" {
			return true
		}
	}

	return false
}

// mergeWeb copies the fields of a web log carried inside syslog, keeping the
// syslog header's host, process and message.
func mergeWeb(dst, src ecs.Fields) {
	for k, v := range src {
		if _, exists := dst[k]; exists && (k == "message" || strings.HasPrefix(k, "process.")) {
			continue
		}
		dst[k] = v
	}
}
