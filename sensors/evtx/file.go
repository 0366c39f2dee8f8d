package evtx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// Layout constants of the EVTX format.
const (
	fileHeaderSize   = 4096
	chunkSize        = 64 * 1024
	chunkHeaderSize  = 512
	recordHeaderSize = 24
)

var (
	fileMagic   = []byte("ElfFile\x00")
	chunkMagic  = []byte("ElfChnk\x00")
	recordMagic = []byte("**\x00\x00")
)

// File is an open EVTX file. It is not safe for concurrent use.
type File struct {
	r    io.ReaderAt
	size int64
	// chunks is the number of chunk slots read: the chunk count of the file
	// header, limited to what the file size holds, or every slot when the
	// header is damaged or dirty.
	chunks int
	// declared is the chunk count of a valid file header. Slots past it
	// that fail the chunk checks are unused space, not bad chunks.
	declared int
	// HeaderOK reports whether the file header checksum matched. When it
	// did not, every 64 KiB slot after the header is tried as a chunk.
	HeaderOK bool
	// Version is the format version of the file header (major, minor).
	Version [2]uint16
	// Dirty reports the file header flag set while Windows had the log open
	// and had not flushed it. The header's chunk count may then miss the
	// newest chunks, so every slot is tried.
	Dirty bool
	keys  *fieldKeys
}

// Record is one event record.
type Record struct {
	// ID is the event record identifier (EventRecordID).
	ID uint64
	// Time is the record's written time from the record header, in UTC.
	Time time.Time
	// Chunk is the index of the chunk the record is in, counted from 0.
	Chunk int
	// Fields are the record's ECS fields in the Winlogbeat shape, without
	// @timestamp (see Timestamp).
	Fields ecs.Fields
	// Timestamp is System/TimeCreated/@SystemTime, or Time when the event
	// has none.
	Timestamp time.Time
	// Root is the decoded Binary XML document: the Event element.
	Root *Element
}

// Stats counts what a read found.
type Stats struct {
	// Records is the number of records decoded and passed on.
	Records int
	// Chunks is the number of chunks whose checksums matched.
	Chunks int
	// BadChunks is the number of chunk slots skipped: wrong signature, a
	// header or records checksum that did not match, or a read error.
	BadChunks int
	// BadRecords is the number of records inside good chunks that could
	// not be decoded.
	BadRecords int
	// Errors keeps the first few skip reasons, for logs and tests.
	Errors []error
}

const maxStatErrors = 16

func (s *Stats) note(err error) {
	if len(s.Errors) < maxStatErrors {
		s.Errors = append(s.Errors, err)
	}
}

// Open reads the file header of an EVTX file of size bytes. A header whose
// checksum does not match is accepted (see File.HeaderOK). Input without
// the signature returns a *NotEVTXError, which matches ErrNotEVTX.
func Open(r io.ReaderAt, size int64) (*File, error) {
	if size < fileHeaderSize {
		return nil, &NotEVTXError{Detail: fmt.Sprintf("%d bytes, shorter than the %d-byte file header", size, fileHeaderSize)}
	}

	hdr := make([]byte, fileHeaderSize)
	if _, err := r.ReadAt(hdr, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("evtx header: read: %w", err)
	}

	if !bytes.Equal(hdr[:8], fileMagic) {
		return nil, &NotEVTXError{Detail: fmt.Sprintf("signature %q, expected %q", hdr[:8], fileMagic)}
	}

	f := &File{r: r, size: size, keys: newFieldKeys()}
	f.Version = [2]uint16{binary.LittleEndian.Uint16(hdr[38:]), binary.LittleEndian.Uint16(hdr[36:])}
	f.Dirty = binary.LittleEndian.Uint32(hdr[120:])&1 != 0
	f.HeaderOK = crc32.ChecksumIEEE(hdr[:120]) == binary.LittleEndian.Uint32(hdr[124:])
	// A partial slot at the end (a truncated file) is counted and read, so
	// Records reports it as a bad chunk.
	slots := int((size - fileHeaderSize + chunkSize - 1) / chunkSize)
	f.chunks, f.declared = slots, slots
	if f.HeaderOK {
		f.declared = int(binary.LittleEndian.Uint16(hdr[42:]))
		if !f.Dirty && f.declared < slots {
			f.chunks = f.declared
		}
	}

	return f, nil
}

