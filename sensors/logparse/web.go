package logparse

import (
	"strconv"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

var (
	categoryWeb     any = []string{"web"}
	categoryWebAuth any = []string{"web", "authentication"}
	typeAccess      any = []string{"access"}
	typeError       any = []string{"error"}
)

// parseAccess parses the NCSA common and combined access log formats that
// Apache and nginx write by default:
//
//	HOST IDENT USER [dd/Mon/yyyy:hh:mm:ss ±zzzz] "METHOD TARGET PROTOCOL" STATUS BYTES ["REFERER" "USER-AGENT"] ...
//
// Fields after the user agent (nginx extras) are ignored. A request that is
// not "METHOD TARGET PROTOCOL" (garbage sent by scanners) is kept whole in
// url.original.
func (d *Decoder) parseAccess(s string) (parsed, bool) {
	host, rest := cutSpace(s)
	ident, rest := cutSpace(rest)
	if host == "" || ident == "" || rest == "" {
		return parsed{}, false
	}
	// The user may contain spaces in rare configurations; it ends at " [".
	i := strings.Index(rest, " [")
	if i < 0 {
		return parsed{}, false
	}

	user := rest[:i]
	rest = rest[i+2:]
	j := strings.IndexByte(rest, ']')
	if j < 0 {
		return parsed{}, false
	}

	ts, ok := parseAccessTime(rest[:j])
	if !ok {
		return parsed{}, false
	}

	rest = rest[j+1:]
	if !strings.HasPrefix(rest, " \"") {
		return parsed{}, false
	}

	request, rest, ok := quotedRequest(rest[1:])
	if !ok {
		return parsed{}, false
	}

	rest = strings.TrimLeft(rest, " ")
	status, rest := cutSpace(rest)
	if len(status) != 3 || !isAllDigits(status) {
		return parsed{}, false
	}

	size, rest := cutSpace(rest)
	if size != "-" && !isAllDigits(size) {
		return parsed{}, false
	}

	f := make(ecs.Fields, 24)
	f["event.dataset"] = "web.access"
	setSource(f, host)
	if user != "-" && user != "" {
		f["user.name"] = user
	}

	code, _ := strconv.ParseInt(status, 10, 64)
	f["http.response.status_code"] = code
	if size != "-" {
		if n, err := strconv.ParseInt(size, 10, 64); err == nil {
			f["http.response.body.bytes"] = n
		}
	}
	setRequest(f, request)
	rest = strings.TrimLeft(rest, " ")
	if strings.HasPrefix(rest, "\"") {
		var referrer, ua string
		referrer, rest, ok = quoted(rest)
		if ok && referrer != "-" && referrer != "" {
			f["http.request.referrer"] = referrer
		}
		rest = strings.TrimLeft(rest, " ")
		if ok && strings.HasPrefix(rest, "\"") {
			if ua, _, ok = quoted(rest); ok && ua != "-" && ua != "" {
				f["user_agent.original"] = ua
			}
		}
	}

	outcome := "success"
	if code >= 400 {
		outcome = "failure"
	}

	category := categoryWeb
	if code == 401 || code == 407 {
		category = categoryWebAuth
	}

	f["event.category"] = category
	f["event.type"] = typeAccess
	setOutcome(f, outcome)
	return parsed{ts: ts, fields: f}, true
}

// quoted reads a double-quoted string at the start of s (backslash escapes
// kept as written) and returns it and the text after the closing quote.
func quoted(s string) (string, string, bool) {
	if len(s) == 0 || s[0] != '"' {
		return "", s, false
	}

	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[1:i], s[i+1:], true
		}
	}

	return "", s, false
}

// quotedRequest reads the quoted request line. Some servers (Tomcat) do not
// escape '"' inside it, so the closing quote is the first one followed by
// " NNN " (the status code).
func quotedRequest(s string) (string, string, bool) {
	if req, rest, ok := quoted(s); ok && statusFollows(rest) {
		return req, rest, true
	}

	if len(s) == 0 || s[0] != '"' {
		return "", s, false
	}

	for i := 1; i < len(s); i++ {
		if s[i] == '"' && statusFollows(s[i+1:]) {
			return s[1:i], s[i+1:], true
		}
	}

	return "", s, false
}

// statusFollows reports whether s starts with " NNN" and then a space or the
// end of the line.
func statusFollows(s string) bool {
	return len(s) >= 4 && s[0] == ' ' && isDigit(s[1]) && isDigit(s[2]) && isDigit(s[3]) && (len(s) == 4 || s[4] == ' ')
}

