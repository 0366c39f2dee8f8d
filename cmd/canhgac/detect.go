package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
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
	// lastSeq is the highest event sequence number passed per source, and
	// resumeSeq the one the restored state had seen: a source that resumes
	// from an older checkpoint sends those events again, and they must not
	// be counted twice.
	lastSeq   map[string]uint64
	resumeSeq map[string]uint64
	// replayed counts events skipped because the restored state had seen
	// them already.
	replayed prometheus.Counter
	// lateDropped counts correlation inputs that came later than the
	// engine's lateness allows, summed over all engines.
	lateDropped prometheus.Counter
	lastLate    map[string]uint64
}

// detectorMetrics are the counters of sigmaDetectors, shared by the
// detectors of one process (one per Kafka partition in canhgac pipeline).
type detectorMetrics struct {
	lateDropped prometheus.Counter
	replayed    prometheus.Counter
}

func newDetectorMetrics() detectorMetrics {
	return detectorMetrics{
		lateDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canhgac_correlation_late_dropped_total",
			Help: "Correlation inputs dropped because they arrived later than the allowed lateness, in event time.",
		}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canhgac_detection_replayed_events_total",
			Help: "Events a source sent again after a restart that the restored detection state had already counted.",
		}),
	}
}

// newDetector returns a detector with counters of its own.
func newDetector(rs *sigma.Ruleset, opts sigma.EngineOptions) *sigmaDetector {
	return newDetectorWith(rs, opts, newDetectorMetrics())
}

// newDetectorWith returns a detector that counts into m.
func newDetectorWith(rs *sigma.Ruleset, opts sigma.EngineOptions, m detectorMetrics) *sigmaDetector {
	return &sigmaDetector{
		rules:       rs,
		opts:        opts,
		engines:     map[string]*sigma.Engine{},
		lateDropped: m.lateDropped,
		replayed:    m.replayed,
		lastLate:    map[string]uint64{},
		lastSeq:     map[string]uint64{},
		resumeSeq:   map[string]uint64{},
	}
}

// Detect matches one event and hands each detection to emit in the
// store's shape.
func (d *sigmaDetector) Detect(ev *ecs.Event, emit func(pipeline.Detection)) {
	if ev.Seq != 0 {
		if ev.Seq <= d.resumeSeq[ev.SourceID] {
			d.replayed.Inc()
			return
		}
		if ev.Seq > d.lastSeq[ev.SourceID] {
			d.lastSeq[ev.SourceID] = ev.Seq
		}
	}
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

// detectorState is the saved form of a sigmaDetector: per source, the
// engine's correlation state and the last sequence number it has seen.
type detectorState struct {
	Version int                    `json:"version"`
	Sources map[string]sourceState `json:"sources"`
}

type sourceState struct {
	LastSeq uint64          `json:"last_seq"`
	Engine  json.RawMessage `json:"engine,omitempty"`
}

// ephemeralSource reports whether a source cannot resume after a restart:
// a live capture starts with a new source id each time, so its state is
// of no use to a later process.
func ephemeralSource(id string) bool { return strings.HasPrefix(id, "iface:") }

// Snapshot returns the state of every resumable source's engine, for
// pipeline.Options.SaveState.
func (d *sigmaDetector) Snapshot() ([]byte, error) {
	st := detectorState{Version: 1, Sources: map[string]sourceState{}}
	for src, seq := range d.resumeSeq {
		st.Sources[src] = sourceState{LastSeq: seq}
	}
	for src, seq := range d.lastSeq {
		if !ephemeralSource(src) {
			st.Sources[src] = sourceState{LastSeq: seq}
		}
	}
	for src, engine := range d.engines {
		if ephemeralSource(src) || !engine.HasState() {
			continue
		}
		data, err := engine.Snapshot()
		if err != nil {
			return nil, fmt.Errorf("snapshot of source %s: %w", src, err)
		}
		ss := st.Sources[src]
		ss.Engine = data
		st.Sources[src] = ss
	}
	return json.Marshal(st)
}

// Restore loads a state saved by Snapshot. It returns the rules whose
// state was left out because they are no longer loaded.
func (d *sigmaDetector) Restore(data []byte) ([]string, error) {
	var st detectorState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("decode detection state: %w", err)
	}
	if st.Version != 1 {
		return nil, fmt.Errorf("detection state has format version %d; this release reads version 1", st.Version)
	}
	var dropped []string
	for src, ss := range st.Sources {
		d.resumeSeq[src] = ss.LastSeq
		if len(ss.Engine) == 0 {
			continue
		}
		engine := sigma.NewEngine(d.rules, d.opts)
		rep, err := engine.RestoreState(ss.Engine)
		if err != nil {
			return nil, fmt.Errorf("restore correlation state of source %s: %w", src, err)
		}
		d.engines[src] = engine
		d.lastLate[src] = engine.Stats().LateDropped
		for _, r := range rep.DroppedRules {
			if !slices.Contains(dropped, r) {
				dropped = append(dropped, r)
			}
		}
	}
	return dropped, nil
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
