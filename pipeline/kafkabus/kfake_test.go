package kafkabus

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// These tests run against kfake, an in-process Kafka, so they need no
// Java. Delivery, ordering and failure claims are proven on a real broker
// in integration_test.go.

func newFakeCluster(t *testing.T, opts ...kfake.Opt) []string {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

func TestProduceConsumeFake(t *testing.T) {
	brokers := newFakeCluster(t)
	opts := Options{Brokers: brokers}
	if _, err := EnsureTopics(context.Background(), opts, []TopicSpec{{Name: EventsTopic("dc1")}}, TopicOptions{Partitions: 3, ReplicationFactor: 1}, testLogger(t)); err != nil {
		t.Fatal(err)
	}
	p, err := NewProducer(opts, ProducerOptions{Spool: SpoolOptions{Dir: t.TempDir()}}, nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	events := loadEvents(t, sampleLogs[0])[:500]
	publishAll(t, p, eventMessages(t, "dc1", events), 100)
	if _, n := p.SpoolStats(); n != 0 {
		t.Errorf("%d messages spooled with Kafka up", n)
	}

	h := newRecordingHandler(true)
	startConsumer(t, opts, ConsumerOptions{Group: "fake", Topics: []string{EventsTopic("dc1")}, BatchWait: 50 * time.Millisecond}, h)
	h.waitEvents(t, len(events), 30*time.Second)
	checkExactlyOnceInOrder(t, events, h.snapshot())
}

func TestSASLFake(t *testing.T) {
	tests := []struct{ mechanism, kfakeMethod string }{
		{"PLAIN", "PLAIN"},
		{"SCRAM-SHA-256", "SCRAM-SHA-256"},
		{"SCRAM-SHA-512", "SCRAM-SHA-512"},
	}
	for _, tt := range tests {
		t.Run(tt.mechanism, func(t *testing.T) {
			brokers := newFakeCluster(t, kfake.EnableSASL(), kfake.Superuser(tt.kfakeMethod, "canhgac", "s3cret"))
			good := Options{Brokers: brokers, SASL: SASLOptions{Mechanism: tt.mechanism, User: "canhgac", Password: "s3cret"}}
			if _, err := EnsureTopics(context.Background(), good, []TopicSpec{{Name: "sasl"}}, TopicOptions{Partitions: 1, ReplicationFactor: 1}, testLogger(t)); err != nil {
				t.Fatalf("with the right password: %v", err)
			}
			bad := good
			bad.SASL.Password = "wrong"
			bad.DialTimeout = 2 * time.Second
			if _, err := EnsureTopics(context.Background(), bad, []TopicSpec{{Name: "sasl2"}}, TopicOptions{Partitions: 1, ReplicationFactor: 1}, testLogger(t)); err == nil {
				t.Fatal("a wrong password was accepted")
			}
		})
	}
}
