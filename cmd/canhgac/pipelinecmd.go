package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"sync"
	"time"

	"github.com/canhgac/canhgac/detections/sigma"
	"github.com/canhgac/canhgac/i18n"
	"github.com/canhgac/canhgac/internal/config"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/elastic"
	"github.com/canhgac/canhgac/pipeline/kafkabus"
)

// defaultGroup is the Kafka consumer group of canhgac pipeline.
const defaultGroup = "canhgac-pipeline"

func pipelineCommand() *command {
	var f runFlags
	var bf busFlags
	var esURLs, cpuProfile string
	return &command{
		name:    "pipeline",
		summary: "cli.pipeline.summary",
		usage:   "cli.pipeline.usage",
		flags: func(fs *flag.FlagSet, c *cli) {
			f.registerBase(fs, c)
			f.registerRules(fs, c)
			bf.register(fs, c, "127.0.0.1:9465")
			fs.StringVar(&esURLs, "elasticsearch", "", i18n.T(c.lang, "cli.pipeline.flag.elasticsearch"))
			fs.StringVar(&cpuProfile, "cpuprofile", "", i18n.T(c.lang, "cli.pipeline.flag.cpuprofile"))
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			if len(args) > 0 {
				return &usageError{fail("cli.error.args_extra", fmt.Sprint(args))}
			}
			cfg, err := runConfig(f)
			if err != nil {
				return err
			}
			bf.apply(&cfg)
			if esURLs != "" {
				cfg.Elasticsearch.URLs = splitList(esURLs)
			}
			if cpuProfile != "" {
				stopProfile, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stopProfile()
			}
			return runPipeline(ctx, c, cfg)
		},
	}
}

func init() {
	i18n.Register(map[string]i18n.Message{
		"cli.pipeline.flag.cpuprofile": {
			VI: "ghi hồ sơ CPU (định dạng pprof) của tiến trình vào TỆP cho đến khi dừng",
			EN: "write the process's CPU profile (pprof format) to FILE until it stops",
		},
		"cli.pipeline.cpuprofile": {
			VI: "không ghi được hồ sơ CPU vào %s: %v. Hãy chọn một đường dẫn ghi được cho --cpuprofile",
			EN: "cannot write the CPU profile to %s: %v. Choose a writable path for --cpuprofile",
		},
	})
}

// startCPUProfile starts a CPU profile into path; the returned function
// stops it and closes the file.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fail("cli.pipeline.cpuprofile", path, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fail("cli.pipeline.cpuprofile", path, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// runPipeline consumes the events topics of every region, detects and
// indexes into Elasticsearch. Each claimed Kafka partition gets its own
// pipeline and detection state, saved to the state topic before its
// offsets are committed, so a rebalance or a crash loses no correlation
// window and commits nothing that is not stored.
func runPipeline(ctx context.Context, c *cli, cfg config.Config) error {
	log := newLogger(c)
	registry := newRegistry()
	rs, err := loadRules(c, cfg.Rules, cfg.Placeholders, cfg.NoBundledRules)
	if err != nil {
		return err
	}
	esOpts := cfg.Elasticsearch
	esOpts.Region, esOpts.Logger, esOpts.Registerer = cfg.Region, log, registry
	store, err := elastic.New(ctx, esOpts)
	if err != nil {
		return err
	}
	defer store.Close()

	specs, err := kafkabus.Topics(cfg.AllRegions())
	if err != nil {
		return err
	}
	if _, err := kafkabus.EnsureTopics(ctx, cfg.Kafka.Options, specs, cfg.Kafka.Topics, log); err != nil {
		return fail("cli.pipeline.topics", fmt.Sprint(cfg.Kafka.Brokers), err)
	}
	states, err := kafkabus.NewStateStore(cfg.Kafka.Options)
	if err != nil {
		return err
	}
	defer states.Close()

	copts := cfg.Kafka.Consumer
	if copts.Group == "" {
		copts.Group = defaultGroup
	}
	if len(copts.Topics) == 0 {
		for _, r := range cfg.AllRegions() {
			copts.Topics = append(copts.Topics, kafkabus.EventsTopic(r))
		}
		copts.Topics = append(copts.Topics, kafkabus.TopicDeadLetter)
	}
	dm := newDetectorMetrics()
	registry.MustRegister(dm.lateDropped, dm.replayed)
	h := &partitionHandler{
		store: store, rules: rs, states: states, group: copts.Group, metrics: dm, log: log,
		opts:  pipeline.Options{Region: cfg.Region, Metrics: pipeline.NewMetrics(registry), Logger: log},
		parts: map[kafkabus.TopicPartition]*partitionPipe{},
	}
	consumer, err := kafkabus.NewConsumer(cfg.Kafka.Options, copts, h, registry, log)
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if err := serveMetrics(runCtx, c, cfg.Metrics, registry); err != nil {
		return err
	}
	go func() {
		if err := store.RunRetentionLoop(runCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("retention loop stopped", "err", err)
		}
	}()
	fmt.Fprintln(c.stdout, i18n.T(c.lang, "cli.pipeline.consuming", fmt.Sprint(copts.Topics), copts.Group, store.String()))
	runErr := consumer.Run(runCtx)
	fmt.Fprintln(c.stderr, i18n.T(c.lang, "cli.run.stopping"))
	if err := consumer.Close(); err != nil {
		log.Error("closing the Kafka consumer failed", "err", err)
	}
	h.closeAll()
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		return runErr
	}
	fmt.Fprintln(c.stderr, i18n.T(c.lang, "cli.run.stopped"))
	return nil
}

