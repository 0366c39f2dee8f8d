package federated

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/canhgac/canhgac/console"
)

// Region is one regional backend.
type Region struct {
	// Name is the region's name (dc1, dc2), used in warnings and set as
	// observer.geo.name on events that lack it.
	Name string
	// Events and Alerts are the region's stores, usually one value (an
	// esstore.Store or embedstore.Store) that implements both.
	Events console.EventSearcher
	Alerts console.AlertStore
	// ConsumerLag, when set, returns the number of the region's bus
	// messages that its pipeline has not consumed yet, for RegionStatus.
	ConsumerLag func(ctx context.Context) (int64, error)
}

// Options configure a Store.
type Options struct {
	// Timeout bounds each region's part of a call. Default 10s.
	Timeout time.Duration
	// Logger receives a message per failed region call, at most one per
	// region and minute with the count of those not logged; nil means
	// slog.Default().
	Logger *slog.Logger
	// Registerer receives the per-region request time and failure count
	// (canhgac_console_region_*); nil disables them.
	Registerer prometheus.Registerer
}

// DefaultTimeout is the per-region timeout when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Store serves the console from several regions. It is safe for
// concurrent use when the regional stores are.
type Store struct {
	regions []Region
	timeout time.Duration
	log     *slog.Logger
	metrics *metrics // nil without Options.Registerer

	mu      sync.Mutex
	limiter map[string]*logLimit
}

// The console's interfaces are implemented; the compiler checks it here.
var (
	_ console.EventSearcher      = (*Store)(nil)
	_ console.AlertStore         = (*Store)(nil)
	_ console.RegionStatusReader = (*Store)(nil)
)

// New returns a Store over regions, which are asked in the given order. It
// returns an error when a region has no name, a duplicate name or no
// stores.
func New(regions []Region, opts Options) (*Store, error) {
	if len(regions) == 0 {
		return nil, errors.New("federated: no regions given: configure at least one region with its store")
	}
	seen := map[string]bool{}
	for i, r := range regions {
		switch {
		case strings.TrimSpace(r.Name) == "":
			return nil, fmt.Errorf("federated: region %d has no name: set its name (for example dc1)", i+1)
		case seen[r.Name]:
			return nil, fmt.Errorf("federated: region %q is configured twice: give each region one store", r.Name)
		case r.Events == nil || r.Alerts == nil:
			return nil, fmt.Errorf("federated: region %q has no event or alert store", r.Name)
		}
		seen[r.Name] = true
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	s := &Store{
		regions: append([]Region(nil), regions...),
		timeout: opts.Timeout,
		log:     opts.Logger,
		limiter: map[string]*logLimit{},
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if opts.Registerer != nil {
		s.metrics = newMetrics(opts.Registerer)
	}
	return s, nil
}

// Regions returns the region names in the configured order.
func (s *Store) Regions() []string {
	names := make([]string, len(s.regions))
	for i, r := range s.regions {
		names[i] = r.Name
	}
	return names
}

// reply is one region's result of a fanned-out call.
type reply[T any] struct {
	region string
	value  T
	err    error
}

// fanOut calls call for each selected region concurrently, each under the
// per-region timeout, and returns the replies in region order.
func fanOut[T any](ctx context.Context, s *Store, selected []Region, call func(ctx context.Context, r Region) (T, error)) []reply[T] {
	replies := make([]reply[T], len(selected))
	var wg sync.WaitGroup
	for i, r := range selected {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx, cancel := context.WithTimeout(ctx, s.timeout)
			defer cancel()
			start := time.Now()
			v, err := call(rctx, r)
			if err != nil && rctx.Err() != nil && ctx.Err() == nil {
				err = fmt.Errorf("region %s timed out after %s: %w", r.Name, s.timeout, err)
			}
			s.metrics.observe(r.Name, time.Since(start), err)
			replies[i] = reply[T]{region: r.Name, value: v, err: err}
		}()
	}
	wg.Wait()
	return replies
}

// isCallerError reports errors that are the request's fault, the same in
// every region, and so returned as they are instead of becoming warnings.
func isCallerError(err error) bool {
	return errors.Is(err, console.ErrInvalidQuery) || errors.Is(err, context.Canceled)
}

// failures turns failed replies into warnings, logs them and reports them
// to the collector in ctx. It returns the error to return instead of a
// result: a caller error of any region, or, when every region failed, the
// first region's error wrapped with console.ErrRegionUnavailable.
func failures[T any](ctx context.Context, s *Store, op string, replies []reply[T]) ([]console.RegionWarning, error) {
	var warnings []console.RegionWarning
	var first error
	for _, r := range replies {
		if r.err == nil {
			continue
		}
		if isCallerError(r.err) || ctx.Err() != nil {
			return nil, r.err
		}
		if first == nil {
			first = fmt.Errorf("%s: every region failed, first %s: %w: %w", op, r.region, console.ErrRegionUnavailable, r.err)
		}
		warnings = append(warnings, console.RegionWarning{Region: r.region, Err: r.err.Error()})
		console.AddWarning(ctx, r.region, r.err)
		s.logFailure(op, r.region, r.err)
	}
	if len(warnings) == len(replies) && len(replies) > 0 {
		return nil, first
	}
	return warnings, nil
}

// logLimit counts the failures of one region since its last log line.
type logLimit struct {
	last       time.Time
	suppressed int
}

// logFailure logs a failed region call, at most once per region and
// minute, with the number of failures not logged since.
func (s *Store) logFailure(op, region string, err error) {
	s.mu.Lock()
	l := s.limiter[region]
	if l == nil {
		l = &logLimit{}
		s.limiter[region] = l
	}
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < time.Minute {
		l.suppressed++
		s.mu.Unlock()
		return
	}
	suppressed := l.suppressed
	l.last, l.suppressed = now, 0
	s.mu.Unlock()
	s.log.Warn("region left out of result", "region", region, "op", op, "err", err, "not_logged_since_last", suppressed)
}
