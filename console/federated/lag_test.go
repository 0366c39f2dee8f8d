package federated

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// lagRegistry holds the consumer lag gauge as package kafkabus registers
// it, with two partitions of dc1's topic and one of dc2's.
func lagRegistry(t testing.TB) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	lag := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: LagMetric, Help: "consumer lag"}, []string{"topic", "partition"})
	reg.MustRegister(lag)
	lag.WithLabelValues("canhgac.events.dc1", "0").Set(120)
	lag.WithLabelValues("canhgac.events.dc1", "1").Set(3)
	lag.WithLabelValues("canhgac.events.dc2", "0").Set(0)
	return reg
}

func TestConsumerLag(t *testing.T) {
	reg := lagRegistry(t)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	tests := []struct {
		topic string
		want  int64
		err   string
	}{
		{"canhgac.events.dc1", 123, ""},
		{"canhgac.events.dc2", 0, ""},
		{"canhgac.events.dc3", 0, "claims none"},
	}
	for _, tt := range tests {
		for name, lag := range map[string]func(context.Context) (int64, error){
			"gathered": GatheredConsumerLag(reg, tt.topic),
			"scraped":  ScrapedConsumerLag(srv.Client(), srv.URL+"/metrics", tt.topic),
		} {
			got, err := lag(context.Background())
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("%s %s: %d, %v; want an error containing %q", name, tt.topic, got, err, tt.err)
				}
				continue
			}
			if err != nil || got != tt.want {
				t.Errorf("%s %s: %d, %v; want %d", name, tt.topic, got, err, tt.want)
			}
		}
	}
	srv.Close()
	if _, err := ScrapedConsumerLag(nil, srv.URL+"/metrics", "canhgac.events.dc1")(context.Background()); err == nil {
		t.Error("scrape of a closed server succeeded")
	}
}

// FuzzParseLag feeds Prometheus text expositions to the lag parser; it
// must return a sum or an error, never panic.
func FuzzParseLag(f *testing.F) {
	f.Add("# HELP canhgac_kafka_consumer_lag lag\n# TYPE canhgac_kafka_consumer_lag gauge\n" +
		"canhgac_kafka_consumer_lag{partition=\"0\",topic=\"canhgac.events.dc1\"} 120\n")
	f.Add("canhgac_kafka_consumer_lag{topic=\"canhgac.events.dc1\"} NaN\ncanhgac_up 1\n")
	f.Add("canhgac_kafka_consumer_lag{topic=\"canhgac.events.dc1\"} +Inf 1700000000000\n")
	f.Fuzz(func(t *testing.T, text string) {
		_, _ = parseLag(strings.NewReader(text), "canhgac.events.dc1")
	})
}
