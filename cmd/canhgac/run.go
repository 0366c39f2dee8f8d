package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/canhgac/canhgac/console"
	"github.com/canhgac/canhgac/console/auth"
	"github.com/canhgac/canhgac/console/embedstore"
	"github.com/canhgac/canhgac/i18n"
	"github.com/canhgac/canhgac/internal/atomicfile"
	"github.com/canhgac/canhgac/internal/config"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/embedded"
	"github.com/canhgac/canhgac/sensors/logsensor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// runFlags are the flags of `canhgac run`; each overrides the config file.
type runFlags struct {
	config       string
	data         string
	capture      string
	consoleAddr  string
	syslogUDP    string
	syslogTCP    string
	region       string
	rules        string
	placeholders string
	files        multiFlag
	evtxDirs     multiFlag
	imports      multiFlag
	noSystemLogs bool
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// registerSources declares the flags of the config, data folder, region
// and sources, shared by run and sensor.
func (f *runFlags) registerSources(fs *flag.FlagSet, c *cli) {
	f.registerBase(fs, c)
	fs.StringVar(&f.capture, "capture", "", i18n.T(c.lang, "cli.run.flag.capture"))
	fs.StringVar(&f.syslogUDP, "syslog-udp", "", i18n.T(c.lang, "cli.run.flag.syslog_udp"))
	fs.StringVar(&f.syslogTCP, "syslog-tcp", "", i18n.T(c.lang, "cli.run.flag.syslog_tcp"))
	fs.Var(&f.files, "file", i18n.T(c.lang, "cli.run.flag.file"))
	fs.Var(&f.evtxDirs, "evtx-dir", i18n.T(c.lang, "cli.run.flag.evtx_dir"))
	fs.Var(&f.imports, "import", i18n.T(c.lang, "cli.run.flag.import"))
	fs.BoolVar(&f.noSystemLogs, "no-system-logs", false, i18n.T(c.lang, "cli.run.flag.no_system_logs"))
}

// registerBase declares the config file, data folder and region flags,
// which every long-running command has.
func (f *runFlags) registerBase(fs *flag.FlagSet, c *cli) {
	fs.StringVar(&f.config, "config", "", i18n.T(c.lang, "cli.run.flag.config"))
	fs.StringVar(&f.data, "data", "", i18n.T(c.lang, "cli.run.flag.data"))
	fs.StringVar(&f.region, "region", "", i18n.T(c.lang, "cli.run.flag.region"))
}

// registerRules declares the detection rule flags, shared by run and
// pipeline.
func (f *runFlags) registerRules(fs *flag.FlagSet, c *cli) {
	fs.StringVar(&f.rules, "rules", "", i18n.T(c.lang, "cli.run.flag.rules"))
	fs.StringVar(&f.placeholders, "placeholders", "", i18n.T(c.lang, "cli.flag.placeholders"))
}

func runCommand() *command {
	var f runFlags
	return &command{
		name:    "run",
		summary: "cli.run.summary",
		usage:   "cli.run.usage",
		flags: func(fs *flag.FlagSet, c *cli) {
			f.registerSources(fs, c)
			fs.StringVar(&f.consoleAddr, "listen", "", i18n.T(c.lang, "cli.run.flag.listen"))
			f.registerRules(fs, c)
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			if len(args) > 0 {
				return &usageError{fail("cli.error.args_extra", fmt.Sprint(args))}
			}
			cfg, err := runConfig(f)
			if err != nil {
				return err
			}
			return runPlatform(ctx, c, cfg)
		},
	}
}

// runConfig merges defaults, the config file and the flags.
func runConfig(f runFlags) (config.Config, error) {
	cfg := config.Default()
	if f.config != "" {
		var err error
		if cfg, err = config.Load(f.config); err != nil {
			return cfg, err
		}
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cfg.DataDir, f.data)
	set(&cfg.Capture, f.capture)
	set(&cfg.Console.Addr, f.consoleAddr)
	set(&cfg.Syslog.UDP, f.syslogUDP)
	set(&cfg.Syslog.TCP, f.syslogTCP)
	for _, addr := range []*string{&cfg.Syslog.UDP, &cfg.Syslog.TCP} {
		if *addr == "off" {
			*addr = ""
		}
	}
	set(&cfg.Region, f.region)
	set(&cfg.Placeholders, f.placeholders)
	if f.rules != "" {
		cfg.Rules = append(cfg.Rules, splitList(f.rules)...)
	}
	if f.noSystemLogs {
		cfg.Files = nil
	}
	for _, spec := range f.files {
		cfg.Files = append(cfg.Files, parseFileSpec(spec))
	}
	cfg.EVTXDirs = append(cfg.EVTXDirs, f.evtxDirs...)
	cfg.Imports = append(cfg.Imports, f.imports...)
	return cfg, cfg.Validate()
}

// parseFileSpec reads "PATH" or "PATH:FORMAT".
func parseFileSpec(spec string) config.FileInput {
	if i := lastColon(spec); i > 0 {
		return config.FileInput{Path: spec[:i], Format: spec[i+1:]}
	}
	return config.FileInput{Path: spec, Format: "auto"}
}

func lastColon(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case ':':
			return i
		case '/':
			return -1
		}
	}
	return -1
}

