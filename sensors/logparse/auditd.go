package logparse

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// auditKV is one key/value of an auditd record, its value already decoded.
type auditKV struct {
	key, value string
}

// auditRecord is one line of an auditd log.
type auditRecord struct {
	node   string
	typ    string
	ts     time.Time
	serial uint64
	kv     []auditKV // in line order, nested msg='...' pairs inlined
	names  []auditKV // ENRICHED-format names after the 0x1d separator (UID="root")
	offset int64
	raw    string
}

func (r *auditRecord) get(key string) (string, bool) {
	for _, kv := range r.kv {
		if kv.key == key {
			return kv.value, true
		}
	}

	return "", false
}

func (r *auditRecord) name(key string) string {
	for _, kv := range r.names {
		if kv.key == key {
			return kv.value
		}
	}

	return ""
}

// parseAuditRecord parses
//
//	[node=NAME ]type=TYPE msg=audit(SECONDS.MILLIS:SERIAL): KEY=VALUE ...
func parseAuditRecord(s string) (auditRecord, *ParseError) {
	return parseAuditRecordInto(s, nil)
}

// parseAuditRecordInto is parseAuditRecord appending the pairs to kv, a
// reused buffer (or nil).
func parseAuditRecordInto(s string, kv []auditKV) (auditRecord, *ParseError) {
	var r auditRecord
	r.raw = s
	rest := s
	if strings.HasPrefix(rest, "node=") {
		r.node, rest = cutSpace(rest[len("node="):])
	}

	if !strings.HasPrefix(rest, "type=") {
		return r, parseErr(ReasonAuditdHeader, "missing type=", nil)
	}
	r.typ, rest = cutSpace(rest[len("type="):])
	if !strings.HasPrefix(rest, "msg=audit(") {
		return r, parseErr(ReasonAuditdHeader, "missing msg=audit(", nil)
	}

	rest = rest[len("msg=audit("):]
	end := strings.IndexByte(rest, ')')
	if end < 0 {
		return r, parseErr(ReasonAuditdHeader, "missing \")\" after msg=audit(", nil)
	}

	stamp := rest[:end]
	// Usually "): "; DAEMON_* records of old auditd omit the colon.
	rest = strings.TrimPrefix(rest[end+1:], ":")
	secs, serial, ok := strings.Cut(stamp, ":")
	if !ok {
		return r, parseErr(ReasonAuditdHeader, "missing serial in audit("+stamp+")", nil)
	}

	sec, frac, _ := strings.Cut(secs, ".")
	sv, err1 := strconv.ParseInt(sec, 10, 64)
	ser, err2 := strconv.ParseUint(serial, 10, 64)
	if err1 != nil || err2 != nil || r.typ == "" {
		return r, parseErr(ReasonAuditdHeader, "invalid audit("+stamp+")", nil)
	}

	nsec := 0
	if frac != "" {
		n, _ := parseFraction("."+frac, 0)
		nsec = n
	}
	r.ts = time.Unix(sv, int64(nsec)).UTC()
	r.serial = ser
	body, enriched, hasNames := strings.Cut(rest, "\x1d")
	r.kv = kv[:0]
	if r.kv == nil {
		r.kv = make([]auditKV, 0, 24)
	}
	r.kv = parseAuditKVs(r.typ, body, r.kv)
	if hasNames {
		r.names = parseAuditKVs("", enriched, nil)
	}

	return r, nil
}

// parseAuditKVs appends the pairs of body to dst. Values are unquoted and
// hex-decoded where auditd hex-encodes them; msg='...' is parsed in place.
func parseAuditKVs(typ, body string, dst []auditKV) []auditKV {
	s := body
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return dst
		}
		eq := strings.IndexByte(s, '=')
		sp := strings.IndexByte(s, ' ')
		if eq < 0 {
			return dst
		}
		if sp >= 0 && sp < eq {
			// A word without '=' (AVC "avc:  denied  { read } for").
			s = s[sp+1:]
			continue
		}
		key := s[:eq]
		s = s[eq+1:]
		var value string
		quotedValue := false
		switch {
		case strings.HasPrefix(s, "\""):
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				value, s = s[1:], ""
			} else {
				value, s = s[1:end+1], s[end+2:]
			}
			quotedValue = true
		case strings.HasPrefix(s, "'"):
			end := strings.IndexByte(s[1:], '\'')
			var inner string
			if end < 0 {
				inner, s = s[1:], ""
			} else {
				inner, s = s[1:end+1], s[end+2:]
			}
			if key == "msg" {
				dst = parseAuditKVs(typ, inner, dst)
				continue
			}
			value = inner
			quotedValue = true
		default:
			value, s = cutSpace(s)
		}
		if !quotedValue && isHexEncoded(typ, key, value) {
			if dec, ok := decodeAuditHex(key, value); ok {
				value = dec
			}
		}
		dst = append(dst, auditKV{key: key, value: value})
	}
}

