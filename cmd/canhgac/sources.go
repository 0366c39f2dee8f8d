package main

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
	"strings"
	"sync"
	"time"

	"github.com/canhgac/canhgac/i18n"
	"github.com/canhgac/canhgac/internal/atomicfile"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/sensors/evtx"
	"github.com/canhgac/canhgac/sensors/filesource"
	"github.com/canhgac/canhgac/sensors/logparse"
	"github.com/canhgac/canhgac/sensors/logsensor"
)

// fileSources parses the lines a Watcher delivers and submits them to the
// pipeline, committing each batch's checkpoint once the store has it.
type fileSources struct {
	sink    batchSink
	log     *slog.Logger
	format  logparse.Format
	watcher *logsensor.Watcher

	mu      sync.Mutex
	sources map[string]*fileSource
}

// fileSource is the parsing state of one file.
type fileSource struct {
	dec  *logparse.Decoder
	seqs *filesource.SeqIndex
	// held is the checkpoint after the newest delivered line; it is
	// committed by an idle flush once the decoder holds nothing back.
	held       *logsensor.Checkpoint
	lastActive time.Time
}

// idleFlush is how long a source must be quiet before the decoder emits
// the events it holds back (an auditd event waiting for more records).
const idleFlush = 2 * time.Second

func (p *platform) startFiles(start func(string, func(context.Context) error)) error {
	if len(p.cfg.Files) == 0 {
		return nil
	}
	checkpoints, err := logsensor.OpenCheckpointStore(filepath.Join(p.cfg.DataDir, "checkpoints"))
	if err != nil {
		return fail("cli.run.checkpoints", p.cfg.DataDir, err)
	}
	byFormat := map[string][]string{}
	var formats []string
	for _, in := range p.cfg.Files {
		p.reportFile(in.Path)
		if _, ok := byFormat[in.Format]; !ok {
			formats = append(formats, in.Format)
		}
		byFormat[in.Format] = append(byFormat[in.Format], in.Path)
	}
	for _, name := range formats {
		format, err := logparse.ParseFormat(name)
		if err != nil {
			return err
		}
		fsrc := &fileSources{sink: p.sink, log: p.log, format: format, sources: map[string]*fileSource{}}
		w, err := logsensor.NewWatcher(logsensor.WatcherConfig{
			Paths:       byFormat[name],
			Checkpoints: checkpoints,
			Deliver:     fsrc.deliver,
			Logger:      p.log,
		})
		if err != nil {
			return err
		}
		fsrc.watcher = w
		start("files:"+name, func(ctx context.Context) error {
			go fsrc.flushIdle(ctx)
			defer w.Close()
			return w.Run(ctx)
		})
	}
	return nil
}

// reportFile reports at start whether a configured log file can be
// read, so a missing /var/log/auth.log is not a silent surprise.
func (p *platform) reportFile(path string) {
	if strings.ContainsAny(path, "*?[") {
		fmt.Fprintln(p.c.stdout, i18n.T(p.c.lang, "cli.run.file_glob", path))
		return
	}
	f, err := os.Open(path)
	switch {
	case err == nil:
		f.Close()
		fmt.Fprintln(p.c.stdout, i18n.T(p.c.lang, "cli.run.file_ok", path))
	case errors.Is(err, fs.ErrNotExist):
		fmt.Fprintln(p.c.stdout, i18n.T(p.c.lang, "cli.run.file_missing", path))
	case errors.Is(err, fs.ErrPermission):
		fmt.Fprintln(p.c.stdout, i18n.T(p.c.lang, "cli.run.file_denied", path))
	default:
		fmt.Fprintln(p.c.stdout, i18n.T(p.c.lang, "cli.run.file_error", path, err))
	}
}

func (s *fileSources) source(id string) (*fileSource, error) {
	src, ok := s.sources[id]
	if ok {
		return src, nil
	}
	dec, err := logparse.NewDecoder(s.format, logparse.Options{})
	if err != nil {
		return nil, err
	}
	src = &fileSource{dec: dec, seqs: filesource.NewSeqIndex()}
	s.sources[id] = src
	return src, nil
}

