package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// Options configure a Pipeline.
type Options struct {
	// Region is set as observer.geo.name on every event (dc1, dc2).
	Region string
	// Sensor is set as observer.name on events that carry none.
	Sensor string
	// QueueBatches bounds the batches waiting between Submit and the
	// detection stage; Submit blocks when it is full. Default 32: with
	// batches of up to 1024 events, that bounds the events held in memory
	// between the sensors and the store to about 32k.
	QueueBatches int
	// MaxWriteEvents is the largest number of events in one store write.
	// Default 4096.
	MaxWriteEvents int
	// MaxWriteDelay is the longest time an event waits for its write to
	// fill up. Default 250 ms.
	MaxWriteDelay time.Duration
	// IdleAfter is how long the input must be quiet before an
	// IdleDetector releases what it holds back. Default 2 s.
	IdleAfter time.Duration
	// RetryDelay is the first wait after a failed store write; it doubles
	// up to 30 s. Default 500 ms.
	RetryDelay time.Duration
	// SaveState durably stores a StatefulDetector's snapshot. When set (and
	// the detector is stateful), batch commits wait for the next saved
	// snapshot, so sources never resume past the detection state.
	SaveState func(state []byte) error
	// StateInterval is the least time between two snapshots. Default 5 s:
	// a crash replays at most that much input, which the store and the
	// detector recognise as already seen.
	StateInterval time.Duration
	// Now returns the ingest time; default time.Now.
	Now func() time.Time
	// Metrics receives counters; nil disables them.
	Metrics *Metrics
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Pipeline runs normalize → detect → store for batches from any number of
// sources. Submit may be called from many goroutines; Run runs once.
type Pipeline struct {
	opts     Options
	store    Store
	detector Detector
	// stateful is the detector when its state is saved (Options.SaveState).
	stateful StatefulDetector
	in       chan *Batch
	log      *slog.Logger

	// inMu guards closed; Submit holds it shared while it sends, so Close
	// never closes the channel under a sender.
	inMu   sync.RWMutex
	closed bool

	gapsMu  sync.Mutex
	lastSeq map[string]uint64
}

// New returns a pipeline that writes to store and detects with detector
// (nil for no detection).
func New(store Store, detector Detector, opts Options) *Pipeline {
	if opts.QueueBatches <= 0 {
		opts.QueueBatches = 32
	}
	if opts.MaxWriteEvents <= 0 {
		opts.MaxWriteEvents = 4096
	}
	if opts.MaxWriteDelay <= 0 {
		opts.MaxWriteDelay = 250 * time.Millisecond
	}
	if opts.IdleAfter <= 0 {
		opts.IdleAfter = 2 * time.Second
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = 500 * time.Millisecond
	}
	if opts.StateInterval <= 0 {
		opts.StateInterval = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	stateful, _ := detector.(StatefulDetector)
	if opts.SaveState == nil {
		stateful = nil
	}
	return &Pipeline{
		opts:     opts,
		store:    store,
		detector: detector,
		stateful: stateful,
		in:       make(chan *Batch, opts.QueueBatches),
		log:      log,
		lastSeq:  make(map[string]uint64),
	}
}

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("pipeline closed")

// Submit queues a batch. It blocks while the queue is full (backpressure)
// and returns ctx.Err() if ctx ends first. The batch is then not queued, and
// its Commit is never called.
func (p *Pipeline) Submit(ctx context.Context, b *Batch) error {
	p.inMu.RLock()
	defer p.inMu.RUnlock()
	if p.closed {
		return ErrClosed
	}
	select {
	case p.in <- b:
		if m := p.opts.Metrics; m != nil {
			m.eventsIn.WithLabelValues(b.SourceID).Add(float64(len(b.Events)))
			m.queueDepth.Set(float64(len(p.in)))
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close marks the end of the input: no more batches will come. Run then drains
// the queue, writes and commits everything, and returns.
// It waits for Submit calls in progress to return.
func (p *Pipeline) Close() {
	p.inMu.Lock()
	defer p.inMu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.in)
	}
}

// Run processes batches until Close has been called and the queue is
// drained, or until ctx ends. When ctx ends first, batches not yet written
// are not committed, so their sources read them again after a restart.
func (p *Pipeline) Run(ctx context.Context) error {
	writes := make(chan *pendingWrite, 1)
	var storeErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		storeErr = p.storeLoop(ctx, writes)
	}()
	err := p.detectLoop(ctx, writes)
	close(writes)
	wg.Wait()
	if err != nil {
		return err
	}
	return storeErr
}

// pendingWrite is one store write and the commits it releases.
type pendingWrite struct {
	write   Write
	commits []func()
	sources map[string]int // events per source, for metrics
	// state is the detector's snapshot after this write's events, or nil
	// when no snapshot was due.
	state []byte
}

func (p *Pipeline) detectLoop(ctx context.Context, writes chan<- *pendingWrite) error {
	timer := time.NewTimer(p.opts.MaxWriteDelay)
	defer timer.Stop()
	idleTicker := time.NewTicker(p.opts.IdleAfter)
	defer idleTicker.Stop()
	idler, _ := p.detector.(IdleDetector)
	// busy is set by every batch and cleared by each idle tick, so Idle
	// runs once the input has been quiet for a whole tick, and once only.
	busy, released := false, true
	var cur *pendingWrite
	var lastState time.Time
	// stateTimer fires when writes went out without a snapshot, whose
	// commits wait for one, so a burst followed by silence still commits
	// within StateInterval.
	stateTimer := time.NewTimer(time.Hour)
	stateTimer.Stop()
	defer stateTimer.Stop()
	stateArmed := false
	// send hands the current write to the store loop. With force set (the
	// last write, or the state timer) the write carries a snapshot even
	// when none is due.
	send := func(force bool) error {
		if cur == nil && !(force && p.stateful != nil) {
			return nil
		}
		if cur == nil {
			cur = &pendingWrite{sources: make(map[string]int)}
		}
		if p.stateful != nil {
			if force || time.Since(lastState) >= p.opts.StateInterval {
				state, err := p.stateful.Snapshot()
				if err != nil {
					// Commits wait for the next snapshot that works.
					p.log.Error("detection state snapshot failed", "err", err)
				} else {
					cur.state, lastState = state, time.Now()
				}
			}
			if cur.state == nil && !stateArmed {
				stateTimer.Reset(max(p.opts.StateInterval-time.Since(lastState), time.Millisecond))
				stateArmed = true
			}
		}
		select {
		case writes <- cur:
			cur = nil
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		select {
		case b, ok := <-p.in:
			if !ok {
				if idler != nil && !released {
					p.release(idler, &cur)
				}
				return send(true)
			}
			busy, released = true, false
			if m := p.opts.Metrics; m != nil {
				m.queueDepth.Set(float64(len(p.in)))
			}
			if cur == nil {
				cur = &pendingWrite{sources: make(map[string]int)}
				timer.Reset(p.opts.MaxWriteDelay)
			}
			p.process(cur, b)
			if len(cur.write.Events) >= p.opts.MaxWriteEvents {
				if err := send(false); err != nil {
					return err
				}
			}
		case <-timer.C:
			if err := send(false); err != nil {
				return err
			}
		case <-stateTimer.C:
			stateArmed = false
			if err := send(true); err != nil {
				return err
			}
		case <-idleTicker.C:
			if busy || released || idler == nil {
				busy = false
				continue
			}
			released = true
			p.release(idler, &cur)
			if err := send(false); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// release adds what the detector held back to the current write.
func (p *Pipeline) release(idler IdleDetector, cur **pendingWrite) {
	idler.Idle(func(d Detection) {
		if *cur == nil {
			*cur = &pendingWrite{sources: make(map[string]int)}
		}
		(*cur).write.Detections = append((*cur).write.Detections, d)
	})
}

// process normalizes and detects one batch into the current write.
func (p *Pipeline) process(w *pendingWrite, b *Batch) {
	ingested := p.opts.Now().UTC().Format(ecs.TimeFormat)
	for _, ev := range b.Events {
		p.normalize(ev, ingested)
		p.countGap(b.SourceID, ev)
		w.write.Events = append(w.write.Events, ev)
		if p.detector != nil {
			p.detector.Detect(ev, func(d Detection) {
				w.write.Detections = append(w.write.Detections, d)
			})
		}
	}
	w.write.DeadLetters = append(w.write.DeadLetters, b.DeadLetters...)
	w.sources[b.SourceID] += len(b.Events)
	if m := p.opts.Metrics; m != nil && len(b.DeadLetters) > 0 {
		m.deadLetters.WithLabelValues(b.SourceID).Add(float64(len(b.DeadLetters)))
	}
	if b.Commit != nil {
		w.commits = append(w.commits, b.Commit)
	}
}

// normalize stamps the observer and ingest time. Sensors in the other
// region set their own observer fields, which are kept.
func (p *Pipeline) normalize(ev *ecs.Event, ingested string) {
	if ev.Fields == nil {
		ev.Fields = ecs.Fields{}
	}
	if _, ok := ev.Fields["observer.geo.name"]; !ok && p.opts.Region != "" {
		ev.Fields["observer.geo.name"] = p.opts.Region
	}
	if _, ok := ev.Fields["observer.name"]; !ok && p.opts.Sensor != "" {
		ev.Fields["observer.name"] = p.opts.Sensor
	}
	ev.Fields["event.ingested"] = ingested
}

// countGap records missing sequence numbers per source. A source that
// restarts from an earlier checkpoint sends lower numbers again; those are
// replays, not gaps.
func (p *Pipeline) countGap(source string, ev *ecs.Event) {
	if ev.Seq == 0 {
		return
	}
	p.gapsMu.Lock()
	last, seen := p.lastSeq[source]
	if ev.Seq > last {
		p.lastSeq[source] = ev.Seq
	}
	p.gapsMu.Unlock()
	if seen && ev.Seq > last+1 && p.opts.Metrics != nil {
		p.opts.Metrics.gaps.WithLabelValues(source).Add(float64(ev.Seq - last - 1))
	}
}

func (p *Pipeline) storeLoop(ctx context.Context, writes <-chan *pendingWrite) error {
	inFlight := 1
	if cs, ok := p.store.(ConcurrentStore); ok {
		inFlight = max(cs.WritesInFlight(), 1)
	}
	// Writes run concurrently; finish takes their results in input order.
	// slots bounds the writes started and not yet finished.
	slots := make(chan struct{}, inFlight)
	flights := make(chan *flight, inFlight)
	failed := make(chan struct{})
	finished := make(chan error, 1)
	go func() { finished <- p.finish(flights, slots, failed) }()
	for w := range writes {
		select {
		case slots <- struct{}{}:
		case <-failed:
			// A write failed for good (ctx ended): drain so the detection
			// loop is not blocked on a full channel.
			close(flights)
			for range writes {
			}
			return <-finished
		}
		f := &flight{w: w, done: make(chan error, 1)}
		flights <- f
		go func() { f.done <- p.writeIfData(ctx, w) }()
	}
	close(flights)
	return <-finished
}

// flight is a write in progress and its result.
type flight struct {
	w    *pendingWrite
	done chan error
}

// writeIfData stores the write unless it only carries a snapshot.
func (p *Pipeline) writeIfData(ctx context.Context, w *pendingWrite) error {
	if len(w.write.Events)+len(w.write.DeadLetters)+len(w.write.Detections) == 0 {
		return nil
	}
	return p.writeWithRetry(ctx, w)
}

// finish takes the writes in input order as they complete: it counts
// them, saves the detection state they carry and commits their batches,
// then frees their slot. After a failed write it closes failed, commits
// nothing more and returns the error once every started write has ended.
func (p *Pipeline) finish(flights <-chan *flight, slots <-chan struct{}, failed chan<- struct{}) error {
	// waiting holds commits of written batches until a snapshot that has
	// seen them is saved (only with a stateful detector).
	var waiting []func()
	var firstErr error
	for f := range flights {
		err := <-f.done
		<-slots
		if firstErr != nil {
			continue
		}
		if err != nil {
			firstErr = err
			close(failed)
			continue
		}
		w := f.w
		if m := p.opts.Metrics; m != nil {
			for source, n := range w.sources {
				m.eventsOut.WithLabelValues(source).Add(float64(n))
			}
			m.detections.Add(float64(len(w.write.Detections)))
		}
		waiting = append(waiting, w.commits...)
		if p.stateful != nil {
			if w.state == nil {
				continue
			}
			if err := p.opts.SaveState(w.state); err != nil {
				p.log.Error("saving detection state failed; commits wait for the next snapshot",
					"err", err, "waiting_commits", len(waiting))
				if m := p.opts.Metrics; m != nil {
					m.storeErrors.Inc()
				}
				continue
			}
		}
		for _, commit := range waiting {
			commit()
		}
		waiting = waiting[:0]
	}
	return firstErr
}

// writeWithRetry retries a failed write with exponential backoff until it
// succeeds or ctx ends, because dropping the write would lose events.
func (p *Pipeline) writeWithRetry(ctx context.Context, w *pendingWrite) error {
	delay := p.opts.RetryDelay
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := p.store.WriteBatch(ctx, &w.write)
		if m := p.opts.Metrics; m != nil {
			m.storeLatency.Observe(time.Since(start).Seconds())
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if m := p.opts.Metrics; m != nil {
			m.storeErrors.Inc()
		}
		p.log.Error("store write failed; retrying", "err", err, "attempt", attempt,
			"events", len(w.write.Events), "retry_in", delay)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
		delay = min(delay*2, 30*time.Second)
	}
}
