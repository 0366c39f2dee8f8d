package kafkabus

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/canhgac/canhgac/internal/itest"
)

// countingHandler keeps one piece of partition state, the number of events
// consumed from the partition, and hands it over through the StateStore:
// saved in Revoked, loaded in Assigned. If a partition reached its next
// owner before the previous owner saved, the counts would not add up.
type countingHandler struct {
	t      *testing.T
	store  *StateStore
	group  string
	shared *consumedLog

	mu      sync.Mutex
	counts  map[TopicPartition]int64
	owned   map[TopicPartition]bool
	revokes int
}

// consumedLog collects the batches of all members of the group.
type consumedLog struct {
	mu      sync.Mutex
	batches []consumed
	events  int
}

func (l *consumedLog) add(b consumed) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.batches = append(l.batches, b)
	l.events += len(b.events)
}

func (l *consumedLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.events
}

func newCountingHandler(t *testing.T, store *StateStore, group string, shared *consumedLog) *countingHandler {
	return &countingHandler{t: t, store: store, group: group, shared: shared,
		counts: make(map[TopicPartition]int64), owned: make(map[TopicPartition]bool)}
}

func (h *countingHandler) Assigned(ctx context.Context, tp TopicPartition) error {
	v, ok, err := h.store.LoadState(ctx, StateKey(h.group, tp))
	if err != nil {
		return err
	}
	var n int64
	if ok {
		if n, err = strconv.ParseInt(string(v), 10, 64); err != nil {
			h.t.Errorf("state of %s = %q: %v", tp, v, err)
		}
	}
	h.mu.Lock()
	h.counts[tp], h.owned[tp] = n, true
	h.mu.Unlock()
	return nil
}

func (h *countingHandler) HandleBatch(_ context.Context, b *Batch) error {
	h.mu.Lock()
	h.counts[b.TopicPartition] += int64(len(b.Events))
	h.mu.Unlock()
	if err := b.Commit(); err != nil {
		return err
	}
	h.shared.add(consumed{tp: b.TopicPartition, events: b.Events, dead: len(b.DeadLetters), first: b.FirstOffset, last: b.LastOffset})
	return nil
}

func (h *countingHandler) Revoked(ctx context.Context, tp TopicPartition) {
	h.mu.Lock()
	n := h.counts[tp]
	delete(h.owned, tp)
	h.revokes++
	h.mu.Unlock()
	if err := h.store.SaveState(ctx, StateKey(h.group, tp), []byte(strconv.FormatInt(n, 10))); err != nil {
		h.t.Errorf("save state of %s: %v", tp, err)
	}
}

func (h *countingHandler) ownedCount() (int, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.owned), h.revokes
}

func (h *countingHandler) total() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var sum int64
	for tp := range h.owned {
		sum += h.counts[tp]
	}
	return sum
}

func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// TestRebalanceKeepsStateAndEvents runs two consumers of one group over a
// four-partition topic: the second joins (partitions move to it), then
// leaves (they move back). Every event is consumed once, and the per
// partition state saved at each revoke is what the next owner loads.
func TestRebalanceKeepsStateAndEvents(t *testing.T) {
	opts := Options{Brokers: itest.KafkaBrokers(t)}
	region := uniqueRegion("rb")
	ensureRegion(t, opts, region, TopicOptions{Partitions: 4, ReplicationFactor: 1})
	// Cleanups run last-in first-out: the consumers (started below) stop
	// before the store they save to is closed.
	store, err := NewStateStore(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	p, err := NewProducer(opts, ProducerOptions{Spool: SpoolOptions{Dir: t.TempDir()}}, nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })

	events := realEvents(t)
	msgs := eventMessages(t, region, events)
	group := "rb-" + region
	copts := ConsumerOptions{Group: group, Topics: []string{EventsTopic(region)}, SessionTimeout: 6 * time.Second,
		BatchEvents: 200, BatchWait: 100 * time.Millisecond}
	shared := &consumedLog{}

	publishAll(t, p, msgs[:1500], 500)
	a := newCountingHandler(t, store, group, shared)
	startConsumer(t, opts, copts, a)
	waitUntil(t, "the first consumer to read 1500 events", time.Minute, func() bool { return shared.count() >= 1500 })

	// A second member joins: the partitions are split between the two.
	b := newCountingHandler(t, store, group, shared)
	stopB := startConsumer(t, opts, copts, b)
	waitUntil(t, "the partitions to be split", time.Minute, func() bool {
		na, _ := a.ownedCount()
		nb, _ := b.ownedCount()
		return na > 0 && nb > 0 && na+nb == 4
	})
	if _, revokes := a.ownedCount(); revokes == 0 {
		t.Error("the first consumer was never told about the revoke")
	}
	publishAll(t, p, msgs[1500:3500], 500)
	waitUntil(t, "both consumers to read 3500 events", time.Minute, func() bool { return shared.count() >= 3500 })

	// The second member leaves: its partitions go back to the first.
	stopB()
	waitUntil(t, "the first consumer to own all partitions", time.Minute, func() bool {
		na, _ := a.ownedCount()
		return na == 4
	})
	publishAll(t, p, msgs[3500:], 500)
	waitUntil(t, "all events to be read", time.Minute, func() bool { return shared.count() >= len(events) })

	shared.mu.Lock()
	batches := append([]consumed(nil), shared.batches...)
	shared.mu.Unlock()
	checkExactlyOnceInOrder(t, events, batches)
	if got := a.total(); got != int64(len(events)) {
		t.Errorf("partition state sums to %d events after two rebalances, want %d", got, len(events))
	}
}