// deliver parses one batch of lines of one or more files and submits it.
func (s *fileSources) deliver(ctx context.Context, lines []logsensor.Line) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	batches := map[string]*pipeline.Batch{}
	var order []string
	for _, line := range lines {
		src, err := s.source(line.SourceID)
		if err != nil {
			return err
		}
		b, ok := batches[line.SourceID]
		if !ok {
			b = &pipeline.Batch{SourceID: line.SourceID}
			batches[line.SourceID] = b
			order = append(order, line.SourceID)
		}
		path := line.SourceID
		emit := func(rec logparse.Record) {
			if rec.Err != nil {
				b.DeadLetters = append(b.DeadLetters, filesource.RecordDeadLetter(rec, path))
				return
			}
			b.Events = append(b.Events, filesource.RecordEvent(rec, path, src.seqs.Lookup(rec.Offset)))
		}
		src.seqs.Add(line.Offset, line.Seq)
		src.dec.Decode(logparse.Line{Data: line.Data, Offset: line.Offset, SourceID: line.SourceID, Path: line.Path}, emit)
		src.seqs.Prune(src.dec)
		cp := line.Checkpoint
		src.held = &cp
		src.lastActive = time.Now()
	}
	for _, id := range order {
		b := batches[id]
		if cp := committable(id, s.sources[id], lines); cp != nil {
			b.Commit = s.committer(*cp)
		}
		if err := s.sink.Submit(ctx, b); err != nil {
			return err
		}
	}
	return nil
}

// committer returns the Commit function of a batch that ends at cp. A
// failed save is logged; the next commit of the file saves a newer
// checkpoint, and until then a restart reads the lines again.
func (s *fileSources) committer(cp logsensor.Checkpoint) func() {
	return func() {
		if err := s.watcher.Commit(cp); err != nil {
			s.log.Error("saving log file checkpoint failed", "source", cp.SourceID, "offset", cp.Offset, "err", err)
		}
	}
}

// committable returns the newest checkpoint of the source's lines that no
// held-back record starts before, or nil when the decoder holds the lines of
// the whole batch.
func committable(id string, src *fileSource, lines []logsensor.Line) *logsensor.Checkpoint {
	pending, held := src.dec.Pending()
	var best *logsensor.Checkpoint
	for i := range lines {
		cp := lines[i].Checkpoint
		if lines[i].SourceID != id {
			continue
		}
		if held && cp.Offset > pending {
			break
		}
		best = &cp
	}
	return best
}

// flushIdle emits the records decoders hold back once their source has been
// quiet for idleFlush, and commits the source's last checkpoint with them.
func (s *fileSources) flushIdle(ctx context.Context) {
	ticker := time.NewTicker(idleFlush / 2)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		s.mu.Lock()
		for id, src := range s.sources {
			if _, held := src.dec.Pending(); !held || time.Since(src.lastActive) < idleFlush || src.held == nil {
				continue
			}
			b := &pipeline.Batch{SourceID: id}
			path := id
			src.dec.Flush(func(rec logparse.Record) {
				if rec.Err != nil {
					b.DeadLetters = append(b.DeadLetters, filesource.RecordDeadLetter(rec, path))
					return
				}
				b.Events = append(b.Events, filesource.RecordEvent(rec, path, src.seqs.Lookup(rec.Offset)))
			})
			src.seqs.Prune(src.dec)
			b.Commit = s.committer(*src.held)
			if err := s.sink.Submit(ctx, b); err != nil {
				s.mu.Unlock()
				return
			}
		}
		s.mu.Unlock()
	}
}

// evtxInterval is how often the EVTX folders are scanned for new records.
const evtxInterval = 5 * time.Second

// startEVTX watches the configured folders of EVTX files. Each batch of
// new records is committed to the folder's checkpoints once stored;
// chunks the reader could not decode become dead letters.
func (p *platform) startEVTX(start func(string, func(context.Context) error)) error {
	if len(p.cfg.EVTXDirs) == 0 {
		return nil
	}
	for _, dir := range p.cfg.EVTXDirs {
		if _, err := os.Stat(dir); err != nil {
			fmt.Fprintln(p.c.stdout, i18n.T(p.c.lang, "cli.run.evtx_missing", dir))
			continue
		}
		fmt.Fprintln(p.c.stdout, i18n.T(p.c.lang, "cli.run.evtx_dir", dir, evtxInterval))
	}
	w, err := evtx.NewFolderWatcher(evtx.FolderConfig{
		Dirs:     p.cfg.EVTXDirs,
		Interval: evtxInterval,
		StateDir: filepath.Join(p.cfg.DataDir, "checkpoints", "evtx"),
		Logger:   p.log,
		Deliver: func(ctx context.Context, fb evtx.FolderBatch) error {
			b := &pipeline.Batch{SourceID: fb.SourceID, Events: fb.Events, Commit: fb.Commit}
			for _, reason := range fb.Damage {
				b.DeadLetters = append(b.DeadLetters, pipeline.DeadLetter{
					Time: time.Now(), SourceID: fb.SourceID, Offset: -1, Raw: []byte(fb.Path), Reason: reason,
				})
			}
			return p.sink.Submit(ctx, b)
		},
	})
	if err != nil {
		return fail("cli.run.checkpoints", p.cfg.DataDir, err)
	}
	start("evtx", w.Run)
	return nil
}

