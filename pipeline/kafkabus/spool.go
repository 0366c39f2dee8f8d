package kafkabus

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// SpoolOptions configure the producer's local disk spool, which keeps
// messages while Kafka is unreachable.
type SpoolOptions struct {
	// Dir holds the segment files; required. One producer per directory.
	Dir string `yaml:"dir"`
	// MaxBytes bounds the segment files on disk. When the spool is full,
	// Publish blocks until the drainer has sent and deleted a segment.
	// Default 1 GiB.
	MaxBytes int64 `yaml:"max_bytes"`
	// SegmentBytes is the size at which a new segment file starts. A
	// segment is deleted once all its records are acknowledged by Kafka.
	// Default 16 MiB.
	SegmentBytes int64 `yaml:"segment_bytes"`
}

// The spool is a directory of segment files named <id>.seg (20 decimal
// digits, ascending). A segment starts with spoolMagic and holds records:
//
//	uint32 payload length | uint32 CRC-32C of the payload | payload
//
// (big-endian). Append writes a whole batch and fsyncs before it returns, so
// every record acknowledged to a caller is on disk. After a crash, the last
// segment may end in a torn write: scanning stops at the first record that
// is short or fails its checksum and truncates the segment there. Because
// each batch is fsynced before Append returns, the records after such a
// point were never acknowledged. A bad record in an earlier segment cannot
// be a torn write (the segment was fsynced before the next one started), so
// opening the spool fails then instead of dropping acknowledged records.
//
// The file "cursor" stores the position up to which Kafka acknowledged the
// records. It is replaced by rename without fsync: after a crash it may lag
// behind, and the records after it are sent again (at least once).
const (
	spoolMagic      = "CGSPOOL1"
	recordHeaderLen = 8
	maxRecordBytes  = maxValueBytes + 1<<20
	cursorFile      = "cursor"
	segmentSuffix   = ".seg"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// spoolPos is the end of a record: the next record starts there.
type spoolPos struct {
	seg uint64
	off int64
}

// spoolRecord is one message read from the spool with the position after it.
type spoolRecord struct {
	msg Message
	end spoolPos
}

type segment struct {
	id   uint64
	size int64
}

// spool is safe for concurrent use: Append from publishers, read and ack
// from the one drainer.
type spool struct {
	dir      string
	maxBytes int64
	segBytes int64
	log      *slog.Logger
	stats    func(bytes, records int64)

	mu      sync.Mutex
	segs    []segment // ascending id; the cursor lies in segs[0]
	w       *os.File  // write handle of the last segment, nil if none is open
	r       *os.File  // read handle of segs[0], nil if none is open
	rID     uint64
	readOff int64 // cursor offset within segs[0]
	nextID  uint64
	bytes   int64         // total size of the segment files
	records int64         // records after the cursor
	space   chan struct{} // closed and replaced whenever bytes shrink
	closed  bool
}

func (o SpoolOptions) withDefaults() SpoolOptions {
	if o.MaxBytes <= 0 {
		o.MaxBytes = 1 << 30
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = 16 << 20
	}
	return o
}

// openSpool opens or creates the spool in opts.Dir and recovers it after a
// crash (see the format comment above).
func openSpool(opts SpoolOptions, log *slog.Logger, stats func(bytes, records int64)) (*spool, error) {
	opts = opts.withDefaults()
	if opts.Dir == "" {
		return nil, configError("kafkabus.spool.dir.missing")
	}
	if opts.MaxBytes <= opts.SegmentBytes {
		return nil, configError("kafkabus.spool.size.invalid", opts.MaxBytes, opts.SegmentBytes)
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("create spool directory %s: %w", opts.Dir, err)
	}
	if stats == nil {
		stats = func(int64, int64) {}
	}
	s := &spool{dir: opts.Dir, maxBytes: opts.MaxBytes, segBytes: opts.SegmentBytes, log: log, stats: stats,
		space: make(chan struct{}), nextID: 1}
	if err := s.recover(); err != nil {
		return nil, err
	}
	s.stats(s.bytes, s.records)
	return s, nil
}

func (s *spool) segPath(id uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", id, segmentSuffix))
}

func (s *spool) recover() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("read spool directory %s: %w", s.dir, err)
	}
	var ids []uint64
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, segmentSuffix) {
			continue
		}
		id, err := strconv.ParseUint(strings.TrimSuffix(name, segmentSuffix), 10, 64)
		if err != nil {
			return fmt.Errorf("invalid file %s in spool directory %s: not a segment name; move it out of the directory", name, s.dir)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)

	cur, hasCursor := s.readCursor()
	if hasCursor {
		// New segments must sort after the cursor's, or the next recovery
		// would take them for acknowledged ones and delete them.
		s.nextID = cur.seg + 1
	}
	for i, id := range ids {
		if hasCursor && id < cur.seg {
			// Acknowledged, but the deletion did not finish before a crash.
			if err := os.Remove(s.segPath(id)); err != nil {
				return fmt.Errorf("remove acknowledged spool segment: %w", err)
			}
			continue
		}
		last := i == len(ids)-1
		size, boundaries, err := s.scanSegment(id, last)
		if err != nil {
			return err
		}
		s.segs = append(s.segs, segment{id: id, size: size})
		s.bytes += size
		n := int64(len(boundaries))
		if hasCursor && id == cur.seg {
			idx, ok := slices.BinarySearch(boundaries, cur.off)
			switch {
			case ok:
				s.readOff = cur.off
				n -= int64(idx + 1)
			case cur.off == int64(len(spoolMagic)):
				s.readOff = cur.off
			default:
				s.log.Warn("spool cursor is not at a record boundary; sending the segment again from its start",
					"segment", s.segPath(id), "offset", cur.off)
			}
		}
		s.records += n
		s.nextID = id + 1
	}
	if len(s.segs) > 0 && s.readOff == 0 {
		s.readOff = int64(len(spoolMagic))
	}
	if len(s.segs) > 0 {
		s.log.Info("spool opened with records to send", "dir", s.dir, "records", s.records, "bytes", s.bytes, "segments", len(s.segs))
	}
	return nil
}

