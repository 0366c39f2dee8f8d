package kafkabus

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/internal/itest"
	"github.com/canhgac/canhgac/pipeline"
)

// Tests on a real Kafka 4.1 broker. The shared broker comes from
// CANHGAC_KAFKA_BROKERS; tests that stop or kill the broker start their
// own with itest.NewKafka.

func testTopicOptions() TopicOptions { return TopicOptions{Partitions: 3, ReplicationFactor: 1} }

func ensureRegion(t *testing.T, opts Options, region string, topts TopicOptions) {
	t.Helper()
	specs, err := Topics([]string{region})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := EnsureTopics(ctx, opts, specs, topts, testLogger(t)); err != nil {
		t.Fatal(err)
	}
}

func realEvents(t *testing.T) []*ecs.Event {
	t.Helper()
	events := loadEvents(t, sampleLogs[0])                          // 2000 sshd events, hosts LabSZ
	events = append(events, loadEvents(t, sampleLogs[1])[:3000]...) // Apache access, keyed by source id
	return append(events, loadEvents(t, sampleLogs[3])...)          // Windows events, several hosts
}

func TestPublishConsumeRealBroker(t *testing.T) {
	opts := Options{Brokers: itest.KafkaBrokers(t)}
	region := uniqueRegion("pc")
	ensureRegion(t, opts, region, testTopicOptions())

	reg := prometheus.NewRegistry()
	p, err := NewProducer(opts, ProducerOptions{Spool: SpoolOptions{Dir: t.TempDir()}}, reg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	events := realEvents(t)
	publishAll(t, p, eventMessages(t, region, events), 500)

	if got := testutil.ToFloat64(p.metrics.published); got != float64(len(events)) {
		t.Errorf("published metric = %v, want %d", got, len(events))
	}
	if got := testutil.ToFloat64(p.metrics.spooled); got != 0 {
		t.Errorf("spooled metric = %v with the broker up, want 0", got)
	}

	h := newRecordingHandler(true)
	startConsumer(t, opts, ConsumerOptions{Group: "pc-" + region, Topics: []string{EventsTopic(region)}}, h)
	h.waitEvents(t, len(events), 2*time.Minute)
	checkExactlyOnceInOrder(t, events, h.snapshot())
	checkHeaders(t, opts, region, events)
}

// checkHeaders reads the first message of partition 0 with a plain sarama
// consumer and checks the headers that EventMessage sets.
func checkHeaders(t *testing.T, opts Options, region string, events []*ecs.Event) {
	t.Helper()
	cfg, _ := opts.saramaConfig()
	consumer, err := sarama.NewConsumer(opts.Brokers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(EventsTopic(region), 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var msg *sarama.ConsumerMessage
	select {
	case msg = <-pc.Messages():
	case <-time.After(30 * time.Second):
		t.Fatal("no message on partition 0")
	}
	ev, err := DecodeEvent(msg.Value)
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{}
	for _, h := range msg.Headers {
		headers[string(h.Key)] = string(h.Value)
	}
	want := map[string]string{HeaderFormat: EventFormat, HeaderSourceID: ev.SourceID,
		HeaderSeq: strconv.FormatUint(ev.Seq, 10), HeaderRegion: region}
	for k, v := range want {
		if headers[k] != v {
			t.Errorf("header %s = %q, want %q", k, headers[k], v)
		}
	}
	if string(msg.Key) != string(EventKey(ev, KeyHost)) {
		t.Errorf("key = %q, want the host key %q", msg.Key, EventKey(ev, KeyHost))
	}
}

func TestDeadLetterForUndecodableMessage(t *testing.T) {
	opts := Options{Brokers: itest.KafkaBrokers(t)}
	region := uniqueRegion("dl")
	ensureRegion(t, opts, region, TopicOptions{Partitions: 1, ReplicationFactor: 1})
	p, err := NewProducer(opts, ProducerOptions{Spool: SpoolOptions{Dir: t.TempDir()}}, nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	raw := []byte("Feb 21 21:54:44 web1 sshd[3402]: not an event \xff")
	good := loadEvents(t, sampleLogs[0])[:2]
	msgs := eventMessages(t, region, good[:1])
	msgs = append(msgs, Message{Topic: EventsTopic(region), Key: []byte("x"), Value: raw})
	msgs = append(msgs, eventMessages(t, region, good[1:])...)
	// A sensor's own dead letter comes back as the sensor described it.
	sensorDL := pipeline.DeadLetter{Time: time.Date(2026, 12, 4, 1, 2, 3, 0, time.UTC), SourceID: "sensor-a|/var/log/app.log",
		Offset: 42, Raw: []byte("{\"half\": "), Reason: "invalid JSON line"}
	dlm, err := DeadLetterMessage(region, sensorDL)
	if err != nil {
		t.Fatal(err)
	}
	dlm.Topic = EventsTopic(region) // one partition keeps the order of the test
	msgs = append(msgs, dlm)
	publishAll(t, p, msgs, 10)

	var got *Batch
	h := &batchCatcher{got: make(chan *Batch, 10)}
	startConsumer(t, opts, ConsumerOptions{Group: "dl-" + region, Topics: []string{EventsTopic(region)}, BatchWait: 500 * time.Millisecond}, h)
	deadline := time.After(time.Minute)
	events, dead := 0, 0
	for events < 2 || dead < 2 {
		select {
		case got = <-h.got:
			events += len(got.Events)
			dead += len(got.DeadLetters)
			for _, d := range got.DeadLetters {
				if d.SourceID == sensorDL.SourceID {
					if string(d.Raw) != string(sensorDL.Raw) || d.Reason != sensorDL.Reason || d.Offset != 42 {
						t.Errorf("sensor dead letter = %+v, want %+v", d, sensorDL)
					}
					continue
				}
				if string(d.Raw) != string(raw) {
					t.Errorf("dead letter raw = %q, want the message value whole", d.Raw)
				}
				if d.SourceID != kafkaSourceID(EventsTopic(region), 0) || d.Offset != 1 {
					t.Errorf("dead letter at %s offset %d, want %s offset 1", d.SourceID, d.Offset, kafkaSourceID(EventsTopic(region), 0))
				}
				if d.Reason == "" {
					t.Error("dead letter without a reason")
				}
			}
		case <-deadline:
			t.Fatalf("got %d events and %d dead letters, want 2 and 2", events, dead)
		}
	}
}

// batchCatcher hands every batch to the test and commits it.
type batchCatcher struct{ got chan *Batch }

func (b *batchCatcher) Assigned(context.Context, TopicPartition) error { return nil }
func (b *batchCatcher) HandleBatch(_ context.Context, batch *Batch) error {
	if err := batch.Commit(); err != nil {
		return err
	}
	b.got <- batch
	return nil
}
func (b *batchCatcher) Revoked(context.Context, TopicPartition) {}

func TestCommitOnlyAfterHandlerCommits(t *testing.T) {
	opts := Options{Brokers: itest.KafkaBrokers(t)}
	region := uniqueRegion("cm")
	ensureRegion(t, opts, region, TopicOptions{Partitions: 1, ReplicationFactor: 1})
	topic := EventsTopic(region)
	p, err := NewProducer(opts, ProducerOptions{Spool: SpoolOptions{Dir: t.TempDir()}}, nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	events := loadEvents(t, sampleLogs[0])[:30]
	publishAll(t, p, eventMessages(t, region, events[:20]), 20)

	group := "cm-" + region
	copts := ConsumerOptions{Group: group, Topics: []string{topic}, BatchWait: 300 * time.Millisecond}

	// First consumer: receives the 20 events and stops without committing.
	reg := prometheus.NewRegistry()
	h1 := newRecordingHandler(false)
	stop1 := startConsumerMetrics(t, opts, copts, h1, reg)
	h1.waitEvents(t, 20, time.Minute)
	lag, err := testutil.GatherAndCount(reg, "canhgac_kafka_consumer_lag")
	if err != nil || lag != 1 {
		t.Errorf("lag series = %d, %v; want one for the claimed partition", lag, err)
	}
	if got := lagValue(t, reg); got != 20 {
		t.Errorf("consumer lag = %v before any commit, want 20", got)
	}
	stop1()
	if committed := committedOffset(t, opts, group, topic, 0); committed != -1 {
		t.Fatalf("offset %d committed although the handler never called Commit", committed)
	}
	// A late Commit after the partition was revoked must not move the offset.
	h1.mu.Lock()
	late := h1.pending[0]
	h1.mu.Unlock()
	if err := late.Commit(); !errors.Is(err, ErrRevoked) {
		t.Errorf("Commit after revoke = %v, want ErrRevoked", err)
	}

	// Second consumer in the same group: the uncommitted batch comes again.
	h2 := newRecordingHandler(true)
	stop2 := startConsumer(t, opts, copts, h2)
	h2.waitEvents(t, 20, time.Minute)
	stop2()
	checkExactlyOnceInOrder(t, events[:20], h2.snapshot())
	if committed := committedOffset(t, opts, group, topic, 0); committed != 20 {
		t.Fatalf("committed offset = %d after the handler committed 20 messages, want 20", committed)
	}

	// Third consumer: the committed batch is not delivered again; only new events are.
	publishAll(t, p, eventMessages(t, region, events[20:]), 10)
	h3 := newRecordingHandler(true)
	startConsumer(t, opts, copts, h3)
	h3.waitEvents(t, 10, time.Minute)
	checkExactlyOnceInOrder(t, events[20:], h3.snapshot())
}

// lagValue returns the value of the only canhgac_kafka_consumer_lag series.
func lagValue(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "canhgac_kafka_consumer_lag" && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("no canhgac_kafka_consumer_lag series")
	return 0
}

// committedOffset returns the group's committed offset of a partition, -1 if none.
func committedOffset(t *testing.T, opts Options, group, topic string, partition int32) int64 {
	t.Helper()
	cfg, err := opts.saramaConfig()
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sarama.NewClusterAdmin(opts.Brokers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	resp, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: {partition}})
	if err != nil {
		t.Fatal(err)
	}
	block := resp.GetBlock(topic, partition)
	if block == nil {
		return -1
	}
	return block.Offset
}

func TestEnsureTopicsIdempotent(t *testing.T) {
	opts := Options{Brokers: itest.KafkaBrokers(t)}
	region := uniqueRegion("et")
	specs, err := Topics([]string{region})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := EnsureTopics(ctx, opts, specs, testTopicOptions(), testLogger(t)); err != nil {
		t.Fatal(err)
	}
	created, err := EnsureTopics(ctx, opts, specs, testTopicOptions(), testLogger(t))
	if err != nil || len(created) != 0 {
		t.Fatalf("second EnsureTopics created %v, %v; want nothing", created, err)
	}

	cfg, _ := opts.saramaConfig()
	admin, err := sarama.NewClusterAdmin(opts.Brokers, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	entries, err := admin.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: TopicState, ConfigNames: []string{"cleanup.policy"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Value != "compact" {
		t.Errorf("%s cleanup.policy = %+v, want compact", TopicState, entries)
	}

	_, err = EnsureTopics(ctx, opts, []TopicSpec{{Name: "rf-" + region}}, TopicOptions{Partitions: 1, ReplicationFactor: 3}, testLogger(t))
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Key != "kafkabus.topics.replication" {
		t.Errorf("replication factor 3 on one broker: error %v, want ConfigError kafkabus.topics.replication", err)
	}
}

func TestStateStoreSaveLoad(t *testing.T) {
	opts := Options{Brokers: itest.KafkaBrokers(t)}
	ensureRegion(t, opts, uniqueRegion("st"), testTopicOptions())
	s, err := NewStateStore(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	key := StateKey(uniqueRegion("g"), TopicPartition{Topic: "canhgac.events.dc1", Partition: 2})

	if _, ok, err := s.LoadState(ctx, key); err != nil || ok {
		t.Fatalf("LoadState of a new key = %v, %v; want not found", ok, err)
	}
	for _, v := range []string{"window-1", "window-2", "window-2"} {
		if err := s.SaveState(ctx, key, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SaveState(ctx, key+"-other", []byte("other")); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.LoadState(ctx, key)
	if err != nil || !ok || string(got) != "window-2" {
		t.Fatalf("LoadState = %q, %v, %v; want window-2", got, ok, err)
	}
	if err := s.SaveState(ctx, key, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.LoadState(ctx, key); err != nil || ok {
		t.Fatalf("LoadState after delete = %v, %v; want not found", ok, err)
	}
}