// importRecord marks a file that an import published completely, so a
// restart does not read it again while it is unchanged.
type importRecord struct {
	Path    string    `json:"path"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mod_time"`
	Events  int       `json:"events"`
	Dead    int       `json:"dead_letters"`
}

// startImports reads the files and folders of --import once, whole, as
// hunt does: captures, EVTX, JSON and log files. A file is recorded as
// imported once every batch of it is durable; a file interrupted by a
// stop is read again at the next start, and its event ids make the repeat
// harmless.
func (p *platform) startImports(start func(string, func(context.Context) error)) error {
	if len(p.cfg.Imports) == 0 {
		return nil
	}
	inputs, skipped, err := expandInputs(p.cfg.Imports)
	if err != nil {
		return err
	}
	if skipped > 0 {
		fmt.Fprintln(p.c.stderr, i18n.T(p.c.lang, "cli.hunt.skipped", skipped))
	}
	dir := filepath.Join(p.cfg.DataDir, "checkpoints", "imported")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fail("cli.run.checkpoints", p.cfg.DataDir, err)
	}
	start("import", func(ctx context.Context) error {
		for _, in := range inputs {
			if err := p.importFile(ctx, dir, in); err != nil {
				return err
			}
		}
		return nil
	})
	return nil
}

func (p *platform) importFile(ctx context.Context, dir string, in input) error {
	abs, err := filepath.Abs(in.path)
	if err != nil {
		return err
	}
	info, err := os.Stat(abs)
	if err != nil {
		return fail("cli.hunt.input_missing", in.path, err)
	}
	sum := sha256.Sum256([]byte(abs))
	mark := filepath.Join(dir, hex.EncodeToString(sum[:12])+".json")
	var done importRecord
	if data, err := os.ReadFile(mark); err == nil && json.Unmarshal(data, &done) == nil &&
		done.Size == info.Size() && done.ModTime.Equal(info.ModTime()) {
		fmt.Fprintln(p.c.stdout, i18n.T(p.c.lang, "cli.run.import_done_before", in.path))
		return nil
	}
	// Batches commit in order, so the last commit means the whole file.
	var mu sync.Mutex
	pending := 0
	finished := make(chan struct{})
	allSubmitted := false
	n, d, err := filesource.Read(ctx, abs, filesource.Options{Packets: readPackets}, func(b *pipeline.Batch) error {
		mu.Lock()
		pending++
		mu.Unlock()
		b.Commit = func() {
			mu.Lock()
			pending--
			last := pending == 0 && allSubmitted
			mu.Unlock()
			if last {
				close(finished)
			}
		}
		return p.sink.Submit(ctx, b)
	})
	if errors.Is(err, filesource.ErrUnsupported) && !in.named {
		fmt.Fprintln(p.c.stderr, i18n.T(p.c.lang, "cli.hunt.skip_unsupported")+message(p.c.lang, readError(in.path, err)))
		return nil
	}
	if err != nil {
		return readError(in.path, err)
	}
	mu.Lock()
	allSubmitted = true
	last := pending == 0
	mu.Unlock()
	if !last {
		select {
		case <-finished:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	data, _ := json.Marshal(importRecord{Path: abs, Size: info.Size(), ModTime: info.ModTime(), Events: n, Dead: d})
	if err := atomicfile.WriteFile(mark, data, 0o600); err != nil {
		p.log.Error("recording a finished import failed; the file is read again at the next start", "path", abs, "err", err)
	}
	fmt.Fprintln(p.c.stdout, i18n.T(p.c.lang, "cli.run.imported", in.path, n, d))
	return nil
}
