package logsensor

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzTailerLines appends content to a file in chunks, polling after each
// chunk, and checks that the delivered lines cover the file exactly: each
// line starts where the previous one ended, its data is the file's bytes
// without the line ending, and sequence numbers have no gap.
func FuzzTailerLines(f *testing.F) {
	lines := realLines(f, opensshLog)
	f.Add(joinLines(lines[:5]), uint8(7))
	f.Add([]byte("a\r\nb\n\n\r\nlong line without end that exceeds the limit"), uint8(3))
	f.Add([]byte("\n\n\n"), uint8(1))
	f.Fuzz(func(t *testing.T, content []byte, chunk uint8) {
		if len(content) > 4096 {
			return
		}
		// At most 64 appends, so that one input stays fast.
		step := max(int(chunk)+1, len(content)/64+1)
		path := filepath.Join(t.TempDir(), "fuzz.log")
		appendFile(t, path, nil)
		c := &collector{}
		tl, err := NewTailer(TailerConfig{Path: path, Checkpoints: openStore(t), Deliver: c.deliver,
			MaxLineBytes: 16, BatchLines: 3, Logger: discardLogger})
		if err != nil {
			t.Fatal(err)
		}
		defer tl.Close()
		ctx := context.Background()
		for i := 0; i < len(content); i += step {
			appendFile(t, path, content[i:min(i+step, len(content))])
			if err := tl.Poll(ctx); err != nil {
				t.Fatal(err)
			}
		}
		// Rotating delivers the last line even without a newline.
		if err := os.Rename(path, path+".1"); err != nil {
			t.Fatal(err)
		}
		appendFile(t, path, nil)
		if err := tl.Poll(ctx); err != nil {
			t.Fatal(err)
		}

		var offset int64
		for i, l := range c.snapshot() {
			if l.Offset != offset || l.Seq != uint64(i+1) {
				t.Fatalf("line %d at offset %d seq %d, want offset %d seq %d", i, l.Offset, l.Seq, offset, i+1)
			}
			end := l.Checkpoint.Offset
			if end <= offset || end > int64(len(content)) {
				t.Fatalf("line %d ends at %d, want within (%d, %d]", i, end, offset, len(content))
			}
			raw := content[offset:end]
			want := raw
			if !l.Split && bytes.HasSuffix(raw, []byte("\n")) {
				want = bytes.TrimSuffix(bytes.TrimSuffix(raw, []byte("\n")), []byte("\r"))
			}
			if !bytes.Equal(l.Data, want) {
				t.Fatalf("line %d = %q, want %q", i, l.Data, want)
			}
			if len(l.Data) > 16 {
				t.Fatalf("line %d has %d bytes, over the 16-byte limit", i, len(l.Data))
			}
			offset = end
		}
		if offset != int64(len(content)) {
			t.Fatalf("lines cover %d of %d bytes", offset, len(content))
		}
	})
}
