package logsensor

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/canhgac/canhgac/internal/atomicfile"
)

// FingerprintBytes is how many bytes from the start of a file the
// fingerprint covers. A file shorter than that is fingerprinted over its
// whole length, and the fingerprint grows with the file up to this limit.
const FingerprintBytes = 1024

// Checkpoint is a position in one file source: the point after a delivered
// line. Committing it means every line before Offset is stored.
type Checkpoint struct {
	// SourceID names the source; Path is the file path that was followed.
	SourceID string `json:"source_id"`
	Path     string `json:"path"`
	// Dev and Inode identify the file that Offset refers to, which after a
	// rotation by rename is no longer the file at Path.
	Dev   uint64 `json:"dev"`
	Inode uint64 `json:"inode"`
	// Offset is the byte offset of the next line to read.
	Offset int64 `json:"offset"`
	// FingerprintLen is how many leading bytes of the file Fingerprint
	// covers (at most FingerprintBytes); Fingerprint is their SHA-256, hex.
	// Together they recognise a reused inode and a truncated file that
	// grew back past Offset.
	FingerprintLen int    `json:"fingerprint_len"`
	Fingerprint    string `json:"fingerprint"`
	// NextSeq is the sequence number of the line at Offset; the first line
	// of a source has sequence number 1.
	NextSeq uint64 `json:"next_seq"`
}

// ListenerCheckpoint is the persisted sequence state of one syslog listener.
type ListenerCheckpoint struct {
	ListenerID string `json:"listener_id"`
	// NextSeq is the first sequence number not handed to a consumer when
	// the checkpoint was written.
	NextSeq uint64 `json:"next_seq"`
	// Reserved is the first number the listener may not have handed out:
	// the listener reserves blocks of numbers before it uses them and sets
	// Reserved to NextSeq when it stops cleanly. After an unclean stop it
	// continues at Reserved, so no number is used twice.
	Reserved uint64 `json:"reserved"`
	// Committed is the highest sequence number the consumer committed.
	Committed uint64 `json:"committed"`
}

// CheckpointStore keeps checkpoints as small JSON files in one directory,
// one file per source. Every write goes to a temporary file that is synced
// and then renamed over the old checkpoint, so a crash leaves either the old
// or the new checkpoint, never a mix. It is safe for concurrent use.
type CheckpointStore struct {
	dir string
	mu  sync.Mutex
	// lastSaved avoids rewriting an unchanged checkpoint.
	lastSaved map[string][]byte
}

const tempSuffix = atomicfile.TempMarker

// staleTemp is the age after which a temporary checkpoint file is a
// crash's leftover; a write takes milliseconds.
const staleTemp = time.Minute

// OpenCheckpointStore opens (and creates) the checkpoint directory dir,
// usually <data dir>/checkpoints/logsensor. Temporary files left by a crash
// during a write are removed, since the checkpoint they would have replaced
// is still intact. Only temporary files older than staleTemp are removed:
// a younger one may belong to a process that is writing it right now (a
// second reader of the same folder, such as a status check).
func OpenCheckpointStore(dir string) (*CheckpointStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, newError(err, "logsensor.checkpoint.dir", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, newError(err, "logsensor.checkpoint.dir", dir, err)
	}
	for _, e := range entries {
		if !strings.Contains(e.Name(), tempSuffix) {
			continue
		}
		if info, err := e.Info(); err != nil || time.Since(info.ModTime()) < staleTemp {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("remove stale checkpoint temp file %s: %w", e.Name(), err)
		}
	}
	return &CheckpointStore{dir: dir, lastSaved: make(map[string][]byte)}, nil
}

// Dir returns the checkpoint directory.
func (s *CheckpointStore) Dir() string { return s.dir }

// fileName derives a file name from a source id, which may contain any
// character (paths, addresses).
func fileName(kind, id string) string {
	sum := sha256.Sum256([]byte(id))
	return kind + "-" + hex.EncodeToString(sum[:12]) + ".json"
}

// LoadFile returns the committed checkpoint of a file source. It returns
// false when the source has none yet.
func (s *CheckpointStore) LoadFile(sourceID string) (Checkpoint, bool, error) {
	var cp Checkpoint
	ok, err := s.load(fileName("file", sourceID), sourceID, &cp)
	if ok && cp.SourceID != sourceID {
		return Checkpoint{}, false, s.corrupt(fileName("file", sourceID), sourceID,
			fmt.Errorf("it belongs to source %q", cp.SourceID))
	}
	return cp, ok, err
}

// SaveFile stores cp as the committed checkpoint of cp.SourceID.
func (s *CheckpointStore) SaveFile(cp Checkpoint) error {
	return s.save(fileName("file", cp.SourceID), cp)
}

// LoadListener returns the sequence state of a syslog listener. It returns
// false when the listener has none yet.
func (s *CheckpointStore) LoadListener(listenerID string) (ListenerCheckpoint, bool, error) {
	var cp ListenerCheckpoint
	ok, err := s.load(fileName("listener", listenerID), listenerID, &cp)
	if ok && cp.ListenerID != listenerID {
		return ListenerCheckpoint{}, false, s.corrupt(fileName("listener", listenerID), listenerID,
			fmt.Errorf("it belongs to listener %q", cp.ListenerID))
	}
	return cp, ok, err
}

// SaveListener stores the sequence state of cp.ListenerID.
func (s *CheckpointStore) SaveListener(cp ListenerCheckpoint) error {
	return s.save(fileName("listener", cp.ListenerID), cp)
}

func (s *CheckpointStore) corrupt(name, id string, err error) error {
	path := filepath.Join(s.dir, name)
	return newError(err, "logsensor.checkpoint.corrupt", path, err, id)
}

func (s *CheckpointStore) load(name, id string, v any) (bool, error) {
	path := filepath.Join(s.dir, name)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, s.corrupt(name, id, err)
	}
	s.mu.Lock()
	s.lastSaved[name] = data
	s.mu.Unlock()
	return true, nil
}

func (s *CheckpointStore) save(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode checkpoint %s: %w", name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if bytes.Equal(s.lastSaved[name], data) {
		return nil
	}
	if err := writeFileAtomic(s.dir, name, data); err != nil {
		return err
	}
	s.lastSaved[name] = data
	return nil
}

// writeFileAtomic replaces dir/name with data, durably.
func writeFileAtomic(dir, name string, data []byte) error {
	return atomicfile.WriteFile(filepath.Join(dir, name), data, 0o600)
}

// fingerprint hashes the first n bytes of data.
func fingerprint(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