// hexFields are the fields auditd writes hex-encoded when the value contains
// a space, quote or control character (auditd's "untrusted string" fields).
var hexFields = map[string]bool{
	"acct": true, "cmd": true, "comm": true, "cwd": true, "data": true, "dir": true,
	"exe": true, "file": true, "grp": true, "id": false, "key": true, "name": true,
	"new_group": true, "new_user": true, "new-chardev": true, "new-disk": true,
	"new-fs": true, "new-net": true, "new-rng": true, "ocomm": true, "old-chardev": true,
	"old-disk": true, "old-fs": true, "old-net": true, "old-rng": true, "path": true,
	"proctitle": true, "sauid": false, "vm": true, "watch": true, "device": true, "root_dir": true,
}

func isHexEncoded(typ, key, value string) bool {
	if len(value) < 2 || len(value)%2 != 0 || value == "(null)" {
		return false
	}

	if !hexFields[key] {
		// EXECVE arguments a0, a1, ... and a0[0] (split long arguments).
		if typ != "EXECVE" || len(key) < 2 || key[0] != 'a' || !isDigit(key[1]) {
			return false
		}
	}

	for i := 0; i < len(value); i++ {
		c := value[i]
		if !(isDigit(c) || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f') {
			return false
		}
	}

	return true
}

// decodeAuditHex decodes a hex value. NUL bytes (argument separators of
// proctitle) become spaces; key lists separated by 0x01 become commas.
func decodeAuditHex(key, value string) (string, bool) {
	b, err := hex.DecodeString(value)
	if err != nil {
		return "", false
	}

	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}

	for i, c := range b {
		switch {
		case c == 0:
			b[i] = ' '
		case c == 1 && key == "key":
			b[i] = ','
		}
	}

	return string(b), true
}

// decodeSockaddr decodes the hex saddr of a SOCKADDR record (struct
// sockaddr: family little-endian; port and address in network order).
func decodeSockaddr(saddr string) (family, addr, port, path string) {
	b, err := hex.DecodeString(saddr)
	if err != nil || len(b) < 2 {
		return "", "", "", ""
	}

	fam := binary.LittleEndian.Uint16(b)
	switch fam {
	case 1:
		p := b[2:]
		for i, c := range p {
			if c == 0 {
				if i == 0 && len(p) > 1 {
					// Abstract socket name: keep what follows the NUL.
					continue
				}
				p = p[:i]
				break
			}
		}
		return "unix", "", "", string(p)
	case 2:
		if len(b) < 8 {
			return "ipv4", "", "", ""
		}
		a := netip.AddrFrom4([4]byte(b[4:8]))
		return "ipv4", a.String(), strconv.Itoa(int(binary.BigEndian.Uint16(b[2:4]))), ""
	case 10:
		if len(b) < 24 {
			return "ipv6", "", "", ""
		}
		a := netip.AddrFrom16([16]byte(b[8:24]))
		return "ipv6", a.String(), strconv.Itoa(int(binary.BigEndian.Uint16(b[2:4]))), ""
	case 16:
		return "netlink", "", "", ""
	}

	return strconv.Itoa(int(fam)), "", "", ""
}

// auditEvent is the records of one event (same node, time and serial).
type auditEvent struct {
	node     string
	ts       time.Time
	serial   uint64
	records  []auditRecord
	offset   int64
	lastLine int64
	raw      []string
	path     string // file path of the first line, for log.file.path
}

// auditGrouper holds incomplete events. An event is complete at its EOE
// record, when window further auditd lines have arrived without another of
// its records, at Flush, or at once for record types that are always alone
// (USER_*, CRED_*, ADD_*, DEL_*, DAEMON_*, SERVICE_*, SYSTEM_*).
type auditGrouper struct {
	window int
	line   int64
	open   []*auditEvent
	freeKV [][]auditKV
}

const maxOpenAuditEvents = 256

