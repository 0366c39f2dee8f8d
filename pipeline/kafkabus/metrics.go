package kafkabus

import (
	"github.com/prometheus/client_golang/prometheus"
	gometrics "github.com/rcrowley/go-metrics"
)

// producerMetrics are the Producer's Prometheus series.
type producerMetrics struct {
	spoolBytes    prometheus.Gauge
	spoolRecords  prometheus.Gauge
	published     prometheus.Counter
	spooled       prometheus.Counter
	drained       prometheus.Counter
	produceErrors prometheus.Counter
	reordered     prometheus.Counter
	ackSeconds    prometheus.Histogram
}

func newProducerMetrics(reg prometheus.Registerer, sarama gometrics.Registry) *producerMetrics {
	m := &producerMetrics{
		spoolBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "canhgac_kafka_spool_bytes",
			Help: "Size of the producer's spool segment files on disk, in bytes.",
		}),
		spoolRecords: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "canhgac_kafka_spool_records",
			Help: "Messages in the producer's spool that Kafka has not acknowledged yet.",
		}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canhgac_kafka_published_total",
			Help: "Messages that Kafka acknowledged directly in Publish, without the spool.",
		}),
		spooled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canhgac_kafka_spooled_total",
			Help: "Messages written to the spool because Kafka was unreachable, a produce failed, or the spool was not empty.",
		}),
		drained: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canhgac_kafka_drained_total",
			Help: "Spooled messages that Kafka acknowledged later.",
		}),
		produceErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canhgac_kafka_produce_errors_total",
			Help: "Messages whose produce failed after the client's retries (each then went to, or stayed in, the spool).",
		}),
		reordered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canhgac_kafka_reordered_total",
			Help: "Messages Kafka acknowledged after an earlier message of their partition had failed in the same send, so the two arrive out of order.",
		}),
		ackSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "canhgac_kafka_produce_ack_seconds",
			Help:    "Time from handing a batch to the Kafka client until every message of it was acknowledged or failed.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.spoolBytes, m.spoolRecords, m.published, m.spooled, m.drained, m.produceErrors, m.reordered, m.ackSeconds)
	registerSaramaLatency(reg, sarama, "producer")
	return m
}

// registerSaramaLatency exports the median and 99th percentile of sarama's
// "request-latency-in-ms" histogram (all brokers, recent sample).
func registerSaramaLatency(reg prometheus.Registerer, sarama gometrics.Registry, client string) {
	for _, q := range []struct {
		label string
		value float64
	}{{"0.5", 0.5}, {"0.99", 0.99}} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "canhgac_kafka_request_latency_milliseconds",
			Help:        "Latency of requests to the Kafka brokers as the sarama client measured it, by quantile over its recent sample.",
			ConstLabels: prometheus.Labels{"quantile": q.label, "client": client},
		}, func() float64 {
			h, ok := sarama.Get("request-latency-in-ms").(gometrics.Histogram)
			if !ok {
				return 0
			}
			return h.Snapshot().Percentile(q.value)
		}))
	}
}

// consumerMetrics are the Consumer's Prometheus series.
type consumerMetrics struct {
	lag          *prometheus.GaugeVec
	batchSeconds prometheus.Histogram
	records      prometheus.Counter
	deadLetters  prometheus.Counter
	commitErrors prometheus.Counter
}

func newConsumerMetrics(reg prometheus.Registerer, sarama gometrics.Registry) *consumerMetrics {
	m := &consumerMetrics{
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "canhgac_kafka_consumer_lag",
			Help: "Messages of a claimed partition not yet committed: high-water mark minus committed offset.",
		}, []string{"topic", "partition"}),
		batchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "canhgac_kafka_consumer_batch_seconds",
			Help:    "Time from the first message of a batch arriving until the handler committed the batch.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		records: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canhgac_kafka_consumed_total",
			Help: "Messages handed to the consumer's handler (events and dead letters).",
		}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canhgac_kafka_consumed_dead_letters_total",
			Help: "Consumed messages that did not decode as events and became dead letters.",
		}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "canhgac_kafka_consumer_errors_total",
			Help: "Errors the consumer group reported (offset commits, fetches, rebalances).",
		}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.lag, m.batchSeconds, m.records, m.deadLetters, m.commitErrors)
	registerSaramaLatency(reg, sarama, "consumer")
	return m
}
