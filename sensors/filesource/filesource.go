// Package filesource reads whole files offline — log files, JSON event
// files, Windows EVTX files and packet captures — into pipeline batches,
// for `canhgac hunt` and for importing files into a running store. Event ids are derived
// from the file's identity and each record's position, so reading the same
// file twice yields the same ids.
package filesource

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/sensors/evtx"
	"github.com/canhgac/canhgac/sensors/logparse"
)

// Kind is the content type of a file, found from its first bytes.
type Kind int

// The kinds of file filesource reads.
const (
	KindText Kind = iota
	KindPcap
	KindPcapng
	KindEVTX
	// KindJSONDocument is a file that holds whole JSON values over several
	// lines — a pretty-printed object, or an array of objects, as evtx_dump
	// and many exports write — instead of one object per line.
	KindJSONDocument
	// KindBinary is any other file with NUL bytes in its first block; it is
	// not read as text.
	KindBinary
)

var kindNames = [...]string{"text", "pcap", "pcapng", "evtx", "json", "binary"}

// String returns the kind's name.
func (k Kind) String() string { return kindNames[k] }

// Sniff returns the kind of the file whose first bytes are head.
func Sniff(head []byte) Kind {
	switch {
	case len(head) >= 4 && (bytes.Equal(head[:4], []byte{0xd4, 0xc3, 0xb2, 0xa1}) ||
		bytes.Equal(head[:4], []byte{0xa1, 0xb2, 0xc3, 0xd4}) ||
		bytes.Equal(head[:4], []byte{0x4d, 0x3c, 0xb2, 0xa1}) ||
		bytes.Equal(head[:4], []byte{0xa1, 0xb2, 0x3c, 0x4d})):
		return KindPcap
	case len(head) >= 4 && bytes.Equal(head[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a}):
		return KindPcapng
	case len(head) >= 8 && string(head[:8]) == "ElfFile\x00":
		return KindEVTX
	case isBinary(head):
		return KindBinary
	case isJSONDocument(head):
		return KindJSONDocument
	}
	return KindText
}

// isBinary reports whether more than 1% of head are NUL bytes. Text logs
// may contain a few, for example when a web server logs the raw bytes of a
// TLS handshake sent to its HTTP port. Executables and archives contain many.
func isBinary(head []byte) bool {
	return bytes.Count(head, []byte{0}) > len(head)/100
}

// isJSONDocument reports whether head starts a JSON array, or an object
// whose first line is not a complete JSON value (so it is not JSON lines).
func isJSONDocument(head []byte) bool {
	trimmed := bytes.TrimLeft(head, " \t\r\n\ufeff")
	if len(trimmed) == 0 {
		return false
	}
	switch trimmed[0] {
	case '[':
		// An array of objects or arrays; "[Sun Dec 04 ..." starts an
		// Apache error log line, not JSON.
		rest := bytes.TrimLeft(trimmed[1:], " \t\r\n")
		return len(rest) > 0 && (rest[0] == '{' || rest[0] == '[' || rest[0] == ']')
	case '{':
		line, _, complete := bytes.Cut(trimmed, []byte{'\n'})
		if !complete {
			// The first line is longer than the sniffed block; JSON
			// lines are far more common than a huge one-line document.
			return false
		}
		return !json.Valid(bytes.TrimSpace(line))
	}
	return false
}

// Options configure Read.
type Options struct {
	// Format is the log format of text files; FormatAuto detects per line.
	Format logparse.Format
	// Location is the zone of log timestamps without one; nil is time.Local.
	Location *time.Location
	// BatchSize is the number of events per batch; default 1024.
	BatchSize int
	// Progress, when set, is called with the bytes read so far.
	Progress func(read int64)
	// Packets reads captures; nil makes captures an error. It is a
	// function so this package does not depend on the packet sensor.
	Packets PacketReader
}

// PacketReader reads a capture file into events, calling emit for each.
type PacketReader func(ctx context.Context, path string, r io.Reader, emit func(*ecs.Event)) error

// sniffBytes is how much of a file Sniff looks at.
const sniffBytes = 8 << 10

// ErrUnsupported is wrapped by the *UnsupportedError that Read returns for
// a kind of file it cannot read.
var ErrUnsupported = errors.New("unsupported file kind")

// UnsupportedError names a file Read cannot read and its kind.
type UnsupportedError struct {
	Path string
	Kind Kind
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s: %v: %s", e.Path, ErrUnsupported, e.Kind)
}

// Unwrap returns ErrUnsupported.
func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }

// Read reads one file and hands its events to emit in batches, in file
// order. It returns the number of events and dead letters read.
func Read(ctx context.Context, path string, opts Options, emit func(*pipeline.Batch) error) (events, dead int, err error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1024
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return 0, 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	br := bufio.NewReaderSize(NewProgressReader(f, opts.Progress), 256<<10)
	head, _ := br.Peek(sniffBytes)
	b := &batcher{source: abs, size: opts.BatchSize, emit: emit}
	switch kind := Sniff(head); kind {
	case KindText:
		err = readText(ctx, abs, info.ModTime(), br, opts, b)
	case KindJSONDocument:
		err = readJSONDocument(ctx, abs, info.ModTime(), br, opts, b)
	case KindEVTX:
		var st evtx.Stats
		st, err = evtx.ReadFile(ctx, abs, b.add)
		// Damaged chunks and records are skipped by the reader; they count
		// as unparseable input here.
		b.dead += st.BadRecords + st.BadChunks
		if opts.Progress != nil {
			opts.Progress(info.Size())
		}
	case KindPcap, KindPcapng:
		if opts.Packets == nil {
			return 0, 0, &UnsupportedError{Path: path, Kind: kind}
		}
		err = opts.Packets(ctx, abs, br, func(ev *ecs.Event) {
			if err == nil {
				err = b.add(ev)
			}
		})
	default:
		return 0, 0, &UnsupportedError{Path: path, Kind: kind}
	}
	if err == nil {
		err = b.flush()
	}
	return b.events, b.dead, err
}

// readText decodes a text file line by line. Lines are numbered from 1 as
// the log sensor numbers the lines of a tailed file, so an event has the same
// id whether it was hunted offline or ingested live.
func readText(ctx context.Context, path string, modTime time.Time, br *bufio.Reader, opts Options, b *batcher) error {
	dec, err := logparse.NewDecoder(opts.Format, logparse.Options{Location: opts.Location, Reference: modTime})
	if err != nil {
		return err
	}
	seqs := NewSeqIndex()
	emit := func(rec logparse.Record) {
		if rec.Err != nil {
			b.deadLetter(RecordDeadLetter(rec, path))
			return
		}
		b.addErr(RecordEvent(rec, path, seqs.Lookup(rec.Offset)))
	}
	var offset int64
	var seq uint64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, readErr := readLine(br)
		if len(line) > 0 {
			seq++
			seqs.Add(offset, seq)
			dec.Decode(logparse.Line{Data: line, Offset: offset, SourceID: path, Path: path}, emit)
			seqs.Prune(dec)
			offset += int64(len(line))
		}
		if b.err != nil {
			return b.err
		}
		if readErr == io.EOF {
			break
		}
		if readErr != nil {
			return readErr
		}
	}
	dec.Flush(emit)
	return b.err
}

// readLine returns the next line including its newline, however long.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return line, err
	}
	buf := append([]byte(nil), line...)
	for err == bufio.ErrBufferFull {
		line, err = br.ReadSlice('\n')
		buf = append(buf, line...)
	}
	return buf, err
}

// RecordEvent turns a parsed log record into an event of source path. seq
// is the line number of the record's first line. The id is derived from the
// source and seq, which stay unique across rotations because the log
// sensor keeps numbering the lines of a path after a rotation.
func RecordEvent(rec logparse.Record, path string, seq uint64) *ecs.Event {
	return &ecs.Event{
		ID:        ecs.PositionID(path, seq),
		Timestamp: rec.Timestamp,
		SourceID:  path,
		Seq:       seq,
		Fields:    rec.Fields,
	}
}

// RecordDeadLetter turns a failed record into a dead letter of source path.
func RecordDeadLetter(rec logparse.Record, path string) pipeline.DeadLetter {
	return pipeline.DeadLetter{Time: time.Now().UTC(), SourceID: path, Offset: rec.Offset, Raw: rec.Raw, Reason: rec.Err.Error()}
}

// batcher groups events into batches of a fixed size.
type batcher struct {
	source string
	size   int
	emit   func(*pipeline.Batch) error
	cur    *pipeline.Batch
	events int
	dead   int
	err    error
}

func (b *batcher) batch() *pipeline.Batch {
	if b.cur == nil {
		b.cur = &pipeline.Batch{SourceID: b.source}
	}
	return b.cur
}

func (b *batcher) add(ev *ecs.Event) error {
	if ev.SourceID == "" {
		ev.SourceID = b.source
	}
	cur := b.batch()
	cur.Events = append(cur.Events, ev)
	b.events++
	if len(cur.Events) >= b.size {
		return b.flush()
	}
	return nil
}

func (b *batcher) addErr(ev *ecs.Event) {
	if b.err == nil {
		b.err = b.add(ev)
	}
}

func (b *batcher) deadLetter(d pipeline.DeadLetter) {
	cur := b.batch()
	cur.DeadLetters = append(cur.DeadLetters, d)
	b.dead++
}

func (b *batcher) flush() error {
	if b.cur == nil {
		return nil
	}
	cur := b.cur
	b.cur = nil
	return b.emit(cur)
}

// NewProgressReader returns a reader that calls report with the number of
// bytes read so far after each read; a nil report reports nothing.
func NewProgressReader(r io.Reader, report func(read int64)) io.Reader {
	return &progressReader{r: r, report: report}
}

// progressReader reports the bytes read through it.
type progressReader struct {
	r      io.Reader
	n      int64
	report func(int64)
}

func (p *progressReader) Read(buf []byte) (int, error) {
	n, err := p.r.Read(buf)
	p.n += int64(n)
	if p.report != nil && n > 0 {
		p.report(p.n)
	}
	return n, err
}