// setRequest splits "METHOD TARGET PROTOCOL" into ECS http and url fields.
func setRequest(f ecs.Fields, request string) {
	if request == "" || request == "-" {
		return
	}

	method, rest := cutSpace(request)
	target, proto := rest, ""
	if i := strings.LastIndexByte(rest, ' '); i >= 0 && strings.HasPrefix(rest[i+1:], "HTTP/") {
		target, proto = rest[:i], rest[i+1:]
	}

	if !isMethod(method) || target == "" {
		f["url.original"] = request
		return
	}

	f["http.request.method"] = method
	f["url.original"] = target
	path, query, hasQuery := strings.Cut(target, "?")
	f["url.path"] = path
	if hasQuery {
		f["url.query"] = query
	}

	if proto != "" {
		f["http.version"] = strings.TrimPrefix(proto, "HTTP/")
	}
}

func isMethod(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}

	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}

	return true
}

// parseAccessTime parses "dd/Mon/yyyy:hh:mm:ss ±zzzz".
func parseAccessTime(s string) (time.Time, bool) {
	if len(s) != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[20] != ' ' {
		return time.Time{}, false
	}

	day, ok1 := num(s, 0, 2)
	month, ok2 := parseMonth(s[3:6])
	year, ok3 := num(s, 7, 4)
	h, m, sec, _, ok4 := parseClock(s, 12)
	zh, ok5 := num(s, 22, 2)
	zm, ok6 := num(s, 24, 2)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || (s[21] != '+' && s[21] != '-') {
		return time.Time{}, false
	}

	off := zh*3600 + zm*60
	if s[21] == '-' {
		off = -off
	}

	return time.Date(year, month, day, h, m, sec, 0, fixedZone(off)), true
}

// fixedZone caches the zones of access logs, which repeat on every line.
var zoneCache [48 * 4 * 2]*time.Location

func fixedZone(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}

	idx := off / 900
	if off%900 == 0 && idx > -48*4 && idx < 48*4 {
		i := idx + 48*4
		if z := zoneCache[i]; z != nil {
			return z
		}
		z := time.FixedZone("", off)
		zoneCache[i] = z
		return z
	}

	return time.FixedZone("", off)
}

// parseApacheError parses both Apache error log forms:
//
//	[Www Mmm dd hh:mm:ss yyyy] [LEVEL] [client ADDR] MESSAGE                         (2.2)
//	[Www Mmm dd hh:mm:ss.uuuuuu yyyy] [MODULE:LEVEL] [pid N:tid T] [client ADDR:PORT] MESSAGE (2.4)
//
// Only the bracketed fields right after the timestamp are read, so a
// "[client X]" inside the message text cannot replace the real client.
func (d *Decoder) parseApacheError(s string) (parsed, bool) {
	if len(s) < 26 || s[0] != '[' {
		return parsed{}, false
	}

	ts, n, ok := parseCtimeStamp(s[1:], d.loc)
	if !ok || n+1 >= len(s) || s[n+1] != ']' {
		return parsed{}, false
	}

	f := make(ecs.Fields, 20)
	rest, ok := apacheErrorBody(strings.TrimLeft(s[n+2:], " "), f)
	if !ok {
		return parsed{}, false
	}

	f["message"] = rest
	classifyApacheMessage(rest, f)
	return parsed{ts: ts, fields: f}, true
}

// apacheErrorBody parses the bracketed fields after the timestamp
// ("[MODULE:LEVEL] [pid N:tid T] [client ADDR:PORT]") into f and returns the
// message. Only brackets right at the start are read, so a "[client X]" inside
// the message text cannot replace the real client.
func apacheErrorBody(rest string, f ecs.Fields) (string, bool) {
	f["event.dataset"] = "web.error"
	f["service.type"] = "apache"
	gotLevel := false
brackets:
	for strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			break
		}
		item := rest[1:end]
		switch {
		case !gotLevel:
			if strings.IndexByte(item, ' ') >= 0 {
				return "", false
			}
			module, level, found := strings.Cut(item, ":")
			if !found {
				level, module = module, ""
			}
			f.SetString("log.level", level)
			f.SetString("apache.error.module", module)
			gotLevel = true
		case strings.HasPrefix(item, "pid "):
			pid, tid, _ := strings.Cut(item[len("pid "):], ":tid ")
			if v, err := strconv.ParseInt(pid, 10, 64); err == nil {
				f["process.pid"] = v
			}
			if v, err := strconv.ParseInt(tid, 10, 64); err == nil {
				f["process.thread.id"] = v
			}
		case (strings.HasPrefix(item, "client ") || strings.HasPrefix(item, "remote ")) && f["source.address"] == nil:
			// [client ADDR] is the client; [remote ADDR] the peer when
			// mod_remoteip rewrote the client.
			_, addr, _ := strings.Cut(item, " ")
			if bracket := strings.IndexByte(addr, '['); bracket >= 0 {
				// "[client [2001:db8::1]:51548]": the ']' found first
				// closes the IPv6 address, not the field.
				if close := strings.IndexByte(rest[end+1:], ']'); close >= 0 {
					addr = rest[len("[client ") : end+1+close]
					end += 1 + close
				}
			}
			setClient(f, addr)
		default:
			// Another bracket is part of the message.
			break brackets
		}
		rest = strings.TrimLeft(rest[end+1:], " ")
	}

	return rest, gotLevel
}

