package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// memoryStore keeps writes in memory and can be set to fail or block, to
// exercise the pipeline's retry and backpressure paths.
type memoryStore struct {
	mu       sync.Mutex
	events   map[string]*ecs.Event
	dead     []DeadLetter
	detected []Detection
	writes   int
	failNext int
	gate     chan struct{} // when set, each write waits for a receive
}

func newMemoryStore() *memoryStore { return &memoryStore{events: map[string]*ecs.Event{}} }

func (s *memoryStore) WriteBatch(ctx context.Context, w *Write) error {
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return errors.New("disk full")
	}
	s.writes++
	for _, ev := range w.Events {
		s.events[ev.ID] = ev
	}
	s.dead = append(s.dead, w.DeadLetters...)
	s.detected = append(s.detected, w.Detections...)
	return nil
}

type detectAction struct{}

func (detectAction) Detect(ev *ecs.Event, emit func(Detection)) {
	if ev.Fields["event.action"] == "ssh_login" {
		emit(Detection{RuleID: "r1", GroupKey: "r1", EventIDs: []string{ev.ID}, Time: ev.Timestamp})
	}
}

func makeBatch(source string, from, n int, commits *[]string, mu *sync.Mutex) *Batch {
	b := &Batch{SourceID: source}
	for i := from; i < from+n; i++ {
		b.Events = append(b.Events, &ecs.Event{
			ID:       ecs.PositionID(source, uint64(i)),
			SourceID: source,
			Seq:      uint64(i + 1),
			Fields:   ecs.Fields{"event.action": "ssh_login"},
		})
	}
	label := fmt.Sprintf("%s:%d", source, from)
	b.Commit = func() {
		mu.Lock()
		*commits = append(*commits, label)
		mu.Unlock()
	}
	return b
}

