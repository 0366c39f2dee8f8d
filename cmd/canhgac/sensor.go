package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/i18n"
	"github.com/canhgac/canhgac/internal/config"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/kafkabus"
	"github.com/canhgac/canhgac/sensors/logsensor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// busFlags are the flags that sensor and pipeline add to the config.
type busFlags struct {
	brokers        string
	metrics        string
	defaultMetrics string
}

func (b *busFlags) register(fs *flag.FlagSet, c *cli, defaultMetrics string) {
	b.defaultMetrics = defaultMetrics
	fs.StringVar(&b.brokers, "brokers", "", i18n.T(c.lang, "cli.bus.flag.brokers"))
	fs.StringVar(&b.metrics, "metrics", "", i18n.T(c.lang, "cli.bus.flag.metrics", defaultMetrics))
}

// apply puts the flags over the config. The metrics address comes from the
// flag, else the config file, else the command's default, and "off" turns
// it off.
func (b *busFlags) apply(cfg *config.Config) {
	if b.brokers != "" {
		cfg.Kafka.Brokers = splitList(b.brokers)
	}
	switch {
	case b.metrics != "":
		cfg.Metrics = b.metrics
	case cfg.Metrics == "":
		cfg.Metrics = b.defaultMetrics
	}
	if cfg.Metrics == "off" {
		cfg.Metrics = ""
	}
}

func sensorCommand() *command {
	var f runFlags
	var bf busFlags
	return &command{
		name:    "sensor",
		summary: "cli.sensor.summary",
		usage:   "cli.sensor.usage",
		flags: func(fs *flag.FlagSet, c *cli) {
			f.registerSources(fs, c)
			bf.register(fs, c, "127.0.0.1:9464")
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
			return runSensor(ctx, c, cfg)
		},
	}
}

// newLogger returns the process logger: text on stderr.
func newLogger(c *cli) *slog.Logger {
	return slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// newRegistry returns a Prometheus registry with the Go and process
// collectors.
func newRegistry() *prometheus.Registry {
	registry := prometheus.NewRegistry()
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return registry
}

// serveMetrics serves /metrics on addr until ctx ends ("" serves nothing).
func serveMetrics(ctx context.Context, c *cli, addr string, registry *prometheus.Registry) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fail("cli.run.listen", addr, err)
	}
	fmt.Fprintln(c.stdout, i18n.T(c.lang, "cli.bus.metrics", "http://"+ln.Addr().String()+"/metrics"))
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	return nil
}

// runSensor reads the configured sources and publishes their events to
// the region's Kafka topic. Checkpoints advance once Kafka acknowledged a
// batch or the local spool holds it, so nothing read is lost while Kafka
// is down.
func runSensor(ctx context.Context, c *cli, cfg config.Config) error {
	log := newLogger(c)
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fail("cli.run.data_dir", cfg.DataDir, err)
	}
	registry := newRegistry()
	registry.MustRegister(logsensor.Collectors()...)
	specs, err := kafkabus.Topics(cfg.AllRegions())
	if err != nil {
		return err
	}
	ensureCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	if _, err := kafkabus.EnsureTopics(ensureCtx, cfg.Kafka.Options, specs, cfg.Kafka.Topics, log); err != nil {
		// The sensor spools until Kafka is back; the pipeline creates the
		// topics when it starts.
		log.Warn("cannot create the Kafka topics now; events are spooled until Kafka answers", "err", err)
	}
	cancel()
	popts := cfg.Kafka.Producer
	if popts.Spool.Dir == "" {
		popts.Spool.Dir = filepath.Join(cfg.DataDir, "spool")
	}
	producer, err := kafkabus.NewProducer(cfg.Kafka.Options, popts, registry, log)
	if err != nil {
		return err
	}
	defer producer.Close()
	fmt.Fprintln(c.stdout, i18n.T(c.lang, "cli.sensor.publishing", kafkabus.EventsTopic(cfg.Region), strings.Join(cfg.Kafka.Brokers, ",")))

	p := &platform{cfg: cfg, c: c, log: log, registry: registry,
		sink: &kafkaSink{producer: producer, region: cfg.Region, sensor: cfg.Sensor, log: log}}
	sources, err := p.startSourceSet(ctx)
	if err != nil {
		return err
	}
	defer sources.stop()
	if err := serveMetrics(sources.ctx, c, cfg.Metrics, registry); err != nil {
		return err
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-sources.failed:
	}
	fmt.Fprintln(c.stderr, i18n.T(c.lang, "cli.run.stopping"))
	sources.stop()
	if err := producer.Close(); err != nil && runErr == nil {
		runErr = err
	}
	if runErr != nil {
		return runErr
	}
	fmt.Fprintln(c.stderr, i18n.T(c.lang, "cli.run.stopped"))
	return nil
}

