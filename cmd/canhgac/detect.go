package main

import (
	"log/slog"
	"time"

	"github.com/canhgac/canhgac/detections/sigma"
	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
)

// sigmaDetector runs a Sigma engine as the pipeline's detection stage.
type sigmaDetector struct {
	engine *sigma.Engine
}

func newDetector(rs *sigma.Ruleset, opts sigma.EngineOptions) *sigmaDetector {
	return &sigmaDetector{engine: sigma.NewEngine(rs, opts)}
}

// liveLateness is how far, in event time, a correlation input may arrive
// behind the newest one and still be counted in order. Sources of one
// deployment deliver with some skew between them (one file is polled after
// another, syslog senders buffer), so a little lateness keeps their
// correlations exact; each correlation result waits this long in event time.
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

// Detect matches one event and hands each detection to emit in the
// store's shape.
func (d *sigmaDetector) Detect(ev *ecs.Event, emit func(pipeline.Detection)) {
	d.engine.Process(ev, func(m sigma.Detection) { emit(toPipelineDetection(m)) })
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
	}
}

// Idle releases the correlation inputs the engine holds back for late
// events; the pipeline calls it when its input is quiet.
func (d *sigmaDetector) Idle(emit func(pipeline.Detection)) {
	d.engine.Idle(func(m sigma.Detection) { emit(toPipelineDetection(m)) })
}
