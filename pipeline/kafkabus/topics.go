package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/IBM/sarama"
)

// TopicOptions size the topics that EnsureTopics creates.
type TopicOptions struct {
	// Partitions of each new topic. Default 6. Partitions bound the
	// parallelism of one consumer group.
	Partitions int32 `yaml:"partitions"`
	// ReplicationFactor of each new topic. Default 3, or the number of
	// brokers when the cluster has fewer (a single test broker gets 1).
	ReplicationFactor int16 `yaml:"replication_factor"`
}

// TopicSpec is one topic EnsureTopics manages.
type TopicSpec struct {
	Name string
	// Compacted topics keep the latest record per key (cleanup.policy=compact).
	Compacted bool
}

// Topics returns the platform's topics for the given regions: one events
// topic per region, alerts, audit, dead letters and the compacted state topic.
func Topics(regions []string) ([]TopicSpec, error) {
	var out []TopicSpec
	for _, r := range regions {
		if !validTopicPart(r) {
			return nil, configError("kafkabus.region.invalid", r)
		}
		out = append(out, TopicSpec{Name: EventsTopic(r)})
	}
	return append(out,
		TopicSpec{Name: TopicAlerts},
		TopicSpec{Name: TopicAudit},
		TopicSpec{Name: TopicDeadLetter},
		TopicSpec{Name: TopicState, Compacted: true},
	), nil
}

// validTopicPart reports whether s fits a Kafka topic name and is lower
// case, so regions map to one topic name each.
func validTopicPart(s string) bool {
	if s == "" || len(s) > 200 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// EnsureTopics creates the topics of specs that do not exist yet and
// returns the names it created. Existing topics are left as they are,
// whatever their partition count or settings, so calling it again is
// harmless. A topic that another process creates at the same moment
// counts as existing.
func EnsureTopics(ctx context.Context, opts Options, specs []TopicSpec, topts TopicOptions, log *slog.Logger) ([]string, error) {
	if log == nil {
		log = slog.Default()
	}
	if topts.Partitions <= 0 {
		topts.Partitions = 6
	}
	cfg, err := opts.saramaConfig()
	if err != nil {
		return nil, err
	}
	admin, err := sarama.NewClusterAdmin(opts.Brokers, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to kafka %v: %w", opts.Brokers, err)
	}
	defer admin.Close()
	if topts.ReplicationFactor <= 0 {
		brokers, _, err := admin.DescribeCluster()
		if err != nil {
			return nil, fmt.Errorf("describe kafka cluster: %w", err)
		}
		topts.ReplicationFactor = int16(min(3, max(1, len(brokers))))
	}

	existing, err := admin.ListTopics()
	if err != nil {
		return nil, fmt.Errorf("list kafka topics: %w", err)
	}
	var created []string
	for _, spec := range specs {
		if err := ctx.Err(); err != nil {
			return created, err
		}
		if _, ok := existing[spec.Name]; ok {
			continue
		}
		detail := &sarama.TopicDetail{NumPartitions: topts.Partitions, ReplicationFactor: topts.ReplicationFactor}
		if spec.Compacted {
			policy := "compact"
			detail.ConfigEntries = map[string]*string{"cleanup.policy": &policy}
		}
		err := admin.CreateTopic(spec.Name, detail, false)
		var topicErr *sarama.TopicError
		switch {
		case err == nil:
			created = append(created, spec.Name)
			log.Info("created kafka topic", "topic", spec.Name, "partitions", topts.Partitions,
				"replication_factor", topts.ReplicationFactor, "compacted", spec.Compacted)
		case errors.As(err, &topicErr) && topicErr.Err == sarama.ErrTopicAlreadyExists:
		case errors.As(err, &topicErr) && topicErr.Err == sarama.ErrInvalidReplicationFactor:
			return created, configError("kafkabus.topics.replication", spec.Name, topts.ReplicationFactor)
		default:
			return created, fmt.Errorf("create kafka topic %s: %w", spec.Name, err)
		}
	}
	return created, nil
}
