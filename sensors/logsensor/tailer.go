package logsensor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Defaults for TailerConfig and WatcherConfig fields left zero.
const (
	DefaultPollInterval = 250 * time.Millisecond
	DefaultBatchLines   = 1024
	DefaultBatchBytes   = 1 << 20
	DefaultMaxLineBytes = 1 << 20
)

// readChunk is the initial size of a Tailer's read buffer. The buffer grows
// up to MaxLineBytes when a line does not fit.
const readChunk = 64 << 10

// Line is one line read from a file.
type Line struct {
	// Data is the line without its trailing "\n" (or "\r\n"). It stays valid
	// after Deliver returns: every batch gets its own backing array.
	Data []byte
	// Offset is the byte offset of the line start in the file it was read
	// from (ECS log.offset).
	Offset int64
	// Path is the configured path (ECS log.file.path), also after the file
	// was renamed by a rotation.
	Path string
	// SourceID names the source; sequence numbers count per source.
	SourceID string
	// Seq numbers the lines of the source from 1 without gaps, the same on
	// every replay of the same line.
	Seq uint64
	// Split is true when the line was longer than MaxLineBytes: Data is one
	// piece of MaxLineBytes, and the next Line continues it.
	Split bool
	// Checkpoint is the position after this line. Passing it to Commit
	// marks this line and every earlier line of the source as stored.
	Checkpoint Checkpoint
}

// DeliverFunc receives a batch of lines in file order. The reader waits
// until it returns, which is how a slow consumer slows reading. Returning an
// error makes the reader deliver the same lines again on the next poll.
type DeliverFunc func(ctx context.Context, lines []Line) error

// TailerConfig configures a Tailer. Path, Checkpoints and Deliver are
// required.
type TailerConfig struct {
	// Path is the file to follow.
	Path string
	// SourceID names the source in checkpoints and events; it defaults to
	// Path.
	SourceID string
	// Checkpoints stores the committed position.
	Checkpoints *CheckpointStore
	// Deliver receives the lines.
	Deliver DeliverFunc
	// PollInterval is how often Run checks the file for new data and
	// rotation; default DefaultPollInterval.
	PollInterval time.Duration
	// Tick, when set, replaces the PollInterval ticker: Run polls once per
	// value received. Tests drive Run with it.
	Tick <-chan time.Time
	// BatchLines and BatchBytes bound one batch handed to Deliver; defaults
	// DefaultBatchLines and DefaultBatchBytes.
	BatchLines int
	BatchBytes int
	// MaxLineBytes bounds the memory one line may take; longer lines are
	// delivered in pieces marked Split. Default DefaultMaxLineBytes.
	MaxLineBytes int
	// Logger receives state changes; default slog.Default().
	Logger *slog.Logger
}

// State is the reading state of a Tailer.
type State int

// Tailer states. A Tailer starts in StateStarting, waits in StateWaiting
// while the file does not exist, and reports StateFailed with the error
// while it cannot read (it keeps retrying).
const (
	StateStarting State = iota
	StateWaiting
	StateReading
	StateFailed
)

var stateNames = [...]string{"starting", "waiting", "reading", "failed"}

// String returns the state's name as shown in sensor health.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Status is a snapshot of a Tailer for health reporting.
type Status struct {
	SourceID string
	Path     string
	State    State
	// Err is the last error while State is StateFailed. An *Error carries
	// the text for users.
	Err error
	// Offset is the read position in the open file; NextSeq the sequence
	// number the next line gets.
	Offset  int64
	NextSeq uint64
	// CommittedSeq is the NextSeq of the last committed checkpoint, so
	// NextSeq-CommittedSeq lines are delivered but not committed.
	CommittedSeq uint64
}