// platform is the running all-in-one process.
type platform struct {
	cfg   config.Config
	c     *cli
	log   *slog.Logger
	store *embedded.Store
	pipe  *pipeline.Pipeline
	// sink receives the sources' batches: the pipeline in run, Kafka in
	// sensor.
	sink     batchSink
	registry *prometheus.Registry
}

// runPlatform starts every component, blocks until ctx ends, then stops
// them: sources first, then the pipeline drains and commits, then the store
// closes.
func runPlatform(ctx context.Context, c *cli, cfg config.Config) error {
	log := slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fail("cli.run.data_dir", cfg.DataDir, err)
	}
	store, err := embedded.Open(filepath.Join(cfg.DataDir, "store"), embedded.Options{Logger: log})
	if err != nil {
		return fail("cli.run.store_open", cfg.DataDir, err)
	}
	defer store.Close()

	rs, err := loadRules(c, cfg.Rules, cfg.Placeholders, cfg.NoBundledRules)
	if err != nil {
		return err
	}
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registry.MustRegister(logsensor.Collectors()...)
	p := &platform{cfg: cfg, c: c, log: log, store: store, registry: registry}
	detector := newDetector(rs, liveEngineOptions(log))
	registry.MustRegister(detector.lateDropped, detector.replayed)
	statePath := filepath.Join(cfg.DataDir, "detection-state.json")
	if err := restoreDetector(detector, statePath, log); err != nil {
		return err
	}
	p.pipe = pipeline.New(store, detector, pipeline.Options{
		Region:  cfg.Region,
		Sensor:  cfg.Sensor,
		Metrics: pipeline.NewMetrics(registry),
		Logger:  log,
		SaveState: func(state []byte) error {
			return atomicfile.WriteFile(statePath, state, 0o600)
		},
	})

	// The pipeline gets its own context: on Ctrl-C the sources stop first,
	// and the pipeline still drains and commits what they submitted.
	pipeCtx, stopPipe := context.WithCancel(context.Background())
	defer stopPipe()
	pipeDone := make(chan error, 1)
	go func() { pipeDone <- p.pipe.Run(pipeCtx) }()
	p.sink = p.pipe

	sources, err := p.startSourceSet(ctx)
	if err != nil {
		return err
	}
	defer sources.stop()
	srcCtx := sources.ctx
	consoleErr, err := p.startConsole(srcCtx)
	if err != nil {
		return err
	}
	go p.retentionLoop(srcCtx)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-sources.failed:
	case runErr = <-consoleErr:
	case runErr = <-pipeDone:
		if runErr == nil {
			runErr = errors.New("pipeline stopped unexpectedly")
		}
	}
	fmt.Fprintln(c.stderr, i18n.T(c.lang, "cli.run.stopping"))
	sources.stop()
	p.pipe.Close()
	select {
	case err := <-pipeDone:
		if runErr == nil && err != nil {
			runErr = err
		}
	case <-time.After(30 * time.Second):
		// NOTE: batches not written within 30 s stay uncommitted; their
		// sources read them again after the restart.
		stopPipe()
		<-pipeDone
	}
	if runErr != nil {
		return runErr
	}
	fmt.Fprintln(c.stderr, i18n.T(c.lang, "cli.run.stopped"))
	return nil
}

// sourceSet is the running sources of a process.
type sourceSet struct {
	// ctx ends when the sources stop; components that stop with them
	// (console, retention) run under it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// failed receives the error of a source that stopped by itself.
	failed chan error
}

// startSourceSet starts every configured source of p under ctx.
func (p *platform) startSourceSet(ctx context.Context) (*sourceSet, error) {
	s := &sourceSet{failed: make(chan error, 8)}
	s.ctx, s.cancel = context.WithCancel(ctx)
	start := func(name string, run func(context.Context) error) {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := run(s.ctx); err != nil && !errors.Is(err, context.Canceled) {
				p.log.Error("source stopped", "source", name, "err", err)
				s.failed <- err
			}
		}()
	}
	if err := p.startSources(start); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// stop ends the sources and waits until each has returned; it may be
