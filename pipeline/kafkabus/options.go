package kafkabus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Config gathers every Kafka setting of a canhgac process. Configuration
// files hold it under the key "kafka", and the messages of ConfigError
// name settings by that path (kafka.producer.spool.dir).
type Config struct {
	Options  `yaml:",inline"`
	Producer ProducerOptions `yaml:"producer"`
	Consumer ConsumerOptions `yaml:"consumer"`
	Topics   TopicOptions    `yaml:"topics"`
}

// Options are the connection settings shared by the producer, the consumer,
// the state store and EnsureTopics.
type Options struct {
	// Brokers are the bootstrap addresses, host:port.
	Brokers []string `yaml:"brokers"`
	// ClientID names this process in the brokers' logs and quotas.
	// Default "canhgac".
	ClientID string `yaml:"client_id"`
	// Version is the Kafka protocol version the client speaks, such as
	// "3.6.0". Default "2.8.0"; "2.1.0" is the oldest that Kafka 4 accepts.
	Version string `yaml:"version"`
	// DialTimeout bounds one connection attempt. Default 5s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// RequestTimeout bounds one request to a broker (sarama's read and
	// write timeouts). Default 10s.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	TLS            TLSOptions    `yaml:"tls"`
	SASL           SASLOptions   `yaml:"sasl"`
}

// TLSOptions enable TLS to the brokers. TLS is on when Enable is true or
// any file is set.
type TLSOptions struct {
	Enable bool `yaml:"enable"`
	// CAFile is a PEM bundle of the CAs that sign the brokers' certificates.
	// Empty means the system roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are the client certificate and key (PEM) for
	// mutual TLS. Set both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ServerName overrides the name checked in the brokers' certificates.
	ServerName string `yaml:"server_name"`
}

// SASLOptions enable SASL authentication.
type SASLOptions struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty disables SASL.
	Mechanism string `yaml:"mechanism"`
	User      string `yaml:"user"`
	// Password is the secret; prefer PasswordFile so it stays out of the
	// configuration file.
	Password string `yaml:"password"`
	// PasswordFile is read at start; trailing newlines are removed.
	PasswordFile string `yaml:"password_file"`
}

// Compression codec names accepted in ProducerOptions.Compression.
var compressionCodecs = map[string]sarama.CompressionCodec{
	"none":   sarama.CompressionNone,
	"gzip":   sarama.CompressionGZIP,
	"snappy": sarama.CompressionSnappy,
	"lz4":    sarama.CompressionLZ4,
	"zstd":   sarama.CompressionZSTD,
}

func (o *Options) withDefaults() Options {
	c := *o
	if c.ClientID == "" {
		c.ClientID = "canhgac"
	}
	if c.Version == "" {
		c.Version = "2.8.0"
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 10 * time.Second
	}
	return c
}

// saramaConfig returns a sarama configuration for the connection settings.
// Producer and consumer settings are added by their constructors.
func (o *Options) saramaConfig() (*sarama.Config, error) {
	opts := o.withDefaults()
	if len(opts.Brokers) == 0 {
		return nil, configError("kafkabus.brokers.missing")
	}
	for _, b := range opts.Brokers {
		if !strings.Contains(b, ":") {
			return nil, configError("kafkabus.broker.invalid", b)
		}
	}

	cfg := sarama.NewConfig()
	cfg.ClientID = opts.ClientID
	version, err := sarama.ParseKafkaVersion(opts.Version)
	if err != nil || !version.IsAtLeast(sarama.V2_1_0_0) {
		return nil, configError("kafkabus.version.invalid", opts.Version)
	}
	cfg.Version = version
	cfg.Net.DialTimeout = opts.DialTimeout
	cfg.Net.ReadTimeout = opts.RequestTimeout
	cfg.Net.WriteTimeout = opts.RequestTimeout
	cfg.Metadata.Retry.Max = 2
	cfg.Metadata.Retry.Backoff = 250 * time.Millisecond

	if err := opts.TLS.apply(cfg); err != nil {
		return nil, err
	}
	if err := opts.SASL.apply(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (t *TLSOptions) apply(cfg *sarama.Config) error {
	if !t.Enable && t.CAFile == "" && t.CertFile == "" && t.KeyFile == "" {
		return nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return configError("kafkabus.tls.file", "ca_file", t.CAFile, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return configError("kafkabus.tls.ca.invalid", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		return configError("kafkabus.tls.pair")
	}
	if t.CertFile != "" {
		pair, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return configError("kafkabus.tls.file", "cert_file/key_file", t.CertFile+", "+t.KeyFile, err)
		}
		tc.Certificates = []tls.Certificate{pair}
	}
	cfg.Net.TLS.Enable = true
	cfg.Net.TLS.Config = tc
	return nil
}

func (s *SASLOptions) apply(cfg *sarama.Config) error {
	if s.Mechanism == "" {
		return nil
	}
	password := s.Password
	if s.PasswordFile != "" {
		data, err := os.ReadFile(s.PasswordFile)
		if err != nil {
			return configError("kafkabus.sasl.password_file", s.PasswordFile, err)
		}
		password = strings.TrimRight(string(data), "\r\n")
	}
	if s.User == "" || password == "" {
		return configError("kafkabus.sasl.credentials", s.Mechanism)
	}

	cfg.Net.SASL.Enable = true
	cfg.Net.SASL.Handshake = true
	cfg.Net.SASL.User = s.User
	cfg.Net.SASL.Password = password
	auth := scram.Auth{User: s.User, Pass: password}
	switch strings.ToUpper(s.Mechanism) {
	case "PLAIN":
		cfg.Net.SASL.Mechanism = sarama.SASLTypePlaintext
	case "SCRAM-SHA-256":
		cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{mech: auth.AsSha256Mechanism()} }
	case "SCRAM-SHA-512":
		cfg.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
		cfg.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return &scramClient{mech: auth.AsSha512Mechanism()} }
	default:
		return configError("kafkabus.sasl.mechanism.invalid", s.Mechanism)
	}
	return nil
}

// scramClient adapts franz-go's SCRAM implementation (RFC 5802) to the
// SCRAMClient interface that sarama calls during the SASL exchange.
type scramClient struct {
	mech    sasl.Mechanism
	session sasl.Session
	first   []byte
	started bool
	done    bool
}

func (c *scramClient) Begin(_, _, _ string) error {
	session, first, err := c.mech.Authenticate(context.Background(), "")
	if err != nil {
		return fmt.Errorf("start SCRAM: %w", err)
	}
	c.session, c.first = session, first
	return nil
}

func (c *scramClient) Step(challenge string) (string, error) {
	if !c.started {
		c.started = true
		return string(c.first), nil
	}
	done, response, err := c.session.Challenge([]byte(challenge))
	if err != nil {
		return "", err
	}
	c.done = done
	return string(response), nil
}

func (c *scramClient) Done() bool { return c.done }
