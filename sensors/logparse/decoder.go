package logparse

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/i18n"
)

// Line is one input line, without its trailing newline, and where it came
// from.
type Line struct {
	// Data is the line. The decoder copies what it keeps, so the caller may
	// reuse the buffer after Decode returns.
	Data []byte
	// Offset is the byte offset of the line start in the source.
	Offset int64
	// SourceID names the input (file path, listener name).
	SourceID string
	// Path is the file path for file inputs, "" otherwise. When set, records
	// carry log.file.path and log.offset.
	Path string
}

// Record is one parsed event, or a dead letter when Err is non-nil.
type Record struct {
	// Offset is the byte offset of the record's first line; an auditd event
	// grouped from several lines has the offset of its first record.
	Offset int64
	// Timestamp is the event time. Lines without a time of their own get the
	// decoder's reference time (see Options.Reference).
	Timestamp time.Time
	// Fields are the ECS fields (without @timestamp, which is Timestamp).
	// Nil for a dead letter.
	Fields ecs.Fields
	// Raw is a copy of the input: one line, or the lines of an auditd event
	// joined by '\n'.
	Raw []byte
	// Err is a *ParseError naming the reason for the dead-letter store.
	Err error
}

// Format selects the parser of a Decoder.
type Format int

// The formats. FormatAuto detects the format per line.
const (
	FormatAuto Format = iota
	FormatSyslog
	FormatAccess
	FormatApacheError
	FormatNginxError
	FormatAuditd
	FormatJSON
)

var formatNames = [...]string{"auto", "syslog", "access", "apache_error", "nginx_error", "auditd", "json"}

// String returns the format's configuration name ("auto", "syslog", ...).
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}

	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// FormatError reports an unknown format name. Text renders it for users.
type FormatError struct {
	// Value is the rejected name.
	Value string
}

// Error returns the English message.
func (e *FormatError) Error() string { return e.Text(i18n.EN) }

// Text returns the message in lang.
func (e *FormatError) Text(lang i18n.Lang) string {
	return i18n.T(lang, "logparse.format.invalid", e.Value, strings.Join(formatNames[:], ", "))
}

// ParseFormat returns the format named s, or a *FormatError.
func ParseFormat(s string) (Format, error) {
	for i, name := range formatNames {
		if name == s {
			return Format(i), nil
		}
	}

	return 0, &FormatError{Value: s}
}

// Options configure a Decoder. The zero value is valid.
type Options struct {
	// Location is the zone of timestamps that carry none (BSD syslog, Apache
	// and nginx logs). Nil means time.Local.
	Location *time.Location
	// Reference resolves the year of timestamps without one (see the package
	// documentation) and is the time of lines that have no timestamp. Pass
	// the file's modification time for files; leave it zero for live input,
	// and the decoder uses the wall clock at each line.
	Reference time.Time
	// AuditdWindow is how many further auditd lines the decoder reads before
	// it emits an event whose serial has not reappeared. Zero means 16.
	AuditdWindow int
	// MaxLineBytes turns longer lines into dead letters. Zero means 1 MiB;
	// a negative value disables the check.
	MaxLineBytes int
	// Now replaces the wall clock for live input (tests). Nil means time.Now.
	Now func() time.Time
}

const (
	defaultAuditdWindow = 16
	defaultMaxLineBytes = 1 << 20
)

// Decoder turns lines into Records. It keeps state between lines (auditd
// events spread over several lines, the source address of sshd sessions),
// so use one Decoder per source and do not share it between goroutines.
type Decoder struct {
	format  Format
	loc     *time.Location
	ref     time.Time
	now     func() time.Time
	maxLine int
	audit   auditGrouper
	ssh     sshSessions
	names   fieldNames
	zeek    zeekTSV
	// jsonScratch is a flat map left from the previous JSON line, or nil.
	jsonScratch ecs.Fields
}

// NewDecoder returns a Decoder for format.
func NewDecoder(format Format, opts Options) (*Decoder, error) {
	if format < FormatAuto || int(format) >= len(formatNames) {
		return nil, &FormatError{Value: format.String()}
	}

	d := &Decoder{format: format, loc: opts.Location, ref: opts.Reference, now: opts.Now, maxLine: opts.MaxLineBytes}
	if d.loc == nil {
		d.loc = time.Local
	}

	if d.now == nil {
		d.now = time.Now
	}

	if d.maxLine == 0 {
		d.maxLine = defaultMaxLineBytes
	}

	window := opts.AuditdWindow
	if window <= 0 {
		window = defaultAuditdWindow
	}

	d.audit.window = window
	return d, nil
}

// reference returns the time that resolves a missing year and dates lines
// without a timestamp.
func (d *Decoder) reference() time.Time {
	if !d.ref.IsZero() {
		return d.ref
	}

	return d.now()
}

