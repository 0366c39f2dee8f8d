package evtx

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/i18n"
)

const (
	largestFile = "../../../shared/data/evtx/deepbluecli/smb-password-guessing-security.evtx"
	smallFile   = "../../../shared/data/evtx/deepbluecli/new-user-security.evtx"
)

// manifestCounts reads the per-file record counts of the shared data
// MANIFEST.md: the records column of the EVTX table and the EVTX records
// column of the Sigma regression table.
func manifestCounts(t *testing.T) map[string]int {
	t.Helper()
	fh, err := os.Open("../../../shared/data/MANIFEST.md")
	if err != nil {
		t.Fatalf("open MANIFEST.md: %v", err)
	}
	defer fh.Close()

	evtxRow := regexp.MustCompile("^\\| `(evtx/[^`]+\\.evtx)` \\| [^|]+ \\| (\\d+) \\|")
	sigmaRow := regexp.MustCompile("^\\| `[^`]+` \\| `(sigma/regression_data/[^`]+/)` \\(([^)]*)\\) \\| \\d+ \\| (\\d+) \\|")
	counts := make(map[string]int)
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if m := evtxRow.FindStringSubmatch(sc.Text()); m != nil {
			n, _ := strconv.Atoi(m[2])
			counts["../../../shared/data/"+m[1]] = n
			continue
		}
		if m := sigmaRow.FindStringSubmatch(sc.Text()); m != nil {
			var evtxNames []string
			for _, name := range strings.Split(m[2], ", ") {
				if strings.HasSuffix(name, ".evtx") {
					evtxNames = append(evtxNames, name)
				}
			}
			if len(evtxNames) == 1 {
				n, _ := strconv.Atoi(m[3])
				counts["../../../shared/data/"+m[1]+evtxNames[0]] = n
			}
		}
	}

	return counts
}

// TestRecordCountsMatchManifest checks the record count of every shared
// .evtx file that MANIFEST.md lists.
func TestRecordCountsMatchManifest(t *testing.T) {
	counts := manifestCounts(t)
	checked := 0
	for _, path := range sharedEVTX(t) {
		want, ok := counts[path]
		if !ok {
			continue
		}
		checked++
		recs, st := readAll(t, path)
		if len(recs) != want {
			t.Errorf("%s: %d records, MANIFEST.md %d", path, len(recs), want)
		}
		if st.BadChunks != 0 || st.BadRecords != 0 {
			t.Errorf("%s: bad chunks %d, bad records %d: %v", path, st.BadChunks, st.BadRecords, st.Errors)
		}
	}

	if checked < 40 {
		t.Fatalf("only %d files found in MANIFEST.md", checked)
	}
	t.Logf("%d files match their MANIFEST.md record counts", checked)
}

// readBytes reads every record of an in-memory file.
func readBytes(b []byte) (int, Stats, error) {
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return 0, Stats{}, err
	}

	n := 0
	st, err := f.Records(func(Record) error { n++; return nil })
	return n, st, err
}

// fixChecksums rewrites the records and header checksums of every chunk,
// so a changed byte reaches the Binary XML decoder.
func fixChecksums(b []byte) {
	for off := fileHeaderSize; off+chunkSize <= len(b); off += chunkSize {
		c := b[off : off+chunkSize]
		if !bytes.Equal(c[:8], chunkMagic) {
			continue
		}
		free := binary.LittleEndian.Uint32(c[48:])
		if free >= chunkHeaderSize && free <= chunkSize {
			binary.LittleEndian.PutUint32(c[52:], crc32.ChecksumIEEE(c[chunkHeaderSize:free]))
		}
		sum := crc32.NewIEEE()
		sum.Write(c[:120])
		sum.Write(c[128:chunkHeaderSize])
		binary.LittleEndian.PutUint32(c[124:], sum.Sum32())
	}
}

