package kafkabus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func spoolMessages(n, from int) []Message {
	out := make([]Message, n)
	for i := range out {
		k := from + i
		out[i] = Message{Topic: "canhgac.events.dc1", Key: []byte(fmt.Sprintf("host-%d", k%7)),
			Value:   []byte(fmt.Sprintf(`{"v":1,"id":"%d"}`, k)),
			Headers: []Header{{Key: HeaderSeq, Value: []byte(fmt.Sprint(k))}, {Key: "nil", Value: nil}}}
	}
	return out
}

func openTestSpool(t *testing.T, dir string, segBytes int64) *spool {
	t.Helper()
	s, err := openSpool(SpoolOptions{Dir: dir, SegmentBytes: segBytes, MaxBytes: 64 << 20}, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func readAll(t *testing.T, s *spool) []spoolRecord {
	t.Helper()
	recs, err := s.Read(1<<30, 1<<40)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func messagesOf(recs []spoolRecord) []Message {
	out := make([]Message, len(recs))
	for i, r := range recs {
		out[i] = r.msg
	}
	return out
}

func TestSpoolAppendReadAckAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	s := openTestSpool(t, dir, 4096)
	want := spoolMessages(300, 0)
	for i := 0; i < len(want); i += 30 {
		if err := s.Append(context.Background(), want[i:i+30]); err != nil {
			t.Fatal(err)
		}
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) < 3 {
		t.Fatalf("%d segments, want several with segment_bytes 4096", len(segs))
	}

	got := readAll(t, s)
	if !reflect.DeepEqual(messagesOf(got), want) {
		t.Fatalf("read back %d messages that differ from the %d appended", len(got), len(want))
	}

	// Acknowledge the first 100, reopen: the other 200 remain, in order.
	if err := s.Ack(got[99].end, 100); err != nil {
		t.Fatal(err)
	}
	if _, n := s.Stats(); n != 200 {
		t.Errorf("records after ack = %d, want 200", n)
	}
	s.Close()
	s2 := openTestSpool(t, dir, 4096)
	if _, n := s2.Stats(); n != 200 {
		t.Errorf("records after reopen = %d, want 200", n)
	}
	rest := readAll(t, s2)
	if !reflect.DeepEqual(messagesOf(rest), want[100:]) {
		t.Fatalf("after reopen read %d messages, want the last 200 in order", len(rest))
	}

	// Acknowledge everything: all segment files go away.
	if err := s2.Ack(rest[len(rest)-1].end, int64(len(rest))); err != nil {
		t.Fatal(err)
	}
	if b, n := s2.Stats(); b != 0 || n != 0 {
		t.Errorf("stats after full ack = %d bytes, %d records; want 0, 0", b, n)
	}
	if segs, _ := filepath.Glob(filepath.Join(dir, "*.seg")); len(segs) != 0 {
		t.Errorf("segments left after full ack: %v", segs)
	}
	if !s2.empty() {
		t.Error("spool not empty after full ack")
	}
}

func TestSpoolReopenAfterDrainKeepsNewRecords(t *testing.T) {
	dir := t.TempDir()
	s := openTestSpool(t, dir, 4096)
	for i := 0; i < 100; i += 10 {
		if err := s.Append(context.Background(), spoolMessages(10, i)); err != nil {
			t.Fatal(err)
		}
	}
	recs := readAll(t, s)
	if err := s.Ack(recs[len(recs)-1].end, int64(len(recs))); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// The drained spool is empty on disk but for its cursor file; records
	// appended after a restart must survive the next restart.
	for round := 0; round < 2; round++ {
		s := openTestSpool(t, dir, 4096)
		if err := s.Append(context.Background(), spoolMessages(10, round*10)); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	s3 := openTestSpool(t, dir, 4096)
	got := readAll(t, s3)
	if !reflect.DeepEqual(messagesOf(got), spoolMessages(20, 0)) {
		t.Fatalf("after two restarts the spool holds %d messages, want the 20 appended since the drain", len(got))
	}
}

func TestSpoolReadBatchLimits(t *testing.T) {
	s := openTestSpool(t, t.TempDir(), 1<<20)
	if err := s.Append(context.Background(), spoolMessages(50, 0)); err != nil {
		t.Fatal(err)
	}
	recs, err := s.Read(10, 1<<20)
	if err != nil || len(recs) != 10 {
		t.Fatalf("Read(10) = %d records, %v", len(recs), err)
	}
	recs, err = s.Read(100, 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("Read with 1 byte budget = %d records, %v; want exactly 1", len(recs), err)
	}
}

func TestSpoolTornTailIsTruncated(t *testing.T) {
	tests := []struct {
		name string
		tail func(last []byte) []byte
	}{
		{"half a record", func(last []byte) []byte { return last[:len(last)/2] }},
		{"header only", func(last []byte) []byte { return last[:5] }},
		{"bad checksum", func(last []byte) []byte { b := bytes.Clone(last); b[len(b)-1] ^= 0xff; return b }},
		{"zeros", func(last []byte) []byte { return make([]byte, len(last)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openTestSpool(t, dir, 1<<20)
			acked := spoolMessages(20, 0)
			if err := s.Append(context.Background(), acked); err != nil {
				t.Fatal(err)
			}
			s.Close()

			// Simulate a crash during the write of one more batch: its
			// bytes reached the file only in part.
			rec, err := appendSpoolRecord(nil, &spoolMessages(1, 20)[0])
			if err != nil {
				t.Fatal(err)
			}
			seg := filepath.Join(dir, fmt.Sprintf("%020d.seg", 1))
			f, err := os.OpenFile(seg, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(tt.tail(rec))
			f.Close()

			s2 := openTestSpool(t, dir, 1<<20)
			if got := readAll(t, s2); !reflect.DeepEqual(messagesOf(got), acked) {
				t.Fatalf("after recovery %d messages, want the 20 acknowledged ones", len(got))
			}
			// New appends go after the truncation point and read back.
			if err := s2.Append(context.Background(), spoolMessages(1, 21)); err != nil {
				t.Fatal(err)
			}
			if n := len(readAll(t, s2)); n != 21 {
				t.Errorf("%d messages after a new append, want 21", n)
			}
		})
	}
}

func TestSpoolCorruptOlderSegmentFailsOpen(t *testing.T) {
	dir := t.TempDir()
	s := openTestSpool(t, dir, 2048)
	for i := 0; i < 10; i++ {
		if err := s.Append(context.Background(), spoolMessages(20, i*20)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	first := filepath.Join(dir, fmt.Sprintf("%020d.seg", 1))
	data, _ := os.ReadFile(first)
	data[len(spoolMagic)+recordHeaderLen+3] ^= 0xff
	os.WriteFile(first, data, 0o640)

	_, err := openSpool(SpoolOptions{Dir: dir, SegmentBytes: 2048, MaxBytes: 64 << 20}, testLogger(t), nil)
	if err == nil || !strings.Contains(err.Error(), "not the last segment") {
		t.Fatalf("open error = %v, want a corruption error naming the segment", err)
	}
}

func TestSpoolFullBlocksUntilAck(t *testing.T) {
	s, err := openSpool(SpoolOptions{Dir: t.TempDir(), SegmentBytes: 8 << 10, MaxBytes: 32 << 10}, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	batch := spoolMessages(60, 0) // about 5 KiB
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := s.Append(ctx, batch)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if i > 20 {
			t.Fatal("spool accepted more than max_bytes")
		}
	}
	if b, _ := s.Stats(); b > 32<<10 {
		t.Errorf("spool holds %d bytes, above max_bytes %d", b, 32<<10)
	}

	// A blocked Append proceeds once the drainer acknowledges a segment.
	done := make(chan error, 1)
	go func() { done <- s.Append(context.Background(), batch) }()
	select {
	case err := <-done:
		t.Fatalf("Append returned %v while the spool was full", err)
	case <-time.After(100 * time.Millisecond):
	}
	recs := readAll(t, s)
	if err := s.Ack(recs[len(recs)/2].end, int64(len(recs)/2+1)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Append still blocked after the ack freed segments")
	}
}

func TestSpoolRejectsOversizedBatch(t *testing.T) {
	s, err := openSpool(SpoolOptions{Dir: t.TempDir(), SegmentBytes: 1 << 10, MaxBytes: 4 << 10}, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Append(context.Background(), spoolMessages(200, 0))
	if err == nil || !strings.Contains(err.Error(), "does not fit the spool") {
		t.Fatalf("error = %v, want a batch size error", err)
	}
}

func TestSpoolOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opts SpoolOptions
		key  string
	}{
		{"no dir", SpoolOptions{}, "kafkabus.spool.dir.missing"},
		{"segment larger than max", SpoolOptions{Dir: t.TempDir(), MaxBytes: 1 << 20, SegmentBytes: 2 << 20}, "kafkabus.spool.size.invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openSpool(tt.opts, testLogger(t), nil)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != tt.key {
				t.Fatalf("error = %v, want ConfigError %s", err, tt.key)
			}
		})
	}
}

func FuzzDecodeSpoolRecord(f *testing.F) {
	for _, m := range spoolMessages(3, 0) {
		rec, _ := appendSpoolRecord(nil, &m)
		f.Add(rec)
	}
	ev := loadEvents(f, sampleLogs[0])[0]
	m, err := EventMessage("dc1", EventKey(ev, KeyHost), ev)
	if err != nil {
		f.Fatal(err)
	}
	rec, _ := appendSpoolRecord(nil, &m)
	f.Add(rec)
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, n, err := decodeSpoolRecord(data)
		if err != nil {
			return
		}
		if n > len(data) {
			t.Fatalf("used %d bytes of %d", n, len(data))
		}
		again, err := appendSpoolRecord(nil, &msg)
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		if !bytes.Equal(again, data[:n]) {
			t.Fatalf("re-encoded record differs:\n%x\n%x", again, data[:n])
		}
	})
}