// Tailer follows one file, delivers its complete lines and keeps a
// committed checkpoint. Poll and Run must not be called concurrently with
// each other; Commit and Status may be called from any goroutine.
type Tailer struct {
	cfg      TailerConfig
	sourceID string
	log      *slog.Logger
	metrics  tailerMetrics

	mu           sync.Mutex // guards status and committed
	status       Status
	committed    Checkpoint
	hasCommitted bool

	// Reader state, owned by Poll.
	started bool
	f       *os.File
	dev     uint64
	ino     uint64
	fileOff int64  // file offset of buf[end]
	buf     []byte // unconsumed bytes are buf[start:end]
	start   int
	end     int
	nextSeq uint64
	fpLen   int
	fp      string

	// Batch under construction.
	batch   []Line
	arena   []byte
	spans   []int // start offsets in arena, one per batch line
	lastErr error // last logged error, so a repeated error is logged once
}

// NewTailer returns a Tailer for cfg.Path and loads its committed
// checkpoint. It does not open the file; the first Poll does.
func NewTailer(cfg TailerConfig) (*Tailer, error) {
	if cfg.Path == "" {
		return nil, errors.New("logsensor: tailer needs a path")
	}
	if cfg.Checkpoints == nil || cfg.Deliver == nil {
		return nil, fmt.Errorf("logsensor: tailer for %s needs a checkpoint store and a deliver function", cfg.Path)
	}
	if cfg.SourceID == "" {
		cfg.SourceID = cfg.Path
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.BatchLines <= 0 {
		cfg.BatchLines = DefaultBatchLines
	}
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = DefaultBatchBytes
	}
	if cfg.MaxLineBytes <= 0 {
		cfg.MaxLineBytes = DefaultMaxLineBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	t := &Tailer{
		cfg:      cfg,
		sourceID: cfg.SourceID,
		log:      cfg.Logger.With("source", cfg.SourceID),
		metrics:  newTailerMetrics(cfg.SourceID),
		nextSeq:  1,
	}
	cp, ok, err := cfg.Checkpoints.LoadFile(cfg.SourceID)
	if err != nil {
		return nil, err
	}
	if ok {
		t.committed, t.hasCommitted = cp, true
		t.nextSeq = cp.NextSeq
	}
	t.status = Status{SourceID: cfg.SourceID, Path: cfg.Path, State: StateStarting, NextSeq: t.nextSeq, CommittedSeq: t.nextSeq}
	return t, nil
}

// SourceID returns the source id that lines and checkpoints carry.
func (t *Tailer) SourceID() string { return t.sourceID }

// Status returns a snapshot of the reading state.
func (t *Tailer) Status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status
}

// Commit stores cp as the committed position. Call it after the store
// acknowledged every line up to the one that carried cp. A checkpoint older
// than the committed one is ignored, so commits may arrive out of order.
func (t *Tailer) Commit(cp Checkpoint) error {
	if cp.SourceID != t.sourceID {
		return fmt.Errorf("commit checkpoint of source %q to tailer of source %q", cp.SourceID, t.sourceID)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hasCommitted && cp.NextSeq <= t.committed.NextSeq {
		return nil
	}
	if err := t.cfg.Checkpoints.SaveFile(cp); err != nil {
		return fmt.Errorf("commit %s at offset %d: %w", t.sourceID, cp.Offset, err)
	}
	t.committed, t.hasCommitted = cp, true
	t.status.CommittedSeq = cp.NextSeq
	return nil
}

// Run polls the file until ctx is done, then closes it and returns nil.
// Errors (a missing permission, a failing Deliver) are retried on the next
// tick; Status reports them meanwhile.
func (t *Tailer) Run(ctx context.Context) error {
	tick := t.cfg.Tick
	if tick == nil {
		ticker := time.NewTicker(t.cfg.PollInterval)
		defer ticker.Stop()
		tick = ticker.C
	}
	defer t.Close()
	for {
		_ = t.Poll(ctx) // logged and kept in Status by Poll
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
		}
	}
}

