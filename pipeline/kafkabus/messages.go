package kafkabus

import "github.com/canhgac/canhgac/i18n"

func init() {
	i18n.Register(map[string]i18n.Message{
		"kafkabus.brokers.missing": {
			VI: "thiếu địa chỉ Kafka broker: đặt kafka.brokers, ví dụ [\"127.0.0.1:9092\"]",
			EN: "no Kafka broker address: set kafka.brokers, for example [\"127.0.0.1:9092\"]",
		},
		"kafkabus.broker.invalid": {
			VI: "địa chỉ Kafka broker %q không hợp lệ: dùng dạng host:port",
			EN: "invalid Kafka broker address %q: use host:port",
		},
		"kafkabus.version.invalid": {
			VI: "kafka.version %q không hợp lệ: dùng phiên bản giao thức dạng 2.8.0, từ 2.1.0 trở lên",
			EN: "invalid kafka.version %q: use a protocol version such as 2.8.0, at least 2.1.0",
		},
		"kafkabus.compression.invalid": {
			VI: "kafka.producer.compression %q không hợp lệ: dùng none, gzip, snappy, lz4 hoặc zstd",
			EN: "invalid kafka.producer.compression %q: use none, gzip, snappy, lz4 or zstd",
		},
		"kafkabus.tls.file": {
			VI: "không đọc được tệp TLS %s (%s): %v",
			EN: "cannot read TLS %s %s: %v",
		},
		"kafkabus.tls.ca.invalid": {
			VI: "tệp CA %s không chứa chứng thư PEM nào",
			EN: "CA file %s contains no PEM certificate",
		},
		"kafkabus.tls.pair": {
			VI: "cần đặt cả kafka.tls.cert_file và kafka.tls.key_file, hoặc không đặt tệp nào",
			EN: "set both kafka.tls.cert_file and kafka.tls.key_file, or neither",
		},
		"kafkabus.sasl.password_file": {
			VI: "không đọc được tệp mật khẩu SASL %s: %v",
			EN: "cannot read SASL password file %s: %v",
		},
		"kafkabus.sasl.credentials": {
			VI: "SASL %s cần kafka.sasl.user và kafka.sasl.password (hoặc kafka.sasl.password_file)",
			EN: "SASL %s needs kafka.sasl.user and kafka.sasl.password (or kafka.sasl.password_file)",
		},
		"kafkabus.sasl.mechanism.invalid": {
			VI: "cơ chế SASL %q không hợp lệ: dùng PLAIN, SCRAM-SHA-256 hoặc SCRAM-SHA-512",
			EN: "invalid SASL mechanism %q: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512",
		},
		"kafkabus.spool.dir.missing": {
			VI: "thiếu thư mục spool của Kafka producer: đặt kafka.producer.spool.dir, nơi lưu sự kiện khi Kafka không sẵn sàng",
			EN: "no Kafka producer spool directory: set kafka.producer.spool.dir, where events are kept while Kafka is unavailable",
		},
		"kafkabus.spool.size.invalid": {
			VI: "kafka.producer.spool.max_bytes (%d) phải lớn hơn kafka.producer.spool.segment_bytes (%d)",
			EN: "kafka.producer.spool.max_bytes (%d) must be larger than kafka.producer.spool.segment_bytes (%d)",
		},
		"kafkabus.consumer.group.missing": {
			VI: "thiếu tên consumer group của Kafka: đặt kafka.consumer.group",
			EN: "no Kafka consumer group: set kafka.consumer.group",
		},
		"kafkabus.consumer.topics.missing": {
			VI: "thiếu topic cần đọc: đặt kafka.consumer.topics, ví dụ [\"canhgac.events.dc1\", \"canhgac.events.dc2\"]",
			EN: "no topics to consume: set kafka.consumer.topics, for example [\"canhgac.events.dc1\", \"canhgac.events.dc2\"]",
		},
		"kafkabus.consumer.initial.invalid": {
			VI: "kafka.consumer.initial %q không hợp lệ: dùng oldest hoặc newest",
			EN: "invalid kafka.consumer.initial %q: use oldest or newest",
		},
		"kafkabus.topics.replication": {
			VI: "không tạo được topic %s với hệ số nhân bản %d: cụm Kafka có ít broker hơn; giảm kafka.topics.replication_factor",
			EN: "cannot create topic %s with replication factor %d: the Kafka cluster has fewer brokers; lower kafka.topics.replication_factor",
		},
		"kafkabus.region.invalid": {
			VI: "tên vùng %q không hợp lệ cho tên topic Kafka: dùng chữ thường, chữ số, '-' hoặc '_', ví dụ dc1",
			EN: "invalid region %q for a Kafka topic name: use lower-case letters, digits, '-' or '_', for example dc1",
		},
	})
}

// ConfigError is an invalid setting. Its text comes from the message
// catalog, so a command can show it in the user's language with Text.
type ConfigError struct {
	// Key is the catalog key; Args fill its format.
	Key  string
	Args []any
}

func configError(key string, args ...any) *ConfigError { return &ConfigError{Key: key, Args: args} }

// Error returns the English text.
func (e *ConfigError) Error() string { return i18n.T(i18n.EN, e.Key, e.Args...) }

// Text returns the message in lang.
func (e *ConfigError) Text(lang i18n.Lang) string { return i18n.T(lang, e.Key, e.Args...) }
