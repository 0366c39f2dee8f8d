package federated

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/canhgac/canhgac/console"
)

// metrics are the Store's Prometheus series, labelled by region.
type metrics struct {
	seconds *prometheus.HistogramVec
	errors  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "canhgac_console_region_request_seconds",
			Help:    "Time one region's store took for its part of a console request, failures and timeouts included.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}, []string{"region"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "canhgac_console_region_errors_total",
			Help: "Region calls that failed or timed out, so that the region was left out of a console result.",
		}, []string{"region"}),
	}
	reg.MustRegister(m.seconds, m.errors)
	return m
}

// observe records one region call. Invalid queries, canceled requests and
// lookups that found nothing are not region failures.
func (m *metrics) observe(region string, took time.Duration, err error) {
	if m == nil {
		return
	}
	m.seconds.WithLabelValues(region).Observe(took.Seconds())
	if err != nil && !isCallerError(err) && !errors.Is(err, console.ErrNotFound) {
		m.errors.WithLabelValues(region).Inc()
	}
}
