package pipeline

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the pipeline's Prometheus series.
type Metrics struct {
	eventsIn     *prometheus.CounterVec
	eventsOut    *prometheus.CounterVec
	deadLetters  *prometheus.CounterVec
	gaps         *prometheus.CounterVec
	queueDepth   prometheus.Gauge
	storeLatency prometheus.Histogram
	storeErrors  prometheus.Counter
	detections   prometheus.Counter
}

// NewMetrics creates the pipeline's series and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		eventsIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canhgac_events_in_total",
			Help: "Events submitted to the pipeline, by source.",
		}, []string{"source"}),
		eventsOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canhgac_events_stored_total",
			Help: "Events the store has committed, by source.",
		}, []string{"source"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canhgac_dead_letters_total",
			Help: "Inputs that could not be parsed and went to the dead-letter store, by source.",
		}, []string{"source"}),
		gaps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canhgac_source_sequence_gaps_total",
			Help: "Sequence numbers a source skipped, i.e. events known to be missing, by source.",
		}, []string{"source"}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "canhgac_pipeline_queue_batches",
			Help: "Batches waiting between the sensors and the detection stage.",
		}),
		storeLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "canhgac_store_write_seconds",
			Help:    "Duration of one store write (a batch of events, dead letters and detections).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		storeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canhgac_store_write_errors_total",
			Help: "Failed store writes; each is retried.",
		}),
		detections: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canhgac_detections_total",
			Help: "Rule matches written to the store.",
		}),
	}
	reg.MustRegister(m.eventsIn, m.eventsOut, m.deadLetters, m.gaps, m.queueDepth,
		m.storeLatency, m.storeErrors, m.detections)
	return m
}
