package logsensor

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/i18n"
)

func TestCheckpointRoundTrip(t *testing.T) {
	s := openStore(t)
	want := Checkpoint{SourceID: "/var/log/auth.log", Path: "/var/log/auth.log", Dev: 2049, Inode: 131,
		Offset: 4096, FingerprintLen: 1024, Fingerprint: fingerprint([]byte("x")), NextSeq: 42}
	if err := s.SaveFile(want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.LoadFile(want.SourceID)
	if err != nil || !ok {
		t.Fatalf("load: ok=%v err=%v", ok, err)
	}
	if got != want {
		t.Errorf("loaded %+v, want %+v", got, want)
	}
	if _, ok, err := s.LoadFile("/var/log/other.log"); ok || err != nil {
		t.Errorf("load of unknown source: ok=%v err=%v, want neither", ok, err)
	}

	lc := ListenerCheckpoint{ListenerID: "syslog-tcp:127.0.0.1:5514", NextSeq: 10, Committed: 7}
	if err := s.SaveListener(lc); err != nil {
		t.Fatal(err)
	}
	gotLC, ok, err := s.LoadListener(lc.ListenerID)
	if err != nil || !ok || gotLC != lc {
		t.Errorf("listener checkpoint = %+v ok=%v err=%v, want %+v", gotLC, ok, err, lc)
	}
}

func TestCheckpointAtomicity(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "checkpoints")
	s, err := OpenCheckpointStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	committed := Checkpoint{SourceID: "/var/log/syslog", Path: "/var/log/syslog", Inode: 7, Offset: 100, NextSeq: 5}
	if err := s.SaveFile(committed); err != nil {
		t.Fatal(err)
	}
	// A crash during the next write leaves a half-written temp file next
	// to the intact checkpoint.
	name := fileName("file", committed.SourceID)
	temp := filepath.Join(dir, name+tempSuffix+"123456")
	if err := os.WriteFile(temp, []byte(`{"source_id":"/var/log/syslog","off`), 0o600); err != nil {
		t.Fatal(err)
	}
	// A temp file this young may be another process's write in progress:
	// opening the store keeps it.
	young := filepath.Join(dir, name+tempSuffix+"654321")
	if err := os.WriteFile(young, []byte(`{`), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * staleTemp)
	if err := os.Chtimes(temp, old, old); err != nil {
		t.Fatal(err)
	}

	got, ok, err := s.LoadFile(committed.SourceID)
	if err != nil || !ok || got != committed {
		t.Fatalf("load with stale temp file = %+v ok=%v err=%v, want the committed checkpoint", got, ok, err)
	}
	s2, err := OpenCheckpointStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(temp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp file still there after reopening: %v", err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("a temp file younger than %v was removed: %v", staleTemp, err)
	}
	got, ok, err = s2.LoadFile(committed.SourceID)
	if err != nil || !ok || got != committed {
		t.Fatalf("load after reopening = %+v ok=%v err=%v, want the committed checkpoint", got, ok, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Name() != name || entries[1].Name() != filepath.Base(young) {
		t.Errorf("checkpoint directory holds %v, want only %s and the young temp file", entries, name)
	}
}

func TestCheckpointCorruptFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "checkpoints")
	s, err := OpenCheckpointStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	source := "/var/log/messages"
	path := filepath.Join(dir, fileName("file", source))
	if err := os.WriteFile(path, []byte("not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.LoadFile(source)
	var uerr *Error
	if !errors.As(err, &uerr) || uerr.Key != "logsensor.checkpoint.corrupt" {
		t.Fatalf("error = %v, want logsensor.checkpoint.corrupt", err)
	}
	for _, lang := range []i18n.Lang{i18n.EN, i18n.VI} {
		msg := uerr.Message(lang)
		if !strings.Contains(msg, path) || !strings.Contains(msg, source) {
			t.Errorf("%s message %q does not name the file and the source", lang, msg)
		}
	}
	if _, err := NewTailer(TailerConfig{Path: source, Checkpoints: s, Deliver: (&collector{}).deliver}); !errors.As(err, &uerr) {
		t.Errorf("NewTailer with a corrupt checkpoint: %v, want the corrupt error", err)
	}
}