// Close closes the open file. Undelivered and uncommitted lines are read
// again by the next Tailer for the same source.
func (t *Tailer) Close() error {
	if t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f = nil
	return err
}

// noteError records err in the status and logs it when it differs from the
// last one, so a file that stays unreadable is logged once, not per poll.
func (t *Tailer) noteError(err error) {
	if err == nil {
		if t.lastErr != nil {
			t.log.Info("log file readable again", "path", t.cfg.Path)
			t.lastErr = nil
		}
		return
	}
	t.setState(StateFailed, err)
	if t.lastErr == nil || t.lastErr.Error() != err.Error() {
		t.log.Error("cannot read log file; retrying", "path", t.cfg.Path, "err", err)
	}
	t.lastErr = err
}

func (t *Tailer) setState(s State, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.status.State = s
	t.status.Err = err
	t.status.Offset = t.consumedOffset()
	t.status.NextSeq = t.nextSeq
}

// consumedOffset returns the offset of the first byte not yet delivered:
// the read position minus the buffered partial line.
func (t *Tailer) consumedOffset() int64 { return t.fileOff - int64(t.end-t.start) }

// Poll reads everything the file has now, delivering complete lines, and
// handles truncation and rotation. A missing file is not an error: Poll
// sets StateWaiting and returns nil. Other errors set StateFailed and are
// logged once per change.
func (t *Tailer) Poll(ctx context.Context) error {
	err := t.poll(ctx)
	if ctx.Err() == nil {
		t.noteError(err)
	}
	return err
}

func (t *Tailer) poll(ctx context.Context) error {
	// Each pass handles at most one file switch; two passes cover a
	// rotation found while draining the old file.
	for pass := 0; pass < 2; pass++ {
		if t.f == nil {
			opened, err := t.open()
			if err != nil {
				return err
			}
			if !opened {
				t.setState(StateWaiting, nil)
				return nil
			}
		}
		if err := t.checkTruncated(ctx); err != nil {
			return err
		}
		if err := t.drain(ctx, false); err != nil {
			return err
		}
		switched, err := t.checkRotated(ctx)
		if err != nil {
			return err
		}
		if switched {
			continue
		}
		if t.f == nil {
			t.setState(StateWaiting, nil) // the file was deleted
			t.metrics.lag.Set(0)
			return nil
		}
		t.setState(StateReading, nil)
		if fi, err := t.f.Stat(); err == nil {
			t.metrics.lag.Set(float64(max(fi.Size()-t.consumedOffset(), 0)))
		}
		return nil
	}
	return nil
}

// open opens the file to read. On the first call it restores the committed
// checkpoint, which may point into a rotated file next to Path. It returns
// false when there is nothing to read yet.
func (t *Tailer) open() (bool, error) {
	if !t.started && t.hasCommitted {
		ok, err := t.resume()
		if ok || err != nil {
			t.started = ok
			return ok, err
		}
	}
	f, fi, err := t.openFile(t.cfg.Path)
	if errors.Is(err, fs.ErrNotExist) {
		if !t.started && t.Status().State != StateWaiting {
			t.log.Info("log file does not exist yet; waiting", "path", t.cfg.Path)
		}
		return false, nil
	}
	if err != nil {
		return false, err
	}
	t.started = true
	t.attach(f, fi, 0)
	t.log.Info("reading log file", "path", t.cfg.Path, "offset", 0, "seq", t.nextSeq)
	return true, nil
}

