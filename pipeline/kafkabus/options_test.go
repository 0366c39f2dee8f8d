package kafkabus

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kfake"
	"gopkg.in/yaml.v3"

	"github.com/canhgac/canhgac/i18n"
)

func TestOptionErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	tests := []struct {
		name string
		opts Options
		key  string
	}{
		{"no brokers", Options{}, "kafkabus.brokers.missing"},
		{"broker without port", Options{Brokers: []string{"kafka1"}}, "kafkabus.broker.invalid"},
		{"old version", Options{Brokers: []string{"h:9092"}, Version: "0.10.2.0"}, "kafkabus.version.invalid"},
		{"bad version", Options{Brokers: []string{"h:9092"}, Version: "latest"}, "kafkabus.version.invalid"},
		{"missing CA", Options{Brokers: []string{"h:9092"}, TLS: TLSOptions{CAFile: filepath.Join(dir, "none.pem")}}, "kafkabus.tls.file"},
		{"CA not PEM", Options{Brokers: []string{"h:9092"}, TLS: TLSOptions{CAFile: notPEM}}, "kafkabus.tls.ca.invalid"},
		{"cert without key", Options{Brokers: []string{"h:9092"}, TLS: TLSOptions{CertFile: notPEM}}, "kafkabus.tls.pair"},
		{"unknown SASL", Options{Brokers: []string{"h:9092"}, SASL: SASLOptions{Mechanism: "GSSAPI", User: "u", Password: "p"}}, "kafkabus.sasl.mechanism.invalid"},
		{"SASL without password", Options{Brokers: []string{"h:9092"}, SASL: SASLOptions{Mechanism: "PLAIN", User: "u"}}, "kafkabus.sasl.credentials"},
		{"missing password file", Options{Brokers: []string{"h:9092"}, SASL: SASLOptions{Mechanism: "PLAIN", User: "u", PasswordFile: filepath.Join(dir, "none")}}, "kafkabus.sasl.password_file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.opts.saramaConfig()
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != tt.key {
				t.Fatalf("error = %v, want ConfigError %s", err, tt.key)
			}
			if vi := ce.Text(i18n.VI); vi == ce.Key || vi == ce.Error() {
				t.Errorf("Vietnamese text missing for %s: %q", ce.Key, vi)
			}
		})
	}
}

func TestProducerOptionErrors(t *testing.T) {
	_, err := NewProducer(Options{Brokers: []string{"127.0.0.1:1"}}, ProducerOptions{Compression: "brotli", Spool: SpoolOptions{Dir: t.TempDir()}}, nil, testLogger(t))
	var ce *ConfigError
	if !errors.As(err, &ce) || ce.Key != "kafkabus.compression.invalid" {
		t.Fatalf("error = %v, want ConfigError kafkabus.compression.invalid", err)
	}
}

func TestConsumerOptionErrors(t *testing.T) {
	opts := Options{Brokers: []string{"127.0.0.1:1"}}
	tests := []struct {
		name  string
		copts ConsumerOptions
		key   string
	}{
		{"no group", ConsumerOptions{Topics: []string{"t"}}, "kafkabus.consumer.group.missing"},
		{"no topics", ConsumerOptions{Group: "g"}, "kafkabus.consumer.topics.missing"},
		{"bad initial", ConsumerOptions{Group: "g", Topics: []string{"t"}, Initial: "latest"}, "kafkabus.consumer.initial.invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewConsumer(opts, tt.copts, newRecordingHandler(true), nil, testLogger(t))
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Key != tt.key {
				t.Fatalf("error = %v, want ConfigError %s", err, tt.key)
			}
		})
	}
}

func TestTopicsRejectsBadRegion(t *testing.T) {
	for _, region := range []string{"", "DC1", "dc 1", "dc/1"} {
		_, err := Topics([]string{region})
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != "kafkabus.region.invalid" {
			t.Errorf("Topics(%q) error = %v, want ConfigError kafkabus.region.invalid", region, err)
		}
	}
}

// writeTestCA creates a CA and a server certificate for 127.0.0.1 and
// returns the CA file path and the server's TLS configuration.
func writeTestCA(t *testing.T) (string, *tls.Config) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "canhgac test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	srvKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kafka"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return caFile, &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}}}
}

