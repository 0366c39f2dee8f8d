package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/prometheus/client_golang/prometheus"
	gometrics "github.com/rcrowley/go-metrics"
)

// ProducerOptions configure a Producer.
type ProducerOptions struct {
	// Compression is none, gzip, snappy, lz4 or zstd. Default lz4.
	Compression string `yaml:"compression"`
	// Retries is how often the client resends a failed produce request
	// before the message goes to the spool. Default 3.
	Retries int `yaml:"retries"`
	// RetryBackoff is the wait between those resends. Default 250ms.
	RetryBackoff time.Duration `yaml:"retry_backoff"`
	// ReconnectInterval is the wait between attempts to reach Kafka, and
	// between drain attempts while Kafka rejects the spooled messages.
	// Default 2s.
	ReconnectInterval time.Duration `yaml:"reconnect_interval"`
	// DrainBatch is the number of spooled messages sent per round. Default 1000.
	DrainBatch int `yaml:"drain_batch"`
	// Spool is the local disk spool; its Dir is required.
	Spool SpoolOptions `yaml:"spool"`
}

func (o ProducerOptions) withDefaults() ProducerOptions {
	if o.Compression == "" {
		o.Compression = "lz4"
	}
	if o.Retries <= 0 {
		o.Retries = 3
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = 250 * time.Millisecond
	}
	if o.ReconnectInterval <= 0 {
		o.ReconnectInterval = 2 * time.Second
	}
	if o.DrainBatch <= 0 {
		o.DrainBatch = 1000
	}
	return o
}

// drainBatchBytes bounds the bytes read from the spool per drain round.
const drainBatchBytes = 8 << 20

// ErrProducerClosed is returned by Publish after Close.
var ErrProducerClosed = errors.New("kafka producer is closed")

// Producer publishes messages to Kafka with an idempotent producer
// (acks=all, one request in flight per broker, so the broker drops
// duplicates of its own retries and keeps the order per partition).
//
// When Kafka cannot be reached or a produce fails after the client's
// retries, messages go to a local disk spool instead. While the spool holds
// messages, Publish appends new ones to it too, so messages of one key stay
// in order. A background drainer sends the spool to Kafka in order once
// Kafka accepts messages again, and deletes segments as Kafka acknowledges
// them. Publish and Close are safe for concurrent use.
type Producer struct {
	opts    ProducerOptions
	cfg     *sarama.Config
	brokers []string
	log     *slog.Logger
	metrics *producerMetrics
	spool   *spool

	mu     sync.RWMutex
	client sarama.Client
	async  sarama.AsyncProducer
	// dispatched is closed when the result dispatcher of async has exited.
	dispatched chan struct{}

	wake      chan struct{}
	done      chan struct{}
	drainCtx  context.Context
	stopDrain context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	// sentAhead holds spool positions of records that Kafka acknowledged
	// in a drain round where an earlier record failed; the next rounds
	// skip them. Used by the drainer goroutine only.
	sentAhead map[spoolPos]bool
}

// NewProducer opens the spool and starts connecting to Kafka. It returns
// without error when Kafka is unreachable: Publish then spools until Kafka
// is back. reg (may be nil) receives the producer's metrics; log may be nil.
func NewProducer(opts Options, popts ProducerOptions, reg prometheus.Registerer, log *slog.Logger) (*Producer, error) {
	if log == nil {
		log = slog.Default()
	}
	popts = popts.withDefaults()
	cfg, err := opts.saramaConfig()
	if err != nil {
		return nil, err
	}
	codec, ok := compressionCodecs[strings.ToLower(popts.Compression)]
	if !ok {
		return nil, configError("kafkabus.compression.invalid", popts.Compression)
	}
	cfg.Producer.Compression = codec
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Retry.Max = popts.Retries
	cfg.Producer.Retry.Backoff = popts.RetryBackoff
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	cfg.Producer.Timeout = opts.withDefaults().RequestTimeout
	cfg.MetricRegistry = gometrics.NewRegistry()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kafka producer configuration: %w", err)
	}

	p := &Producer{opts: popts, cfg: cfg, brokers: opts.Brokers, log: log.With("component", "kafka_producer"),
		metrics: newProducerMetrics(reg, cfg.MetricRegistry), wake: make(chan struct{}, 1), done: make(chan struct{}),
		sentAhead: make(map[spoolPos]bool)}
	p.drainCtx, p.stopDrain = context.WithCancel(context.Background())
	p.spool, err = openSpool(popts.Spool, p.log, func(bytes, records int64) {
		p.metrics.spoolBytes.Set(float64(bytes))
		p.metrics.spoolRecords.Set(float64(records))
	})
	if err != nil {
		return nil, err
	}

	if err := p.connect(); err != nil {
		p.log.Warn("kafka unreachable at start; publishing to the spool until it is back", "brokers", opts.Brokers, "err", err)
	}
	p.wg.Add(1)
	go p.drain()
	p.kick()
	return p, nil
}

