package kafkabus

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/canhgac/canhgac/ecs"
)

// Helpers shared by the kfake tests and the tests on a real broker.

// consumed is one batch as a handler saw it.
type consumed struct {
	tp     TopicPartition
	events []*ecs.Event
	dead   int
	first  int64
	last   int64
}

// recordingHandler stores every batch it receives. With commit set it
// commits each batch before HandleBatch returns, as a pipeline does after
// its store acknowledged the write.
type recordingHandler struct {
	commit bool

	mu       sync.Mutex
	batches  []consumed
	pending  []*Batch
	assigned []TopicPartition
	revoked  []TopicPartition
	notify   chan struct{}
}

func newRecordingHandler(commit bool) *recordingHandler {
	return &recordingHandler{commit: commit, notify: make(chan struct{}, 1)}
}

func (h *recordingHandler) Assigned(_ context.Context, tp TopicPartition) error {
	h.mu.Lock()
	h.assigned = append(h.assigned, tp)
	h.mu.Unlock()
	return nil
}

func (h *recordingHandler) HandleBatch(_ context.Context, b *Batch) error {
	if h.commit {
		if err := b.Commit(); err != nil {
			return err
		}
	}
	h.mu.Lock()
	h.batches = append(h.batches, consumed{tp: b.TopicPartition, events: b.Events, dead: len(b.DeadLetters), first: b.FirstOffset, last: b.LastOffset})
	h.pending = append(h.pending, b)
	h.mu.Unlock()
	select {
	case h.notify <- struct{}{}:
	default:
	}
	return nil
}

func (h *recordingHandler) Revoked(_ context.Context, tp TopicPartition) {
	h.mu.Lock()
	h.revoked = append(h.revoked, tp)
	h.mu.Unlock()
}

func (h *recordingHandler) eventCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, b := range h.batches {
		n += len(b.events)
	}
	return n
}

func (h *recordingHandler) snapshot() []consumed {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.batches)
}

// waitEvents waits until the handler has seen at least n events.
func (h *recordingHandler) waitEvents(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for h.eventCount() < n {
		select {
		case <-h.notify:
		case <-deadline.C:
			t.Fatalf("consumer saw %d events within %v, want %d", h.eventCount(), timeout, n)
		}
	}
}

// startConsumer runs a consumer until the test ends.
func startConsumer(t *testing.T, opts Options, copts ConsumerOptions, h Handler) (stop func()) {
	t.Helper()
	return startConsumerMetrics(t, opts, copts, h, nil)
}

// startConsumerMetrics runs a consumer that registers its metrics with reg.
func startConsumerMetrics(t *testing.T, opts Options, copts ConsumerOptions, h Handler, reg prometheus.Registerer) (stop func()) {
	t.Helper()
	c, err := NewConsumer(opts, copts, h, reg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("consumer run: %v", err)
			}
			if err := c.Close(); err != nil {
				t.Errorf("consumer close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventMessages encodes events for region, keyed by host.
func eventMessages(t testing.TB, region string, events []*ecs.Event) []Message {
	t.Helper()
	out := make([]Message, len(events))
	for i, ev := range events {
		m, err := EventMessage(region, EventKey(ev, KeyHost), ev)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = m
	}
	return out
}

func publishAll(t *testing.T, p *Producer, msgs []Message, batch int) {
	t.Helper()
	for i := 0; i < len(msgs); i += batch {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		err := p.Publish(ctx, msgs[i:min(i+batch, len(msgs))])
		cancel()
		if err != nil {
			t.Fatalf("publish batch at %d: %v", i, err)
		}
	}
}

// checkExactlyOnceInOrder compares the consumed events with the published
// ones: every id once, each event equal to the original, and within each
// partition the events of one source in ascending Seq (the order per key,
// since a key always maps to one partition).
func checkExactlyOnceInOrder(t *testing.T, want []*ecs.Event, batches []consumed) {
	t.Helper()
	byID := make(map[string]*ecs.Event, len(want))
	for _, ev := range want {
		byID[ev.ID] = ev
	}
	seen := make(map[string]int, len(want))
	lastSeq := make(map[string]uint64)
	for _, b := range batches {
		if b.dead != 0 {
			t.Errorf("%s: %d dead letters", b.tp, b.dead)
		}
		for _, ev := range b.events {
			seen[ev.ID]++
			orig, ok := byID[ev.ID]
			if !ok {
				t.Errorf("consumed unknown event %s", ev.ID)
				continue
			}
			if seen[ev.ID] == 1 {
				sameEvent(t, orig, ev)
			}
			k := b.tp.String() + "|" + ev.SourceID
			if ev.Seq <= lastSeq[k] {
				t.Errorf("%s: seq %d after %d for source %s: reordered", b.tp, ev.Seq, lastSeq[k], ev.SourceID)
			}
			lastSeq[k] = ev.Seq
		}
	}
	missing, dup := 0, 0
	for _, ev := range want {
		switch n := seen[ev.ID]; {
		case n == 0:
			missing++
		case n > 1:
			dup++
		}
	}
	if missing != 0 || dup != 0 {
		t.Errorf("of %d events: %d missing, %d delivered more than once", len(want), missing, dup)
	}
}

func uniqueRegion(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%1_000_000_000)
}