func TestTLSFake(t *testing.T) {
	caFile, serverTLS := writeTestCA(t)
	brokers := newFakeCluster(t, kfake.TLS(serverTLS))
	opts := Options{Brokers: brokers, TLS: TLSOptions{CAFile: caFile}}
	if _, err := EnsureTopics(context.Background(), opts, []TopicSpec{{Name: "tls"}}, TopicOptions{Partitions: 1, ReplicationFactor: 1}, testLogger(t)); err != nil {
		t.Fatalf("TLS with the test CA: %v", err)
	}

	// Without the CA the broker's certificate does not verify.
	cfg, err := (&Options{Brokers: brokers, TLS: TLSOptions{Enable: true}, DialTimeout: 2 * time.Second}).saramaConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Metadata.Retry.Max = 0
	if client, err := sarama.NewClient(brokers, cfg); err == nil {
		client.Close()
		t.Fatal("connected although the broker's CA is not trusted")
	}
}

func TestPublishRejectsTooLargeMessage(t *testing.T) {
	p, err := NewProducer(Options{Brokers: []string{closedPort(t)}}, ProducerOptions{MaxMessageBytes: 4096,
		ReconnectInterval: time.Hour, Spool: SpoolOptions{Dir: t.TempDir()}}, nil, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	msgs := spoolMessages(3, 0)
	msgs[1].Value = make([]byte, 4096)
	err = p.Publish(context.Background(), msgs)
	var tooLarge *MessageTooLargeError
	if !errors.As(err, &tooLarge) || tooLarge.Index != 1 {
		t.Fatalf("error = %v, want MessageTooLargeError for message 1", err)
	}
	if _, n := p.SpoolStats(); n != 0 {
		t.Errorf("%d messages spooled from a rejected batch", n)
	}
	// Messages within the limit go to the spool while Kafka is unreachable.
	if err := p.Publish(context.Background(), spoolMessages(3, 0)); err != nil {
		t.Fatal(err)
	}
	if _, n := p.SpoolStats(); n != 3 {
		t.Errorf("%d messages spooled, want 3", n)
	}
}

func TestMessageSizeMatchesSarama(t *testing.T) {
	for _, m := range spoolMessages(5, 0) {
		pm := toSarama(&m, 0, nil)
		if got, want := messageSize(&m), pm.ByteSize(2); got != want {
			t.Errorf("messageSize = %d, sarama ByteSize = %d", got, want)
		}
	}
}

func TestConfigFromYAML(t *testing.T) {
	doc := `
kafka:
  brokers: ["127.0.0.1:9092", "127.0.0.1:9093"]
  version: "3.6.0"
  dial_timeout: 3s
  tls: {ca_file: /etc/canhgac/ca.pem, cert_file: /etc/canhgac/sensor.pem, key_file: /etc/canhgac/sensor.key}
  sasl: {mechanism: SCRAM-SHA-512, user: sensor, password_file: /etc/canhgac/kafka.pass}
  producer:
    compression: zstd
    retry_backoff: 500ms
    spool: {dir: /var/lib/canhgac/spool, max_bytes: 2147483648}
  consumer:
    group: pipeline-dc1
    topics: [canhgac.events.dc1, canhgac.events.dc2]
    batch_wait: 250ms
  topics: {partitions: 12, replication_factor: 3}
`
	var file struct {
		Kafka Config `yaml:"kafka"`
	}
	if err := yaml.Unmarshal([]byte(doc), &file); err != nil {
		t.Fatal(err)
	}
	c := file.Kafka
	checks := []struct {
		name      string
		got, want any
	}{
		{"brokers", c.Brokers, []string{"127.0.0.1:9092", "127.0.0.1:9093"}},
		{"version", c.Version, "3.6.0"},
		{"dial_timeout", c.DialTimeout, 3 * time.Second},
		{"tls.key_file", c.TLS.KeyFile, "/etc/canhgac/sensor.key"},
		{"sasl.mechanism", c.SASL.Mechanism, "SCRAM-SHA-512"},
		{"sasl.password_file", c.SASL.PasswordFile, "/etc/canhgac/kafka.pass"},
		{"producer.compression", c.Producer.Compression, "zstd"},
		{"producer.retry_backoff", c.Producer.RetryBackoff, 500 * time.Millisecond},
		{"producer.spool.max_bytes", c.Producer.Spool.MaxBytes, int64(2 << 30)},
		{"consumer.topics", c.Consumer.Topics, []string{"canhgac.events.dc1", "canhgac.events.dc2"}},
		{"consumer.batch_wait", c.Consumer.BatchWait, 250 * time.Millisecond},
		{"topics.replication_factor", c.Topics.ReplicationFactor, int16(3)},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
}
