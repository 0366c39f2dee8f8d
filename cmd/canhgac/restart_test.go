package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/canhgac/canhgac/pipeline/embedded"
	"github.com/canhgac/canhgac/sensors/logsensor"
)

// TestRestartAfterKillStoresEveryLineOnce kills `canhgac run` with SIGKILL
// while it ingests a large log, starts it again, and checks that the store
// then holds every line of the log exactly once.
func TestRestartAfterKillStoresEveryLineOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "auth.log")
	sample, err := os.ReadFile(sharedData + "/logs/linux/loghub/OpenSSH/OpenSSH_2k.log")
	if err != nil {
		t.Fatal(err)
	}
	if sample[len(sample)-1] != '\n' {
		// The tailer holds a last line without a newline until more data
		// comes, so end each copy with one.
		sample = append(sample, '\n')
	}
	// 30 copies are about 60k lines: several store writes, so the kill
	// lands mid-ingest, yet small enough for a loaded machine.
	const copies = 30
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < copies; i++ {
		f.Write(sample)
	}
	f.Close()
	info, _ := os.Stat(logPath)
	lines := copies * countNewlines(sample)

	dataDir := filepath.Join(dir, "data")
	args := []string{"--data", dataDir, "--no-system-logs", "--file", logPath,
		"--syslog-udp", "off", "--syslog-tcp", "off", "--listen", freeAddr(t)}
	env := []string{"CANHGAC_ADMIN_PASSWORD=restart-test-password"}

	committed := func() int64 {
		cps, err := logsensor.OpenCheckpointStore(filepath.Join(dataDir, "checkpoints"))
		if err != nil {
			return 0
		}
		cp, ok, err := cps.LoadFile(logPath)
		if err != nil || !ok {
			return 0
		}
		return cp.Offset
	}

	first := startServer(t, env, args...)
	waitUntil(t, 60*time.Second, "first committed batch", func() bool { return committed() > 0 })
	first.kill(t)
	atKill := committed()
	t.Logf("killed at committed offset %d of %d bytes", atKill, info.Size())
	if atKill >= info.Size() {
		t.Fatalf("the whole log was ingested before the kill; make the log larger")
	}

	second := startServer(t, env, append(args, "--listen", freeAddr(t))...)
	deadline := time.Now().Add(5 * time.Minute)
	for committed() != info.Size() {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 min the restarted process has committed %d of %d bytes\n%s", committed(), info.Size(), second.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	second.stop(t)

	store, err := embedded.Open(filepath.Join(dataDir, "store"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	all, err := store.Search(ctx, embedded.SearchRequest{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if all.Total != lines {
		t.Errorf("store holds %d events, want %d (one per line)", all.Total, lines)
	}
	beyond, err := store.Search(ctx, embedded.SearchRequest{QueryText: fmt.Sprintf("event.sequence > %d", lines), Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if beyond.Total != 0 {
		t.Errorf("%d events have a line number beyond the last line %d", beyond.Total, lines)
	}
}

func countNewlines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}
