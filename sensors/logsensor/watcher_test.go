package logsensor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWatcherGlobsAndPaths(t *testing.T) {
	src := realLines(t, opensshLog)
	access := realLines(t, "../../../shared/data/logs/web/elastic-examples/apache_access_combined.log")
	dir := t.TempDir()
	nginx := filepath.Join(dir, "nginx")
	if err := os.Mkdir(nginx, 0o755); err != nil {
		t.Fatal(err)
	}
	auth := filepath.Join(dir, "auth.log")
	secure := filepath.Join(dir, "secure") // does not exist
	appendFile(t, auth, joinLines(src[:20]))
	appendFile(t, filepath.Join(nginx, "access.log"), joinLines(access[:30]))
	appendFile(t, filepath.Join(nginx, "access.log.1"), joinLines(access[30:40]))

	c := &collector{}
	w, err := NewWatcher(WatcherConfig{
		Paths:       []string{auth, secure, filepath.Join(nginx, "*.log")},
		Checkpoints: openStore(t),
		Deliver:     c.deliver,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()
	if err := w.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	bySource := map[string][]Line{}
	for _, l := range c.snapshot() {
		bySource[l.SourceID] = append(bySource[l.SourceID], l)
	}
	checkSequence(t, bySource[auth], src[:20], 1)
	checkSequence(t, bySource[filepath.Join(nginx, "access.log")], access[:30], 1)
	if n := len(bySource); n != 2 {
		t.Errorf("lines from %d sources, want 2 (rotated access.log.1 must not match *.log)", n)
	}

	states := map[string]State{}
	for _, st := range w.Status() {
		states[st.Path] = st.State
	}
	if states[secure] != StateWaiting || states[auth] != StateReading {
		t.Errorf("states = %v, want secure waiting and auth.log reading", states)
	}

	if err := w.CommitLines(c.snapshot()); err != nil {
		t.Fatal(err)
	}
	for _, st := range w.Status() {
		if st.State == StateReading && st.CommittedSeq != st.NextSeq {
			t.Errorf("%s committed %d, want %d", st.Path, st.CommittedSeq, st.NextSeq)
		}
	}
	if err := w.Commit(Checkpoint{SourceID: "/nowhere"}); err == nil {
		t.Error("commit of an unknown source succeeded")
	}

	// A file that appears later is picked up by the pattern.
	appendFile(t, filepath.Join(nginx, "error.log"), []byte("2026/12/04 10:00:00 [error] 12#12: open() failed\n"))
	appendFile(t, secure, joinLines(src[20:25]))
	if err := w.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	bySource = map[string][]Line{}
	for _, l := range c.snapshot() {
		bySource[l.SourceID] = append(bySource[l.SourceID], l)
	}
	if len(bySource[filepath.Join(nginx, "error.log")]) != 1 || len(bySource[secure]) != 5 {
		t.Errorf("new files: error.log %d lines, secure %d lines, want 1 and 5",
			len(bySource[filepath.Join(nginx, "error.log")]), len(bySource[secure]))
	}
}

func TestWatcherInvalidPattern(t *testing.T) {
	_, err := NewWatcher(WatcherConfig{Paths: []string{"/var/log/[nginx/*.log"}, Checkpoints: openStore(t), Deliver: (&collector{}).deliver})
	var uerr *Error
	if !errors.As(err, &uerr) || uerr.Key != "logsensor.glob.invalid" {
		t.Fatalf("error = %v, want logsensor.glob.invalid", err)
	}
}

// TestTailerRun drives Run through the Tick channel instead of a timer.
func TestTailerRun(t *testing.T) {
	src := realLines(t, opensshLog)
	path := filepath.Join(t.TempDir(), "auth.log")
	appendFile(t, path, joinLines(src[:10]))
	tick := make(chan time.Time)
	delivered := make(chan []Line, 10)
	tl, err := NewTailer(TailerConfig{Path: path, Checkpoints: openStore(t), Tick: tick,
		Deliver: func(_ context.Context, lines []Line) error { delivered <- lines; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- tl.Run(ctx) }()
	checkSequence(t, <-delivered, src[:10], 1)
	appendFile(t, path, joinLines(src[10:15]))
	tick <- time.Now()
	checkSequence(t, <-delivered, src[10:15], 11)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v after cancel, want nil", err)
	}
}