func (d *Decoder) decodeAuditd(s string, line Line, emit func(Record)) {
	if !isAuditText(s) {
		emit(Record{Offset: line.Offset, Timestamp: d.reference(), Raw: []byte(s),
			Err: parseErr(ReasonFormatMismatch, "not an auditd record (expected type=... or node=...)", nil)})
		return
	}

	d.decodeAuditText(s, s, "", line, emit)
}

// isAuditText reports whether s starts like an auditd record.
func isAuditText(s string) bool {
	return strings.HasPrefix(s, "type=") || strings.HasPrefix(s, "node=") && strings.Contains(s, " type=")
}

// decodeAuditText adds one auditd record to its event. text is the record;
// raw is the whole input line (text itself, or a syslog line that carries
// it, as audispd's syslog plugin writes); host is the syslog host, used when
// the record has no node=.
func (d *Decoder) decodeAuditText(text, raw, host string, line Line, emit func(Record)) {
	r, perr := parseAuditRecordInto(text, d.audit.takeKV())
	if perr != nil {
		emit(Record{Offset: line.Offset, Timestamp: d.reference(), Raw: []byte(raw), Err: perr})
		return
	}

	if r.node == "" {
		r.node = host
	}
	r.offset = line.Offset
	g := &d.audit
	g.line++
	var ev *auditEvent
	for _, e := range g.open {
		if e.serial == r.serial && e.node == r.node && e.ts.Equal(r.ts) {
			ev = e
			break
		}
	}

	if ev == nil {
		ev = &auditEvent{node: r.node, ts: r.ts, serial: r.serial, offset: line.Offset, path: line.Path}
		g.open = append(g.open, ev)
	}
	ev.lastLine = g.line
	ev.raw = append(ev.raw, raw)
	if r.typ != "EOE" {
		ev.records = append(ev.records, r)
	}

	if r.typ == "EOE" || (len(ev.records) == 1 && len(ev.raw) == 1 && standaloneAuditType(r.typ)) {
		g.remove(ev)
		emit(d.auditRecordOut(ev))
	}
	// Emit events that fell out of the window (or beyond the cap on open
	// events), oldest first.
	for i := 0; i < len(g.open); {
		if e := g.open[i]; g.line-e.lastLine >= int64(g.window) || len(g.open) > maxOpenAuditEvents {
			g.remove(e)
			emit(d.auditRecordOut(e))
			continue
		}
		i++
	}
}

func standaloneAuditType(t string) bool {
	for _, p := range [...]string{"USER_", "CRED_", "ADD_", "DEL_", "DAEMON_", "SERVICE_", "SYSTEM_", "GRP_", "ACCT_", "ANOM_LOGIN"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}

	return false
}

// takeKV returns a key/value buffer of an emitted event, or nil.
func (g *auditGrouper) takeKV() []auditKV {
	n := len(g.freeKV)
	if n == 0 {
		return nil
	}
	kv := g.freeKV[n-1]
	g.freeKV = g.freeKV[:n-1]
	return kv
}

// releaseKV keeps the key/value buffers of an emitted event for reuse. The
// record's fields hold the values (substrings of the lines), not the
// buffers, so the buffers are free once the record is built.
func (g *auditGrouper) releaseKV(ev *auditEvent) {
	for i := range ev.records {
		if len(g.freeKV) < maxFreeKV {
			g.freeKV = append(g.freeKV, ev.records[i].kv[:0])
		}
		ev.records[i].kv = nil
	}
}

const maxFreeKV = 64

func (g *auditGrouper) remove(ev *auditEvent) {
	for i, e := range g.open {
		if e == ev {
			g.open = append(g.open[:i], g.open[i+1:]...)
			return
		}
	}
}

func (g *auditGrouper) flushAll(d *Decoder, emit func(Record)) {
	open := g.open
	g.open = nil
	for _, ev := range open {
		emit(d.auditRecordOut(ev))
	}
}

func (g *auditGrouper) oldestOffset() (int64, bool) {
	if len(g.open) == 0 {
		return 0, false
	}

	min := g.open[0].offset
	for _, e := range g.open[1:] {
		if e.offset < min {
			min = e.offset
		}
	}

	return min, true
}