// scanSegment verifies a segment and returns its valid size and the end
// offset of each record. A torn tail of the last segment is truncated.
func (s *spool) scanSegment(id uint64, last bool) (int64, []int64, error) {
	path := s.segPath(id)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, nil, fmt.Errorf("read spool segment: %w", err)
	}
	if len(data) < len(spoolMagic) || string(data[:len(spoolMagic)]) != spoolMagic {
		if last && len(data) < len(spoolMagic) && string(data) == spoolMagic[:len(data)] {
			// Created, but the header write did not complete: never held a record.
			return s.truncateTail(path, data, 0, nil)
		}
		return 0, nil, fmt.Errorf("spool segment %s does not start with %q: move it away if it is not a spool file", path, spoolMagic)
	}

	var boundaries []int64
	off := len(spoolMagic)
	for off < len(data) {
		_, n, err := decodeSpoolRecord(data[off:])
		if err != nil {
			if last {
				return s.truncateTail(path, data, off, boundaries)
			}
			return 0, nil, fmt.Errorf("spool segment %s is corrupt at offset %d (%v), and it is not the last segment, so the damage is not a torn write: "+
				"copy the file for analysis and remove it to continue; its records from that offset on are lost", path, off, err)
		}
		off += n
		boundaries = append(boundaries, int64(off))
	}
	return int64(off), boundaries, nil
}

func (s *spool) truncateTail(path string, data []byte, off int, boundaries []int64) (int64, []int64, error) {
	s.log.Warn("spool segment ends in a torn write, which was never acknowledged; truncating it",
		"segment", path, "offset", off, "bytes_dropped", len(data)-off)
	if off < len(spoolMagic) {
		if err := os.Remove(path); err != nil {
			return 0, nil, fmt.Errorf("remove torn spool segment: %w", err)
		}
		return 0, nil, nil
	}
	if err := os.Truncate(path, int64(off)); err != nil {
		return 0, nil, fmt.Errorf("truncate torn spool segment: %w", err)
	}
	return int64(off), boundaries, nil
}

