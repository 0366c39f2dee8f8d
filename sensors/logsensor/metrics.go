package logsensor

import "github.com/prometheus/client_golang/prometheus"

// Metrics of the syslog listeners, labelled by listener id, and of the
// file sources, labelled by source id. This package registers them nowhere,
// so the binary registers Collectors() with its registry.
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

	fileLines = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "canhgac_logsensor_file_lines_total",
		Help: "Lines accepted by the consumer, per file source. Lines delivered again after a failed delivery count again.",
	}, []string{"source"})
	fileRotations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "canhgac_logsensor_file_rotations_total",
		Help: "Rotations seen per file source, by kind: rename (a new file at the path), truncate (copytruncate), deleted.",
	}, []string{"source", "kind"})
	fileLag = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "canhgac_logsensor_file_lag_bytes",
		Help: "Bytes of the open file not yet delivered (size minus read position) at the end of the last poll.",
	}, []string{"source"})
)

// Rotation kinds, the values of the kind label of
// canhgac_logsensor_file_rotations_total.
const (
	RotationRename   = "rename"
	RotationTruncate = "truncate"
	RotationDeleted  = "deleted"
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
	return []prometheus.Collector{syslogReceived, syslogDropped, syslogTruncated, syslogConnections, syslogRejected,
		fileLines, fileRotations, fileLag}
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

// tailerMetrics holds the metric children of one file source.
type tailerMetrics struct {
	lines     prometheus.Counter
	renamed   prometheus.Counter
	truncated prometheus.Counter
	deleted   prometheus.Counter
	lag       prometheus.Gauge
}

func newTailerMetrics(source string) tailerMetrics {
	return tailerMetrics{
		lines:     fileLines.WithLabelValues(source),
		renamed:   fileRotations.WithLabelValues(source, RotationRename),
		truncated: fileRotations.WithLabelValues(source, RotationTruncate),
		deleted:   fileRotations.WithLabelValues(source, RotationDeleted),
		lag:       fileLag.WithLabelValues(source),
	}
}
