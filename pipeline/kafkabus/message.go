package kafkabus

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
)

// Topic names. Events go to one topic per region, so each region's
// pipeline can consume both regions' topics and tell them apart.
const (
	TopicEventsPrefix = "canhgac.events."
	TopicAlerts       = "canhgac.alerts"
	TopicAudit        = "canhgac.audit"
	TopicDeadLetter   = "canhgac.deadletter"
	// TopicState is compacted: it keeps the latest value per key, the
	// saved state of each consumed partition (see StateStore).
	TopicState = "canhgac.state"
)

// EventsTopic returns the events topic of a region: canhgac.events.<region>.
func EventsTopic(region string) string { return TopicEventsPrefix + region }

// Header names set on every message that Publish sends.
const (
	HeaderFormat   = "canhgac.format"
	HeaderSourceID = "canhgac.source_id"
	HeaderSeq      = "canhgac.seq"
	HeaderRegion   = "canhgac.region"
)

// DeadLetterFormat is the format header of dead-letter messages.
const DeadLetterFormat = "canhgac.deadletter.v1"

// Header is one Kafka record header.
type Header struct {
	Key   string
	Value []byte
}

// Message is one Kafka record on its way to a topic. Messages with the same
// Key go to the same partition and keep their order.
type Message struct {
	Topic   string
	Key     []byte
	Value   []byte
	Headers []Header
}

// KeyBy selects the field that keys an event message.
type KeyBy int

// Event keys. A host key keeps the events of one host in order on one
// partition, and a flow key does the same for the records of one network flow.
const (
	// KeyHost keys by host.name, falling back to the source id.
	KeyHost KeyBy = iota
	// KeyFlow keys by network.community_id (the packet sensor's flow id),
	// falling back to host.name and then the source id.
	KeyFlow
)

// EventKey returns the message key of ev for the given choice.
func EventKey(ev *ecs.Event, by KeyBy) []byte {
	if by == KeyFlow {
		if id, ok := ev.Fields["network.community_id"].(string); ok && id != "" {
			return []byte(id)
		}
	}
	if host, ok := ev.Fields["host.name"].(string); ok && host != "" {
		return []byte(host)
	}
	return []byte(ev.SourceID)
}

// EventMessage encodes ev for the events topic of region, keyed by key,
// with the format, source id, sequence and region headers.
func EventMessage(region string, key []byte, ev *ecs.Event) (Message, error) {
	bufp := encodeBufPool.Get().(*[]byte)
	value, err := EncodeEvent((*bufp)[:0], ev)
	if err != nil {
		encodeBufPool.Put(bufp)
		return Message{}, err
	}
	// The value outlives this call (spool, sarama's buffers), so it gets
	// its own copy and the scratch buffer goes back to the pool.
	out := make([]byte, len(value))
	copy(out, value)
	*bufp = value
	encodeBufPool.Put(bufp)

	return Message{
		Topic: EventsTopic(region),
		Key:   key,
		Value: out,
		Headers: []Header{
			{Key: HeaderFormat, Value: []byte(EventFormat)},
			{Key: HeaderSourceID, Value: []byte(ev.SourceID)},
			{Key: HeaderSeq, Value: strconv.AppendUint(nil, ev.Seq, 10)},
			{Key: HeaderRegion, Value: []byte(region)},
		},
	}, nil
}

// deadLetterValue is the JSON value of a dead-letter message. Raw is
// base64 in JSON, so the input's bytes are kept whole whatever they are.
type deadLetterValue struct {
	Version  int       `json:"v"`
	Time     time.Time `json:"time"`
	SourceID string    `json:"source"`
	Offset   int64     `json:"offset"`
	Reason   string    `json:"reason"`
	Raw      []byte    `json:"raw"`
}

// DeadLetterMessage encodes d for the dead-letter topic, keyed by its source
// id so the dead letters of one source stay in order.
func DeadLetterMessage(region string, d pipeline.DeadLetter) (Message, error) {
	value, err := json.Marshal(deadLetterValue{Version: 1, Time: d.Time.UTC(), SourceID: d.SourceID,
		Offset: d.Offset, Reason: d.Reason, Raw: d.Raw})
	if err != nil {
		return Message{}, fmt.Errorf("encode dead letter of %s at %d: %w", d.SourceID, d.Offset, err)
	}
	return Message{
		Topic: TopicDeadLetter,
		Key:   []byte(d.SourceID),
		Value: value,
		Headers: []Header{
			{Key: HeaderFormat, Value: []byte(DeadLetterFormat)},
			{Key: HeaderSourceID, Value: []byte(d.SourceID)},
			{Key: HeaderRegion, Value: []byte(region)},
		},
	}, nil
}

// DecodeDeadLetter decodes a value written by DeadLetterMessage.
func DecodeDeadLetter(data []byte) (pipeline.DeadLetter, error) {
	var v deadLetterValue
	if err := json.Unmarshal(data, &v); err != nil {
		return pipeline.DeadLetter{}, &DecodeError{Reason: ReasonInvalidJSON, Err: err}
	}
	if v.Version != 1 {
		return pipeline.DeadLetter{}, &DecodeError{Reason: ReasonUnknownFormat, Err: fmt.Errorf("dead-letter format version %d, this build reads 1", v.Version)}
	}
	return pipeline.DeadLetter{Time: v.Time, SourceID: v.SourceID, Offset: v.Offset, Reason: v.Reason, Raw: v.Raw}, nil
}

// kafkaSourceID names a topic partition as a dead-letter source, so the
// dead letter's Offset is the Kafka offset within it.
func kafkaSourceID(topic string, partition int32) string {
	return "kafka:" + topic + "/" + strconv.FormatInt(int64(partition), 10)
}
