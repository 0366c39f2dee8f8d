package logsensor

import "github.com/prometheus/client_golang/prometheus"

// Metrics of the syslog listeners, labelled by listener id. They are not
// registered anywhere; the binary registers Collectors() with its registry.
var (
	syslogReceived = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "canhgac_logsensor_syslog_received_total",
		Help: "Syslog messages received, before any drop.",
	}, []string{"listener"})
	syslogDropped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "canhgac_logsensor_syslog_dropped_total",
		Help: "Syslog messages not delivered, by reason: queue_full (UDP queue full because the consumer is slow), oversize (TCP message over the size limit), invalid_frame (TCP framing error), shutdown (read but not delivered when the listener stopped).",
	}, []string{"listener", "reason"})
	syslogTruncated = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "canhgac_logsensor_syslog_truncated_total",
		Help: "UDP syslog messages longer than the size limit, delivered cut to the limit.",
	}, []string{"listener"})
	syslogConnections = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "canhgac_logsensor_syslog_connections",
		Help: "Open TCP syslog connections.",
	}, []string{"listener"})
	syslogRejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "canhgac_logsensor_syslog_connections_rejected_total",
		Help: "TCP syslog connections closed at once because the connection limit was reached.",
	}, []string{"listener"})
)

// Drop reasons, the values of the reason label of
// canhgac_logsensor_syslog_dropped_total.
const (
	DropQueueFull    = "queue_full"
	DropOversize     = "oversize"
	DropInvalidFrame = "invalid_frame"
	DropShutdown     = "shutdown"
)

// Collectors returns the package's metrics for registration with a
// prometheus.Registerer.
func Collectors() []prometheus.Collector {
	return []prometheus.Collector{syslogReceived, syslogDropped, syslogTruncated, syslogConnections, syslogRejected}
}

// listenerMetrics holds the metric children of one listener, resolved once
// so that the hot path does no label lookup.
type listenerMetrics struct {
	received     prometheus.Counter
	queueFull    prometheus.Counter
	oversize     prometheus.Counter
	invalidFrame prometheus.Counter
	shutdown     prometheus.Counter
	truncated    prometheus.Counter
	connections  prometheus.Gauge
	rejected     prometheus.Counter
}

func newListenerMetrics(id string) listenerMetrics {
	return listenerMetrics{
		received:     syslogReceived.WithLabelValues(id),
		queueFull:    syslogDropped.WithLabelValues(id, DropQueueFull),
		oversize:     syslogDropped.WithLabelValues(id, DropOversize),
		invalidFrame: syslogDropped.WithLabelValues(id, DropInvalidFrame),
		shutdown:     syslogDropped.WithLabelValues(id, DropShutdown),
		truncated:    syslogTruncated.WithLabelValues(id),
		connections:  syslogConnections.WithLabelValues(id),
		rejected:     syslogRejected.WithLabelValues(id),
	}
}