// TestDamagedInput checks that damaged files are read as far as they are
// intact, with the damage counted and no panic.
func TestDamagedInput(t *testing.T) {
	full, err := os.ReadFile(largestFile)
	if err != nil {
		t.Fatal(err)
	}

	total, st, err := readBytes(full)
	if err != nil || st.Chunks < 3 {
		t.Fatalf("intact file: %d records, %+v, %v", total, st, err)
	}

	chunk0, err := os.ReadFile(largestFile)
	if err != nil {
		t.Fatal(err)
	}
	firstChunkRecords := 0
	f, _ := Open(bytes.NewReader(chunk0), int64(len(chunk0)))
	if _, err := f.Records(func(r Record) error {
		if r.Chunk == 0 {
			firstChunkRecords++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name           string
		damage         func([]byte) []byte
		records        int
		badChunks      int
		badRecords     int
		wantErrNotEVTX bool
	}{
		{
			name:      "truncated inside the second chunk",
			damage:    func(b []byte) []byte { return b[:fileHeaderSize+chunkSize+chunkSize/2] },
			records:   firstChunkRecords,
			badChunks: 1,
		},
		{
			name:           "truncated inside the file header",
			damage:         func(b []byte) []byte { return b[:1000] },
			wantErrNotEVTX: true,
		},
		{
			name:      "byte flipped in the first chunk's records",
			damage:    func(b []byte) []byte { b[fileHeaderSize+chunkHeaderSize+100] ^= 0xff; return b },
			records:   total - firstChunkRecords,
			badChunks: 1,
		},
		{
			name:      "byte flipped in the first chunk's header",
			damage:    func(b []byte) []byte { b[fileHeaderSize+20] ^= 0x01; return b },
			records:   total - firstChunkRecords,
			badChunks: 1,
		},
		{
			name: "template offset outside the chunk",
			damage: func(b []byte) []byte {
				// The first record's Binary XML: fragment header (4 bytes),
				// template instance token, unknown byte, template id, then
				// the definition offset.
				at := fileHeaderSize + chunkHeaderSize + recordHeaderSize + 4 + 6
				binary.LittleEndian.PutUint32(b[at:], 0xfff0)
				fixChecksums(b)
				return b
			},
			records:    total - 1,
			badRecords: 1,
		},
		{
			name: "record size past the free space",
			damage: func(b []byte) []byte {
				binary.LittleEndian.PutUint32(b[fileHeaderSize+chunkHeaderSize+4:], 0x7fffffff)
				fixChecksums(b)
				return b
			},
			records:    total - firstChunkRecords,
			badRecords: 1,
		},
		{
			name: "dirty header counting one chunk",
			damage: func(b []byte) []byte {
				binary.LittleEndian.PutUint16(b[42:], 1)
				binary.LittleEndian.PutUint32(b[120:], 1)
				binary.LittleEndian.PutUint32(b[124:], crc32.ChecksumIEEE(b[:120]))
				return b
			},
			records: total,
		},
		{
			name: "clean header counting one chunk",
			damage: func(b []byte) []byte {
				binary.LittleEndian.PutUint16(b[42:], 1)
				binary.LittleEndian.PutUint32(b[124:], crc32.ChecksumIEEE(b[:120]))
				return b
			},
			records: firstChunkRecords,
		},
		{
			name: "damaged header",
			damage: func(b []byte) []byte {
				b[42] ^= 0xff
				return b
			},
			records: total,
		},
		{
			name:           "not an EVTX file",
			damage:         func(b []byte) []byte { copy(b, "NotEvtx!"); return b },
			wantErrNotEVTX: true,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.damage(bytes.Clone(full))
			n, st, err := readBytes(b)
			if tt.wantErrNotEVTX {
				if !errors.Is(err, ErrNotEVTX) {
					t.Fatalf("error %v, expected ErrNotEVTX", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.records {
				t.Errorf("records %d, expected %d", n, tt.records)
			}
			if st.BadChunks != tt.badChunks {
				t.Errorf("bad chunks %d, expected %d: %v", st.BadChunks, tt.badChunks, st.Errors)
			}
			if st.BadRecords != tt.badRecords {
				t.Errorf("bad records %d, expected %d: %v", st.BadRecords, tt.badRecords, st.Errors)
			}
		})
	}
}

// TestReadFileEvents checks the event ids, source and file fields that
// ReadFile sets, and that an emit error stops the read.
func TestReadFileEvents(t *testing.T) {
	var events []*ecs.Event
	st, err := ReadFile(context.Background(), smallFile, func(ev *ecs.Event) error {
		events = append(events, ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	if st.Records != 4 || len(events) != 4 {
		t.Fatalf("records %d, events %d, expected 4", st.Records, len(events))
	}

	first := events[0]
	if first.ID != ecs.PositionID(smallFile, 1) {
		t.Errorf("ID %s, expected PositionID(path, 1)", first.ID)
	}
	if first.SourceID != smallFile {
		t.Errorf("SourceID %q", first.SourceID)
	}
	if s, _ := first.Fields.String("log.file.path"); s != smallFile {
		t.Errorf("log.file.path %q", s)
	}
	if s, _ := first.Fields.String("event.dataset"); s != "windows.security" {
		t.Errorf("event.dataset %q", s)
	}
	if n, _ := first.Fields.Int("winlog.event_id"); n != 4728 {
		t.Errorf("winlog.event_id %d", n)
	}
	if got := first.Timestamp.Format(timeLayout); got != "2013-10-23T16:22:39.973500Z" {
		t.Errorf("@timestamp %s", got)
	}

	stop := errors.New("stop after one")
	_, err = ReadFile(context.Background(), smallFile, func(*ecs.Event) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("error %v, expected the emit error", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = ReadFile(ctx, smallFile, func(*ecs.Event) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, expected context.Canceled", err)
	}

	_, err = ReadFile(context.Background(), filepath.Join(t.TempDir(), "missing.evtx"), func(*ecs.Event) error { return nil })
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error %v, expected os.ErrNotExist", err)
	}
}

// FuzzReadEVTX reads mutated real files twice: as they are, and with the
// chunk checksums rewritten so the mutation reaches the Binary XML
// decoder. Neither may panic.
func FuzzReadEVTX(f *testing.F) {
	for _, path := range []string{
		smallFile,
		"../../../shared/data/evtx/evtx-attack-samples/credential_access/MSSQL_multiple_failed_logon_EventID_18456.evtx",
		"../../../shared/data/evtx/evtx-attack-samples/execution/temp_scheduled_task_4698_4699.evtx",
	} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}

	f.Fuzz(func(t *testing.T, b []byte) {
		n, st, err := readBytes(b)
		if err == nil && n != st.Records {
			t.Fatalf("callback saw %d records, stats %d", n, st.Records)
		}
		fixed := bytes.Clone(b)
		fixChecksums(fixed)
		_, _, _ = readBytes(fixed)
	})
}

// BenchmarkRecords decodes the largest shared file (3561 Security 4625
// records) to ECS fields.
func BenchmarkRecords(b *testing.B) {
	data, err := os.ReadFile(largestFile)
	if err != nil {
		b.Fatal(err)
	}

	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	records := 0
	for b.Loop() {
		n, _, err := readBytes(data)
		if err != nil {
			b.Fatal(err)
		}
		records += n
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// FuzzDecodeChunk decodes one chunk built from the input. The input is the
// chunk's used bytes (header and records). The target pads it to 64 KiB
// and sets the free space offset and checksums to match, so every mutation
// reaches the record and Binary XML decoders. Seeds are the used part of the first
// chunk of small real files, which keeps inputs a few KiB long.
func FuzzDecodeChunk(f *testing.F) {
	for _, path := range []string{
		smallFile,
		"../../../shared/data/evtx/evtx-attack-samples/credential_access/MSSQL_multiple_failed_logon_EventID_18456.evtx",
		"../../../shared/data/evtx/evtx-attack-samples/execution/temp_scheduled_task_4698_4699.evtx",
		"../../../shared/data/evtx/evtx-attack-samples/defense_evasion/DE_UAC_Disabled_Sysmon_12_13.evtx",
	} {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		c := b[fileHeaderSize : fileHeaderSize+chunkSize]
		f.Add(bytes.Clone(c[:binary.LittleEndian.Uint32(c[48:])]))
	}

	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < chunkHeaderSize || len(b) > chunkSize {
			return
		}
		buf := make([]byte, chunkSize)
		copy(buf, b)
		copy(buf, chunkMagic)
		binary.LittleEndian.PutUint32(buf[48:], uint32(len(b)))
		whole := append(make([]byte, fileHeaderSize), buf...)
		fixChecksums(whole)
		c, err := newChunk(whole[fileHeaderSize:])
		if err != nil {
			t.Fatalf("chunk with fixed checksums rejected: %v", err)
		}
		var st Stats
		_ = c.records(0, &st, func(r Record) error {
			if r.Root == nil || r.Fields == nil {
				t.Fatal("record without root or fields")
			}
			return nil
		})
	})
}

// TestUserMessages checks the catalog texts of a non-EVTX input and of
// the read summary in both languages.
func TestUserMessages(t *testing.T) {
	_, err := Open(bytes.NewReader([]byte("{\"Event\":{}}")), 12)
	var notEVTX *NotEVTXError
	if !errors.As(err, &notEVTX) || !errors.Is(err, ErrNotEVTX) {
		t.Fatalf("error %v, expected a *NotEVTXError", err)
	}

	tests := []struct {
		name string
		got  string
		want string
	}{
		{"not EVTX, English", notEVTX.Text(i18n.EN), "Not a Windows event log file (.evtx): 12 bytes, shorter than the 4096-byte file header. Export the log from Event Viewer as .evtx, or read its JSON rendering as a log file."},
		{"not EVTX, Vietnamese", notEVTX.Text(i18n.VI), "Không phải tệp nhật ký sự kiện Windows (.evtx): 12 bytes, shorter than the 4096-byte file header. Hãy xuất nhật ký từ Event Viewer dưới dạng .evtx, hoặc đọc bản JSON của nó như một tệp nhật ký."},
		{"summary, English", Stats{Records: 5, Chunks: 2, BadChunks: 1}.Summary(i18n.EN, "a.evtx"), "a.evtx: read 5 events from 2 chunks, skipped 1 damaged chunks and 0 damaged records."},
		{"summary, Vietnamese", Stats{Records: 5, Chunks: 2, BadChunks: 1}.Summary(i18n.VI, "a.evtx"), "a.evtx: đã đọc 5 sự kiện từ 2 khối (chunk), bỏ qua 1 khối hỏng và 0 bản ghi hỏng."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q\nexpected %q", tt.got, tt.want)
			}
		})
	}
}
