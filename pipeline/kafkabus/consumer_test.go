package kafkabus

import (
	"errors"
	"reflect"
	"testing"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"
)

// markRecorder records the offsets a claim marks and commits. The other
// session methods are not called by claimState.
type markRecorder struct {
	sarama.ConsumerGroupSession
	marks   []int64
	commits int
}

func (m *markRecorder) MarkOffset(_ string, _ int32, offset int64, _ string) {
	m.marks = append(m.marks, offset)
}

func (m *markRecorder) Commit() { m.commits++ }

func TestCommitMarksContiguousPrefixOnly(t *testing.T) {
	rec := &markRecorder{}
	metrics := newConsumerMetrics(nil, nil)
	tp := TopicPartition{Topic: "canhgac.events.dc1", Partition: 0}
	cs := &claimState{tp: tp, session: rec, metrics: metrics, committedNext: sarama.OffsetOldest,
		lag: metrics.lag.With(prometheus.Labels{"topic": tp.Topic, "partition": "0"})}
	var batches []*Batch
	for first := int64(0); first < 30; first += 10 {
		b := &Batch{TopicPartition: tp, FirstOffset: first, LastOffset: first + 9, HighWaterMark: 30, claim: cs}
		cs.deliver(b)
		batches = append(batches, b)
	}

	steps := []struct {
		name  string
		batch int
		marks []int64
	}{
		{"second before first marks nothing", 1, nil},
		{"first marks past the second", 0, []int64{20}},
		{"repeated commit marks nothing", 0, []int64{20}},
		{"third marks the end", 2, []int64{20, 30}},
	}
	for _, st := range steps {
		if err := batches[st.batch].Commit(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !reflect.DeepEqual(rec.marks, st.marks) {
			t.Errorf("%s: marks = %v, want %v", st.name, rec.marks, st.marks)
		}
	}
	if rec.commits != 0 {
		t.Errorf("%d synchronous offset commits, want none: auto-commit sends the marks", rec.commits)
	}

	late := &Batch{TopicPartition: tp, FirstOffset: 30, LastOffset: 39, claim: cs}
	cs.deliver(late)
	cs.revoke()
	if err := late.Commit(); !errors.Is(err, ErrRevoked) {
		t.Errorf("Commit after revoke = %v, want ErrRevoked", err)
	}
	if len(rec.marks) != 2 {
		t.Errorf("marks after revoke = %v, want no new mark", rec.marks)
	}
}