// Records decodes every record of the file in order and calls fn for each.
// Bad chunks and records are skipped and counted in the returned Stats. An
// error from fn stops the read and is returned as it is.
func (f *File) Records(fn func(rec Record) error) (Stats, error) {
	var st Stats
	buf := make([]byte, chunkSize)
	for i := 0; i < f.chunks; i++ {
		off := int64(fileHeaderSize) + int64(i)*chunkSize
		n, err := f.r.ReadAt(buf, off)
		if n < chunkSize && i >= f.declared {
			continue
		}
		if n < chunkSize {
			st.BadChunks++
			if err == nil || errors.Is(err, io.EOF) {
				err = fmt.Errorf("truncated: %d of %d bytes", n, chunkSize)
			}
			st.note(fmt.Errorf("chunk %d at offset %d: read: %w", i, off, err))
			continue
		}

		c, err := newChunk(buf)
		if c != nil {
			c.keys = f.keys
		}
		if err != nil {
			if isEmptyChunk(buf) || i >= f.declared {
				continue
			}
			st.BadChunks++
			st.note(fmt.Errorf("chunk %d at offset %d: %w", i, off, err))
			continue
		}

		st.Chunks++
		if err := c.records(i, &st, fn); err != nil {
			return st, err
		}
	}

	return st, nil
}

// isEmptyChunk reports whether a chunk slot was never written (all zero
// signature), which preallocated log files contain.
func isEmptyChunk(b []byte) bool {
	for _, c := range b[:8] {
		if c != 0 {
			return false
		}
	}

	return true
}

// chunk is one 64 KiB chunk with its per-chunk caches.
type chunk struct {
	data      []byte
	freeSpace uint32
	names     map[uint32]string
	templates map[uint32]*template
	slab      arena
	// keys caches field names such as "winlog.event_data.<Name>" for the
	// whole file.
	keys *fieldKeys
}

// newChunk checks a chunk's signature and checksums.
func newChunk(b []byte) (*chunk, error) {
	if !bytes.Equal(b[:8], chunkMagic) {
		return nil, fmt.Errorf("signature %q, expected %q", b[:8], chunkMagic)
	}

	sum := crc32.NewIEEE()
	sum.Write(b[:120])
	sum.Write(b[128:chunkHeaderSize])
	if got, want := sum.Sum32(), binary.LittleEndian.Uint32(b[124:]); got != want {
		return nil, fmt.Errorf("header checksum 0x%08x, stored 0x%08x", got, want)
	}

	free := binary.LittleEndian.Uint32(b[48:])
	if free < chunkHeaderSize || free > chunkSize {
		return nil, fmt.Errorf("free space offset %d outside %d..%d", free, chunkHeaderSize, chunkSize)
	}

	if got, want := crc32.ChecksumIEEE(b[chunkHeaderSize:free]), binary.LittleEndian.Uint32(b[52:]); got != want {
		return nil, fmt.Errorf("event records checksum 0x%08x, stored 0x%08x", got, want)
	}

	return &chunk{data: b, freeSpace: free, names: make(map[uint32]string), templates: make(map[uint32]*template)}, nil
}

// records decodes the records of a chunk.
func (c *chunk) records(index int, st *Stats, fn func(Record) error) error {
	off := uint32(chunkHeaderSize)
	for off+recordHeaderSize <= c.freeSpace {
		b := c.data[off:]
		if !bytes.Equal(b[:4], recordMagic) {
			st.BadRecords++
			st.note(fmt.Errorf("chunk %d offset %d: record signature %q, expected %q", index, off, b[:4], recordMagic))
			return nil
		}

		size := binary.LittleEndian.Uint32(b[4:])
		if size < recordHeaderSize+4 || uint64(off)+uint64(size) > uint64(c.freeSpace) {
			st.BadRecords++
			st.note(fmt.Errorf("chunk %d offset %d: record size %d does not fit the chunk", index, off, size))
			return nil
		}

		id := binary.LittleEndian.Uint64(b[8:])
		written := filetime(binary.LittleEndian.Uint64(b[16:]))
		root, err := c.decodeRecord(off+recordHeaderSize, off+size-4)
		if err != nil {
			st.BadRecords++
			st.note(fmt.Errorf("chunk %d record %d: %w", index, id, err))
			off += size
			continue
		}

		fields, ts, ok := eventFields(root, c.keys)
		if !ok {
			ts = written
		}
		st.Records++
		rec := Record{ID: id, Time: written, Chunk: index, Fields: fields, Timestamp: ts, Root: root}
		if err := fn(rec); err != nil {
			return err
		}
		off += size
	}

	return nil
}

// filetime converts a Windows FILETIME (100 ns intervals since 1601-01-01
// UTC) to a time.Time in UTC.
func filetime(v uint64) time.Time {
	const epochDelta = 116444736000000000 // 1601-01-01 to 1970-01-01 in 100 ns
	d := int64(v/10_000_000) - epochDelta/10_000_000
	return time.Unix(d, int64(v%10_000_000)*100).UTC()
}