// resume opens the file the committed checkpoint refers to: the file at
// Path when it is still the same one, otherwise a rotated file with the same
// device, inode and fingerprint in the same directory. It returns false when
// neither exists.
func (t *Tailer) resume() (bool, error) {
	cp := t.committed
	f, fi, err := t.openFile(t.cfg.Path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err == nil {
		dev, ino := fileID(fi)
		if dev == cp.Dev && ino == cp.Inode {
			if t.fingerprintMatches(f, fi.Size(), cp) {
				t.attachCheckpoint(f, fi, cp)
				t.log.Info("resuming log file", "path", t.cfg.Path, "offset", cp.Offset, "seq", cp.NextSeq)
				return true, nil
			}
			t.log.Warn("log file was truncated or replaced while the sensor was stopped; reading it from the start",
				"path", t.cfg.Path, "committed_offset", cp.Offset, "size", fi.Size())
			t.attach(f, fi, 0)
			return true, nil
		}
		f.Close()
	}
	if rf, rfi, name := t.findRotated(cp); rf != nil {
		t.attachCheckpoint(rf, rfi, cp)
		t.log.Info("log file was rotated while the sensor was stopped; finishing the rotated file first",
			"path", t.cfg.Path, "rotated", name, "offset", cp.Offset, "seq", cp.NextSeq)
		return true, nil
	}
	if err == nil {
		// NOTE: the rest of the old file cannot be read here, because the
		// rotation compressed or deleted it. The warning and the jump in
		// log.offset are the only trace of the lost lines.
		t.log.Warn("committed log file not found next to the new one; the rest of it is lost, reading the new file from the start",
			"path", t.cfg.Path, "committed_offset", cp.Offset, "inode", cp.Inode)
	}
	return false, nil
}

func (t *Tailer) openFile(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, nil, permissionError(path, err)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, err
		}
		return nil, nil, newError(err, "logsensor.file.open", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, newError(err, "logsensor.file.open", path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, newError(nil, "logsensor.file.notregular", path, fi.Mode().Type().String())
	}
	return f, fi, nil
}

// findRotated looks in Path's directory for the file a checkpoint refers
// to, as left by a rotation by rename (auth.log → auth.log.1).
func (t *Tailer) findRotated(cp Checkpoint) (*os.File, fs.FileInfo, string) {
	dir := filepath.Dir(t.cfg.Path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, ""
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if dev, ino := fileID(info); dev != cp.Dev || ino != cp.Inode {
			continue
		}
		name := filepath.Join(dir, e.Name())
		f, fi, err := t.openFile(name)
		if err != nil {
			return nil, nil, ""
		}
		if !t.fingerprintMatches(f, fi.Size(), cp) {
			f.Close()
			return nil, nil, ""
		}
		return f, fi, name
	}
	return nil, nil, ""
}

func (t *Tailer) fingerprintMatches(f *os.File, size int64, cp Checkpoint) bool {
	if size < cp.Offset || size < int64(cp.FingerprintLen) {
		return false
	}
	if cp.FingerprintLen == 0 {
		return true
	}
	head := make([]byte, cp.FingerprintLen)
	if _, err := f.ReadAt(head, 0); err != nil {
		return false
	}
	return fingerprint(head) == cp.Fingerprint
}

// attach makes f the current file, read from offset.
func (t *Tailer) attach(f *os.File, fi fs.FileInfo, offset int64) {
	t.f = f
	t.dev, t.ino = fileID(fi)
	t.fileOff = offset
	t.start, t.end = 0, 0
	t.fpLen, t.fp = 0, ""
	t.updateFingerprint()
}

func (t *Tailer) attachCheckpoint(f *os.File, fi fs.FileInfo, cp Checkpoint) {
	t.attach(f, fi, cp.Offset)
	t.nextSeq = cp.NextSeq
}

// updateFingerprint extends the fingerprint while the file is shorter than
// FingerprintBytes.
func (t *Tailer) updateFingerprint() {
	if t.fpLen >= FingerprintBytes {
		return
	}
	head := make([]byte, FingerprintBytes)
	n, err := t.f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return
	}
	if n > t.fpLen {
		t.fpLen, t.fp = n, fingerprint(head[:n])
	}
}

