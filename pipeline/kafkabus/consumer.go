package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"
	gometrics "github.com/rcrowley/go-metrics"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
)

// ConsumerOptions configure a Consumer.
type ConsumerOptions struct {
	// Group is the consumer group id; required.
	Group string `yaml:"group"`
	// Topics are consumed together, for example both regions' event topics.
	Topics []string `yaml:"topics"`
	// BatchEvents bounds the messages per batch. Default 1000.
	BatchEvents int `yaml:"batch_events"`
	// BatchWait bounds the time from a batch's first message until the
	// batch goes to the handler, however few messages it has. Default 200ms.
	BatchWait time.Duration `yaml:"batch_wait"`
	// Initial is the start position of a group without a committed
	// offset: oldest (default, nothing is skipped) or newest.
	Initial string `yaml:"initial"`
	// SessionTimeout is how long the group coordinator waits for a
	// heartbeat before it gives the member's partitions to others.
	// Default 10s.
	SessionTimeout time.Duration `yaml:"session_timeout"`
	// RevokeTimeout bounds Handler.Revoked. Default 60s.
	RevokeTimeout time.Duration `yaml:"revoke_timeout"`
	// RetryBackoff is the wait before calling Assigned or HandleBatch
	// again after it returned an error. Default 1s.
	RetryBackoff time.Duration `yaml:"retry_backoff"`
	// CommitInterval is how often the offsets of committed batches are
	// sent to Kafka. A crash replays at most this much stored input,
	// which the store and the detectors recognise. Default 1s.
	CommitInterval time.Duration `yaml:"commit_interval"`
}

func (o ConsumerOptions) withDefaults() ConsumerOptions {
	if o.BatchEvents <= 0 {
		o.BatchEvents = 1000
	}
	if o.BatchWait <= 0 {
		o.BatchWait = 200 * time.Millisecond
	}
	if o.Initial == "" {
		o.Initial = "oldest"
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = 10 * time.Second
	}
	if o.RevokeTimeout <= 0 {
		o.RevokeTimeout = 60 * time.Second
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = time.Second
	}
	if o.CommitInterval <= 0 {
		o.CommitInterval = time.Second
	}
	return o
}

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// String returns topic/partition.
func (tp TopicPartition) String() string {
	return tp.Topic + "/" + strconv.FormatInt(int64(tp.Partition), 10)
}

// Handler receives the partitions and batches of a Consumer. For one
// partition the calls come from one goroutine, in this order: Assigned,
// HandleBatch for each batch, Revoked. Different partitions are handled
// concurrently.
type Handler interface {
	// Assigned is called when this member gets the partition, before its
	// first batch: load the partition's saved state here. An error is
	// logged and the call repeated after ConsumerOptions.RetryBackoff.
	Assigned(ctx context.Context, tp TopicPartition) error
	// HandleBatch receives the next batch. The handler calls b.Commit once
	// the batch is stored, from any goroutine, now or later. An error is
	// logged and the same batch handed over again after RetryBackoff.
	HandleBatch(ctx context.Context, b *Batch) error
	// Revoked is called before the partition goes to another member (or
	// the consumer closes). Flush, commit finished batches and save the
	// partition's state before returning; Commit fails with ErrRevoked
	// afterwards, and the uncommitted batches are delivered again to the
	// next owner.
	Revoked(ctx context.Context, tp TopicPartition)
}

// ErrRevoked is returned by Batch.Commit once the batch's partition has
// been revoked; the batch will be delivered again to the next owner.
var ErrRevoked = errors.New("kafka partition revoked before the batch was committed")

// Batch is a run of consecutive messages of one partition.
type Batch struct {
	TopicPartition
	// Events are the decoded messages; DeadLetters the ones that did not
	// decode (SourceID "kafka:<topic>/<partition>", Offset the Kafka
	// offset), together in Kafka order when merged by offset.
	Events      []*ecs.Event
	DeadLetters []pipeline.DeadLetter
	// FirstOffset and LastOffset are the Kafka offsets of the first and
	// last message.
	FirstOffset, LastOffset int64
	// HighWaterMark is the partition's high-water mark when the batch closed.
	HighWaterMark int64

	claim     *claimState
	received  time.Time
	committed bool
}

// Len returns the number of messages in the batch.
func (b *Batch) Len() int { return len(b.Events) + len(b.DeadLetters) }

// Commit records that the batch is stored. The group's offset moves past a
// batch only when it and every earlier batch of the partition are
// committed, so batches may be committed out of order. Commit marks the
// offset; the marked offsets go to Kafka every CommitInterval and when the
// partition is revoked. A sarama client sends one request at a time to a
// broker, so a synchronous commit per batch waited behind each fetch and
// held the pipeline back. A failed offset commit is logged, counted in
// canhgac_kafka_consumer_errors_total and retried with the next one.
// Commit returns ErrRevoked after the partition was revoked.
func (b *Batch) Commit() error { return b.claim.commit(b) }

