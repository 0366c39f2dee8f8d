package elastic

import "github.com/prometheus/client_golang/prometheus"

// metrics are the store's Prometheus series.
type metrics struct {
	bulkSeconds prometheus.Histogram
	retries     *prometheus.CounterVec
	deadLetters *prometheus.CounterVec
	documents   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		bulkSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "canhgac_elastic_bulk_seconds",
			Help:    "Duration of one _bulk request to Elasticsearch.",
			Buckets: prometheus.ExponentialBuckets(0.002, 2, 14),
		}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canhgac_elastic_retries_total",
			Help: "Documents or requests sent again after Elasticsearch rejected them (429) or failed (5xx), by reason.",
		}, []string{"reason"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canhgac_elastic_dead_letters_total",
			Help: "Documents written to the dead-letter stream, by stage (parse: the sensor could not parse the input; index: Elasticsearch rejected the event).",
		}, []string{"stage"}),
		documents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canhgac_elastic_documents_total",
			Help: "Event documents acknowledged by Elasticsearch, by result (created, duplicate: already stored).",
		}, []string{"result"}),
	}
	reg.MustRegister(m.bulkSeconds, m.retries, m.deadLetters, m.documents)
	return m
}