// checkTruncated detects a copytruncate rotation: the file is shorter than
// the read position, or its first bytes changed because it was truncated
// and written again past the read position between two polls. Either way the
// held partial line is delivered and reading restarts at offset 0.
func (t *Tailer) checkTruncated(ctx context.Context) error {
	fi, err := t.f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", t.cfg.Path, err)
	}
	truncated := fi.Size() < t.fileOff
	if !truncated && t.fpLen > 0 {
		head := make([]byte, t.fpLen)
		n, err := t.f.ReadAt(head, 0)
		truncated = n < t.fpLen || (err != nil && err != io.EOF) || fingerprint(head) != t.fp
	}
	if !truncated {
		return nil
	}
	t.metrics.truncated.Inc()
	t.log.Info("log file was truncated (copytruncate rotation); reading it again from the start",
		"path", t.cfg.Path, "offset", t.fileOff, "size", fi.Size())
	if err := t.flushPartial(ctx); err != nil {
		return err
	}
	t.fileOff = 0
	t.start, t.end = 0, 0
	t.fpLen, t.fp = 0, ""
	t.updateFingerprint()
	return nil
}

// checkRotated compares the open file with the file now at Path. When Path
// names another file (rotation by rename, or delete and create), the old
// file is read to its end, its partial last line delivered, and the new file
// opened from offset 0. A missing Path keeps the old file open, because the
// writer may still append to it until it reopens its log.
func (t *Tailer) checkRotated(ctx context.Context) (bool, error) {
	fi, err := os.Stat(t.cfg.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, t.closeIfDeleted(ctx)
	}
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return false, permissionError(t.cfg.Path, err)
		}
		return false, fmt.Errorf("stat %s: %w", t.cfg.Path, err)
	}
	if dev, ino := fileID(fi); dev == t.dev && ino == t.ino {
		return false, nil
	}
	// NOTE: lines that a writer appends to the renamed file after this final
	// read are lost. Writers usually reopen their log right after the rename,
	// so the window is one poll interval. Two rotations within one poll
	// interval skip the middle file entirely.
	if err := t.drain(ctx, true); err != nil {
		return false, err
	}
	t.metrics.renamed.Inc()
	t.log.Info("log file was rotated; reading the new file from the start",
		"path", t.cfg.Path, "old_inode", t.ino, "old_size", t.fileOff)
	t.Close()
	return true, nil
}

// closeIfDeleted delivers the last lines of a file that was deleted rather
// than renamed and closes it, so that its disk space is freed. The Tailer
// then waits for Path to appear again.
func (t *Tailer) closeIfDeleted(ctx context.Context) error {
	fi, err := t.f.Stat()
	if err != nil || !fileDeleted(fi) {
		return nil
	}
	if err := t.drain(ctx, true); err != nil {
		return err
	}
	t.metrics.deleted.Inc()
	t.log.Info("log file was deleted; waiting for it to be created again", "path", t.cfg.Path)
	return t.Close()
}

// drain reads the open file to its current end, delivering complete lines.
// With final set it also delivers a last line that has no newline, because
// the file will not grow any more.
func (t *Tailer) drain(ctx context.Context, final bool) error {
	if t.buf == nil {
		t.buf = make([]byte, min(readChunk, t.cfg.MaxLineBytes))
	}
	for {
		if err := t.scanLines(ctx); err != nil {
			return err
		}
		if t.end == len(t.buf) {
			if err := t.makeRoom(ctx); err != nil {
				return err
			}
		}
		n, err := t.f.ReadAt(t.buf[t.end:], t.fileOff)
		t.end += n
		t.fileOff += int64(n)
		if err == io.EOF || (err == nil && n == 0) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s at offset %d: %w", t.cfg.Path, t.fileOff, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if err := t.scanLines(ctx); err != nil {
		return err
	}
	t.updateFingerprint()
	if final {
		return t.flushPartial(ctx)
	}
	return t.flush(ctx)
}