// claimState tracks the delivered, uncommitted batches of one claimed partition.
type claimState struct {
	tp      TopicPartition
	session sarama.ConsumerGroupSession
	metrics *consumerMetrics
	lag     prometheus.Gauge

	mu            sync.Mutex
	pending       []*Batch
	revoked       bool
	committedNext int64
	highWater     int64
}

func (c *claimState) commit(b *Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.revoked {
		return ErrRevoked
	}
	if b.claim != c {
		return fmt.Errorf("commit batch of %s: the batch belongs to another claim", b.TopicPartition)
	}
	b.committed = true

	mark := int64(-1)
	for len(c.pending) > 0 && c.pending[0].committed {
		done := c.pending[0]
		mark = done.LastOffset + 1
		c.metrics.batchSeconds.Observe(time.Since(done.received).Seconds())
		c.pending = c.pending[1:]
	}
	if mark < 0 {
		return nil
	}
	c.session.MarkOffset(c.tp.Topic, c.tp.Partition, mark, "")
	c.committedNext = mark
	c.lag.Set(float64(max(c.highWater-c.committedNext, 0)))
	return nil
}

func (c *claimState) deliver(b *Batch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.committedNext < 0 {
		// A group without a committed offset starts at sarama's
		// OffsetOldest or OffsetNewest marker (negative); the first
		// message's offset is the real start.
		c.committedNext = b.FirstOffset
	}
	c.pending = append(c.pending, b)
	c.highWater = b.HighWaterMark
	c.lag.Set(float64(max(c.highWater-c.committedNext, 0)))
}

func (c *claimState) revoke() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.revoked = true
	c.pending = nil
}

// Consumer reads topics as a member of a consumer group and hands each
// claimed partition's messages to a Handler in batches. Offsets move only
// through Batch.Commit: sarama's auto-commit sends only offsets marked by
// Commit, so no offset of an unstored batch is ever committed.
type Consumer struct {
	opts    ConsumerOptions
	group   sarama.ConsumerGroup
	handler Handler
	log     *slog.Logger
	metrics *consumerMetrics
	errDone chan struct{}
}

// NewConsumer joins nothing yet: it connects to Kafka and checks the
// options. Run joins the group. reg (may be nil) receives the metrics, so
// give each Consumer of a process its own registry or register only one.
func NewConsumer(opts Options, copts ConsumerOptions, h Handler, reg prometheus.Registerer, log *slog.Logger) (*Consumer, error) {
	if log == nil {
		log = slog.Default()
	}
	copts = copts.withDefaults()
	if copts.Group == "" {
		return nil, configError("kafkabus.consumer.group.missing")
	}
	if len(copts.Topics) == 0 {
		return nil, configError("kafkabus.consumer.topics.missing")
	}
	cfg, err := opts.saramaConfig()
	if err != nil {
		return nil, err
	}
	switch copts.Initial {
	case "oldest":
		cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	case "newest":
		cfg.Consumer.Offsets.Initial = sarama.OffsetNewest
	default:
		return nil, configError("kafkabus.consumer.initial.invalid", copts.Initial)
	}
	// Auto-commit sends only the offsets that Batch.Commit marked.
	cfg.Consumer.Offsets.AutoCommit.Enable = true
	cfg.Consumer.Offsets.AutoCommit.Interval = copts.CommitInterval
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.Group.Session.Timeout = copts.SessionTimeout
	cfg.Consumer.Group.Heartbeat.Interval = copts.SessionTimeout / 3
	cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategySticky()}
	cfg.MetricRegistry = gometrics.NewRegistry()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kafka consumer configuration: %w", err)
	}

	group, err := sarama.NewConsumerGroup(opts.Brokers, copts.Group, cfg)
	if err != nil {
		return nil, fmt.Errorf("join kafka consumer group %s at %v: %w", copts.Group, opts.Brokers, err)
	}
	c := &Consumer{opts: copts, group: group, handler: h, log: log.With("component", "kafka_consumer", "group", copts.Group),
		metrics: newConsumerMetrics(reg, cfg.MetricRegistry), errDone: make(chan struct{})}
	go c.logErrors()
	return c, nil
}

func (c *Consumer) logErrors() {
	defer close(c.errDone)
	for err := range c.group.Errors() {
		c.metrics.commitErrors.Inc()
		c.log.Warn("kafka consumer group error", "err", err)
	}
}

// Run consumes until ctx ends or Close is called, rejoining the group
// after each rebalance and retrying a failed join every RetryBackoff. It
// returns nil.
func (c *Consumer) Run(ctx context.Context) error {
	gh := &groupHandler{c: c}
	var lastWarn time.Time
	failures := 0
	for {
		err := c.group.Consume(ctx, c.opts.Topics, gh)
		if errors.Is(err, sarama.ErrClosedConsumerGroup) || ctx.Err() != nil {
			return nil
		}
		if err == nil {
			failures = 0
			continue
		}
		// A lasting failure (missing topic, rejected credentials) repeats
		// every RetryBackoff; log it once per warnRetryEvery with a count.
		failures++
		if time.Since(lastWarn) >= warnRetryEvery {
			c.log.Warn("kafka consumer group session failed; rejoining", "err", err, "failures", failures,
				"retry_in", c.opts.RetryBackoff)
			lastWarn = time.Now()
		}
		if !sleepCtx(ctx, c.opts.RetryBackoff) {
			return nil
		}
	}
}

