package logsensor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/canhgac/canhgac/i18n"
)

const opensshLog = "../../../shared/data/logs/linux/loghub/OpenSSH/OpenSSH_2k.log"

// realLines returns the lines of a shared log file without line endings.
func realLines(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read test data: %v", err)
	}
	// Some files end lines in CRLF; the tailer strips the CR too.
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	for i, l := range lines {
		lines[i] = bytes.TrimSuffix(l, []byte("\r"))
	}
	if len(lines) < 100 {
		t.Fatalf("%s has %d lines, want at least 100", path, len(lines))
	}
	return lines
}

// collector is a consumer that keeps every delivered line.
type collector struct {
	mu    sync.Mutex
	lines []Line
	fail  error // returned by deliver while set
}

func (c *collector) deliver(_ context.Context, lines []Line) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	c.lines = append(c.lines, lines...)
	return nil
}

func (c *collector) snapshot() []Line {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Line(nil), c.lines...)
}

func appendFile(t testing.TB, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func joinLines(lines [][]byte) []byte {
	var b bytes.Buffer
	for _, l := range lines {
		b.Write(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func newTestTailer(t testing.TB, path string, store *CheckpointStore, c *collector, batch int) *Tailer {
	t.Helper()
	tl, err := NewTailer(TailerConfig{Path: path, Checkpoints: store, Deliver: c.deliver, BatchLines: batch})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Close() })
	return tl
}

func openStore(t testing.TB) *CheckpointStore {
	t.Helper()
	s, err := OpenCheckpointStore(filepath.Join(t.TempDir(), "checkpoints"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkSequence verifies that got holds want in order, numbered from
// firstSeq without gaps.
func checkSequence(t *testing.T, got []Line, want [][]byte, firstSeq uint64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d", len(got), len(want))
	}
	for i, l := range got {
		if !bytes.Equal(l.Data, want[i]) {
			t.Fatalf("line %d = %q, want %q", i, l.Data, want[i])
		}
		if l.Seq != firstSeq+uint64(i) {
			t.Fatalf("line %d has seq %d, want %d", i, l.Seq, firstSeq+uint64(i))
		}
	}
}

func TestTailerBasic(t *testing.T) {
	src := realLines(t, opensshLog)[:300]
	tests := []struct {
		name   string
		ending string
		batch  int
	}{
		{"lf one batch", "\n", 1000},
		{"lf small batches", "\n", 7},
		{"crlf", "\r\n", 64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.log")
			var content bytes.Buffer
			var offsets []int64
			for _, l := range src {
				offsets = append(offsets, int64(content.Len()))
				content.Write(l)
				content.WriteString(tt.ending)
			}
			appendFile(t, path, content.Bytes())
			c := &collector{}
			tl := newTestTailer(t, path, openStore(t), c, tt.batch)
			if err := tl.Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := c.snapshot()
			checkSequence(t, got, src, 1)
			for i, l := range got {
				if l.Offset != offsets[i] {
					t.Fatalf("line %d offset = %d, want %d", i, l.Offset, offsets[i])
				}
				if l.Path != path || l.SourceID != path {
					t.Fatalf("line %d path %q source %q, want %q", i, l.Path, l.SourceID, path)
				}
			}
			last := got[len(got)-1].Checkpoint
			if last.Offset != int64(content.Len()) || last.NextSeq != uint64(len(src))+1 {
				t.Errorf("last checkpoint offset %d next seq %d, want %d and %d", last.Offset, last.NextSeq, content.Len(), len(src)+1)
			}
			if st := tl.Status(); st.State != StateReading || st.Offset != int64(content.Len()) {
				t.Errorf("status %v offset %d, want reading at %d", st.State, st.Offset, content.Len())
			}
		})
	}
}

func TestTailerPartialLastLine(t *testing.T) {
	src := realLines(t, opensshLog)
	path := filepath.Join(t.TempDir(), "auth.log")
	first, second := src[0], src[1]
	appendFile(t, path, append(append(append([]byte{}, first...), '\n'), second[:20]...))
	c := &collector{}
	tl := newTestTailer(t, path, openStore(t), c, 100)
	ctx := context.Background()

	if err := tl.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	checkSequence(t, c.snapshot(), src[:1], 1)

	// The rest of the line arrives: it is delivered whole, at its start.
	appendFile(t, path, append(append([]byte{}, second[20:]...), '\n'))
	if err := tl.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	got := c.snapshot()
	checkSequence(t, got, src[:2], 1)
	if got[1].Offset != int64(len(first)+1) {
		t.Errorf("completed line offset = %d, want %d", got[1].Offset, len(first)+1)
	}

	// A last line without newline is held until the file is rotated, then
	// delivered from the old file before the new file is read.
	appendFile(t, path, src[2])
	if err := tl.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(c.snapshot()); n != 2 {
		t.Fatalf("partial line delivered before rotation: %d lines", n)
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, joinLines(src[3:5]))
	if err := tl.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	checkSequence(t, c.snapshot(), src[:5], 1)
	if n := counterValue(t, tl.metrics.renamed); n != 1 {
		t.Errorf("rename rotations counted %v, want 1", n)
	}
	if n := counterValue(t, tl.metrics.lines); n != 5 {
		t.Errorf("lines counted %v, want 5", n)
	}
}

// store is a consumer's event store keyed like ecs.PositionID: by source and
// sequence number. Writing the same key twice with other data is an error.
type store struct {
	mu     sync.Mutex
	events map[string][]byte
	writes int
}

func (s *store) write(lines []Line) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range lines {
		key := fmt.Sprintf("%s/%d", l.SourceID, l.Seq)
		if old, ok := s.events[key]; ok && !bytes.Equal(old, l.Data) {
			return fmt.Errorf("seq %d rewritten with other data: %q then %q", l.Seq, old, l.Data)
		}
		s.events[key] = append([]byte(nil), l.Data...)
		s.writes++
	}
	return nil
}

func TestTailerRestartResumesExactly(t *testing.T) {
	src := realLines(t, opensshLog)
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.log")
	appendFile(t, path, joinLines(src))
	checkpoints := filepath.Join(dir, "checkpoints")
	st := &store{events: make(map[string][]byte)}
	half := len(src) / 2

	// First run: the consumer stores and commits the first half, then the
	// sensor stops. Lines delivered after the commit are not stored.
	cps, err := OpenCheckpointStore(checkpoints)
	if err != nil {
		t.Fatal(err)
	}
	var tl *Tailer
	var delivered int
	stopped := errors.New("sensor stopped")
	tl, err = NewTailer(TailerConfig{Path: path, Checkpoints: cps, BatchLines: 128, Deliver: func(_ context.Context, lines []Line) error {
		if delivered >= half {
			return stopped
		}
		if delivered+len(lines) > half {
			lines = lines[:half-delivered]
		}
		if err := st.write(lines); err != nil {
			return err
		}
		delivered += len(lines)
		return tl.Commit(lines[len(lines)-1].Checkpoint)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tl.Poll(context.Background()); !errors.Is(err, stopped) {
		t.Fatalf("first run ended with %v, want the stop error", err)
	}
	tl.Close()
	if got := tl.Status().CommittedSeq; got != uint64(half)+1 {
		t.Fatalf("committed next seq = %d, want %d", got, half+1)
	}

	// Second run from the same checkpoint directory reads only the rest.
	cps2, err := OpenCheckpointStore(checkpoints)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	tl2 := newTestTailer(t, path, cps2, c, 128)
	if err := tl2.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	rest := c.snapshot()
	checkSequence(t, rest, src[half:], uint64(half)+1)
	if err := st.write(rest); err != nil {
		t.Fatal(err)
	}
	if len(st.events) != len(src) || st.writes != len(src) {
		t.Fatalf("store has %d events after %d writes, want %d each: a line was read twice or skipped", len(st.events), st.writes, len(src))
	}
	for i, l := range src {
		if got := st.events[fmt.Sprintf("%s/%d", path, i+1)]; !bytes.Equal(got, l) {
			t.Fatalf("seq %d = %q, want %q", i+1, got, l)
		}
	}
}

func TestTailerRotationWhileWriting(t *testing.T) {
	src := realLines(t, opensshLog)
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.log")
	appendFile(t, path, nil)
	c := &collector{}
	tl := newTestTailer(t, path, openStore(t), c, 50)
	ctx := context.Background()

	// The writer appends lines and rotates like logrotate with "create":
	// close, rename auth.log to auth.log.1 (replacing the previous one),
	// create a new auth.log. The test polls concurrently.
	done := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			done <- err
			return
		}
		for i, l := range src {
			if _, err := f.Write(append(append([]byte{}, l...), '\n')); err != nil {
				done <- err
				return
			}
			if i%300 == 299 {
				// Two rotations within one poll would skip the middle file
				// (see checkRotated), so wait until the tailer has read a
				// line of the current file, which means it opened it.
				for len(c.snapshot()) <= i+1-300 {
					runtime.Gosched()
				}
				f.Close()
				if err := os.Rename(path, path+".1"); err != nil {
					done <- err
					return
				}
				if f, err = os.Create(path); err != nil {
					done <- err
					return
				}
			}
		}
		done <- f.Close()
	}()
	for writing := true; writing; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			writing = false
		default:
		}
		if err := tl.Poll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := tl.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	got := c.snapshot()
	checkSequence(t, got, src, 1)
	// Offsets restart at 0 in each new file.
	for i, l := range got {
		if i%300 == 0 && l.Offset != 0 {
			t.Fatalf("line %d, the first of a rotated file, has offset %d", i, l.Offset)
		}
	}
}

func TestTailerRotatedWhileStopped(t *testing.T) {
	src := realLines(t, opensshLog)
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.log")
	appendFile(t, path, joinLines(src[:100]))
	cps := openStore(t)
	c := &collector{}
	tl := newTestTailer(t, path, cps, c, 1000)
	if err := tl.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tl.Commit(c.snapshot()[59].Checkpoint); err != nil {
		t.Fatal(err)
	}
	tl.Close()

	// While the sensor is stopped, more lines go to the old file, which is
	// then rotated, and the new file gets lines too.
	appendFile(t, path, joinLines(src[100:120]))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, joinLines(src[120:150]))

	c2 := &collector{}
	tl2 := newTestTailer(t, path, cps, c2, 1000)
	if err := tl2.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkSequence(t, c2.snapshot(), src[60:150], 61)
}

func TestTailerCopytruncate(t *testing.T) {
	src := realLines(t, opensshLog)
	tests := []struct {
		name  string
		after [][]byte // written after the truncation, before the next poll
	}{
		{"shorter than before", src[200:203]},
		{"grew back past the offset", src[200:400]},
		{"empty", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "syslog")
			appendFile(t, path, joinLines(src[:100]))
			c := &collector{}
			tl := newTestTailer(t, path, openStore(t), c, 1000)
			ctx := context.Background()
			if err := tl.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			// copytruncate: copy, then truncate in place; the inode stays.
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
			appendFile(t, path, joinLines(tt.after))
			if err := tl.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			want := append(append([][]byte{}, src[:100]...), tt.after...)
			got := c.snapshot()
			checkSequence(t, got, want, 1)
			if len(tt.after) > 0 && got[100].Offset != 0 {
				t.Errorf("first line after truncation has offset %d, want 0", got[100].Offset)
			}
			if n := counterValue(t, tl.metrics.truncated); n != 1 {
				t.Errorf("truncate rotations counted %v, want 1", n)
			}
		})
	}
}

