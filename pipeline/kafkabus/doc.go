// Package kafkabus carries canhgac's events between processes over Apache
// Kafka: sensors publish, pipelines consume as a consumer group, detect and
// store. It uses IBM/sarama and needs Kafka 2.1 or newer (checked against
// Kafka 4.1.1 in KRaft mode).
//
// Topics (see Topics and EnsureTopics): canhgac.events.<region> keyed by
// host or network flow, canhgac.alerts, canhgac.audit, canhgac.deadletter,
// and the compacted canhgac.state.
//
// Records: one message per event. The value is the JSON form written by
// EncodeEvent, which round-trips an ecs.Event with the Go types of its
// fields (see record.go). Headers carry the format, source id, sequence and
// region. A consumed message that does not decode becomes a
// pipeline.DeadLetter holding the message value whole, with the reason, the
// source "kafka:<topic>/<partition>" and the Kafka offset.
//
// Producer: idempotent (acks=all, one request in flight per broker).
// Publish returns nil only when every message is acknowledged by Kafka or
// fsynced to a local spool; while Kafka is unreachable everything goes to
// the spool, and a drainer sends the spool in order once Kafka is back.
//
// Consumer: a consumer group member that hands each claimed partition's
// messages to a Handler in batches. An offset is committed only through
// Batch.Commit, which the caller calls after its store acknowledged the
// batch; the handler is told before a partition is revoked, so it can
// save the partition's state with StateStore.
//
// Delivery is at least once: a batch handled but not committed before a
// crash or rebalance is delivered again, and the spool may send a message
// twice after a crash (its cursor file is not fsynced). Event ids are
// deterministic, so a store that writes by id stores such repeats once.
package kafkabus
