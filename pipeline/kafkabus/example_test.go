package kafkabus_test

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline/kafkabus"
)

// A sensor publishes its events and advances its file checkpoint only
// after Publish returned nil: every event is then in Kafka or in the
// spool on disk.
func ExampleProducer() {
	cfg := kafkabus.Config{
		Options:  kafkabus.Options{Brokers: []string{"127.0.0.1:9092"}},
		Producer: kafkabus.ProducerOptions{Spool: kafkabus.SpoolOptions{Dir: "/var/lib/canhgac/spool"}},
	}
	ctx := context.Background()
	specs, err := kafkabus.Topics([]string{"dc1", "dc2"})
	if err != nil {
		panic(err)
	}
	if _, err := kafkabus.EnsureTopics(ctx, cfg.Options, specs, cfg.Topics, slog.Default()); err != nil {
		panic(err)
	}
	p, err := kafkabus.NewProducer(cfg.Options, cfg.Producer, prometheus.DefaultRegisterer, slog.Default())
	if err != nil {
		panic(err)
	}
	defer p.Close()

	var events []*ecs.Event // parsed by the log sensor
	msgs := make([]kafkabus.Message, 0, len(events))
	for _, ev := range events {
		m, err := kafkabus.EventMessage("dc1", kafkabus.EventKey(ev, kafkabus.KeyHost), ev)
		if err != nil {
			continue // in a sensor: a dead letter with err as the reason
		}
		msgs = append(msgs, m)
	}
	if err := p.Publish(ctx, msgs); err != nil {
		return // keep the checkpoint; read the same lines again
	}
	// advance the file checkpoint here
}

// pipelineHandler shows the order of calls a pipeline makes: it loads the
// partition's correlation state on assignment, commits each batch after
// the store acknowledged it, and saves the state before the partition goes.
type pipelineHandler struct {
	group string
	state *kafkabus.StateStore
}

func (h *pipelineHandler) Assigned(ctx context.Context, tp kafkabus.TopicPartition) error {
	saved, ok, err := h.state.LoadState(ctx, kafkabus.StateKey(h.group, tp))
	if err != nil {
		return err // the consumer logs it and calls Assigned again
	}
	_, _ = saved, ok // restore the correlation windows from saved
	return nil
}

func (h *pipelineHandler) HandleBatch(ctx context.Context, b *kafkabus.Batch) error {
	// Write b.Events and b.DeadLetters to the store; once it acknowledged:
	return b.Commit()
}

func (h *pipelineHandler) Revoked(ctx context.Context, tp kafkabus.TopicPartition) {
	// Flush pending writes and save the state, then commit the flushed
	// batches: offsets never move past state that is not saved.
	_ = h.state.SaveState(ctx, kafkabus.StateKey(h.group, tp), []byte("serialized windows"))
}

// A pipeline consumes both regions' event topics as one consumer group.
func ExampleConsumer() {
	opts := kafkabus.Options{Brokers: []string{"127.0.0.1:9092"}}
	state, err := kafkabus.NewStateStore(opts)
	if err != nil {
		panic(err)
	}
	defer state.Close()
	copts := kafkabus.ConsumerOptions{Group: "pipeline", Topics: []string{kafkabus.EventsTopic("dc1"), kafkabus.EventsTopic("dc2")}}
	c, err := kafkabus.NewConsumer(opts, copts, &pipelineHandler{group: copts.Group, state: state}, prometheus.DefaultRegisterer, slog.Default())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	if err := c.Run(context.Background()); err != nil {
		slog.Error("consumer stopped", "err", err)
	}
}
