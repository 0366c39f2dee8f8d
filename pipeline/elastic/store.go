package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/canhgac/canhgac/pipeline"
)

// Options configure a Store. Zero values select the defaults named on each
// field; only URLs is required.
type Options struct {
	// URLs are the base URLs of the cluster's HTTP endpoints, for example
	// http://127.0.0.1:9200.
	URLs []string `yaml:"urls"`
	// Username and Password enable HTTP basic authentication.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// APIKey is a base64-encoded API key; it takes precedence over
	// Username and Password.
	APIKey string `yaml:"api_key"`
	// Region is this store's region (dc1, dc2). Events without
	// observer.geo.name are written to this region's data streams, and
	// dead letters and new alerts carry it. Required.
	Region string `yaml:"region"`
	// Replicas is index.number_of_replicas of every index the store
	// creates. Default 0, which suits a single node; use 1 or more on a
	// cluster.
	Replicas int `yaml:"replicas"`
	// Shards is index.number_of_shards of every index. Default 1.
	Shards int `yaml:"shards"`
	// SystemRetentionDays is how long events are kept, in days, unless
	// their dataset is audit data. Default 365.
	SystemRetentionDays int `yaml:"system_retention_days"`
	// AuditRetentionDays is how long audit data is kept, in days. Default
	// 730.
	AuditRetentionDays int `yaml:"audit_retention_days"`
	// AuditDatasets are the event.dataset values that are audit data. A
	// trailing '*' matches any suffix. Default auditd.*, audit.* and
	// canhgac.audit*.
	AuditDatasets []string `yaml:"audit_datasets"`
	// RolloverMaxAge rolls a data stream over when its write index is older.
	// Default 24h.
	RolloverMaxAge time.Duration `yaml:"rollover_max_age"`
	// RolloverMaxPrimaryMB rolls a data stream over when the primary store
	// of its write index exceeds this size in MiB. Default 51200 (50 GiB).
	RolloverMaxPrimaryMB int64 `yaml:"rollover_max_primary_mb"`
	// RetentionInterval is the pause between two runs of the retention job
	// in RunRetentionLoop. Default 1h.
	RetentionInterval time.Duration `yaml:"retention_interval"`
	// ReplayWindow is how long after a rollover WriteBatch also checks the
	// previous backing index for ids it is about to write, so a batch that
	// was written before the rollover and replayed after it is not stored
	// twice. Default 1h; a negative value turns the check off.
	ReplayWindow time.Duration `yaml:"replay_window"`
	// BulkMaxBytes bounds the body of one _bulk request in bytes; a larger
	// batch is sent in several requests. Default 8 MiB.
	BulkMaxBytes int `yaml:"bulk_max_bytes"`
	// BulkWorkers is the number of _bulk requests of one batch in flight
	// at once. A batch of at least 512 documents per worker is split into
	// that many requests. Default 2.
	BulkWorkers int `yaml:"bulk_workers"`
	// WritesInFlight is the number of batches one pipeline writes at once
	// (pipeline.ConcurrentStore). While the node indexes one batch the
	// pipeline sends the next, so one busy Kafka partition is not held to
	// one batch per bulk round trip. Commits keep their order. Default 2.
	WritesInFlight int `yaml:"writes_in_flight"`
	// RetryInitial is the first pause before a rejected (HTTP 429) or
	// failed (5xx) document is sent again; it doubles up to RetryMax.
	// Defaults 100ms and 10s.
	RetryInitial time.Duration `yaml:"retry_initial"`
	RetryMax     time.Duration `yaml:"retry_max"`
	// RequestTimeout bounds one HTTP request. Default 60s.
	RequestTimeout time.Duration `yaml:"request_timeout"`

	// Logger receives start, retry and error messages; nil means
	// slog.Default().
	Logger *slog.Logger `yaml:"-"`
	// Registerer receives the store's metrics; nil disables them.
	Registerer prometheus.Registerer `yaml:"-"`
	// Now returns the wall-clock time of alert changes and of the
	// retention job; nil means time.Now.
	Now func() time.Time `yaml:"-"`
	// Transport replaces the HTTP transport (tests, TLS settings); nil
	// means the client's default.
	Transport http.RoundTripper `yaml:"-"`
}