// called more than once.
func (s *sourceSet) stop() {
	s.cancel()
	s.wg.Wait()
}

// startSources starts every configured source: log files, syslog
// listeners, EVTX folders and live capture.
func (p *platform) startSources(start func(string, func(context.Context) error)) error {
	if err := p.startFiles(start); err != nil {
		return err
	}
	if err := p.startSyslog(start); err != nil {
		return err
	}
	if err := p.startEVTX(start); err != nil {
		return err
	}
	if err := p.startImports(start); err != nil {
		return err
	}
	if p.cfg.Capture != "" {
		return p.startCapture(start)
	}
	return nil
}

// batchSink receives the batches that the sources read. Submit blocks
// while the sink is full and calls b.Commit once the batch is durable.
type batchSink interface {
	Submit(ctx context.Context, b *pipeline.Batch) error
}

// restoreDetector loads the correlation state a previous run saved at
// path, if any, so open windows continue across the restart.
func restoreDetector(d *sigmaDetector, path string, log *slog.Logger) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fail("cli.run.state_invalid", path, err)
	}
	dropped, err := d.Restore(data)
	if err != nil {
		return fail("cli.run.state_invalid", path, err)
	}
	log.Info("correlation state restored", "path", path, "sources", len(d.resumeSeq))
	if len(dropped) > 0 {
		log.Warn("correlation state of rules that are no longer loaded was left out", "rules", dropped)
	}
	return nil
}

// startConsole opens the users file, prints how to sign in and serves the
// console until ctx ends.
func (p *platform) startConsole(ctx context.Context) (<-chan error, error) {
	store := embedstore.New(p.store)
	return p.serveConsole(ctx, consoleBackends{events: store, alerts: store})
}

// consoleBackends are the stores the console reads: the embedded store in
// run, the regions' Elasticsearch stores in console.
type consoleBackends struct {
	events  console.EventSearcher
	alerts  console.AlertStore
	regions console.RegionStatusReader
}

// serveConsole opens the users file, prints how to sign in and serves the
// console over b until ctx ends.
func (p *platform) serveConsole(ctx context.Context, b consoleBackends) (<-chan error, error) {
	usersPath := filepath.Join(p.cfg.DataDir, "users.json")
	password, created, err := auth.EnsureAdmin(usersPath)
	if err != nil {
		return nil, fail("cli.run.users", usersPath, err)
	}
	users, err := auth.OpenUsers(usersPath)
	if err != nil {
		return nil, fail("cli.run.users", usersPath, err)
	}
	srv, err := console.NewServer(console.Options{
		Addr:    p.cfg.Console.Addr,
		Events:  b.events,
		Alerts:  b.alerts,
		Regions: b.regions,
		Users:   users,
		// Sessions survive a restart, so the browser and the token that
		// `canhgac login` stored stay valid.
		SessionsFile: filepath.Join(p.cfg.DataDir, "sessions.json"),
		Metrics:      promhttp.HandlerFor(p.registry, promhttp.HandlerOpts{}),
		Logger:       p.log,
		Version:      versionString(),
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", p.cfg.Console.Addr)
	if err != nil {
		return nil, fail("cli.run.listen", p.cfg.Console.Addr, err)
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintln(p.c.stdout, i18n.T(p.c.lang, "cli.run.console", url))
	switch {
	case created && password != "":
		fmt.Fprintln(p.c.stdout, i18n.T(p.c.lang, "cli.run.admin_created", password, usersPath))
	case created:
		fmt.Fprintln(p.c.stdout, i18n.T(p.c.lang, "cli.run.admin_env"))
	default:
		fmt.Fprintln(p.c.stdout, i18n.T(p.c.lang, "cli.run.admin_exists", usersPath))
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	return done, nil
}

// retentionLoop deletes events older than the retention once an hour.
func (p *platform) retentionLoop(ctx context.Context) {
	ticker := time.NewTicker(time.Hour)
	defer ticker.Stop()
	for {
		cutoff := time.Now().Add(-time.Duration(p.cfg.Retention))
		if n, err := p.store.Retain(ctx, cutoff); err != nil {
			p.log.Error("retention failed", "err", err, "cutoff", cutoff)
		} else if n > 0 {
			p.log.Info("retention deleted old events", "events", n, "cutoff", cutoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