// partitionHandler runs one pipeline per claimed Kafka partition.
type partitionHandler struct {
	store   pipeline.Store
	rules   *sigma.Ruleset
	states  *kafkabus.StateStore
	group   string
	metrics detectorMetrics
	opts    pipeline.Options
	log     *slog.Logger

	mu    sync.Mutex
	parts map[kafkabus.TopicPartition]*partitionPipe
}

// partitionPipe is the pipeline of one partition.
type partitionPipe struct {
	pipe *pipeline.Pipeline
	done chan error
	stop context.CancelFunc
}

// stateSaveTimeout bounds one save of a partition's detection state.
const stateSaveTimeout = 30 * time.Second

// Assigned loads the partition's detection state and starts its pipeline.
func (h *partitionHandler) Assigned(ctx context.Context, tp kafkabus.TopicPartition) error {
	key := kafkabus.StateKey(h.group, tp)
	det := newDetectorWith(h.rules, liveEngineOptions(h.log), h.metrics)

	data, ok, err := h.states.LoadState(ctx, key)
	if err != nil {
		return fmt.Errorf("load detection state of %s: %w", tp, err)
	}
	if ok {
		if err := restorePartition(det, data, h.log, tp); err != nil {
			// Blocking the partition forever would stop ingest, so its
			// windows start afresh instead and the error is logged.
			h.log.Error("detection state of the partition is damaged; its correlation windows start afresh",
				"partition", tp.String(), "err", err)
			det = newDetectorWith(h.rules, liveEngineOptions(h.log), h.metrics)
		}
	}

	opts := h.opts
	opts.SaveState = func(state []byte) error {
		ctx, cancel := context.WithTimeout(context.Background(), stateSaveTimeout)
		defer cancel()
		packed, err := gzipBytes(state)
		if err != nil {
			return err
		}
		return h.states.SaveState(ctx, key, packed)
	}

	pctx, stop := context.WithCancel(context.Background())
	pp := &partitionPipe{pipe: pipeline.New(h.store, det, opts), done: make(chan error, 1), stop: stop}
	go func() { pp.done <- pp.pipe.Run(pctx) }()
	h.mu.Lock()
	h.parts[tp] = pp
	h.mu.Unlock()
	h.log.Info("partition assigned", "partition", tp.String(), "state_restored", ok)
	return nil
}

// restorePartition loads a partition's saved detection state into det.
func restorePartition(det *sigmaDetector, data []byte, log *slog.Logger, tp kafkabus.TopicPartition) error {
	data, err := gunzip(data)
	if err != nil {
		return fmt.Errorf("decompress: %w", err)
	}
	dropped, err := det.Restore(data)
	if err != nil {
		return err
	}
	if len(dropped) > 0 {
		log.Warn("correlation state of rules that are no longer loaded was left out", "partition", tp.String(), "rules", dropped)
	}
	return nil
}

// HandleBatch hands the batch to the partition's pipeline; the Kafka
// offsets move once the store holds it and the state that saw it is saved.
func (h *partitionHandler) HandleBatch(ctx context.Context, kb *kafkabus.Batch) error {
	h.mu.Lock()
	pp := h.parts[kb.TopicPartition]
	h.mu.Unlock()
	if pp == nil {
		return fmt.Errorf("batch of %s before its assignment", kb.TopicPartition)
	}
	b := &pipeline.Batch{
		SourceID:    kb.TopicPartition.String(),
		Events:      kb.Events,
		DeadLetters: kb.DeadLetters,
		Commit: func() {
			if err := kb.Commit(); err != nil && !errors.Is(err, kafkabus.ErrRevoked) {
				h.log.Error("committing Kafka offsets failed", "partition", kb.TopicPartition.String(),
					"last_offset", kb.LastOffset, "err", err)
			}
		},
	}
	return pp.pipe.Submit(ctx, b)
}

// revokeWait bounds how long a revoked partition's pipeline may take to
// write and commit what it holds.
const revokeWait = 60 * time.Second

// Revoked drains the partition's pipeline: it stores what it holds, saves
// the detection state and commits, before the partition moves.
func (h *partitionHandler) Revoked(ctx context.Context, tp kafkabus.TopicPartition) {
	h.mu.Lock()
	pp := h.parts[tp]
	delete(h.parts, tp)
	h.mu.Unlock()
	if pp != nil {
		h.drain(tp, pp)
	}
}

func (h *partitionHandler) drain(tp kafkabus.TopicPartition, pp *partitionPipe) {
	pp.pipe.Close()
	select {
	case err := <-pp.done:
		if err != nil {
			h.log.Error("partition pipeline stopped with an error", "partition", tp.String(), "err", err)
		}
	case <-time.After(revokeWait):
		// NOTE: what the pipeline still held is not committed; the next
		// owner of the partition reads it again.
		h.log.Error("partition pipeline did not drain in time; its uncommitted batches go to the next owner",
			"partition", tp.String(), "waited", revokeWait)
		pp.stop()
		<-pp.done
	}
	h.log.Info("partition revoked", "partition", tp.String())
}

// closeAll drains the pipelines of partitions still held at shutdown.
func (h *partitionHandler) closeAll() {
	h.mu.Lock()
	parts := h.parts
	h.parts = map[kafkabus.TopicPartition]*partitionPipe{}
	h.mu.Unlock()
	for tp, pp := range parts {
		h.drain(tp, pp)
	}
}

// gzipBytes compresses a detection state for the state topic. The JSON of
// buffered events shrinks about tenfold, which keeps the state of busy
// partitions under Kafka's default message size of 1 MB.
func gzipBytes(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		return nil, fmt.Errorf("compress detection state: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress detection state: %w", err)
	}
	return buf.Bytes(), nil
}

// gunzip reverses gzipBytes.
func gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(zr)
}