func TestTailerMissingThenCreated(t *testing.T) {
	src := realLines(t, opensshLog)
	path := filepath.Join(t.TempDir(), "secure")
	c := &collector{}
	tl := newTestTailer(t, path, openStore(t), c, 100)
	ctx := context.Background()
	for range 3 {
		if err := tl.Poll(ctx); err != nil {
			t.Fatalf("poll of missing file: %v", err)
		}
	}
	if st := tl.Status(); st.State != StateWaiting {
		t.Fatalf("state = %v, want waiting", st.State)
	}
	appendFile(t, path, joinLines(src[:10]))
	if err := tl.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	checkSequence(t, c.snapshot(), src[:10], 1)
	if st := tl.Status(); st.State != StateReading {
		t.Fatalf("state = %v, want reading", st.State)
	}
}

func TestTailerDeliverErrorRedelivers(t *testing.T) {
	src := realLines(t, opensshLog)[:50]
	path := filepath.Join(t.TempDir(), "auth.log")
	appendFile(t, path, joinLines(src))
	c := &collector{fail: errors.New("store unavailable")}
	tl := newTestTailer(t, path, openStore(t), c, 20)
	if err := tl.Poll(context.Background()); err == nil {
		t.Fatal("poll with a failing consumer returned no error")
	}
	c.mu.Lock()
	c.fail = nil
	c.mu.Unlock()
	if err := tl.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkSequence(t, c.snapshot(), src, 1)
}