// scanLines moves the complete lines of the buffer into the batch.
func (t *Tailer) scanLines(ctx context.Context) error {
	for {
		i := bytes.IndexByte(t.buf[t.start:t.end], '\n')
		if i < 0 {
			return nil
		}
		data := t.buf[t.start : t.start+i]
		if len(data) > 0 && data[len(data)-1] == '\r' {
			data = data[:len(data)-1]
		}
		if err := t.emit(ctx, data, i+1, false); err != nil {
			return err
		}
	}
}

// makeRoom frees buffer space: it moves the partial line to the front,
// grows the buffer up to MaxLineBytes, or delivers a full buffer as one
// Split piece of an over-long line.
func (t *Tailer) makeRoom(ctx context.Context) error {
	switch {
	case t.start > 0:
		t.end = copy(t.buf, t.buf[t.start:t.end])
		t.start = 0
	case len(t.buf) < t.cfg.MaxLineBytes:
		grown := make([]byte, min(2*len(t.buf), t.cfg.MaxLineBytes))
		t.end = copy(grown, t.buf[t.start:t.end])
		t.start = 0
		t.buf = grown
	default:
		err := t.emit(ctx, t.buf[t.start:t.end], t.end-t.start, true)
		t.start, t.end = 0, 0
		return err
	}
	return nil
}

// flushPartial delivers the held bytes after the last newline as a line,
// then the batch.
func (t *Tailer) flushPartial(ctx context.Context) error {
	if t.start < t.end {
		if err := t.emit(ctx, t.buf[t.start:t.end], t.end-t.start, false); err != nil {
			return err
		}
	}
	return t.flush(ctx)
}

// emit adds one line that takes consumed bytes of the buffer (data plus
// its line ending) to the batch, and delivers the batch when it is full.
func (t *Tailer) emit(ctx context.Context, data []byte, consumed int, split bool) error {
	if len(t.batch) > 0 && len(t.arena)+len(data) > t.cfg.BatchBytes {
		if err := t.flush(ctx); err != nil {
			return err
		}
	}
	offset := t.consumedOffset()
	t.spans = append(t.spans, len(t.arena))
	t.arena = append(t.arena, data...)
	t.start += consumed
	seq := t.nextSeq
	t.nextSeq++
	t.batch = append(t.batch, Line{
		Offset:   offset,
		Path:     t.cfg.Path,
		SourceID: t.sourceID,
		Seq:      seq,
		Split:    split,
		Checkpoint: Checkpoint{
			SourceID:       t.sourceID,
			Path:           t.cfg.Path,
			Dev:            t.dev,
			Inode:          t.ino,
			Offset:         offset + int64(consumed),
			FingerprintLen: t.fpLen,
			Fingerprint:    t.fp,
			NextSeq:        seq + 1,
		},
	})
	if len(t.batch) >= t.cfg.BatchLines {
		return t.flush(ctx)
	}
	return nil
}

// flush hands the batch to Deliver. When Deliver fails, the read position
// goes back to the first line of the batch, so the next poll delivers the
// same lines with the same sequence numbers.
func (t *Tailer) flush(ctx context.Context) error {
	if len(t.batch) == 0 {
		return nil
	}
	for i := range t.batch {
		end := len(t.arena)
		if i+1 < len(t.spans) {
			end = t.spans[i+1]
		}
		t.batch[i].Data = t.arena[t.spans[i]:end:end]
	}
	batch := t.batch
	err := t.cfg.Deliver(ctx, batch)
	t.batch = make([]Line, 0, cap(batch))
	t.arena = make([]byte, 0, cap(t.arena))
	t.spans = t.spans[:0]
	if err != nil {
		t.fileOff = batch[0].Offset
		t.nextSeq = batch[0].Seq
		t.start, t.end = 0, 0
		return fmt.Errorf("deliver %d lines of %s: %w", len(batch), t.sourceID, err)
	}
	t.metrics.lines.Add(float64(len(batch)))
	t.setState(StateReading, nil)
	return nil
}