// connect creates the client and the idempotent producer. Creating the
// producer asks a broker for a producer id, so it fails while Kafka is down.
func (p *Producer) connect() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.async != nil {
		return nil
	}
	client, err := sarama.NewClient(p.brokers, p.cfg)
	if err != nil {
		return fmt.Errorf("connect to kafka %v: %w", p.brokers, err)
	}
	async, err := sarama.NewAsyncProducerFromClient(client)
	if err != nil {
		client.Close()
		return fmt.Errorf("create kafka producer: %w", err)
	}
	p.client, p.async = client, async
	p.dispatched = make(chan struct{})
	go dispatchResults(async, p.dispatched)
	p.log.Info("connected to kafka", "brokers", p.brokers)
	return nil
}

// msgRef travels in sarama's Metadata field and routes the result of one
// message back to the call that sent it.
type msgRef struct {
	index   int
	results chan<- sendResult
}

type sendResult struct {
	index int
	err   error
}

// dispatchResults routes every success and error of async to the call that
// sent the message. The results channels are buffered for every message of
// their call, so the sends never block.
func dispatchResults(async sarama.AsyncProducer, done chan<- struct{}) {
	defer close(done)
	successes, failures := async.Successes(), async.Errors()
	for successes != nil || failures != nil {
		select {
		case m, ok := <-successes:
			if !ok {
				successes = nil
				continue
			}
			ref := m.Metadata.(*msgRef)
			ref.results <- sendResult{index: ref.index}
		case e, ok := <-failures:
			if !ok {
				failures = nil
				continue
			}
			ref := e.Msg.Metadata.(*msgRef)
			ref.results <- sendResult{index: ref.index, err: e.Err}
		}
	}
}

func toSarama(m *Message, ref *msgRef) *sarama.ProducerMessage {
	pm := &sarama.ProducerMessage{Topic: m.Topic, Metadata: ref}
	if m.Key != nil {
		pm.Key = sarama.ByteEncoder(m.Key)
	}
	if m.Value != nil {
		pm.Value = sarama.ByteEncoder(m.Value)
	}
	if len(m.Headers) > 0 {
		pm.Headers = make([]sarama.RecordHeader, len(m.Headers))
		for i, h := range m.Headers {
			pm.Headers[i] = sarama.RecordHeader{Key: []byte(h.Key), Value: h.Value}
		}
	}
	return pm
}

// errNotConnected marks a batch that could not be sent because there is no
// Kafka connection yet.
var errNotConnected = errors.New("not connected to kafka")

// sendOutcome lists the messages of a batch that failed after the
// client's retries, by ascending index, with the first failure's cause.
type sendOutcome struct {
	failed   []int
	firstErr error
}

// send hands msgs to the client and waits until each one is acknowledged or
// has failed after the client's retries. It returns an error only if ctx
// ended or the producer closed before every result came.
func (p *Producer) send(ctx context.Context, msgs []Message) (sendOutcome, error) {
	p.mu.RLock()
	async := p.async
	if async == nil {
		p.mu.RUnlock()
		all := make([]int, len(msgs))
		for i := range all {
			all[i] = i
		}
		return sendOutcome{failed: all, firstErr: errNotConnected}, nil
	}

	start := time.Now()
	results := make(chan sendResult, len(msgs))
	sent := 0
	var stopped error
	for i := range msgs {
		pm := toSarama(&msgs[i], &msgRef{index: i, results: results})
		select {
		case async.Input() <- pm:
			sent++
		case <-ctx.Done():
			stopped = ctx.Err()
		case <-p.done:
			stopped = ErrProducerClosed
		}
		if stopped != nil {
			break
		}
	}
	p.mu.RUnlock()

	var out sendOutcome
	for received := 0; received < sent; received++ {
		select {
		case r := <-results:
			if r.err != nil {
				out.failed = append(out.failed, r.index)
				if out.firstErr == nil {
					out.firstErr = r.err
				}
			}
		case <-ctx.Done():
			return sendOutcome{}, ctx.Err()
		}
	}
	p.metrics.ackSeconds.Observe(time.Since(start).Seconds())
	if stopped != nil {
		return sendOutcome{}, stopped
	}
	slices.Sort(out.failed)
	return out, nil
}