// classifyApacheMessage strips an "AHnnnnn: " error code and classifies the
// message.
func classifyApacheMessage(msg string, f ecs.Fields) {
	if len(msg) > 8 && msg[0] == 'A' && msg[1] == 'H' && isAllDigits(msg[2:7]) && msg[7] == ':' {
		f["error.code"] = msg[:7]
		msg = strings.TrimLeft(msg[8:], " ")
	}
	classifyApacheAuth(msg, f)
}

// setClient stores "ADDR", "ADDR:PORT" or "[V6]:PORT".
func setClient(f ecs.Fields, c string) {
	host, port := c, ""
	if strings.HasPrefix(c, "[") {
		if i := strings.IndexByte(c, ']'); i > 0 {
			host = c[1:i]
			port = strings.TrimPrefix(c[i+1:], ":")
		}
	} else if i := strings.LastIndexByte(c, ':'); i >= 0 && strings.IndexByte(c, ':') == i {
		host, port = c[:i], c[i+1:]
	} else if i >= 0 && strings.Count(c, ":") > 1 {
		// Bare IPv6 ("2001:db8::1") or IPv6 with a port that Apache 2.4
		// writes without brackets; keep what parses as an address.
		if setSource(f, c) {
			return
		}
		host, port = c[:i], c[i+1:]
	}

	if setSource(f, host) {
		setPort(f, port)
	}
}

// classifyApacheAuth marks the messages of Apache's authentication and
// access-control modules (mod_auth_basic, mod_auth_digest, mod_authz_core,
// mod_authz_owner, mod_access_compat) as failed web authentication. This is
// the set that fail2ban's apache-auth filter treats as failures, less TLS
// SNI mismatches and stale digest nonces.
func classifyApacheAuth(msg string, f ecs.Fields) {
	module, _ := f["apache.error.module"].(string)
	digest := strings.HasPrefix(msg, "Digest: ") || module == "auth_digest"
	m := strings.TrimPrefix(msg, "Digest: ")
	user := ""
	switch {
	case module == "evasive20" || module == "evasive":
		// mod_evasive blocks floods with the same text as access control.
		setWebEvent(f, "failure")
		f["event.type"] = typeDenied
		return
	case strings.HasPrefix(m, "user ") && strings.Contains(m[len("user "):], " not found"):
		u, _, _ := strings.Cut(m[len("user "):], " not found")
		if strings.HasPrefix(u, "`") {
			if i := strings.Index(u, "' in realm"); i > 0 {
				u = u[1:i]
			}
		}
		user = u
	case strings.HasPrefix(m, "user ") && (strings.Contains(m, ": authentication failure for ") ||
		strings.Contains(m, ": password mismatch") || strings.Contains(m, ": authorization failure for ")):
		user = m[len("user "):strings.IndexByte(m, ':')]
	case strings.HasPrefix(m, "Authorization of user ") && strings.Contains(m, " failed"):
		rest := m[len("Authorization of user "):]
		if i := strings.Index(rest, " to access "); i >= 0 {
			user = rest[:i]
		}
	case strings.HasPrefix(m, "client denied by server configuration"),
		strings.HasPrefix(m, "client used wrong authentication scheme"):
	case digest && strings.Contains(m, " received - hash is not "):
		// A stale nonce that a client renews by itself: no failure, as in
		// fail2ban's apache-auth.
		setWebEvent(f, "")
		return
	case digest:
		// mod_auth_digest rejects a malformed or replayed Authorization
		// header: invalid nonce, realm mismatch, unknown algorithm, invalid qop.
	default:
		setWebEvent(f, "")
		return
	}

	setAction(f, ActionWebAuth, categoryWebAuth, typeDenied, "failure")
	f.SetString("user.name", strings.TrimSpace(user))
}

