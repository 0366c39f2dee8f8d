package main

import (
	"log/slog"
	"time"

	"github.com/canhgac/canhgac/detections/sigma"
	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/prometheus/client_golang/prometheus"
)

// sigmaDetector runs the Sigma rules as the pipeline's detection stage, with
// one engine per source. Correlation windows advance on event time, and
// sources of one deployment can be far apart in event time: a log file read
// from its start next to live syslog. With one engine, the newest source
// would make every input of the older one late and drop it. With an engine
// per source, each source's correlations are counted in its own order.
// NOTE: a correlation therefore only counts events of one source (one file,
// one syslog listener, one capture); events of the same attack seen by two
// sources are not combined.
type sigmaDetector struct {
	rules   *sigma.Ruleset
	opts    sigma.EngineOptions
	engines map[string]*sigma.Engine
	// lateDropped counts correlation inputs that came later than the
	// engine's lateness allows, summed over all engines.
	lateDropped prometheus.Counter
	lastLate    map[string]uint64
}

func newDetector(rs *sigma.Ruleset, opts sigma.EngineOptions) *sigmaDetector {
	return &sigmaDetector{
		rules:   rs,
		opts:    opts,
		engines: map[string]*sigma.Engine{},
		lateDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canhgac_correlation_late_dropped_total",
			Help: "Correlation inputs dropped because they arrived later than the allowed lateness, in event time.",
		}),
		lastLate: map[string]uint64{},
	}
}

// Detect matches one event and hands each detection to emit in the
// store's shape.
func (d *sigmaDetector) Detect(ev *ecs.Event, emit func(pipeline.Detection)) {
	engine, ok := d.engines[ev.SourceID]
	if !ok {
		engine = sigma.NewEngine(d.rules, d.opts)
		d.engines[ev.SourceID] = engine
	}
	engine.Process(ev, func(m sigma.Detection) { emit(toPipelineDetection(m)) })
	if late := engine.Stats().LateDropped; late != d.lastLate[ev.SourceID] {
		d.lateDropped.Add(float64(late - d.lastLate[ev.SourceID]))
		d.lastLate[ev.SourceID] = late
	}
}

// Idle releases the correlation inputs the engines hold back for late
// events; the pipeline calls it when its input is quiet.
func (d *sigmaDetector) Idle(emit func(pipeline.Detection)) {
	for _, engine := range d.engines {
		engine.Idle(func(m sigma.Detection) { emit(toPipelineDetection(m)) })
	}
}

// toPipelineDetection keeps what the store needs of a detection: the rule,
// the group key, the ids of the matching events and their key fields.
func toPipelineDetection(m sigma.Detection) pipeline.Detection {
	ids := make([]string, len(m.Events))
	region := ""
	for i, ev := range m.Events {
		ids[i] = ev.ID
		if region == "" {
			region, _ = ev.Fields.String("observer.geo.name")
		}
	}
	return pipeline.Detection{
		RuleID:   m.RuleID,
		RuleName: m.Title,
		Level:    m.Level,
		Tags:     m.Tags,
		Time:     m.Time,
		GroupKey: m.GroupKey,
		EventIDs: ids,
		Fields:   m.Fields,
		Region:   region,

		RuleStatus:     m.Status,
		Tactics:        m.Tactics,
		Techniques:     m.Techniques,
		FalsePositives: m.FalsePositives,
	}
}

// liveLateness is the event-time delay within which a correlation input may
// arrive behind the newest one of its source and still be counted in order.
// Inputs of one source come nearly in order; a syslog listener receives from
// many senders with some skew. Each correlation result waits this long in
// event time, or until the pipeline goes quiet (Idle).
const liveLateness = time.Minute

// liveEngineOptions are the engine settings of the live pipeline. A
// timestamp more than a day ahead of the wall clock is not allowed to move
// event time forward, so one host with a wrong clock cannot stall every
// correlation.
func liveEngineOptions(log *slog.Logger) sigma.EngineOptions {
	return sigma.EngineOptions{Lateness: liveLateness, Now: time.Now, MaxFuture: 24 * time.Hour, Logger: log}
}

// huntEngineOptions are the settings of offline hunting: every correlation
// input is held until the end and counted in event-time order, so files
// give the same correlations in any order.
func huntEngineOptions() sigma.EngineOptions {
	return sigma.EngineOptions{Lateness: -1}
}