// kafkaSink publishes the sources' batches to the region's events topic
// and their dead letters to the dead-letter topic.
type kafkaSink struct {
	producer *kafkabus.Producer
	region   string
	sensor   string
	log      *slog.Logger
}

// Submit publishes b and commits it once every message is acknowledged
// by Kafka or spooled. An event too large for Kafka goes to the
// dead-letter topic, cut to a size Kafka takes, with the reason.
func (k *kafkaSink) Submit(ctx context.Context, b *pipeline.Batch) error {
	by := kafkabus.KeyHost
	if strings.HasPrefix(b.SourceID, "iface:") {
		by = kafkabus.KeyFlow
	}
	msgs := make([]kafkabus.Message, 0, len(b.Events)+len(b.DeadLetters))
	for _, ev := range b.Events {
		scopeToSensor(ev, k.sensor)
		stampObserver(ev, k.region, k.sensor)
		m, err := kafkabus.EventMessage(k.region, kafkabus.EventKey(ev, by), ev)
		if err != nil {
			m, err = k.deadLetter(ev, fmt.Sprintf("encode event for Kafka: %v", err))
			if err != nil {
				return err
			}
		}
		msgs = append(msgs, m)
	}
	for _, d := range b.DeadLetters {
		d.SourceID = sensorSource(k.sensor, d.SourceID)
		m, err := kafkabus.DeadLetterMessage(k.region, d)
		if err != nil {
			return fmt.Errorf("encode dead letter of %s: %w", d.SourceID, err)
		}
		msgs = append(msgs, m)
	}
	for {
		err := k.producer.Publish(ctx, msgs)
		var tooLarge *kafkabus.MessageTooLargeError
		if !errors.As(err, &tooLarge) {
			if err != nil {
				return err
			}
			break
		}
		if tooLarge.Index >= len(b.Events) {
			return err // a dead letter itself is too large: nothing smaller to send
		}
		ev := b.Events[tooLarge.Index]
		k.log.Warn("event too large for Kafka; sending it as a dead letter", "event", ev.ID, "bytes", tooLarge.Size, "max", tooLarge.Max)
		m, derr := k.deadLetter(ev, err.Error())
		if derr != nil {
			return derr
		}
		msgs[tooLarge.Index] = m
	}
	if b.Commit != nil {
		b.Commit()
	}
	return nil
}

// maxDeadLetterRaw bounds the part of an oversized event that its dead
// letter keeps, well under Kafka's default message limit of 1 MB.
const maxDeadLetterRaw = 256 << 10

// deadLetter returns the dead-letter message of an event that cannot go
// to the events topic.
func (k *kafkaSink) deadLetter(ev *ecs.Event, reason string) (kafkabus.Message, error) {
	raw, _ := ev.MarshalJSON()
	if len(raw) > maxDeadLetterRaw {
		reason += fmt.Sprintf(" (dead letter keeps the first %d of %d bytes)", maxDeadLetterRaw, len(raw))
		raw = raw[:maxDeadLetterRaw]
	}
	return kafkabus.DeadLetterMessage(k.region, pipeline.DeadLetter{
		Time: time.Now(), SourceID: ev.SourceID, Offset: -1, Raw: raw, Reason: reason,
	})
}

// scopeToSensor makes an event's ids unique across sensors. Every host has
// a /var/log/auth.log, and ids derived from the path and line number alone
// would collide in the shared store, which keeps one event per id. The id
// stays deterministic, so a replay from the same sensor is still stored
// once.
func scopeToSensor(ev *ecs.Event, sensor string) {
	if sensor == "" {
		return
	}
	ev.SourceID = sensorSource(sensor, ev.SourceID)
	ev.ID = sensorEventID(sensor, ev.ID)
}

// sensorSource returns the source id of a sensor's source: SENSOR|SOURCE.
func sensorSource(sensor, source string) string {
	if sensor == "" {
		return source
	}
	return sensor + "|" + source
}

// sensorEventID returns the id under which a sensor publishes the event
// that canhgac run or hunt would store as id.
func sensorEventID(sensor, id string) string {
	return ecs.ContentID(sensor, []byte(id))
}

// stampObserver sets the region and sensor name on an event that has none,
// as the pipeline does for events of canhgac run.
func stampObserver(ev *ecs.Event, region, sensor string) {
	if ev.Fields == nil {
		ev.Fields = ecs.Fields{}
	}
	if _, ok := ev.Fields["observer.geo.name"]; !ok && region != "" {
		ev.Fields["observer.geo.name"] = region
	}
	if _, ok := ev.Fields["observer.name"]; !ok && sensor != "" {
		ev.Fields["observer.name"] = sensor
	}
}