// Names of the indices and data streams the store owns.
const (
	// AlertsIndex holds one document per alert.
	AlertsIndex = "canhgac-alerts"
	// GroupsIndex maps a group key to the alert that currently counts its
	// detections.
	GroupsIndex = "canhgac-alert-groups"
	// deadLetterDataset is the dataset part of the dead-letter streams.
	deadLetterDataset = "canhgac.deadletter"
	// eventStreams matches every event data stream and no dead letters.
	eventStreams = "logs-*-*,-logs-" + deadLetterDataset + "-*"
	// deadLetterStreams matches the dead-letter streams of all regions.
	deadLetterStreams = "logs-" + deadLetterDataset + "-*"
)

// Store is the Elasticsearch event and alert store. It is safe for
// concurrent use.
type Store struct {
	opts    Options
	es      *elasticsearch.Client
	url     string // first URL, for error messages
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics
	hasILM  atomic.Bool
	streams *streamCache
}

func (o *Options) setDefaults() error {
	if len(o.URLs) == 0 {
		return &Error{Key: "elastic.option.urls"}
	}
	if o.Region == "" {
		return &Error{Key: "elastic.option.region"}
	}
	if strings.ContainsAny(o.Region, `\/*?"<>| ,#:-`) || strings.ToLower(o.Region) != o.Region {
		return &Error{Key: "elastic.option.region_invalid", Args: []any{o.Region}}
	}
	if o.Replicas < 0 {
		return &Error{Key: "elastic.option.negative", Args: []any{"replicas", o.Replicas}}
	}
	if o.Shards < 0 {
		return &Error{Key: "elastic.option.negative", Args: []any{"shards", o.Shards}}
	}
	if o.Shards == 0 {
		o.Shards = 1
	}
	if o.SystemRetentionDays < 0 {
		return &Error{Key: "elastic.option.negative", Args: []any{"system_retention_days", o.SystemRetentionDays}}
	}
	if o.SystemRetentionDays == 0 {
		o.SystemRetentionDays = 365
	}
	if o.AuditRetentionDays < 0 {
		return &Error{Key: "elastic.option.negative", Args: []any{"audit_retention_days", o.AuditRetentionDays}}
	}
	if o.AuditRetentionDays == 0 {
		o.AuditRetentionDays = 730
	}
	if o.AuditDatasets == nil {
		o.AuditDatasets = []string{"auditd.*", "audit.*", "canhgac.audit*"}
	}
	if o.RolloverMaxAge <= 0 {
		o.RolloverMaxAge = 24 * time.Hour
	}
	if o.RolloverMaxPrimaryMB <= 0 {
		o.RolloverMaxPrimaryMB = 50 * 1024
	}
	if o.RetentionInterval <= 0 {
		o.RetentionInterval = time.Hour
	}
	if o.ReplayWindow == 0 {
		o.ReplayWindow = time.Hour
	}
	if o.BulkMaxBytes <= 0 {
		o.BulkMaxBytes = 8 << 20
	}
	if o.BulkWorkers <= 0 {
		o.BulkWorkers = 2
	}
	if o.WritesInFlight <= 0 {
		o.WritesInFlight = 2
	}
	if o.RetryInitial <= 0 {
		o.RetryInitial = 100 * time.Millisecond
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 10 * time.Second
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = time.Minute
	}
	return nil
}