// Decode parses one line and calls emit for each Record it completes: none
// (an auditd record held until its event is complete, an empty line, or a
// Zeek "#separator"/"#fields"/... header line), one, or several (auditd
// events pushed out of the window). Every other line ends up in exactly one
// Record, parsed or dead letter.
func (d *Decoder) Decode(line Line, emit func(Record)) {
	data := bytes.TrimRight(line.Data, "\r\n")
	if len(bytes.TrimSpace(data)) == 0 {
		return
	}

	if d.maxLine > 0 && len(data) > d.maxLine {
		emit(Record{Offset: line.Offset, Timestamp: d.reference(), Raw: bytes.Clone(data),
			Err: parseErr(ReasonLineTooLong, fmt.Sprintf("%d bytes, limit %d", len(data), d.maxLine), nil)})
		return
	}

	s := string(data)
	switch d.format {
	case FormatAuto:
		d.decodeAuto(s, line, emit)
	case FormatSyslog:
		if !d.decodeSyslog(s, line, emit) {
			emit(d.finish(d.rawEvent(s), s, line))
		}
	case FormatAccess:
		d.decodeExplicit(s, line, emit, d.parseAccess)
	case FormatApacheError:
		d.decodeExplicit(s, line, emit, d.parseApacheError)
	case FormatNginxError:
		d.decodeExplicit(s, line, emit, d.parseNginxError)
	case FormatAuditd:
		d.decodeAuditd(s, line, emit)
	case FormatJSON:
		emit(d.finish(d.parseJSON(s), s, line))
	}
}

// decodeAuto picks the parser from the line's first bytes.
func (d *Decoder) decodeAuto(s string, line Line, emit func(Record)) {
	if s[0] == '#' && d.zeek.header(s) {
		return
	}
	if d.zeek.active && s[0] != '#' {
		if p, ok := d.parseZeekTSV(s); ok {
			emit(d.finish(p, s, line))
			return
		}
	}
	switch {
	case s[0] == '{' || s[0] <= ' ' && strings.HasPrefix(strings.TrimLeft(s, " \t"), "{"):
		emit(d.finish(d.parseJSON(s), s, line))
		return
	case strings.HasPrefix(s, "type=") || strings.HasPrefix(s, "node="):
		d.decodeAuditd(s, line, emit)
		return
	case s[0] == '[':
		if p, ok := d.parseApacheError(s); ok {
			emit(d.finish(p, s, line))
			return
		}
	case isDigit(s[0]) && len(s) > 20 && s[4] == '/':
		if p, ok := d.parseNginxError(s); ok {
			emit(d.finish(p, s, line))
			return
		}
	}

	if d.decodeSyslog(s, line, emit) {
		return
	}

	if p, ok := d.parseAccess(s); ok {
		emit(d.finish(p, s, line))
		return
	}

	if p, ok := d.parseVsftpdLog(s); ok {
		emit(d.finish(p, s, line))
		return
	}

	emit(d.finish(d.rawEvent(s), s, line))
}

func (d *Decoder) decodeExplicit(s string, line Line, emit func(Record), parse func(string) (parsed, bool)) {
	p, ok := parse(s)
	if !ok {
		emit(Record{Offset: line.Offset, Timestamp: d.reference(), Raw: []byte(s),
			Err: parseErr(ReasonFormatMismatch, "not a "+d.format.String()+" line", nil)})
		return
	}

	emit(d.finish(p, s, line))
}

// parsed is the result of one line parser before the common fields are set.
type parsed struct {
	ts     time.Time
	fields ecs.Fields
	err    *ParseError
}

// finish adds the fields every line record carries and builds the Record.
func (d *Decoder) finish(p parsed, s string, line Line) Record {
	rec := Record{Offset: line.Offset, Timestamp: p.ts, Raw: []byte(s)}
	if p.err != nil {
		rec.Err = p.err
		if rec.Timestamp.IsZero() {
			rec.Timestamp = d.reference()
		}
		return rec
	}

	f := p.fields
	if rec.Timestamp.IsZero() {
		rec.Timestamp = d.reference()
	}

	if _, ok := f["event.original"]; !ok {
		f["event.original"] = s
	}

	if _, ok := f["event.kind"]; !ok {
		f["event.kind"] = "event"
	}

	if ds, ok := f["event.dataset"].(string); ok {
		if _, ok := f["event.module"]; !ok {
			if i := strings.IndexByte(ds, '.'); i > 0 {
				f["event.module"] = ds[:i]
			}
		}
	}

	if line.Path != "" {
		f["log.file.path"] = line.Path
		f["log.offset"] = line.Offset
	}

	rec.Fields = f
	return rec
}

// decodeSyslog decodes a syslog line and reports false when s has no syslog
// header. An auditd record carried in the message (audispd's syslog plugin)
// joins the auditd event grouping.
func (d *Decoder) decodeSyslog(s string, line Line, emit func(Record)) bool {
	ref := d.reference()
	h, ok := parseSyslogHeader(s, d.loc, ref)
	if !ok {
		return false
	}

	if isAuditText(h.msg) {
		d.decodeAuditText(h.msg, s, h.host, line, emit)
		return true
	}

	emit(d.finish(d.syslogFields(h, ref), s, line))
	return true
}

// rawEvent stores a line that no parser understands as a plain syslog event.
func (d *Decoder) rawEvent(s string) parsed {
	f := make(ecs.Fields, 8)
	f["event.dataset"] = "system.syslog"
	f["message"] = s
	return parsed{fields: f}
}

// Flush emits every auditd event still held back. Call it at end of input
// and when the input has been idle for a while.
func (d *Decoder) Flush(emit func(Record)) {
	d.audit.flushAll(d, emit)
}

// Pending returns the offset of the oldest line held back (an incomplete
// auditd event) and true, or false when nothing is held. A checkpoint must not
// pass this offset, or a restart would lose the held lines.
func (d *Decoder) Pending() (offset int64, ok bool) {
	return d.audit.oldestOffset()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