func TestTailerLongLineSplit(t *testing.T) {
	line := bytes.Repeat(realLines(t, opensshLog)[0], 3)[:300]
	path := filepath.Join(t.TempDir(), "app.log")
	appendFile(t, path, append(append(line, '\n'), "next\n"...))
	c := &collector{}
	tl, err := NewTailer(TailerConfig{Path: path, Checkpoints: openStore(t), Deliver: c.deliver, MaxLineBytes: 128})
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	if err := tl.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		data   []byte
		offset int64
		split  bool
	}{
		{line[:128], 0, true},
		{line[128:256], 128, true},
		{line[256:], 256, false},
		{[]byte("next"), 301, false},
	}
	got := c.snapshot()
	if len(got) != len(want) {
		t.Fatalf("got %d pieces, want %d", len(got), len(want))
	}
	for i, w := range want {
		if !bytes.Equal(got[i].Data, w.data) || got[i].Offset != w.offset || got[i].Split != w.split {
			t.Errorf("piece %d = %q at %d split %v, want %q at %d split %v", i, got[i].Data, got[i].Offset, got[i].Split, w.data, w.offset, w.split)
		}
	}
}

// permissionHelperEnv makes the test binary run only the permission check
// as an unprivileged child and print the error.
const permissionHelperEnv = "LOGSENSOR_PERMISSION_HELPER"

