// Package itest gives integration tests the addresses of the real servers
// that scripts/test starts (Kafka, Elasticsearch), so that every test finds
// them the same way and none of them skips silently in CI.
//
// scripts/test exports CANHGAC_INTEGRATION=1 together with the addresses.
// With CANHGAC_INTEGRATION=1 a missing address fails the test with the
// reason; without it (a developer running `go test ./...` by hand) the test
// is skipped with a message that says how to run it.
package itest

import (
	"os"
	"strings"
	"testing"
)

// Required reports whether integration tests must run (CANHGAC_INTEGRATION=1).
func Required() bool { return os.Getenv("CANHGAC_INTEGRATION") == "1" }

// ElasticURL returns the base URL of the Elasticsearch node from
// CANHGAC_ES_URL, for example http://127.0.0.1:9200.
func ElasticURL(t testing.TB) string {
	t.Helper()
	return need(t, "CANHGAC_ES_URL", "an Elasticsearch node (scripts/services/elasticsearch start)")
}

// KafkaBrokers returns the broker addresses from CANHGAC_KAFKA_BROKERS, a
// comma-separated list such as 127.0.0.1:9092.
func KafkaBrokers(t testing.TB) []string {
	t.Helper()
	v := need(t, "CANHGAC_KAFKA_BROKERS", "a Kafka broker (scripts/services/kafka start)")
	var out []string
	for _, b := range strings.Split(v, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

func need(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	if Required() {
		t.Fatalf("%s is not set although CANHGAC_INTEGRATION=1: scripts/test must start %s and export it", name, what)
	}
	t.Skipf("%s not set: run scripts/test, or start %s and set %s", name, what, name)
	return ""
}
