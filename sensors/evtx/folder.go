package evtx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/internal/atomicfile"
)

// FolderConfig configures a FolderWatcher.
type FolderConfig struct {
	// Dirs are the folders to watch. Files ending in .evtx (any case)
	// directly inside them are read; subfolders are not.
	Dirs []string
	// Interval is the time between two scans of the folders. Default 5 s.
	Interval time.Duration
	// StateDir keeps one checkpoint file per EVTX file: the highest
	// record id that the pipeline has stored.
	StateDir string
	// BatchSize is the most events in one FolderBatch. Default 1024.
	BatchSize int
	// Deliver hands a batch on. It may block (backpressure); an error
	// stops the watcher. Commit must be called once the batch is stored.
	Deliver func(ctx context.Context, b FolderBatch) error
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// FolderBatch is a run of new records of one EVTX file, in record id
// order.
type FolderBatch struct {
	// SourceID is the file path, suffixed with "#N" from the second
	// generation on (after the log was cleared or the file replaced by one
	// with lower record ids), so event ids never repeat.
	SourceID string
	// Path is the EVTX file.
	Path string
	// Events have ID ecs.PositionID(SourceID, record id) and Seq the
	// record id, so a gap in Seq is a record the log overwrote before it
	// was read.
	Events []*ecs.Event
	// Damage describes chunks and records of the file that could not be
	// decoded in this scan, one text per problem; they are not in Events.
	Damage []string
	// Commit records the batch as stored.
	Commit func()
}

// FolderWatcher reads new records from the EVTX files of some folders, as
// Windows Event Forwarding or a scheduled export leaves them: files that
// grow, new files, and files replaced by a newer export. Each file is read
// again when its size, modification time or identity changes, and only
// records with a higher id than the last one delivered are passed on.
type FolderWatcher struct {
	cfg FolderConfig
	log *slog.Logger

	mu    sync.Mutex
	files map[string]*folderFile
}

// folderFile is the watcher's view of one EVTX file.
type folderFile struct {
	cp folderCheckpoint
	// delivered is the highest record id handed to Deliver, which may be
	// ahead of cp.LastRecord until the pipeline commits.
	delivered uint64
	// scanned is the file's size, time and identity at the last read.
	scanned fileStamp
	// damaged is the damage count already reported for this file.
	damaged int
}

// folderCheckpoint is the saved state of one EVTX file.
type folderCheckpoint struct {
	Path       string `json:"path"`
	Generation int    `json:"generation"`
	LastRecord uint64 `json:"last_record"`
	Dev        uint64 `json:"dev"`
	Ino        uint64 `json:"ino"`
}

type fileStamp struct {
	size     int64
	mod      time.Time
	dev, ino uint64
}

// NewFolderWatcher checks cfg and loads the checkpoints of earlier runs.
func NewFolderWatcher(cfg FolderConfig) (*FolderWatcher, error) {
	if len(cfg.Dirs) == 0 {
		return nil, errors.New("evtx folder watcher: no folders given")
	}
	if cfg.Deliver == nil {
		return nil, errors.New("evtx folder watcher: Deliver is nil")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 5 * time.Second
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 1024
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(cfg.StateDir, 0o750); err != nil {
		return nil, fmt.Errorf("create EVTX checkpoint folder %s: %w", cfg.StateDir, err)
	}
	w := &FolderWatcher{cfg: cfg, log: log, files: map[string]*folderFile{}}
	entries, err := os.ReadDir(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("read EVTX checkpoint folder %s: %w", cfg.StateDir, err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "evtx-") || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		name := filepath.Join(cfg.StateDir, e.Name())
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read EVTX checkpoint %s: %w", name, err)
		}
		var cp folderCheckpoint
		if err := json.Unmarshal(data, &cp); err != nil || cp.Path == "" {
			return nil, fmt.Errorf("EVTX checkpoint %s is damaged (%v): delete it to read that file again from its first record", name, err)
		}
		w.files[cp.Path] = &folderFile{cp: cp, delivered: cp.LastRecord}
	}
	return w, nil
}

// Run scans the folders every Interval until ctx ends. A folder that is
// missing or unreadable is logged and scanned again later.
func (w *FolderWatcher) Run(ctx context.Context) error {
	ticker := time.NewTicker(w.cfg.Interval)
	defer ticker.Stop()
	for {
		if err := w.Scan(ctx); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// Scan reads every changed EVTX file of the folders once. It returns an
// error only when ctx ends or Deliver fails.
func (w *FolderWatcher) Scan(ctx context.Context) error {
	for _, dir := range w.cfg.Dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			w.log.Warn("cannot read EVTX folder; retrying at the next scan", "dir", dir, "err", err)
			continue
		}
		for _, e := range entries {
			if e.IsDir() || !strings.EqualFold(filepath.Ext(e.Name()), ".evtx") {
				continue
			}
			if err := w.scanFile(ctx, filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func stampOf(fi fs.FileInfo) fileStamp {
	st := fileStamp{size: fi.Size(), mod: fi.ModTime()}
	st.dev, st.ino = fileIdentity(fi)
	return st
}

// pendingRecord is a decoded record waiting to be sorted by id.
type pendingRecord struct {
	id uint64
	ev *ecs.Event
}

func (w *FolderWatcher) scanFile(ctx context.Context, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		w.log.Warn("cannot stat EVTX file", "path", path, "err", err)
		return nil
	}
	stamp := stampOf(fi)
	w.mu.Lock()
	ff := w.files[path]
	if ff == nil {
		ff = &folderFile{cp: folderCheckpoint{Path: path, Dev: stamp.dev, Ino: stamp.ino}}
		w.files[path] = ff
	}
	unchanged := ff.scanned == stamp
	w.mu.Unlock()
	if unchanged {
		return nil
	}

	fh, err := os.Open(path)
	if err != nil {
		w.log.Warn("cannot open EVTX file", "path", path, "err", err)
		return nil
	}
	defer fh.Close()
	f, err := Open(fh, fi.Size())
	if err != nil {
		// A file still being copied may lack its header yet.
		w.log.Warn("cannot read EVTX file; retrying when it changes", "path", path, "err", err)
		w.mu.Lock()
		ff.scanned = stamp
		w.mu.Unlock()
		return nil
	}
	var recs []pendingRecord
	var maxID uint64
	stats, err := f.Records(func(rec Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		maxID = max(maxID, rec.ID)
		rec.Fields["log.file.path"] = path
		recs = append(recs, pendingRecord{id: rec.ID, ev: &ecs.Event{Timestamp: rec.Timestamp, Seq: rec.ID, Fields: rec.Fields}})
		return nil
	})
	if err != nil {
		return err
	}

	w.mu.Lock()
	replaced := stamp.dev != ff.cp.Dev || stamp.ino != ff.cp.Ino || stamp.ino == 0
	if replaced && maxID < ff.delivered {
		// Another file took the path and its ids start below what was
		// read: the log was cleared or replaced. Start a new generation so
		// its event ids differ from the old file's.
		w.log.Info("EVTX file replaced by one with lower record ids; reading it as a new generation",
			"path", path, "generation", ff.cp.Generation+1, "last_record", ff.delivered, "max_record", maxID)
		ff.cp.Generation++
		ff.cp.LastRecord, ff.delivered = 0, 0
	}
	ff.cp.Dev, ff.cp.Ino = stamp.dev, stamp.ino
	ff.scanned = stamp
	from := ff.delivered
	source := path
	if ff.cp.Generation > 0 {
		source = path + "#" + strconv.Itoa(ff.cp.Generation)
	}
	generation := ff.cp.Generation
	var damage []string
	if bad := stats.BadChunks + stats.BadRecords; bad > ff.damaged {
		for _, e := range stats.Errors {
			damage = append(damage, e.Error())
		}
		if len(damage) == 0 {
			damage = append(damage, fmt.Sprintf("%d bad chunks and %d bad records", stats.BadChunks, stats.BadRecords))
		}
		ff.damaged = bad
	}
	w.mu.Unlock()

	recs = slices.DeleteFunc(recs, func(r pendingRecord) bool { return r.id <= from })
	slices.SortFunc(recs, func(a, b pendingRecord) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	recs = slices.CompactFunc(recs, func(a, b pendingRecord) bool { return a.id == b.id })
	if len(recs) == 0 && len(damage) == 0 {
		return nil
	}
	for start := 0; start < len(recs) || (start == 0 && len(damage) > 0); start += w.cfg.BatchSize {
		end := min(start+w.cfg.BatchSize, len(recs))
		b := FolderBatch{SourceID: source, Path: path}
		for _, r := range recs[start:end] {
			r.ev.ID = ecs.PositionID(source, r.id)
			r.ev.SourceID = source
			b.Events = append(b.Events, r.ev)
		}
		if start == 0 {
			b.Damage = damage
		}
		last := from
		if end > start {
			last = recs[end-1].id
		}
		b.Commit = func() { w.commit(path, generation, last) }
		w.mu.Lock()
		ff.delivered = max(ff.delivered, last)
		w.mu.Unlock()
		if err := w.cfg.Deliver(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// commit saves that the records of path's generation up to last are
// stored. Commits arrive in delivery order.
func (w *FolderWatcher) commit(path string, generation int, last uint64) {
	w.mu.Lock()
	ff := w.files[path]
	if ff == nil || ff.cp.Generation != generation || last <= ff.cp.LastRecord {
		w.mu.Unlock()
		return
	}
	ff.cp.LastRecord = last
	cp := ff.cp
	w.mu.Unlock()
	data, _ := json.Marshal(cp)
	if err := atomicfile.WriteFile(w.checkpointPath(path), data, 0o600); err != nil {
		w.log.Error("saving EVTX checkpoint failed; the file's newest records are read again after a restart",
			"path", path, "err", err)
	}
}

func (w *FolderWatcher) checkpointPath(path string) string {
	sum := sha256.Sum256([]byte(path))
	return filepath.Join(w.cfg.StateDir, "evtx-"+hex.EncodeToString(sum[:8])+".json")
}
