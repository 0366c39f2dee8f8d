package elastic

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/canhgac/canhgac/internal/itest"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/sensors/logparse"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		status  int
		errType string
		want    outcome
	}{
		{201, "", stored},
		{200, "", stored},
		{409, "version_conflict_engine_exception", duplicate},
		{400, "document_parsing_exception", reject},
		{400, "mapper_parsing_exception", reject},
		{400, "illegal_argument_exception", reject},
		// The per-item form of a full write queue; the test node cannot
		// produce it because its thread pool size is a static setting.
		{429, "es_rejected_execution_exception", retry},
		{429, "circuit_breaking_exception", retry},
		{503, "unavailable_shards_exception", retry},
		{500, "exception", retry},
		{409, "some_other_conflict", fail},
		{404, "index_not_found_exception", fail},
		{403, "security_exception", fail},
	}
	for _, tt := range tests {
		var e *esError
		if tt.errType != "" {
			e = &esError{Type: tt.errType}
		}
		if got := classify(tt.status, e); got != tt.want {
			t.Errorf("classify(%d, %s) = %s, want %s", tt.status, tt.errType, got, tt.want)
		}
	}
}

// The bodies under testdata were captured from the Elasticsearch 8.17.0
// test node (scripts/services/elasticsearch) with the store's filter_path.
func TestParseCapturedBulkResponses(t *testing.T) {
	body, err := os.ReadFile("testdata/bulk_mixed.json")
	if err != nil {
		t.Fatal(err)
	}
	results, err := parseBulk(body, 5)
	if err != nil {
		t.Fatal(err)
	}
	var got []outcome
	for _, r := range results {
		got = append(got, r.outcome)
	}
	if want := []outcome{reject, duplicate, reject, stored, reject}; !slices.Equal(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	if r := results[0]; r.err == nil || r.err.CausedBy == nil || !containsAll(r.err.String(), "source.ip", "not an IP") {
		t.Errorf("first item error %q lacks the field and the cause", r.err.String())
	}
	if _, err := parseBulk(body, 4); err == nil {
		t.Error("item count mismatch accepted")
	}

	breaker, err := os.ReadFile("testdata/bulk_429_breaker.json")
	if err != nil {
		t.Fatal(err)
	}
	e := parseError(breaker)
	if e == nil || e.Type != "circuit_breaking_exception" {
		t.Fatalf("parseError = %v", e)
	}
	if o := classify(http.StatusTooManyRequests, e); o != retry {
		t.Errorf("request-level breaker rejection classified %s, want retry", o)
	}
}

// signalHandler is a slog handler that reports every record of level
// warn and above on a channel, so a test waits for a retry instead of
// sleeping.
type signalHandler struct {
	slog.Handler
	warned chan string
}

func (h signalHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		select {
		case h.warned <- r.Message:
		default:
		}
	}
	return h.Handler.Handle(ctx, r)
}

// limitInflight sets the node's in-flight request breaker, a dynamic
// cluster setting, so that every _bulk body larger than 4 KiB is rejected
// with HTTP 429 circuit_breaking_exception. lift restores the default.
func limitInflight(t *testing.T, s *Store) (lift func()) {
	t.Helper()
	set := func(v any) {
		status, body, err := s.doJSON(context.Background(), http.MethodPut, "/_cluster/settings",
			map[string]any{"persistent": map[string]any{"network.breaker.inflight_requests.limit": v}})
		if err != nil || status != http.StatusOK {
			t.Fatalf("set in-flight breaker to %v: HTTP %d %s %v", v, status, body, err)
		}
	}
	set("4kb")
	lifted := false
	lift = func() {
		if !lifted {
			lifted = true
			set(nil)
		}
	}
	t.Cleanup(lift)
	return lift
}

// TestWriteBatchUnderRejections runs the retry tests on a node of their
// own: they lower a cluster-wide breaker, which would fail the requests of
// every other package's tests on a shared node.
func TestWriteBatchUnderRejections(t *testing.T) {
	node := itest.NewElastic(t)
	t.Run("retries rejected bulk", func(t *testing.T) { writeBatchRetriesRejectedBulk(t, node.URL()) })
	t.Run("stops when context ends", func(t *testing.T) { writeBatchStopsWhenContextEnds(t, node.URL()) })
}

func writeBatchRetriesRejectedBulk(t *testing.T, url string) {
	warned := make(chan string, 16)
	s, reg := newTestStore(t, func(o *Options) {
		o.URLs = []string{url}
		o.Logger = slog.New(signalHandler{Handler: slog.NewTextHandler(os.Stderr, nil), warned: warned})
		o.RetryInitial = 20 * time.Millisecond
		o.RetryMax = 100 * time.Millisecond
	})
	events, _ := parseFile(t, "linux/loghub/OpenSSH/OpenSSH_2k.log", logparse.FormatSyslog, 200, s.Region())
	lift := limitInflight(t, s)
	done := make(chan error, 1)
	go func() { done <- s.WriteBatch(context.Background(), &pipeline.Write{Events: events}) }()
	// Two rejections, then the breaker lifts.
	for i := 0; i < 2; i++ {
		select {
		case <-warned:
		case err := <-done:
			t.Fatalf("WriteBatch returned %v before any retry", err)
		case <-time.After(30 * time.Second):
			t.Fatal("no retry within 30 s")
		}
	}
	lift()
	if err := <-done; err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}
	refresh(t, s)
	if n := regionCount(t, s, s.Region()); n != int64(len(events)) {
		t.Errorf("stored %d events, want %d", n, len(events))
	}
	if got := counterValue(t, reg, "canhgac_elastic_retries_total", "reason", "circuit_breaking_exception"); got < 2*float64(len(events)) {
		t.Errorf("retry counter = %v, want at least %d (two rounds of every event)", got, 2*len(events))
	}
}

func writeBatchStopsWhenContextEnds(t *testing.T, url string) {
	warned := make(chan string, 16)
	s, _ := newTestStore(t, func(o *Options) {
		o.URLs = []string{url}
		o.Logger = slog.New(signalHandler{Handler: slog.NewTextHandler(os.Stderr, nil), warned: warned})
	})
	events, _ := parseFile(t, "linux/loghub/OpenSSH/OpenSSH_2k.log", logparse.FormatSyslog, 100, s.Region())
	limitInflight(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.WriteBatch(ctx, &pipeline.Write{Events: events}) }()
	select {
	case <-warned:
	case <-time.After(30 * time.Second):
		t.Fatal("no retry within 30 s")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("WriteBatch = %v, want context.Canceled", err)
	}
}