// Close leaves the group. Run returns after its partitions were revoked.
func (c *Consumer) Close() error {
	err := c.group.Close()
	<-c.errDone
	if err != nil {
		return fmt.Errorf("close kafka consumer group: %w", err)
	}
	return nil
}

type groupHandler struct{ c *Consumer }

func (g *groupHandler) Setup(s sarama.ConsumerGroupSession) error {
	g.c.log.Info("kafka partitions assigned", "generation", s.GenerationID(), "member", s.MemberID(), "claims", s.Claims())
	return nil
}

func (g *groupHandler) Cleanup(s sarama.ConsumerGroupSession) error {
	g.c.log.Info("kafka consumer group session ended", "generation", s.GenerationID())
	return nil
}

func (g *groupHandler) ConsumeClaim(session sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	c := g.c
	tp := TopicPartition{Topic: claim.Topic(), Partition: claim.Partition()}
	labels := prometheus.Labels{"topic": tp.Topic, "partition": strconv.FormatInt(int64(tp.Partition), 10)}
	cs := &claimState{tp: tp, session: session, metrics: c.metrics, lag: c.metrics.lag.With(labels),
		committedNext: claim.InitialOffset()}
	ctx := session.Context()
	log := c.log.With("partition", tp.String())

	defer func() {
		rctx, cancel := context.WithTimeout(context.Background(), c.opts.RevokeTimeout)
		c.handler.Revoked(rctx, tp)
		cancel()
		cs.revoke()
		// Send what Revoked committed now, before the next owner reads
		// the group's offset.
		session.Commit()
		c.metrics.lag.Delete(labels)
		log.Info("kafka partition revoked")
	}()

	for {
		err := c.handler.Assigned(ctx, tp)
		if err == nil {
			break
		}
		log.Error("partition assignment handler failed; retrying", "err", err, "retry_in", c.opts.RetryBackoff)
		if !sleepCtx(ctx, c.opts.RetryBackoff) {
			return nil
		}
	}

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var batch *Batch
	for {
		select {
		case msg, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			if batch == nil {
				batch = &Batch{TopicPartition: tp, FirstOffset: msg.Offset, claim: cs, received: time.Now()}
				timer.Reset(c.opts.BatchWait)
			}
			c.add(batch, msg)
			if batch.Len() < c.opts.BatchEvents {
				continue
			}
		case <-timer.C:
		case <-ctx.Done():
			return nil
		}
		if batch == nil {
			continue
		}
		timer.Stop()
		batch.HighWaterMark = claim.HighWaterMarkOffset()
		if !c.handle(ctx, log, cs, batch) {
			return nil
		}
		batch = nil
	}
}

func (c *Consumer) add(b *Batch, msg *sarama.ConsumerMessage) {
	b.LastOffset = msg.Offset
	c.metrics.records.Inc()
	if headerValue(msg.Headers, HeaderFormat) == DeadLetterFormat {
		// A sensor's dead letter: keep it as the sensor described it.
		d, err := DecodeDeadLetter(msg.Value)
		if err != nil {
			d = pipeline.DeadLetter{Time: time.Now(), SourceID: kafkaSourceID(msg.Topic, msg.Partition),
				Offset: msg.Offset, Raw: msg.Value, Reason: "undecodable dead letter: " + err.Error()}
		}
		c.metrics.deadLetters.Inc()
		b.DeadLetters = append(b.DeadLetters, d)
		return
	}
	ev, err := DecodeEvent(msg.Value)
	if err != nil {
		c.metrics.deadLetters.Inc()
		b.DeadLetters = append(b.DeadLetters, pipeline.DeadLetter{Time: time.Now(), SourceID: kafkaSourceID(msg.Topic, msg.Partition),
			Offset: msg.Offset, Raw: msg.Value, Reason: err.Error()})
		return
	}
	b.Events = append(b.Events, ev)
}

// handle delivers b until the handler accepts it; false means the session ended.
func (c *Consumer) handle(ctx context.Context, log *slog.Logger, cs *claimState, b *Batch) bool {
	cs.deliver(b)
	for {
		err := c.handler.HandleBatch(ctx, b)
		if err == nil {
			return true
		}
		log.Error("batch handler failed; handing the batch over again", "err", err, "first_offset", b.FirstOffset,
			"last_offset", b.LastOffset, "retry_in", c.opts.RetryBackoff)
		if !sleepCtx(ctx, c.opts.RetryBackoff) {
			return false
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// headerValue returns the value of the record header key, or "".
func headerValue(headers []*sarama.RecordHeader, key string) string {
	for _, h := range headers {
		if h != nil && string(h.Key) == key {
			return string(h.Value)
		}
	}
	return ""
}