func TestPipelineWritesThenCommitsInOrder(t *testing.T) {
	store := newMemoryStore()
	reg := prometheus.NewRegistry()
	p := New(store, detectAction{}, Options{Region: "dc1", Sensor: "s1", MaxWriteEvents: 10, Metrics: NewMetrics(reg)})
	var commits []string
	var mu sync.Mutex
	done := make(chan error)
	go func() { done <- p.Run(context.Background()) }()
	for i := 0; i < 5; i++ {
		if err := p.Submit(context.Background(), makeBatch("f", i*4, 4, &commits, &mu)); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(store.events) != 20 {
		t.Errorf("stored %d events, want 20", len(store.events))
	}
	if len(store.detected) != 20 {
		t.Errorf("stored %d detections, want 20", len(store.detected))
	}
	want := []string{"f:0", "f:4", "f:8", "f:12", "f:16"}
	if fmt.Sprint(commits) != fmt.Sprint(want) {
		t.Errorf("commits %v, want %v", commits, want)
	}
	for _, ev := range store.events {
		if ev.Fields["observer.geo.name"] != "dc1" || ev.Fields["observer.name"] != "s1" {
			t.Fatalf("event %s lacks observer fields: %v", ev.ID, ev.Fields)
		}
	}
	if got := testutil.ToFloat64(p.opts.Metrics.eventsOut.WithLabelValues("f")); got != 20 {
		t.Errorf("events stored metric = %v, want 20", got)
	}
}

func TestPipelineRetriesFailedWrite(t *testing.T) {
	store := newMemoryStore()
	store.failNext = 2
	p := New(store, nil, Options{RetryDelay: time.Millisecond})
	var commits []string
	var mu sync.Mutex
	done := make(chan error)
	go func() { done <- p.Run(context.Background()) }()
	p.Submit(context.Background(), makeBatch("f", 0, 3, &commits, &mu))
	p.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(store.events) != 3 || len(commits) != 1 {
		t.Errorf("stored %d events and %d commits after retries, want 3 and 1", len(store.events), len(commits))
	}
}

func TestPipelineBackpressure(t *testing.T) {
	store := newMemoryStore()
	store.gate = make(chan struct{})
	p := New(store, nil, Options{QueueBatches: 1, MaxWriteEvents: 1})
	var commits []string
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx)
	// The store blocks, so after a few batches (one in the write, one
	// waiting for the store loop, one in the queue) Submit must block.
	blocked := false
	for i := 0; i < 10; i++ {
		sctx, scancel := context.WithTimeout(ctx, 50*time.Millisecond)
		err := p.Submit(sctx, makeBatch("f", i, 1, &commits, &mu))
		scancel()
		if errors.Is(err, context.DeadlineExceeded) {
			blocked = true
			break
		}
	}
	if !blocked {
		t.Fatal("Submit never blocked while the store was stuck")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(commits) != 0 {
		t.Errorf("commits %v ran before any write completed", commits)
	}
}

func TestPipelineCancelSkipsCommit(t *testing.T) {
	store := newMemoryStore()
	store.gate = make(chan struct{})
	p := New(store, nil, Options{})
	var commits []string
	var mu sync.Mutex
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	p.Submit(ctx, makeBatch("f", 0, 2, &commits, &mu))
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
	if len(commits) != 0 {
		t.Errorf("uncommitted batch was committed: %v", commits)
	}
}

func TestPipelineCountsSequenceGaps(t *testing.T) {
	store := newMemoryStore()
	reg := prometheus.NewRegistry()
	p := New(store, nil, Options{Metrics: NewMetrics(reg)})
	go p.Run(context.Background())
	b := &Batch{SourceID: "s"}
	for _, seq := range []uint64{1, 2, 5, 6, 3} {
		b.Events = append(b.Events, &ecs.Event{ID: fmt.Sprint(seq), Seq: seq})
	}
	p.Submit(context.Background(), b)
	p.Close()
	waitFor(t, func() bool { return testutil.ToFloat64(p.opts.Metrics.gaps.WithLabelValues("s")) == 2 })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// holdingDetector holds every match back until Idle, like a correlation
// waiting for late events.
type holdingDetector struct {
	held  []Detection
	idles int
}

func (h *holdingDetector) Detect(ev *ecs.Event, emit func(Detection)) {
	h.held = append(h.held, Detection{RuleID: "corr", EventIDs: []string{ev.ID}})
}

func (h *holdingDetector) Idle(emit func(Detection)) {
	h.idles++
	for _, d := range h.held {
		emit(d)
	}
	h.held = nil
}

func TestPipelineReleasesHeldDetectionsWhenQuiet(t *testing.T) {
	store := newMemoryStore()
	det := &holdingDetector{}
	p := New(store, det, Options{IdleAfter: 10 * time.Millisecond, MaxWriteDelay: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var commits []string
	var mu sync.Mutex
	p.Submit(ctx, makeBatch("f", 0, 3, &commits, &mu))
	waitFor(t, func() bool {
		store.mu.Lock()
		defer store.mu.Unlock()
		return len(store.detected) == 3
	})
	p.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if det.idles != 1 {
		t.Errorf("Idle ran %d times for one quiet period, want 1", det.idles)
	}
}

func TestPipelineReleasesHeldDetectionsAtClose(t *testing.T) {
	store := newMemoryStore()
	det := &holdingDetector{}
	p := New(store, det, Options{IdleAfter: time.Hour})
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background()) }()
	var commits []string
	var mu sync.Mutex
	p.Submit(context.Background(), makeBatch("f", 0, 2, &commits, &mu))
	p.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(store.detected) != 2 {
		t.Errorf("stored %d held detections at close, want 2", len(store.detected))
	}
}

// countingDetector counts events; its snapshot is the count.
type countingDetector struct{ n int }

func (d *countingDetector) Detect(*ecs.Event, func(Detection)) { d.n++ }
func (d *countingDetector) Snapshot() ([]byte, error)          { return []byte(fmt.Sprint(d.n)), nil }

// TestPipelineCommitsAfterSavedState checks that with a stateful detector
// every commit waits until a snapshot that has seen its batch is saved,
// that a failed save holds the commits back, and that Close saves a last
// snapshot covering everything.
func TestPipelineCommitsAfterSavedState(t *testing.T) {
	store := newMemoryStore()
	var mu sync.Mutex
	var commits, saved []string
	failSaves := 1
	save := func(state []byte) error {
		mu.Lock()
		defer mu.Unlock()
		if failSaves > 0 {
			failSaves--
			return errors.New("disk full")
		}
		saved = append(saved, string(state)+" after "+fmt.Sprint(len(commits))+" commits")
		return nil
	}
	det := &countingDetector{}
	p := New(store, det, Options{MaxWriteEvents: 4, SaveState: save, StateInterval: time.Hour})
	done := make(chan error)
	go func() { done <- p.Run(context.Background()) }()
	for i := 0; i < 3; i++ {
		if err := p.Submit(context.Background(), makeBatch("f", i*4, 4, &commits, &mu)); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The first write carries a snapshot whose save fails, the second has
	// none (the interval is an hour), and Close saves the final one.
	if want := []string{"12 after 0 commits"}; fmt.Sprint(saved) != fmt.Sprint(want) {
		t.Errorf("saved states %v, want %v", saved, want)
	}
	if want := []string{"f:0", "f:4", "f:8"}; fmt.Sprint(commits) != fmt.Sprint(want) {
		t.Errorf("commits %v, want %v", commits, want)
	}
}

// TestPipelineStatelessCommitsAtOnce keeps the old behaviour without
// SaveState: a stateful detector alone does not delay commits.
func TestPipelineStatelessCommitsAtOnce(t *testing.T) {
	store := newMemoryStore()
	var mu sync.Mutex
	var commits []string
	p := New(store, &countingDetector{}, Options{MaxWriteEvents: 4})
	done := make(chan error)
	go func() { done <- p.Run(context.Background()) }()
	if err := p.Submit(context.Background(), makeBatch("f", 0, 4, &commits, &mu)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(commits) == 1
	})
	p.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestPipelineCommitsAfterBurstAndSilence checks that writes sent without
// a snapshot (a burst inside StateInterval) are committed once the
// interval has passed, without more input.
func TestPipelineCommitsAfterBurstAndSilence(t *testing.T) {
	store := newMemoryStore()
	var mu sync.Mutex
	var commits []string
	p := New(store, &countingDetector{}, Options{MaxWriteEvents: 4, StateInterval: 200 * time.Millisecond,
		SaveState: func([]byte) error { return nil }})
	done := make(chan error)
	go func() { done <- p.Run(context.Background()) }()
	for i := 0; i < 5; i++ {
		if err := p.Submit(context.Background(), makeBatch("f", i*4, 4, &commits, &mu)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(commits) == 5
	})
	p.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// concurrentStore lets up to three writes run at once. Of each three
// writes the first takes longest, so writes complete out of order.
type concurrentStore struct {
	*memoryStore
	mu         sync.Mutex
	running    int
	maxRunning int
	count      int
	started    chan struct{}
}

func (s *concurrentStore) WritesInFlight() int { return 3 }

func (s *concurrentStore) WriteBatch(ctx context.Context, w *Write) error {
	s.mu.Lock()
	s.running++
	s.maxRunning = max(s.maxRunning, s.running)
	delay := time.Duration(3-s.count%3) * 30 * time.Millisecond
	s.count++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running--
		s.mu.Unlock()
	}()
	s.started <- struct{}{}
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.memoryStore.WriteBatch(ctx, w)
}

// TestPipelineConcurrentWritesCommitInOrder checks that with a
// ConcurrentStore writes overlap, and that commits and detection state
// saves still follow the input order.
func TestPipelineConcurrentWritesCommitInOrder(t *testing.T) {
	store := &concurrentStore{memoryStore: newMemoryStore(), started: make(chan struct{}, 100)}
	var mu sync.Mutex
	var commits, saved []string
	save := func(state []byte) error {
		mu.Lock()
		defer mu.Unlock()
		saved = append(saved, string(state)+" after "+fmt.Sprint(len(commits))+" commits")
		return nil
	}
	det := &countingDetector{}
	p := New(store, det, Options{MaxWriteEvents: 4, SaveState: save, StateInterval: time.Nanosecond})
	done := make(chan error)
	go func() { done <- p.Run(context.Background()) }()
	for i := 0; i < 6; i++ {
		if err := p.Submit(context.Background(), makeBatch("f", i*4, 4, &commits, &mu)); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if store.maxRunning < 2 {
		t.Errorf("at most %d writes ran at once, want overlapping writes", store.maxRunning)
	}

	if len(store.events) != 24 {
		t.Errorf("stored %d events, want 24", len(store.events))
	}
	if want := []string{"f:0", "f:4", "f:8", "f:12", "f:16", "f:20"}; fmt.Sprint(commits) != fmt.Sprint(want) {
		t.Errorf("commits %v, want %v", commits, want)
	}
	for i, s := range saved {
		// Every write carries a snapshot; the i-th is saved after the
		// commits of the writes before it.
		if i < 6 {
			if want := fmt.Sprintf("%d after %d commits", (i+1)*4, i); s != want {
				t.Errorf("save %d: %q, want %q", i, s, want)
			}
		}
	}
}

// TestPipelineConcurrentWriteCancel checks that ending ctx while writes
// are in flight commits none of them and ends Run.
func TestPipelineConcurrentWriteCancel(t *testing.T) {
	mem := newMemoryStore()
	mem.gate = make(chan struct{}) // never opened: every write blocks
	store := &concurrentStore{memoryStore: mem, started: make(chan struct{}, 100)}
	var mu sync.Mutex
	var commits []string
	ctx, cancel := context.WithCancel(context.Background())
	p := New(store, nil, Options{MaxWriteEvents: 4})
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	for i := 0; i < 5; i++ {
		if err := p.Submit(ctx, makeBatch("f", i*4, 4, &commits, &mu)); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		<-store.started
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
	if len(commits) != 0 {
		t.Errorf("commits %v after cancel, want none", commits)
	}
}
