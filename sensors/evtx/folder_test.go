package evtx

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/canhgac/canhgac/ecs"
)

// folderRun collects what a FolderWatcher delivers and commits it, unless
// hold is set.
type folderRun struct {
	batches []FolderBatch
	hold    bool
}

func (r *folderRun) deliver(_ context.Context, b FolderBatch) error {
	r.batches = append(r.batches, b)
	if !r.hold {
		b.Commit()
	}
	return nil
}

func (r *folderRun) events() []*ecs.Event {
	var out []*ecs.Event
	for _, b := range r.batches {
		out = append(out, b.Events...)
	}
	return out
}

func newTestWatcher(t *testing.T, dir, state string, r *folderRun) *FolderWatcher {
	t.Helper()
	w, err := NewFolderWatcher(FolderConfig{Dirs: []string{dir}, StateDir: state, BatchSize: 100, Deliver: r.deliver, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func quietLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func copyFile(t *testing.T, from, to string, limit int) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if limit > 0 && limit < len(data) {
		data = data[:limit]
	}
	tmp := to + ".part"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, to); err != nil {
		t.Fatal(err)
	}
}

// readEvents returns what ReadFile gives for path: the reference.
func readEvents(t *testing.T, path string) []*ecs.Event {
	t.Helper()
	var out []*ecs.Event
	if _, err := ReadFile(context.Background(), path, func(ev *ecs.Event) error { out = append(out, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func ids(evs []*ecs.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	slices.Sort(out)
	return out
}

func TestFolderWatcherReadsNewFilesOnce(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "Security.evtx")
	copyFile(t, largestFile, path, 0)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an event log"), 0o644)
	os.WriteFile(filepath.Join(dir, "fake.evtx"), []byte("not an event log either"), 0o644)
	want := readEvents(t, path)

	r := &folderRun{}
	w := newTestWatcher(t, dir, state, r)
	ctx := context.Background()
	if err := w.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	got := r.events()
	if !slices.Equal(ids(got), ids(want)) {
		t.Fatalf("watcher delivered %d events, ReadFile reads %d; ids differ", len(got), len(want))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Seq <= got[i-1].Seq {
			t.Fatalf("events out of record id order at %d: %d after %d", i, got[i].Seq, got[i-1].Seq)
		}
	}
	if len(r.batches) < 2 {
		t.Errorf("%d batches for %d events with BatchSize 100", len(r.batches), len(got))
	}

	// Unchanged folder: nothing new, in this process or after a restart.
	n := len(r.batches)
	if err := w.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	r2 := &folderRun{}
	if err := newTestWatcher(t, dir, state, r2).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if len(r.batches) != n || len(r2.events()) != 0 {
		t.Errorf("rescan delivered %d batches, restart %d events; want none", len(r.batches)-n, len(r2.events()))
	}
}

func TestFolderWatcherRedeliversUncommitted(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "Security.evtx")
	copyFile(t, largestFile, path, 0)
	want := readEvents(t, path)
	ctx := context.Background()

	r := &folderRun{hold: true}
	if err := newTestWatcher(t, dir, state, r).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	r.batches[0].Commit() // only the first batch reached the store
	stored := len(r.batches[0].Events)

	r2 := &folderRun{}
	if err := newTestWatcher(t, dir, state, r2).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(r2.events()); got != len(want)-stored {
		t.Errorf("after a restart %d events delivered again, want %d (all but the committed batch)", got, len(want)-stored)
	}
}

func TestFolderWatcherGrowingAndDamagedFile(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "Security.evtx")
	full := readEvents(t, largestFile)
	ctx := context.Background()
	r := &folderRun{}
	w := newTestWatcher(t, dir, state, r)

	// First the file as a copy interrupted in its second chunk: the
	// first chunk's records come, the torn chunk is reported as damage.
	copyFile(t, largestFile, path, 4096+65536+30000)
	if err := w.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	partial := len(r.events())
	if partial == 0 || partial >= len(full) {
		t.Fatalf("%d events from the partial copy of a %d-record file", partial, len(full))
	}
	if len(r.batches[0].Damage) == 0 {
		t.Errorf("the torn chunk was not reported as damage")
	}
	// Then the whole file: the rest of the records, none twice.
	copyFile(t, largestFile, path, 0)
	if err := w.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	got := r.events()
	if len(got) != len(full) {
		t.Errorf("%d events after the file completed, want %d", len(got), len(full))
	}
	seen := map[string]bool{}
	for _, ev := range got {
		if seen[ev.ID] {
			t.Fatalf("event %s delivered twice", ev.ID)
		}
		seen[ev.ID] = true
	}
}

func TestFolderWatcherReplacedLogIsNewGeneration(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "Security.evtx")
	ctx := context.Background()
	copyFile(t, largestFile, path, 0)
	r := &folderRun{}
	w := newTestWatcher(t, dir, state, r)
	if err := w.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	first := len(r.events())
	// A cleared log: a different file whose record ids are all lower.
	copyFile(t, smallFile, path, 0)
	small := readEvents(t, path)
	if err := w.Scan(ctx); err != nil {
		t.Fatal(err)
	}
	got := r.events()[first:]
	if len(got) != len(small) {
		t.Fatalf("%d events from the replaced log, want all %d", len(got), len(small))
	}
	for _, ev := range got {
		if !strings.HasSuffix(ev.SourceID, "#1") {
			t.Fatalf("event of the replaced log has source %q, want the #1 generation", ev.SourceID)
		}
	}
}

func TestFolderWatcherRejectsDamagedCheckpoint(t *testing.T) {
	state := t.TempDir()
	os.WriteFile(filepath.Join(state, "evtx-0011223344556677.json"), []byte("{"), 0o600)
	_, err := NewFolderWatcher(FolderConfig{Dirs: []string{t.TempDir()}, StateDir: state, Deliver: (&folderRun{}).deliver})
	if err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Errorf("err = %v; want one saying how to recover", err)
	}
}