// auditRecordOut builds the Record of a complete event.
//
// Fields: auditd.log.<key> holds the values of the primary record (the
// SYSCALL record when there is one, else the first); auditd.log.<type>.<key>
// (type in lower case) holds the other records' values, a []string when a
// type repeats (several PATH records). ECS fields are derived from all.
func (d *Decoder) auditRecordOut(ev *auditEvent) Record {
	raw := strings.Join(ev.raw, "\n")
	rec := Record{Offset: ev.offset, Timestamp: ev.ts, Raw: []byte(raw)}
	if len(ev.records) == 0 {
		// Only an EOE line: nothing but the marker itself.
		rec.Fields = ecs.Fields{"event.dataset": "auditd.log", "event.module": "auditd", "event.kind": "event",
			"event.original": raw, "auditd.log.sequence": int64(ev.serial), "auditd.log.record_type": "EOE"}
		return rec
	}

	primary := 0
	for i := range ev.records {
		if ev.records[i].typ == "SYSCALL" {
			primary = i
			break
		}
	}

	f := make(ecs.Fields, 48)
	p := &ev.records[primary]
	f["event.dataset"] = "auditd.log"
	f["event.module"] = "auditd"
	f["event.kind"] = "event"
	f["event.original"] = raw
	f["event.action"] = d.names.lower(p.typ)
	f["auditd.log.record_type"] = p.typ
	f["auditd.log.sequence"] = int64(ev.serial)
	f.SetString("host.name", ev.node)
	if len(ev.records) > 1 {
		types := make([]string, len(ev.records))
		for i := range ev.records {
			types[i] = ev.records[i].typ
		}
		f["auditd.log.record_types"] = types
	}

	for _, kv := range p.kv {
		f[d.names.join("auditd.log.", kv.key)] = kv.value
	}

	for i := range ev.records {
		if i == primary {
			continue
		}
		r := &ev.records[i]
		prefix := d.names.typePrefix(r.typ)
		for _, kv := range r.kv {
			addAuditValue(f, d.names.join(prefix, kv.key), kv.value)
		}
	}
	auditECS(ev, p, f)
	d.audit.releaseKV(ev)
	if ev.path != "" {
		f["log.file.path"] = ev.path
		f["log.offset"] = ev.offset
	}

	rec.Fields = f
	return rec
}

func addAuditValue(f ecs.Fields, key, value string) {
	switch old := f[key].(type) {
	case nil:
		f[key] = value
	case string:
		f[key] = []string{old, value}
	case []string:
		f[key] = append(old, value)
	}
}

const auditUnset = "4294967295"