// New connects to the cluster, checks that it responds and runs Setup. It
// returns an *Error when an option is invalid or the cluster is
// unreachable.
func New(ctx context.Context, opts Options) (*Store, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}

	cfg := elasticsearch.Config{
		Addresses: opts.URLs,
		Username:  opts.Username,
		Password:  opts.Password,
		APIKey:    opts.APIKey,
		Transport: opts.Transport,
		// WriteBatch retries rejected documents itself, item by item, so
		// the client must not resend whole requests on its own.
		DisableRetry: true,
	}
	es, err := elasticsearch.NewClient(cfg)
	if err != nil {
		return nil, &Error{Key: "elastic.option.client", Args: []any{strings.Join(opts.URLs, ", ")}, Err: err}
	}

	s := &Store{
		opts:    opts,
		es:      es,
		url:     opts.URLs[0],
		log:     opts.Logger,
		now:     opts.Now,
		streams: newStreamCache(),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.Registerer != nil {
		s.metrics = newMetrics(opts.Registerer)
	}

	if err := s.ping(ctx); err != nil {
		return nil, err
	}
	if err := s.Setup(ctx); err != nil {
		return nil, err
	}
	s.log.Info("elasticsearch store ready", "url", s.url, "region", opts.Region, "ilm", s.hasILM.Load())
	return s, nil
}

// Region returns the store's region.
func (s *Store) Region() string { return s.opts.Region }

// WritesInFlight returns Options.WritesInFlight: how many WriteBatch calls
// of one pipeline may run at once.
func (s *Store) WritesInFlight() int { return s.opts.WritesInFlight }

// Close releases idle connections. The Store must not be used afterwards.
func (s *Store) Close() error {
	if t, ok := s.es.Transport.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
	return nil
}

// Ping checks that the cluster responds, for health checks such as the
// console's GET /api/health. It returns an *Error naming the URL when the
// cluster is unreachable.
func (s *Store) Ping(ctx context.Context) error { return s.ping(ctx) }

// ping checks that the cluster responds. GET / is not used because some
// distributions leave out the module that serves it.
func (s *Store) ping(ctx context.Context) error {
	status, body, err := s.do(ctx, http.MethodGet, "/_cluster/health", nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return s.statusError("GET /_cluster/health", status, body)
	}
	return nil
}

// do sends one request and returns the status and the whole body. A
// transport failure returns an *Error naming the URL.
func (s *Store) do(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("build request %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.es.Perform(req)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return 0, nil, fmt.Errorf("%s %s on %s: %w", method, path, s.url, err)
		}
		return 0, nil, &Error{Key: "elastic.unreachable", Args: []any{s.url}, Err: fmt.Errorf("%s %s: %w", method, path, err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("read response of %s %s from %s: %w", method, path, s.url, err)
	}
	return resp.StatusCode, data, nil
}

// doJSON sends v encoded as JSON.
func (s *Store) doJSON(ctx context.Context, method, path string, v any) (int, []byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return 0, nil, fmt.Errorf("encode body of %s %s: %w", method, path, err)
	}
	return s.do(ctx, method, path, body)
}

// esError is the error object of an Elasticsearch response.
type esError struct {
	Type     string   `json:"type"`
	Reason   string   `json:"reason"`
	CausedBy *esError `json:"caused_by"`
}

// String returns "type: reason", with the cause when there is one.
func (e *esError) String() string {
	if e == nil {
		return ""
	}
	s := e.Type + ": " + e.Reason
	if e.CausedBy != nil {
		s += " (caused by " + e.CausedBy.String() + ")"
	}
	return s
}

// parseError returns the error object of a response body, or nil.
func parseError(body []byte) *esError {
	var r struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &r) != nil || len(r.Error) == 0 {
		return nil
	}
	var e esError
	if json.Unmarshal(r.Error, &e) != nil {
		// Some handlers return the error as a plain string.
		var text string
		if json.Unmarshal(r.Error, &text) == nil {
			return &esError{Type: "error", Reason: text}
		}
		return nil
	}
	return &e
}

// statusError describes a failed request. Authentication failures get a
// catalog message, because the operator must fix the configuration.
func (s *Store) statusError(op string, status int, body []byte) error {
	detail := fmt.Sprintf("HTTP %d", status)
	if e := parseError(body); e != nil {
		detail += ": " + e.String()
	} else if len(body) > 0 {
		detail += ": " + truncate(string(body), 300)
	}
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		return &Error{Key: "elastic.auth", Args: []any{s.url}, Err: fmt.Errorf("%s: %s", op, detail)}
	}
	return fmt.Errorf("%s on %s: %s", op, s.url, detail)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

var _ pipeline.Store = (*Store)(nil)

var _ pipeline.ConcurrentStore = (*Store)(nil)