func (s *spool) readCursor() (spoolPos, bool) {
	data, err := os.ReadFile(filepath.Join(s.dir, cursorFile))
	if err != nil {
		return spoolPos{}, false
	}
	var pos spoolPos
	if _, err := fmt.Sscanf(string(data), "%d %d", &pos.seg, &pos.off); err != nil {
		s.log.Warn("spool cursor file is unreadable; sending the spool again from its start", "dir", s.dir, "err", err)
		return spoolPos{}, false
	}
	return pos, true
}

func (s *spool) writeCursor(pos spoolPos) error {
	tmp := filepath.Join(s.dir, cursorFile+".tmp")
	if err := os.WriteFile(tmp, fmt.Appendf(nil, "%d %d\n", pos.seg, pos.off), 0o640); err != nil {
		return fmt.Errorf("write spool cursor: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, cursorFile)); err != nil {
		return fmt.Errorf("write spool cursor: %w", err)
	}
	return nil
}

// empty reports whether every spooled record has been acknowledged.
func (s *spool) empty() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records == 0
}

// Append writes msgs as one batch and fsyncs it. It blocks while the spool
// is full, until the drainer frees space or ctx ends.
func (s *spool) Append(ctx context.Context, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	var buf []byte
	for i := range msgs {
		var err error
		if buf, err = appendSpoolRecord(buf, &msgs[i]); err != nil {
			return err
		}
	}
	if int64(len(buf))+int64(len(spoolMagic)) > s.maxBytes-s.segBytes {
		return fmt.Errorf("spool %d messages: the batch of %d bytes does not fit the spool (max_bytes %d minus segment_bytes %d); publish smaller batches or raise spool.max_bytes",
			len(msgs), len(buf), s.maxBytes, s.segBytes)
	}

	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return errors.New("spool is closed")
		}
		if s.bytes+int64(len(buf))+int64(len(spoolMagic)) <= s.maxBytes {
			err := s.appendLocked(buf, int64(len(msgs)))
			s.mu.Unlock()
			return err
		}
		space := s.space
		s.mu.Unlock()

		select {
		case <-space:
		case <-ctx.Done():
			return fmt.Errorf("spool full (%d bytes, max_bytes %d): %w", s.bytes, s.maxBytes, ctx.Err())
		}
	}
}

func (s *spool) appendLocked(buf []byte, n int64) error {
	if s.w == nil || (s.segs[len(s.segs)-1].size+int64(len(buf)) > s.segBytes && s.segs[len(s.segs)-1].size > int64(len(spoolMagic))) {
		if err := s.newSegmentLocked(); err != nil {
			return err
		}
	}
	last := &s.segs[len(s.segs)-1]
	if _, err := s.w.WriteAt(buf, last.size); err != nil {
		// Cut the partial write off, so the segment ends at a record boundary.
		_ = s.w.Truncate(last.size)
		return fmt.Errorf("write spool segment %s: %w", s.w.Name(), err)
	}
	if err := s.w.Sync(); err != nil {
		_ = s.w.Truncate(last.size)
		return fmt.Errorf("fsync spool segment %s: %w", s.w.Name(), err)
	}
	last.size += int64(len(buf))
	s.bytes += int64(len(buf))
	s.records += n
	s.stats(s.bytes, s.records)
	return nil
}

func (s *spool) newSegmentLocked() error {
	if s.w != nil {
		if err := s.w.Close(); err != nil {
			return fmt.Errorf("close spool segment: %w", err)
		}
		s.w = nil
	}

	id := s.nextID
	path := s.segPath(id)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("create spool segment: %w", err)
	}

	if _, err := f.Write([]byte(spoolMagic)); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write spool segment header %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("fsync spool segment %s: %w", path, err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}

	s.nextID++
	s.w = f
	if len(s.segs) == 0 {
		s.readOff = int64(len(spoolMagic))
	}
	s.segs = append(s.segs, segment{id: id, size: int64(len(spoolMagic))})
	s.bytes += int64(len(spoolMagic))
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open spool directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync spool directory %s: %w", dir, err)
	}
	return nil
}

