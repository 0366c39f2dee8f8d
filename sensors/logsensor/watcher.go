package logsensor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// DefaultPaths are the usual system and web server logs of Debian, Ubuntu,
// RHEL and their relatives. Paths that do not exist on a host stay in
// StateWaiting.
var DefaultPaths = []string{
	"/var/log/auth.log",
	"/var/log/syslog",
	"/var/log/secure",
	"/var/log/messages",
	"/var/log/nginx/*.log",
}

// WatcherConfig configures a Watcher. Paths, Checkpoints and Deliver are
// required; the other fields are passed on to each Tailer.
type WatcherConfig struct {
	// Paths lists files and glob patterns (filepath.Match syntax). A plain
	// path is followed even while it does not exist. A pattern is expanded
	// on every poll, and each new match gets its own Tailer with the path
	// as source id.
	// NOTE: a pattern that also matches rotated names (such as
	// /var/log/nginx/* matching access.log.1) reads rotated files a second
	// time as sources of their own, so end patterns in .log.
	Paths        []string
	Checkpoints  *CheckpointStore
	Deliver      DeliverFunc
	PollInterval time.Duration
	// Tick, when set, replaces the PollInterval ticker, as in TailerConfig.
	Tick         <-chan time.Time
	BatchLines   int
	BatchBytes   int
	MaxLineBytes int
	Logger       *slog.Logger
}

// Watcher follows a list of paths and glob patterns with one Tailer per
// file. It polls the files one after another from one goroutine, so Deliver
// is never called concurrently. Commit and Status may be called from any
// goroutine.
type Watcher struct {
	cfg WatcherConfig
	log *slog.Logger

	mu      sync.Mutex // guards tailers and order
	tailers map[string]*Tailer
	order   []string
}

// NewWatcher checks the patterns and returns a Watcher. It opens no file;
// the first Poll does.
func NewWatcher(cfg WatcherConfig) (*Watcher, error) {
	if len(cfg.Paths) == 0 {
		return nil, errors.New("logsensor: watcher needs at least one path")
	}
	if cfg.Checkpoints == nil || cfg.Deliver == nil {
		return nil, errors.New("logsensor: watcher needs a checkpoint store and a deliver function")
	}
	for _, p := range cfg.Paths {
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, newError(err, "logsensor.glob.invalid", p, err)
		}
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Watcher{cfg: cfg, log: cfg.Logger, tailers: make(map[string]*Tailer)}, nil
}

// Run polls every file until ctx is done, then closes them and returns nil.
// Errors are logged per file, once per change, and retried.
func (w *Watcher) Run(ctx context.Context) error {
	tick := w.cfg.Tick
	if tick == nil {
		ticker := time.NewTicker(w.cfg.PollInterval)
		defer ticker.Stop()
		tick = ticker.C
	}
	defer w.Close()
	for {
		w.poll(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick:
		}
	}
}

// Poll expands the patterns and polls every file once. It returns the
// errors of all files joined; a missing file is not an error.
func (w *Watcher) Poll(ctx context.Context) error {
	return errors.Join(w.poll(ctx)...)
}

func (w *Watcher) poll(ctx context.Context) []error {
	var errs []error
	if err := w.discover(); err != nil {
		errs = append(errs, err)
	}
	for _, t := range w.snapshot() {
		if ctx.Err() != nil {
			return errs
		}
		err := t.Poll(ctx)
		if ctx.Err() != nil {
			return errs
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// discover creates a Tailer for every plain path and every new match of a
// pattern.
func (w *Watcher) discover() error {
	var paths []string
	for _, p := range w.cfg.Paths {
		if !hasMeta(p) {
			paths = append(paths, p)
			continue
		}
		matches, err := filepath.Glob(p)
		if err != nil {
			return newError(err, "logsensor.glob.invalid", p, err)
		}
		paths = append(paths, matches...)
	}
	sort.Strings(paths)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range paths {
		if _, ok := w.tailers[p]; ok {
			continue
		}
		t, err := NewTailer(TailerConfig{
			Path:         p,
			Checkpoints:  w.cfg.Checkpoints,
			Deliver:      w.cfg.Deliver,
			BatchLines:   w.cfg.BatchLines,
			BatchBytes:   w.cfg.BatchBytes,
			MaxLineBytes: w.cfg.MaxLineBytes,
			Logger:       w.cfg.Logger,
		})
		if err != nil {
			return fmt.Errorf("follow %s: %w", p, err)
		}
		w.tailers[p] = t
		w.order = append(w.order, p)
	}
	return nil
}

func hasMeta(path string) bool { return strings.ContainsAny(path, `*?[\`) }

func (w *Watcher) snapshot() []*Tailer {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]*Tailer, 0, len(w.order))
	for _, p := range w.order {
		out = append(out, w.tailers[p])
	}
	return out
}

// Commit stores cp as the committed position of its source.
func (w *Watcher) Commit(cp Checkpoint) error {
	w.mu.Lock()
	t, ok := w.tailers[cp.SourceID]
	w.mu.Unlock()
	if !ok {
		return fmt.Errorf("commit checkpoint of unknown source %q", cp.SourceID)
	}
	return t.Commit(cp)
}

// CommitLines commits, for each source in lines, the checkpoint of its last
// line. Call it with a delivered batch once the store acknowledged it.
func (w *Watcher) CommitLines(lines []Line) error {
	last := make(map[string]Checkpoint)
	for _, l := range lines {
		if cp, ok := last[l.SourceID]; !ok || l.Checkpoint.NextSeq > cp.NextSeq {
			last[l.SourceID] = l.Checkpoint
		}
	}
	var errs []error
	for _, cp := range last {
		if err := w.Commit(cp); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Status returns the status of every followed file, in discovery order.
func (w *Watcher) Status() []Status {
	tailers := w.snapshot()
	out := make([]Status, len(tailers))
	for i, t := range tailers {
		out[i] = t.Status()
	}
	return out
}

// Close closes every open file.
func (w *Watcher) Close() error {
	var errs []error
	for _, t := range w.snapshot() {
		if err := t.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
