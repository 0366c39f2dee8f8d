package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	// before the message goes to the spool. Default 3. A broker that
	// refuses connections fails a message within milliseconds. One that
	// accepts connections but sends no response holds Publish for up to about
	// (Options.RequestTimeout + RetryBackoff) × (Retries + 1), 41 s with
	// the defaults, before the message is spooled. NOTE: that bound is
	// estimated from the client's timeouts; no test stalls a broker.
	Retries int `yaml:"retries"`
	// RetryBackoff is the wait between those resends. Default 250ms.
	RetryBackoff time.Duration `yaml:"retry_backoff"`
	// ReconnectInterval is the wait between attempts to reach Kafka, and
	// between drain attempts while Kafka rejects the spooled messages.
	// Default 2s.
	ReconnectInterval time.Duration `yaml:"reconnect_interval"`
	// DrainBatch is the number of spooled messages sent per round. Default 1000.
	DrainBatch int `yaml:"drain_batch"`
	// MaxMessageBytes bounds one message (key, value and headers with
	// Kafka's record overhead). Publish rejects a batch with a larger
	// message. Default 1000000; keep it at or below the brokers'
	// message.max.bytes (1048588 by default).
	MaxMessageBytes int `yaml:"max_message_bytes"`
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
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 1000000
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
	// lastWarn and failedAttempts rate-limit the drainer's warnings.
	lastWarn       time.Time
	failedAttempts int
}