// Read returns up to max records after the cursor, at most about maxBytes
// of them (always at least one). It does not move the cursor.
func (s *spool) Read(max int, maxBytes int64) ([]spoolRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	var out []spoolRecord
	var total int64
	segIdx, off := 0, s.readOff
	for segIdx < len(s.segs) && len(out) < max && (total < maxBytes || len(out) == 0) {
		seg := s.segs[segIdx]
		if off >= seg.size {
			segIdx++
			off = int64(len(spoolMagic))
			continue
		}
		f, err := s.readHandleLocked(seg.id)
		if err != nil {
			return out, err
		}
		chunk := min(seg.size-off, max64(maxBytes-total, recordHeaderLen))
		var hdr [recordHeaderLen]byte
		if _, err := f.ReadAt(hdr[:], off); err != nil {
			return out, fmt.Errorf("read spool segment %s at %d: %w", f.Name(), off, err)
		}
		n := int64(binary.BigEndian.Uint32(hdr[:4])) + recordHeaderLen
		chunk = max64(chunk, n)
		buf := make([]byte, min(chunk, seg.size-off))
		if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return out, fmt.Errorf("read spool segment %s at %d: %w", f.Name(), off, err)
		}
		pos := 0
		for pos < len(buf) && len(out) < max {
			msg, used, err := decodeSpoolRecord(buf[pos:])
			if errors.Is(err, errShortRecord) && pos > 0 {
				break // the rest of the record is beyond this chunk
			}
			if err != nil {
				return out, fmt.Errorf("spool segment %s at offset %d: %w", f.Name(), off+int64(pos), err)
			}
			pos += used
			total += int64(used)
			out = append(out, spoolRecord{msg: msg, end: spoolPos{seg: seg.id, off: off + int64(pos)}})
			if total >= maxBytes {
				break
			}
		}
		off += int64(pos)
	}
	return out, nil
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

func (s *spool) readHandleLocked(id uint64) (*os.File, error) {
	if s.r != nil && s.rID == id {
		return s.r, nil
	}
	if s.r != nil {
		s.r.Close()
		s.r = nil
	}
	f, err := os.Open(s.segPath(id))
	if err != nil {
		return nil, fmt.Errorf("open spool segment: %w", err)
	}
	s.r, s.rID = f, id
	return f, nil
}

// Ack moves the cursor to pos, the end of the n-th record after the old
// cursor, and deletes the segments it has passed.
func (s *spool) Ack(pos spoolPos, n int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("spool is closed")
	}

	freed := false
	for len(s.segs) > 0 {
		seg := s.segs[0]
		fullyRead := seg.id < pos.seg || (seg.id == pos.seg && pos.off >= seg.size)
		if !fullyRead {
			break
		}
		isLast := len(s.segs) == 1
		if isLast && s.records > n {
			break // more records follow in this same segment
		}
		if isLast && s.w != nil {
			s.w.Close()
			s.w = nil
		}
		if s.r != nil && s.rID == seg.id {
			s.r.Close()
			s.r = nil
		}
		if err := os.Remove(s.segPath(seg.id)); err != nil {
			return fmt.Errorf("remove sent spool segment: %w", err)
		}
		s.bytes -= seg.size
		s.segs = s.segs[1:]
		s.readOff = int64(len(spoolMagic))
		freed = true
	}
	if len(s.segs) > 0 && s.segs[0].id == pos.seg {
		s.readOff = pos.off
	}
	s.records -= n
	if s.records < 0 {
		s.records = 0
	}
	if freed {
		close(s.space)
		s.space = make(chan struct{})
	}
	s.stats(s.bytes, s.records)
	return s.writeCursor(pos)
}

// Stats returns the bytes of the segment files and the records not yet
// acknowledged by Kafka.
func (s *spool) Stats() (bytes, records int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes, s.records
}

// Close closes the files. Records stay on disk for the next open.
func (s *spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.space)
	var err error
	if s.w != nil {
		err = s.w.Close()
		s.w = nil
	}
	if s.r != nil {
		s.r.Close()
		s.r = nil
	}
	return err
}

var errShortRecord = errors.New("record is cut short")