func setWebEvent(f ecs.Fields, outcome string) {
	f["event.category"] = categoryWeb
	f["event.type"] = typeError
	setOutcome(f, outcome)
}

// parseNginxError parses nginx's error log:
//
//	yyyy/mm/dd hh:mm:ss [LEVEL] PID#TID: [*CID ]MESSAGE[, client: ADDR, server: S, request: "R", ..., host: "H"]
//
// The context fields are taken from the last ", client: ", because the
// message may quote attacker-controlled text that contains the same words.
func (d *Decoder) parseNginxError(s string) (parsed, bool) {
	if len(s) < 24 || s[4] != '/' || s[7] != '/' || s[10] != ' ' || s[19] != ' ' || s[20] != '[' {
		return parsed{}, false
	}

	y, ok1 := num(s, 0, 4)
	mo, ok2 := num(s, 5, 2)
	day, ok3 := num(s, 8, 2)
	h, m, sec, _, ok4 := parseClock(s, 11)
	if !ok1 || !ok2 || !ok3 || !ok4 || mo < 1 || mo > 12 {
		return parsed{}, false
	}

	end := strings.IndexByte(s[21:], ']')
	if end < 0 {
		return parsed{}, false
	}

	level := s[21 : 21+end]
	rest := strings.TrimLeft(s[22+end:], " ")
	f := make(ecs.Fields, 24)
	f["event.dataset"] = "web.error"
	f["service.type"] = "nginx"
	f["log.level"] = level
	if i := strings.Index(rest, ": "); i > 0 {
		if pid, tid, ok := strings.Cut(rest[:i], "#"); ok && isAllDigits(pid) && isAllDigits(tid) {
			p, _ := strconv.ParseInt(pid, 10, 64)
			t, _ := strconv.ParseInt(tid, 10, 64)
			f["process.pid"] = p
			f["process.thread.id"] = t
			rest = rest[i+2:]
		}
	}

	if strings.HasPrefix(rest, "*") {
		cid, after := cutSpace(rest[1:])
		if n, err := strconv.ParseInt(cid, 10, 64); err == nil {
			f["nginx.error.connection_id"] = n
			rest = after
		}
	}

	msg := rest
	if i := strings.LastIndex(rest, ", client: "); i >= 0 {
		msg = rest[:i]
		nginxContext(rest[i+2:], f)
	}

	f["message"] = msg
	classifyNginxAuth(msg, f)
	ts := time.Date(y, time.Month(mo), day, h, m, sec, 0, d.loc)
	return parsed{ts: ts, fields: f}, true
}

// nginxContext parses `client: A, server: S, request: "R", upstream: "U", host: "H", referrer: "F"`.
func nginxContext(s string, f ecs.Fields) {
	for s != "" {
		key, rest, ok := strings.Cut(s, ": ")
		if !ok {
			return
		}
		var value string
		if strings.HasPrefix(rest, "\"") {
			value, rest, ok = quoted(rest)
			if !ok {
				return
			}
		} else {
			value, rest, _ = strings.Cut(rest, ", ")
			rest = ", " + rest
		}
		switch key {
		case "client":
			setSource(f, value)
		case "server":
			f.SetString("nginx.error.server", value)
		case "request":
			setRequest(f, value)
		case "upstream":
			f.SetString("nginx.error.upstream", value)
		case "host":
			f.SetString("url.domain", value)
		case "referrer":
			f.SetString("http.request.referrer", value)
		}
		rest = strings.TrimPrefix(rest, ",")
		s = strings.TrimLeft(rest, " ")
	}
}

// classifyNginxAuth marks ngx_http_auth_basic and auth_pam failures, the
// messages of fail2ban's nginx-http-auth filter.
func classifyNginxAuth(msg string, f ecs.Fields) {
	user := ""
	switch {
	case strings.HasPrefix(msg, "user \""):
		u, rest, ok := quoted(msg[len("user "):])
		if !ok || !(strings.HasPrefix(rest, " was not found in ") || strings.HasPrefix(rest, ": password mismatch")) {
			setWebEvent(f, "")
			return
		}
		user = u
	case strings.HasPrefix(msg, "PAM: user '") && strings.Contains(msg[len("PAM: user '"):], "' - not authenticated"):
		user, _, _ = strings.Cut(msg[len("PAM: user '"):], "' - not authenticated")
	default:
		setWebEvent(f, "")
		return
	}

	setAction(f, ActionWebAuth, categoryWebAuth, typeDenied, "failure")
	f.SetString("user.name", user)
}