// NewProducer opens the spool and starts connecting to Kafka. It returns
// without error when Kafka is unreachable: Publish then spools until Kafka
// is back. reg (may be nil) receives the producer's metrics, so give each
// Producer of a process its own registry or register only one. log may be nil.
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
	cfg.Producer.MaxMessageBytes = popts.MaxMessageBytes
	// Partitions are chosen in send (keyPartition), so the drainer has
	// each message's partition before it hands the message to sarama.
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
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
// producer requests a producer id from a broker, so it fails while Kafka is down.
// The lock is not held while connecting, so Publish calls are not held
// up by dial timeouts; only NewProducer and the drainer goroutine call it.
func (p *Producer) connect() error {
	p.mu.RLock()
	connected := p.async != nil
	p.mu.RUnlock()
	if connected {
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
	p.mu.Lock()
	p.client, p.async = client, async
	p.dispatched = make(chan struct{})
	go dispatchResults(async, p.dispatched)
	p.mu.Unlock()
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

func toSarama(m *Message, partition int32, ref *msgRef) *sarama.ProducerMessage {
	pm := &sarama.ProducerMessage{Topic: m.Topic, Partition: partition, Metadata: ref}
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

// keyPartition maps a key to a partition as sarama's default hash
// partitioner does (FNV-1a, 32 bits, sign dropped), so a key keeps its
// partition whether this producer or a plain sarama producer wrote it.
// A nil key hashes like an empty one.
func keyPartition(key []byte, partitions int32) int32 {
	h := uint32(2166136261)
	for _, c := range key {
		h ^= uint32(c)
		h *= 16777619
	}
	p := int32(h) % partitions
	if p < 0 {
		p = -p
	}
	return p
}

// errNotConnected marks a batch that could not be sent because there is no
// Kafka connection yet.
var errNotConnected = errors.New("not connected to kafka")

// errProbeFailed marks a spooled message held back because the probe
// message of its partition failed in the same drain round.
var errProbeFailed = errors.New("held back: the first message of the partition failed in this round")

// sendOutcome is the result of one send: per message its partition (-1
// when unknown) and its error (nil when Kafka acknowledged it).
type sendOutcome struct {
	partitions []int32
	errs       []error
	failed     int
	firstErr   error
}

// assignPartitions returns the partition of each message, -1 where the
// topic's partition count is unknown (errs holds the reason).
func assignPartitions(client sarama.Client, msgs []Message) ([]int32, []error) {
	parts := make([]int32, len(msgs))
	errs := make([]error, len(msgs))
	counts := make(map[string]int32, 2)
	for i := range msgs {
		n, ok := counts[msgs[i].Topic]
		if !ok {
			ids, err := client.Partitions(msgs[i].Topic)
			if err == nil && len(ids) == 0 {
				err = fmt.Errorf("topic %s has no partitions", msgs[i].Topic)
			}
			if err != nil {
				err = fmt.Errorf("look up partitions of topic %s (EnsureTopics creates a missing topic): %w", msgs[i].Topic, err)
			}
			n = int32(len(ids))
			if err != nil {
				n = -1
				errs[i] = err
			}
			counts[msgs[i].Topic] = n
		}
		if n <= 0 {
			parts[i] = -1
			if errs[i] == nil {
				errs[i] = fmt.Errorf("partitions of topic %s not found", msgs[i].Topic)
			}
			continue
		}
		parts[i] = keyPartition(msgs[i].Key, n)
	}
	return parts, errs
}

// sendProbed sends msgs in two rounds: first one message per topic
// partition, then the rest of the partitions whose first message Kafka
// acknowledged; the messages of the other partitions fail with
// errProbeFailed without being sent. While a partition has no reachable
// leader, sarama waits the retry backoff once per message before failing
// it, so a batch of 1,000 messages would block Publish for minutes; with
// the probe only one message per partition waits. It also keeps sarama
// from acknowledging a later message of a partition whose earlier one
// failed, which would reorder them.
func (p *Producer) sendProbed(ctx context.Context, msgs []Message) (sendOutcome, error) {
	p.mu.RLock()
	client, connected := p.client, p.async != nil
	p.mu.RUnlock()
	if !connected || client == nil {
		return p.send(ctx, msgs)
	}
	parts, partErrs := assignPartitions(client, msgs)
	type tp struct {
		topic     string
		partition int32
	}
	probeOf := make(map[tp]int)
	var probes []int
	for j := range msgs {
		key := tp{msgs[j].Topic, parts[j]}
		if _, ok := probeOf[key]; !ok && parts[j] >= 0 {
			probeOf[key] = j
			probes = append(probes, j)
		}
	}
	// Messages keep these errors unless they are sent and acknowledged.
	out := sendOutcome{partitions: parts, errs: make([]error, len(msgs))}
	for j := range out.errs {
		out.errs[j] = partErrs[j]
		if out.errs[j] == nil {
			out.errs[j] = errProbeFailed
		}
		if partErrs[j] != nil && out.firstErr == nil {
			out.firstErr = partErrs[j]
		}
	}
	probeMsgs := make([]Message, len(probes))
	for k, j := range probes {
		probeMsgs[k] = msgs[j]
	}
	first, err := p.send(ctx, probeMsgs)
	if err != nil {
		return sendOutcome{}, err
	}
	healthy := make(map[tp]bool)
	for k, j := range probes {
		out.errs[j] = first.errs[k]
		if first.errs[k] == nil {
			healthy[tp{msgs[j].Topic, parts[j]}] = true
		} else if out.firstErr == nil {
			out.firstErr = first.errs[k]
		}
	}
	var rest []int
	for j := range msgs {
		if parts[j] >= 0 && probeOf[tp{msgs[j].Topic, parts[j]}] != j && healthy[tp{msgs[j].Topic, parts[j]}] {
			rest = append(rest, j)
		}
	}
	if len(rest) > 0 {
		restMsgs := make([]Message, len(rest))
		for k, j := range rest {
			restMsgs[k] = msgs[j]
		}
		second, err := p.send(ctx, restMsgs)
		if err != nil {
			return sendOutcome{}, err
		}
		p.noteReordered(restMsgs, second)
		for k, j := range rest {
			out.errs[j] = second.errs[k]
		}
		if out.firstErr == nil {
			out.firstErr = second.firstErr
		}
	}
	for _, err := range out.errs {
		if err != nil {
			out.failed++
		}
	}
	return out, nil
}

// send hands msgs to the client and waits until each one is acknowledged or
// has failed after the client's retries. It returns an error only if ctx
// ended or the producer closed before every result came.
func (p *Producer) send(ctx context.Context, msgs []Message) (sendOutcome, error) {
	out := sendOutcome{errs: make([]error, len(msgs))}
	p.mu.RLock()
	async := p.async
	if async == nil {
		p.mu.RUnlock()
		out.partitions = make([]int32, len(msgs))
		for i := range msgs {
			out.partitions[i], out.errs[i] = -1, errNotConnected
		}
		out.failed, out.firstErr = len(msgs), errNotConnected
		return out, nil
	}
	out.partitions, out.errs = assignPartitions(p.client, msgs)

	start := time.Now()
	results := make(chan sendResult, len(msgs))
	sent := 0
	var stopped error
	for i := range msgs {
		if out.partitions[i] < 0 {
			continue
		}
		pm := toSarama(&msgs[i], out.partitions[i], &msgRef{index: i, results: results})
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

	for received := 0; received < sent; received++ {
		select {
		case r := <-results:
			out.errs[r.index] = r.err
		case <-ctx.Done():
			return sendOutcome{}, ctx.Err()
		}
	}
	p.metrics.ackSeconds.Observe(time.Since(start).Seconds())
	if stopped != nil {
		return sendOutcome{}, stopped
	}
	for _, err := range out.errs {
		if err != nil {
			out.failed++
			if out.firstErr == nil {
				out.firstErr = err
			}
		}
	}
	return out, nil
}

// countReordered counts messages that Kafka acknowledged after an earlier
// message of the same topic partition in the same send had failed: the
// failed one reaches Kafka later, behind them.
func countReordered(msgs []Message, out sendOutcome) int {
	type tp struct {
		topic     string
		partition int32
	}
	var failedIn map[tp]bool
	n := 0
	for i := range msgs {
		key := tp{msgs[i].Topic, out.partitions[i]}
		if out.errs[i] != nil {
			if failedIn == nil {
				failedIn = make(map[tp]bool)
			}
			failedIn[key] = true
		} else if failedIn[key] {
			n++
		}
	}
	return n
}

// Publish sends msgs and returns nil only when every message is either
// acknowledged by Kafka (acks=all) or written and fsynced to the spool, so
// the caller may advance its own checkpoints afterwards. It blocks while
// the spool is full. A *MessageTooLargeError rejects the whole batch before
// anything is sent. Any other error (ctx ended, producer closed, spool
// write failed) means some messages may be neither: publish them again.
//
// Messages of one Publish keep their order per key, and so do the messages
// of successive calls from one goroutine. Concurrent calls have no order
// between them.
//
// NOTE: a message for a topic that does not exist stays in the spool, and
// every message after it waits behind it, until the topic is created
// (EnsureTopics). The drainer logs the reason every 30 s meanwhile.
func (p *Producer) Publish(ctx context.Context, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	select {
	case <-p.done:
		return ErrProducerClosed
	default:
	}
	for i := range msgs {
		if size := messageSize(&msgs[i]); size > p.opts.MaxMessageBytes {
			return &MessageTooLargeError{Index: i, Topic: msgs[i].Topic, Size: size, Max: p.opts.MaxMessageBytes}
		}
	}

	if !p.spool.empty() {
		return p.toSpool(ctx, msgs, "spool not empty")
	}

	out, err := p.sendProbed(ctx, msgs)
	if err != nil {
		return fmt.Errorf("publish %d messages: %w", len(msgs), err)
	}
	p.metrics.published.Add(float64(len(msgs) - out.failed))
	if out.failed == 0 {
		return nil
	}
	if !errors.Is(out.firstErr, errNotConnected) {
		p.metrics.produceErrors.Add(float64(out.failed))
		p.log.Warn("kafka produce failed after retries; spooling the messages", "messages", out.failed, "err", out.firstErr)
	}
	rest := make([]Message, 0, out.failed)
	for i, err := range out.errs {
		if err != nil {
			rest = append(rest, msgs[i])
		}
	}
	return p.toSpool(ctx, rest, "produce failed")
}

// MessageTooLargeError rejects a batch that holds a message larger than
// ProducerOptions.MaxMessageBytes, which Kafka would never accept.
type MessageTooLargeError struct {
	// Index is the message's position in the batch.
	Index int
	Topic string
	// Size is the message's size with Kafka's record overhead; Max the limit.
	Size, Max int
}

// Error names the message and the limit.
func (e *MessageTooLargeError) Error() string {
	return fmt.Sprintf("message %d for topic %s is %d bytes, above max_message_bytes %d: shorten it (for example event.original) or send it as a dead letter",
		e.Index, e.Topic, e.Size, e.Max)
}

// messageSize returns the largest size sarama may count for m in a record
// batch (its ProducerMessage.ByteSize for Kafka 0.11 and newer): the
// record overhead, at most five 32-bit varints and one 64-bit varint plus
// an attributes byte, then key, value and each header with two varints.
func messageSize(m *Message) int {
	const varint32, varint64 = 5, 10
	size := 5*varint32 + varint64 + 1 + len(m.Key) + len(m.Value)
	for _, h := range m.Headers {
		size += len(h.Key) + len(h.Value) + 2*varint32
	}
	return size
}

func (p *Producer) noteReordered(msgs []Message, out sendOutcome) {
	if n := countReordered(msgs, out); n > 0 {
		p.metrics.reordered.Add(float64(n))
		p.log.Error("kafka acknowledged messages after an earlier message of their partition failed; the failed ones arrive later, out of order",
			"messages", n, "err", out.firstErr)
	}
}

func (p *Producer) toSpool(ctx context.Context, msgs []Message, reason string) error {
	if err := p.spool.Append(ctx, msgs); err != nil {
		return fmt.Errorf("publish %d messages (%s): %w", len(msgs), reason, err)
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
	// After a failed attempt, wake-ups from Publish wait for the next tick,
	// so an outage costs one attempt per ReconnectInterval.
	var retryAt time.Time
	for {
		select {
		case <-p.done:
			return
		case <-p.wake:
			if time.Now().Before(retryAt) {
				continue
			}
		case <-ticker.C:
		}
		if p.spool.empty() {
			continue
		}
		if err := p.connect(); err != nil {
			p.warnRetry("kafka unreachable; messages stay in the spool", 0, err)
			retryAt = time.Now().Add(p.opts.ReconnectInterval)
			continue
		}
		if !p.drainSpool() {
			retryAt = time.Now().Add(p.opts.ReconnectInterval)
		}
	}
}

// warnRetryEvery bounds the drainer's warnings during an outage to one per
// interval; the warning counts the attempts in between.
const warnRetryEvery = 30 * time.Second

// warnRetry logs a failed drain attempt, at most once per warnRetryEvery.
// Used by the drainer goroutine only.
func (p *Producer) warnRetry(msg string, messages int, err error) {
	p.failedAttempts++
	if time.Since(p.lastWarn) < warnRetryEvery {
		return
	}
	p.log.Warn(msg, "messages", messages, "err", err, "attempts", p.failedAttempts,
		"retry_in", p.opts.ReconnectInterval, "spool_records", p.spoolRecords())
	p.lastWarn = time.Now()
	p.failedAttempts = 0
}

func (p *Producer) spoolRecords() int64 {
	_, n := p.spool.Stats()
	return n
}

// drainSpool sends spooled messages until the spool is empty (true), or a
// round fails or the producer closes (false).
func (p *Producer) drainSpool() bool {
	var total int64
	for !p.spool.empty() {
		recs, err := p.spool.Read(p.opts.DrainBatch, drainBatchBytes)
		if err != nil {
			p.log.Error("read the spool failed; retrying", "err", err)
			return false
		}
		if len(recs) == 0 {
			return false
		}
		acked, ok := p.drainRound(recs)
		total += int64(acked)
		if !ok {
			return false
		}
	}
	if total > 0 {
		p.log.Info("spool drained to kafka", "messages", total)
		p.lastWarn, p.failedAttempts = time.Time{}, 0
	}
	return true
}

// drainRound sends one read of the spool and advances the cursor over the
// acknowledged prefix. It returns the number of messages acknowledged and
// whether all of them were.
//
// sarama v1.62 fails a message on its own when it cannot find the
// partition's leader, and its circuit breaker stays open for 10 s after
// three failed lookups. A later message of the same partition can then
// succeed, so sending a partition's messages in one go after an outage
// could reorder them. The round therefore sends one probe message per
// partition first, and the rest only to partitions whose probe was
// acknowledged.
func (p *Producer) drainRound(recs []spoolRecord) (int, bool) {
	var idx []int // positions in recs of the records to send
	for i, r := range recs {
		if !p.sentAhead[r.end] {
			idx = append(idx, i)
		}
	}
	msgs := make([]Message, len(idx))
	for j, i := range idx {
		msgs[j] = recs[i].msg
	}

	out, err := p.sendProbed(p.drainCtx, msgs)
	if err != nil {
		return 0, false // closing
	}
	return p.ackRound(recs, idx, out.errs, out.firstErr)
}

// ackRound moves the spool cursor over the acknowledged prefix of recs and
// remembers records acknowledged after it, so the next rounds skip them.
// idx maps the sent messages (and errs) to their positions in recs.
func (p *Producer) ackRound(recs []spoolRecord, idx []int, errs []error, firstErr error) (int, bool) {
	failedAt := make(map[int]bool)
	acked, produceErrors := 0, 0
	for j, err := range errs {
		switch {
		case err == nil:
			acked++
		case errors.Is(err, errProbeFailed) || errors.Is(err, errNotConnected):
			failedAt[idx[j]] = true
		default:
			failedAt[idx[j]] = true
			produceErrors++
		}
	}
	p.metrics.drained.Add(float64(acked))

	firstFailed := len(recs)
	for i := range recs {
		if failedAt[i] {
			firstFailed = i
			break
		}
	}
	for i := firstFailed + 1; i < len(recs); i++ {
		if !failedAt[i] {
			p.sentAhead[recs[i].end] = true
		}
	}
	if firstFailed > 0 {
		for i := 0; i < firstFailed; i++ {
			delete(p.sentAhead, recs[i].end)
		}
		if err := p.spool.Ack(recs[firstFailed-1].end, int64(firstFailed)); err != nil {
			p.log.Error("advance the spool cursor failed", "err", err)
			return acked, false
		}
	}
	if len(failedAt) > 0 {
		p.metrics.produceErrors.Add(float64(produceErrors))
		p.warnRetry("kafka did not take all spooled messages; retrying later", len(failedAt), firstErr)
		return acked, false
	}
	return acked, true
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