// appendSpoolRecord appends the record framing and the encoded message.
// Payload layout: uint16 topic length, topic, int32 key length (-1 for nil),
// key, int32 value length (-1 for nil), value, uint16 header count, then per
// header uint16 key length, key, int32 value length (-1 for nil), value.
func appendSpoolRecord(dst []byte, m *Message) ([]byte, error) {
	if len(m.Topic) > math.MaxUint16 || len(m.Headers) > math.MaxUint16 {
		return dst, fmt.Errorf("spool message for topic %.40q: topic name or header count too large", m.Topic)
	}
	start := len(dst)
	dst = append(dst, make([]byte, recordHeaderLen)...)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(m.Topic)))
	dst = append(dst, m.Topic...)
	dst = appendBytes32(dst, m.Key)
	dst = appendBytes32(dst, m.Value)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(m.Headers)))
	for _, h := range m.Headers {
		if len(h.Key) > math.MaxUint16 {
			return dst[:start], fmt.Errorf("spool message for topic %s: header key of %d bytes is too long", m.Topic, len(h.Key))
		}
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(h.Key)))
		dst = append(dst, h.Key...)
		dst = appendBytes32(dst, h.Value)
	}
	payload := dst[start+recordHeaderLen:]
	if len(payload) > maxRecordBytes {
		return dst[:start], fmt.Errorf("spool message for topic %s: %d bytes exceeds the limit of %d", m.Topic, len(payload), maxRecordBytes)
	}
	binary.BigEndian.PutUint32(dst[start:], uint32(len(payload)))
	binary.BigEndian.PutUint32(dst[start+4:], crc32.Checksum(payload, castagnoli))
	return dst, nil
}

func appendBytes32(dst, b []byte) []byte {
	if b == nil {
		return binary.BigEndian.AppendUint32(dst, math.MaxUint32)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(b)))
	return append(dst, b...)
}

// decodeSpoolRecord decodes the record at the start of data and returns the
// bytes it used. The message's slices are copies, independent of data.
func decodeSpoolRecord(data []byte) (Message, int, error) {
	if len(data) < recordHeaderLen {
		return Message{}, 0, errShortRecord
	}
	n := binary.BigEndian.Uint32(data)
	if n > maxRecordBytes {
		return Message{}, 0, fmt.Errorf("record length %d exceeds the limit of %d", n, maxRecordBytes)
	}
	if len(data)-recordHeaderLen < int(n) {
		return Message{}, 0, errShortRecord
	}
	payload := data[recordHeaderLen : recordHeaderLen+int(n)]
	if crc32.Checksum(payload, castagnoli) != binary.BigEndian.Uint32(data[4:]) {
		return Message{}, 0, errors.New("record checksum mismatch")
	}
	msg, err := decodeSpoolPayload(payload)
	if err != nil {
		return Message{}, 0, err
	}
	return msg, recordHeaderLen + int(n), nil
}

func decodeSpoolPayload(p []byte) (Message, error) {
	r := payloadReader{buf: p}
	var m Message
	m.Topic = string(r.bytes16())
	m.Key = r.bytes32()
	m.Value = r.bytes32()
	count := int(r.uint16())
	if r.err == nil && count > 0 {
		m.Headers = make([]Header, 0, min(count, len(r.buf)/6+1))
	}
	for i := 0; i < count && r.err == nil; i++ {
		key := string(r.bytes16())
		m.Headers = append(m.Headers, Header{Key: key, Value: r.bytes32()})
	}
	if r.err != nil {
		return Message{}, r.err
	}
	if len(r.buf) != 0 {
		return Message{}, fmt.Errorf("record has %d bytes after its last header", len(r.buf))
	}
	return m, nil
}

type payloadReader struct {
	buf []byte
	err error
}

func (r *payloadReader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.buf) {
		r.err = fmt.Errorf("record payload ends early: need %d bytes, %d left", n, len(r.buf))
		return nil
	}
	b := r.buf[:n:n]
	r.buf = r.buf[n:]
	return b
}

func (r *payloadReader) uint16() uint16 {
	b := r.take(2)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint16(b)
}

func (r *payloadReader) bytes16() []byte {
	n := r.uint16()
	return r.take(int(n))
}

func (r *payloadReader) bytes32() []byte {
	b := r.take(4)
	if b == nil {
		return nil
	}
	n := binary.BigEndian.Uint32(b)
	if n == math.MaxUint32 {
		return nil
	}
	if n > uint32(len(r.buf)) {
		r.err = fmt.Errorf("record payload ends early: need %d bytes, %d left", n, len(r.buf))
		return nil
	}
	out := make([]byte, n)
	copy(out, r.take(int(n)))
	return out
}
