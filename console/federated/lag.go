package federated

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// LagMetric is the pipeline's consumer lag gauge (package kafkabus), in
// messages, labelled by topic and partition.
const LagMetric = "canhgac_kafka_consumer_lag"

// maxMetricsBytes bounds a scraped /metrics response.
const maxMetricsBytes = 16 << 20

// GatheredConsumerLag returns a Region.ConsumerLag that sums LagMetric of
// topic (canhgac.events.<region>) over the partitions in g, for a console
// that runs in the pipeline's process. It fails when no partition of the
// topic is claimed, because then the lag is unknown rather than zero.
func GatheredConsumerLag(g prometheus.Gatherer, topic string) func(context.Context) (int64, error) {
	return func(context.Context) (int64, error) {
		families, err := g.Gather()
		if err != nil {
			return 0, fmt.Errorf("gather metrics: %w", err)
		}
		return sumLag(families, topic)
	}
}

// ScrapedConsumerLag returns a Region.ConsumerLag that reads the
// Prometheus text exposition at metricsURL, a pipeline's /metrics, and
// sums LagMetric of topic over its partitions. A nil client means
// http.DefaultClient. The caller's context bounds the request.
func ScrapedConsumerLag(client *http.Client, metricsURL, topic string) func(context.Context) (int64, error) {
	if client == nil {
		client = http.DefaultClient
	}
	return func(ctx context.Context) (int64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
		if err != nil {
			return 0, fmt.Errorf("scrape %s: %w", metricsURL, err)
		}
		req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
		resp, err := client.Do(req)
		if err != nil {
			return 0, fmt.Errorf("scrape %s: %w", metricsURL, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("scrape %s: HTTP %d", metricsURL, resp.StatusCode)
		}
		return parseLag(io.LimitReader(resp.Body, maxMetricsBytes), topic)
	}
}

// parseLag sums LagMetric of topic in a Prometheus text exposition.
func parseLag(r io.Reader, topic string) (int64, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return 0, fmt.Errorf("parse metrics: %w", err)
	}
	list := make([]*dto.MetricFamily, 0, len(families))
	for _, f := range families {
		list = append(list, f)
	}
	return sumLag(list, topic)
}

// sumLag adds the LagMetric gauges whose topic label is topic.
func sumLag(families []*dto.MetricFamily, topic string) (int64, error) {
	var sum float64
	found := false
	for _, f := range families {
		if f.GetName() != LagMetric {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "topic" && l.GetValue() == topic {
					sum += m.GetGauge().GetValue()
					found = true
				}
			}
		}
	}
	if !found {
		return 0, fmt.Errorf("no %s series for topic %s: the pipeline of this region claims none of its partitions", LagMetric, topic)
	}
	if math.IsNaN(sum) || sum < 0 || sum > math.MaxInt64/2 {
		return 0, fmt.Errorf("invalid %s of topic %s: %v messages", LagMetric, topic, sum)
	}
	return int64(sum), nil
}
