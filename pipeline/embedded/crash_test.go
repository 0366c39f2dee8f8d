package embedded

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

const crashBatch = 500

// TestCrashMidBatch kills a writer process with SIGKILL while it writes
// batches and checks that the reopened store holds whole batches only, and
// every batch the writer saw committed.
func TestCrashMidBatch(t *testing.T) {
	if dir := os.Getenv("CANHGAC_CRASH_WRITER_DIR"); dir != "" {
		crashWriter(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashMidBatch$")
	cmd.Env = append(os.Environ(), "CANHGAC_CRASH_WRITER_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start writer: %v", err)
	}
	sc := bufio.NewScanner(out)
	committed := 0
	for sc.Scan() {
		line := sc.Text()
		if n, ok := strings.CutPrefix(line, "committed "); ok {
			committed, _ = strconv.Atoi(n)
			if committed >= 5 {
				break
			}
		}
	}
	// The writer is inside its next transaction most of the time.
	time.Sleep(30 * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill writer: %v", err)
	}
	cmd.Wait()
	if committed < 5 {
		t.Fatalf("writer committed %d batches before the kill, want 5", committed)
	}

	s, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatalf("reopen after crash: %v", err)
	}
	defer s.Close()
	st, err := s.Stats(context.Background())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if st.Events%crashBatch != 0 {
		t.Errorf("%d events after the crash: a batch of %d was stored in part", st.Events, crashBatch)
	}
	if st.Events < int64(committed*crashBatch) {
		t.Errorf("%d events after the crash, but %d batches were committed", st.Events, committed)
	}
	var fts int64
	if err := s.reader.QueryRow("SELECT count(*) FROM events WHERE rid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH 'message : batch')").Scan(&fts); err != nil {
		t.Fatalf("full-text count: %v", err)
	}
	if fts != st.Events {
		t.Errorf("full-text index has %d events, table %d", fts, st.Events)
	}
}

func crashWriter(dir string) {
	s, err := Open(dir, Options{Logger: quietLogger()})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for b := 0; ; b++ {
		events := make([]*ecs.Event, crashBatch)
		for i := range events {
			n := b*crashBatch + i
			events[i] = &ecs.Event{
				ID:        ecs.PositionID("crash", uint64(n)),
				Timestamp: base.Add(time.Duration(n) * time.Millisecond),
				SourceID:  "crash",
				Fields:    ecs.Fields{"message": fmt.Sprintf("batch %d event %d", b, i), "host.name": "h1"},
			}
		}
		if err := s.WriteBatch(context.Background(), &Batch{Events: events}); err != nil {
			fmt.Println("write:", err)
			os.Exit(1)
		}
		fmt.Printf("committed %d\n", b+1)
	}
}