func TestTailerPermissionDenied(t *testing.T) {
	if path := os.Getenv(permissionHelperEnv); path != "" {
		tl, err := NewTailer(TailerConfig{Path: path, Checkpoints: openStore(t), Deliver: (&collector{}).deliver})
		if err != nil {
			t.Fatal(err)
		}
		err = tl.Poll(context.Background())
		var uerr *Error
		if !errors.As(err, &uerr) {
			t.Fatalf("error %v is not an *Error", err)
		}
		fmt.Printf("KEY=%s\nEN=%s\nVI=%s\nSTATE=%s\n", uerr.Key, uerr.Message(i18n.EN), uerr.Message(i18n.VI), tl.Status().State)
		return
	}

	// t.TempDir's parent is private to root, so the user nobody cannot
	// reach files below it.
	dir, err := os.MkdirTemp("", "logsensor-permission")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "auth.log")
	appendFile(t, path, joinLines(realLines(t, opensshLog)[:3]))
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}

	var out string
	if os.Getuid() != 0 {
		if err := os.Chmod(path, 0); err != nil {
			t.Fatal(err)
		}
		tl := newTestTailer(t, path, openStore(t), &collector{}, 10)
		err := tl.Poll(context.Background())
		var uerr *Error
		if !errors.As(err, &uerr) {
			t.Fatalf("error %v is not an *Error", err)
		}
		out = fmt.Sprintf("KEY=%s\nEN=%s\nVI=%s\nSTATE=%s\n", uerr.Key, uerr.Message(i18n.EN), uerr.Message(i18n.VI), tl.Status().State)
	} else {
		// Root reads any file, so run this test again as nobody, from a
		// copy of the test binary that nobody may execute.
		if err := os.Chown(path, 0, 4); err != nil { // group adm
			t.Fatal(err)
		}
		bin := filepath.Join(dir, "logsensor.test")
		data, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, data, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-test.run=^TestTailerPermissionDenied$", "-test.v")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), permissionHelperEnv+"="+path, "TMPDIR="+dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper as nobody failed: %v\n%s", err, b)
		}
		out = string(b)
	}
	t.Logf("permission error as shown to users:\n%s", out)
	for _, want := range []string{
		"KEY=logsensor.file.permission",
		"EN=cannot read log file " + path + ": permission denied",
		"usermod -aG",
		"VI=không đọc được tệp nhật ký " + path,
		"STATE=failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if os.Getuid() == 0 && !strings.Contains(out, "group adm") {
		t.Errorf("message does not name the owning group adm:\n%s", out)
	}
}

func TestTailerDeletedFile(t *testing.T) {
	src := realLines(t, opensshLog)
	path := filepath.Join(t.TempDir(), "app.log")
	appendFile(t, path, append(joinLines(src[:5]), src[5]...))
	c := &collector{}
	tl := newTestTailer(t, path, openStore(t), c, 100)
	ctx := context.Background()
	if err := tl.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	// The held partial line is the lag.
	if lag := gaugeValue(t, tl.metrics.lag); lag != float64(len(src[5])) {
		t.Errorf("lag = %v bytes, want %d", lag, len(src[5]))
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := tl.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	// The held last line is delivered and the deleted file released.
	checkSequence(t, c.snapshot(), src[:6], 1)
	if tl.f != nil || tl.Status().State != StateWaiting {
		t.Errorf("deleted file open: %v, state %v, want closed and waiting", tl.f != nil, tl.Status().State)
	}
	appendFile(t, path, joinLines(src[6:8]))
	if err := tl.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	checkSequence(t, c.snapshot(), src[:8], 1)
}