// auditECS derives ECS fields from the records of an event.
func auditECS(ev *auditEvent, p *auditRecord, f ecs.Fields) {
	setInt := func(name, v string) {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			f[name] = n
		}
	}

	setID := func(name, v string) {
		if v != "" && v != auditUnset && v != "-1" {
			f[name] = v
		}
	}

	if v, ok := p.get("pid"); ok {
		setInt("process.pid", v)
	}

	if v, ok := p.get("ppid"); ok {
		setInt("process.parent.pid", v)
	}

	if v, ok := p.get("exe"); ok && v != "?" {
		f["process.executable"] = v
	}

	if v, ok := p.get("comm"); ok {
		f["process.name"] = v
	}

	if v, ok := p.get("uid"); ok {
		setID("user.id", v)
	}

	if v, ok := p.get("euid"); ok {
		setID("user.effective.id", v)
	}

	if v, ok := p.get("auid"); ok {
		setID("user.audit.id", v)
	}

	if v, ok := p.get("gid"); ok {
		setID("group.id", v)
	}

	if v, ok := p.get("ses"); ok && v != auditUnset {
		f["auditd.log.session"] = v
	}

	if n := p.name("UID"); n != "" && n != "unset" {
		f["user.name"] = n
	}

	if n := p.name("EUID"); n != "" && n != "unset" {
		f["user.effective.name"] = n
	}

	if n := p.name("AUID"); n != "" && n != "unset" {
		f["user.audit.name"] = n
	}

	// acct is "(invalid user)" or "(unknown user)" when sshd had no account.
	if v, ok := p.get("acct"); ok && v != "?" && v != "" && !strings.HasPrefix(v, "(") {
		f["user.name"] = v
	}

	if v, ok := p.get("addr"); ok {
		setSource(f, v)
	}

	if v, ok := p.get("hostname"); ok && v != "?" && v != "" {
		f["source.domain"] = v
	}

	if v, ok := p.get("terminal"); ok && v != "?" {
		f["process.tty.name"] = v
	}

	outcome := ""
	if v, ok := p.get("success"); ok {
		outcome = map[string]string{"yes": "success", "no": "failure"}[v]
	} else if v, ok := p.get("res"); ok {
		switch v {
		case "success", "1", "yes":
			outcome = "success"
		case "failed", "0", "no", "fail", "failure":
			outcome = "failure"
		}
	}
	setOutcome(f, outcome)
	var args []string
	for i := range ev.records {
		r := &ev.records[i]
		switch r.typ {
		case "EXECVE":
			args = args[:0]
			for _, kv := range r.kv {
				if kv.key != "argc" && len(kv.key) > 1 && kv.key[0] == 'a' && isDigit(kv.key[1]) {
					args = append(args, kv.value)
				}
			}
		case "PROCTITLE":
			if v, ok := r.get("proctitle"); ok {
				f["process.title"] = v
			}
		case "CWD":
			if v, ok := r.get("cwd"); ok {
				f["process.working_directory"] = v
			}
		case "SOCKADDR":
			if v, ok := r.get("saddr"); ok {
				fam, addr, port, path := decodeSockaddr(v)
				f.SetString("auditd.log.sockaddr.family", fam)
				f.SetString("auditd.log.sockaddr.addr", addr)
				f.SetString("auditd.log.sockaddr.port", port)
				f.SetString("auditd.log.sockaddr.path", path)
				if addr != "" {
					f["destination.ip"] = addr
					setInt("destination.port", port)
				}
			}
		}
	}

	if len(args) > 0 {
		f["process.args"] = args
		f["process.command_line"] = strings.Join(args, " ")
	} else if t, ok := f["process.title"].(string); ok {
		f["process.command_line"] = t
	}

	switch t := p.typ; {
	case t == "USER_AUTH" || t == "USER_ERR" || t == "USER_ACCT" || strings.HasPrefix(t, "CRED_"):
		f["event.category"] = categoryAuth
		f["event.type"] = typeInfo
	case t == "USER_LOGIN" || t == "USER_LOGOUT" || t == "USER_START" || t == "USER_END" || t == "LOGIN":
		f["event.category"] = categorySession
		if t == "USER_END" || t == "USER_LOGOUT" {
			f["event.type"] = typeEnd
		} else {
			f["event.type"] = typeStart
		}
	case t == "USER_CMD":
		f["event.category"] = categoryProcess
		f["event.type"] = typeStart
		if cmd, ok := p.get("cmd"); ok {
			f["process.command_line"] = cmd
		}
	case strings.HasPrefix(t, "ADD_") || strings.HasPrefix(t, "DEL_") || t == "USER_MGMT" || t == "USER_CHAUTHTOK" || t == "GRP_MGMT":
		f["event.category"] = []string{"iam"}
		f["event.type"] = []string{"change"}
	case t == "SYSCALL" && len(args) > 0:
		f["event.category"] = categoryProcess
		f["event.type"] = typeStart
	case t == "AVC" || t == "SELINUX_ERR" || t == "APPARMOR_DENIED":
		f["event.category"] = []string{"intrusion_detection"}
		f["event.type"] = typeDenied
	}
}

// fieldNames caches the field names built from auditd keys, which repeat on
// every event, so that building a record does not concatenate strings per
// key. The cache stops growing at maxFieldNames entries (keys are input
// data); later names are built each time.
type fieldNames struct {
	joined map[[2]string]string
}

const maxFieldNames = 8192

func (n *fieldNames) join(prefix, key string) string {
	k := [2]string{prefix, key}
	if s, ok := n.joined[k]; ok {
		return s
	}

	return n.store(k, prefix+key)
}

// typePrefix returns "auditd.log.<type in lower case>.".
func (n *fieldNames) typePrefix(typ string) string {
	k := [2]string{"\x00prefix", typ}
	if s, ok := n.joined[k]; ok {
		return s
	}

	return n.store(k, "auditd.log."+strings.ToLower(typ)+".")
}

// lower returns typ in lower case.
func (n *fieldNames) lower(typ string) string {
	k := [2]string{"\x00lower", typ}
	if s, ok := n.joined[k]; ok {
		return s
	}

	return n.store(k, strings.ToLower(typ))
}

func (n *fieldNames) store(k [2]string, s string) string {
	if n.joined == nil {
		n.joined = make(map[[2]string]string)
	}

	if len(n.joined) < maxFieldNames {
		n.joined[k] = s
	}

	return s
}
