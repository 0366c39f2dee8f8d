package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/canhgac/canhgac/console"
	"github.com/canhgac/canhgac/console/esstore"
	"github.com/canhgac/canhgac/console/federated"
	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/i18n"
	"github.com/canhgac/canhgac/internal/config"
	"github.com/canhgac/canhgac/pipeline/elastic"
	"github.com/canhgac/canhgac/pipeline/kafkabus"
)

func consoleCommand() *command {
	var f runFlags
	var esURLs string
	return &command{
		name:    "console",
		summary: "cli.console.summary",
		usage:   "cli.console.usage",
		flags: func(fs *flag.FlagSet, c *cli) {
			f.registerBase(fs, c)
			fs.StringVar(&f.consoleAddr, "listen", "", i18n.T(c.lang, "cli.run.flag.listen"))
			fs.StringVar(&esURLs, "elasticsearch", "", i18n.T(c.lang, "cli.pipeline.flag.elasticsearch"))
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			if len(args) > 0 {
				return &usageError{fail("cli.error.args_extra", fmt.Sprint(args))}
			}
			cfg, err := runConfig(f)
			if err != nil {
				return err
			}
			if esURLs != "" {
				cfg.Elasticsearch.URLs = splitList(esURLs)
			}
			return runConsole(ctx, c, cfg)
		},
	}
}

// runConsole serves the web console and API over every region's
// Elasticsearch store. A region whose store is unreachable at start is
// served as unavailable, so the console shows the other regions with a
// warning instead of not starting.
func runConsole(ctx context.Context, c *cli, cfg config.Config) error {
	log := newLogger(c)
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return fail("cli.run.data_dir", cfg.DataDir, err)
	}
	registry := newRegistry()
	var shared *elastic.Store
	var regions []federated.Region
	reachable := 0
	for _, name := range cfg.AllRegions() {
		var adapter interface {
			console.EventSearcher
			console.AlertStore
		}
		opts, own := cfg.RegionElasticsearch[name]
		if !own {
			opts = cfg.Elasticsearch
		}
		opts.Region, opts.Logger = name, log
		switch {
		case !own && shared != nil:
			adapter = esstore.NewRegion(shared, name)
		default:
			store, err := elastic.New(ctx, opts)
			if err != nil {
				log.Error("region store unreachable at start; served as unavailable", "region", name, "err", err)
				fmt.Fprintln(c.stderr, i18n.T(c.lang, "cli.console.region_down", name, message(c.lang, err)))
				adapter = unavailableRegion{err: err}
				break
			}
			defer store.Close()
			if !own {
				shared = store
			}
			adapter = esstore.NewRegion(store, name)
		}
		if _, down := adapter.(unavailableRegion); !down {
			reachable++
		}
		r := federated.Region{Name: name, Events: adapter, Alerts: adapter}
		if url := cfg.PipelineMetrics[name]; url != "" {
			r.ConsumerLag = federated.ScrapedConsumerLag(http.DefaultClient, url, kafkabus.EventsTopic(name))
		}
		regions = append(regions, r)
	}
	if reachable == 0 {
		return fail("cli.console.no_region", fmt.Sprint(cfg.AllRegions()))
	}
	fed, err := federated.New(regions, federated.Options{Logger: log, Registerer: registry})
	if err != nil {
		return err
	}
	p := &platform{cfg: cfg, c: c, log: log, registry: registry}
	done, err := p.serveConsole(ctx, consoleBackends{events: fed, alerts: fed, regions: fed})
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-done:
		if err != nil {
			return err
		}
	}
	fmt.Fprintln(c.stderr, i18n.T(c.lang, "cli.run.stopped"))
	return nil
}

// unavailableRegion is a region whose store was unreachable at start.
// Every call fails with that error, which the federation reports as a
// warning.
type unavailableRegion struct{ err error }

func (u unavailableRegion) fail() error {
	return fmt.Errorf("%w: %w", console.ErrRegionUnavailable, u.err)
}

// Search fails with the start error.
func (u unavailableRegion) Search(context.Context, console.SearchRequest) (console.SearchResult, error) {
	return console.SearchResult{}, u.fail()
}

// Event fails with the start error.
func (u unavailableRegion) Event(context.Context, string) (*ecs.Event, error) { return nil, u.fail() }

// DateHistogram fails with the start error.
func (u unavailableRegion) DateHistogram(context.Context, time.Duration, string, string, time.Time, time.Time) ([]console.Bucket, error) {
	return nil, u.fail()
}

// Alerts fails with the start error.
func (u unavailableRegion) Alerts(context.Context, console.AlertFilter) ([]ecs.Alert, int, error) {
	return nil, 0, u.fail()
}

// Alert fails with the start error.
func (u unavailableRegion) Alert(context.Context, string) (ecs.Alert, []*ecs.Event, error) {
	return ecs.Alert{}, nil, u.fail()
}

// SetAlertStatus fails with the start error.
func (u unavailableRegion) SetAlertStatus(context.Context, string, ecs.AlertStatus, string, string) error {
	return u.fail()
}
