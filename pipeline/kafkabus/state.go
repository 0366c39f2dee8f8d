package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

// StateKey returns the key under which a consumer group saves the state of
// one partition: <group>/<topic>/<partition>.
func StateKey(group string, tp TopicPartition) string {
	return group + "/" + tp.Topic + "/" + strconv.FormatInt(int64(tp.Partition), 10)
}

// StateStore keeps small values by key in the compacted topic
// canhgac.state: the pipeline saves a partition's correlation state there
// before it commits the partition's offsets, and loads it when the
// partition is assigned, so a rebalance loses no correlation window.
// It is safe for concurrent use.
type StateStore struct {
	client   sarama.Client
	producer sarama.SyncProducerContext
	consumer sarama.Consumer
	topic    string

	mu     sync.RWMutex // write-locked by Close only
	closed bool
	loadMu sync.Mutex
}

// NewStateStore connects to Kafka. The topic canhgac.state must exist
// (EnsureTopics creates it compacted).
func NewStateStore(opts Options) (*StateStore, error) {
	cfg, err := opts.saramaConfig()
	if err != nil {
		return nil, err
	}
	cfg.Producer.Idempotent = true
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Net.MaxOpenRequests = 1
	cfg.Producer.Retry.Max = 5
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	// LoadState reads only records that exist already, so a fetch need
	// not wait for new ones. The default 500 ms wait also delayed closing
	// the partition reader by as much at each partition assignment.
	cfg.Consumer.MaxWaitTime = 20 * time.Millisecond
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kafka state store configuration: %w", err)
	}

	client, err := sarama.NewClient(opts.Brokers, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to kafka %v: %w", opts.Brokers, err)
	}
	syncProducer, err := sarama.NewSyncProducerFromClient(client)
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("create kafka state producer: %w", err)
	}
	// sarama v1.62's sync producer has the context methods; the interface
	// it returns does not list them.
	producer := syncProducer.(sarama.SyncProducerContext)
	consumer, err := sarama.NewConsumerFromClient(client)
	if err != nil {
		producer.Close()
		client.Close()
		return nil, fmt.Errorf("create kafka state consumer: %w", err)
	}
	return &StateStore{client: client, producer: producer, consumer: consumer, topic: TopicState}, nil
}

// SaveState writes value under key and returns once Kafka acknowledged it
// (acks=all). A nil value deletes the key (a tombstone, removed by
// compaction). Saving the same value twice is harmless.
func (s *StateStore) SaveState(ctx context.Context, key string, value []byte) error {
	msg := &sarama.ProducerMessage{Topic: s.topic, Key: sarama.StringEncoder(key)}
	if value != nil {
		msg.Value = sarama.ByteEncoder(value)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("save state %s: %w", key, errStateStoreClosed)
	}
	if _, _, err := s.producer.SendMessageContext(ctx, msg); err != nil {
		return fmt.Errorf("save state %s to %s: %w", key, s.topic, err)
	}
	return nil
}

var errStateStoreClosed = errors.New("kafka state store is closed")

// LoadState returns the latest value saved under key, and false when there
// is none (never saved, or deleted). It reads the key's partition from the
// oldest offset up to the high-water mark it found at the start, so it
// returns the last save acknowledged before the call. Compaction keeps that read
// short: about one record per key. The record at the high-water mark
// minus one always exists, because the log cleaner does not touch the
// active segment and this store writes no transaction markers.
func (s *StateStore) LoadState(ctx context.Context, key string) ([]byte, bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, false, fmt.Errorf("load state %s: %w", key, errStateStoreClosed)
	}
	// sarama allows one reader per partition and consumer, so loads of
	// keys on the same partition take turns.
	s.loadMu.Lock()
	defer s.loadMu.Unlock()

	partitions, err := s.client.Partitions(s.topic)
	if err != nil {
		return nil, false, fmt.Errorf("load state %s: partitions of %s: %w", key, s.topic, err)
	}
	// The producer's default partitioner picks the partition from the key
	// hash; asking it again finds the partition that SaveState wrote to.
	partition, err := sarama.NewHashPartitioner(s.topic).Partition(
		&sarama.ProducerMessage{Topic: s.topic, Key: sarama.StringEncoder(key)}, int32(len(partitions)))
	if err != nil {
		return nil, false, fmt.Errorf("load state %s: %w", key, err)
	}
	if err := s.client.RefreshMetadata(s.topic); err != nil {
		return nil, false, fmt.Errorf("load state %s: refresh metadata of %s: %w", key, s.topic, err)
	}
	newest, err := s.client.GetOffset(s.topic, partition, sarama.OffsetNewest)
	if err != nil {
		return nil, false, fmt.Errorf("load state %s: high-water mark of %s/%d: %w", key, s.topic, partition, err)
	}
	oldest, err := s.client.GetOffset(s.topic, partition, sarama.OffsetOldest)
	if err != nil {
		return nil, false, fmt.Errorf("load state %s: log start of %s/%d: %w", key, s.topic, partition, err)
	}
	if newest <= oldest {
		return nil, false, nil
	}

	pc, err := s.consumer.ConsumePartition(s.topic, partition, oldest)
	if err != nil {
		return nil, false, fmt.Errorf("load state %s: read %s/%d: %w", key, s.topic, partition, err)
	}
	defer pc.Close()

	var value []byte
	found := false
	for {
		select {
		case msg, ok := <-pc.Messages():
			if !ok {
				return nil, false, fmt.Errorf("load state %s: %s/%d closed before offset %d", key, s.topic, partition, newest-1)
			}
			if string(msg.Key) == key {
				value, found = msg.Value, msg.Value != nil
			}
			if msg.Offset >= newest-1 {
				return value, found, nil
			}
		case cerr := <-pc.Errors():
			if cerr != nil {
				return nil, false, fmt.Errorf("load state %s: read %s/%d: %w", key, s.topic, partition, cerr)
			}
		case <-ctx.Done():
			return nil, false, fmt.Errorf("load state %s: read %s/%d up to offset %d: %w", key, s.topic, partition, newest-1, ctx.Err())
		}
	}
}

// Close closes the producer, the consumer and the client.
func (s *StateStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := errors.Join(s.consumer.Close(), s.producer.Close())
	if cerr := s.client.Close(); cerr != nil && !errors.Is(cerr, sarama.ErrClosedClient) {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		return fmt.Errorf("close kafka state store: %w", err)
	}
	return nil
}
