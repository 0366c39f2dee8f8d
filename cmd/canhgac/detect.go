package main

import (
	"github.com/canhgac/canhgac/detections/sigma"
	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
)

// sigmaDetector runs a Sigma engine as the pipeline's detection stage.
type sigmaDetector struct {
	engine *sigma.Engine
}

func newDetector(rs *sigma.Ruleset) *sigmaDetector {
	return &sigmaDetector{engine: sigma.NewEngine(rs, sigma.EngineOptions{})}
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