// Publish sends msgs and returns nil only when every message is either
// acknowledged by Kafka (acks=all) or written and fsynced to the spool, so
// the caller may advance its own checkpoints afterwards. It blocks while
// the spool is full. An error (ctx ended, producer closed, spool write
// failed) means some messages may be neither: publish them again.
func (p *Producer) Publish(ctx context.Context, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	select {
	case <-p.done:
		return ErrProducerClosed
	default:
	}

	if !p.spool.empty() {
		return p.toSpool(ctx, msgs, "spool not empty")
	}

	out, err := p.send(ctx, msgs)
	if err != nil {
		return fmt.Errorf("publish %d messages: %w", len(msgs), err)
	}
	failed, firstErr := out.failed, out.firstErr
	p.metrics.published.Add(float64(len(msgs) - len(failed)))
	if len(failed) == 0 {
		return nil
	}
	if !errors.Is(firstErr, errNotConnected) {
		p.metrics.produceErrors.Add(float64(len(failed)))
		p.log.Warn("kafka produce failed after retries; spooling the messages", "messages", len(failed), "err", firstErr)
	}
	rest := make([]Message, len(failed))
	for i, idx := range failed {
		rest[i] = msgs[idx]
	}
	return p.toSpool(ctx, rest, "produce failed")
}

func (p *Producer) toSpool(ctx context.Context, msgs []Message, why string) error {
	if err := p.spool.Append(ctx, msgs); err != nil {
		return fmt.Errorf("publish %d messages (%s): %w", len(msgs), why, err)
	}
	p.metrics.spooled.Add(float64(len(msgs)))
	p.kick()
	return nil
}

func (p *Producer) kick() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// drain connects to Kafka when needed and sends the spool in order.
func (p *Producer) drain() {
	defer p.wg.Done()
	ticker := time.NewTicker(p.opts.ReconnectInterval)
	defer ticker.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-p.wake:
		case <-ticker.C:
		}
		if p.spool.empty() {
			continue
		}
		if err := p.connect(); err != nil {
			p.log.Debug("kafka still unreachable; messages stay in the spool", "err", err)
			continue
		}
		p.drainSpool()
	}
}

// drainSpool sends spooled messages until the spool is empty, a round
// fails, or the producer closes.
func (p *Producer) drainSpool() {
	var total int64
	for !p.spool.empty() {
		recs, err := p.spool.Read(p.opts.DrainBatch, drainBatchBytes)
		if err != nil {
			p.log.Error("read the spool failed; retrying", "err", err)
			return
		}
		if len(recs) == 0 {
			return
		}
		var msgs []Message
		var index []int // index[i] is the position in recs of msgs[i]
		for i, r := range recs {
			if !p.sentAhead[r.end] {
				msgs = append(msgs, r.msg)
				index = append(index, i)
			}
		}
		out, err := p.send(p.drainCtx, msgs)
		if err != nil {
			return // closing
		}
		failed, firstErr := out.failed, out.firstErr

		// The cursor advances over the acknowledged prefix only. Records
		// acknowledged after the first failure are remembered, so the
		// next round does not send them twice.
		firstFailed := len(recs)
		if len(failed) > 0 {
			firstFailed = index[failed[0]]
			failedSet := make(map[int]bool, len(failed))
			for _, f := range failed {
				failedSet[index[f]] = true
			}
			for i := firstFailed + 1; i < len(recs); i++ {
				if !failedSet[i] {
					p.sentAhead[recs[i].end] = true
				}
			}
		}
		acked := len(msgs) - len(failed)
		p.metrics.drained.Add(float64(acked))
		total += int64(acked)
		if firstFailed > 0 {
			for i := 0; i < firstFailed; i++ {
				delete(p.sentAhead, recs[i].end)
			}
			if err := p.spool.Ack(recs[firstFailed-1].end, int64(firstFailed)); err != nil {
				p.log.Error("advance the spool cursor failed", "err", err)
				return
			}
		}
		if len(failed) > 0 {
			p.metrics.produceErrors.Add(float64(len(failed)))
			p.log.Warn("kafka rejected spooled messages; retrying later", "messages", len(failed), "err", firstErr,
				"retry_in", p.opts.ReconnectInterval)
			return
		}
	}
	if total > 0 {
		p.log.Info("spool drained to kafka", "messages", total)
	}
}

// SpoolStats returns the spool's size on disk in bytes and the number of
// messages in it that Kafka has not acknowledged.
func (p *Producer) SpoolStats() (bytes, records int64) { return p.spool.Stats() }

// Close stops the drainer, flushes the client and closes the spool.
// Messages still in the spool stay on disk for the next NewProducer on the
// same directory.
func (p *Producer) Close() error {
	var err error
	p.closeOnce.Do(func() {
		close(p.done)
		p.stopDrain()
		p.wg.Wait()
		p.mu.Lock()
		if p.async != nil {
			// AsyncClose flushes what the client holds; the dispatcher
			// reads the last results and exits when sarama closes the
			// result channels.
			p.async.AsyncClose()
			<-p.dispatched
			if e := p.client.Close(); e != nil {
				err = fmt.Errorf("close kafka client: %w", e)
			}
			p.async, p.client = nil, nil
		}
		p.mu.Unlock()
		if e := p.spool.Close(); e != nil && err == nil {
			err = e
		}
	})
	return err
}
