package auth

import (
	"sync"
	"time"
)

// Limiter counts failed sign-ins per key (a user name or a client address)
// and blocks a key after MaxFailures failures within Window, for Window.
// It is safe for concurrent use.
type Limiter struct {
	// MaxFailures is the number of failures within Window that blocks a key.
	MaxFailures int
	// Window is both the counting period and the blocking time.
	Window time.Duration

	now func() time.Time

	mu      sync.Mutex
	entries map[string]*limitEntry
}

type limitEntry struct {
	start    time.Time
	failures int
	blocked  time.Time
}

// maxLimiterEntries bounds the table; when it is full, entries older than
// one window are dropped first.
const maxLimiterEntries = 100000

// NewLimiter returns a limiter that blocks a key for window after
// maxFailures failed sign-ins within window. now is the clock; nil means
// time.Now.
func NewLimiter(maxFailures int, window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{MaxFailures: maxFailures, Window: window, now: now, entries: make(map[string]*limitEntry)}
}

// Blocked reports whether key is blocked and, if so, for how much longer.
func (l *Limiter) Blocked(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[key]
	if !ok {
		return false, 0
	}
	now := l.now()
	if now.Before(e.blocked) {
		return true, e.blocked.Sub(now)
	}
	return false, 0
}

// Fail records a failed sign-in for key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e, ok := l.entries[key]
	if !ok {
		if len(l.entries) >= maxLimiterEntries {
			l.pruneLocked(now)
		}
		e = &limitEntry{start: now}
		l.entries[key] = e
	}
	if now.Sub(e.start) > l.Window {
		e.start, e.failures = now, 0
	}
	e.failures++
	if e.failures >= l.MaxFailures {
		e.blocked = now.Add(l.Window)
		e.start, e.failures = now, 0
	}
}

// Reset forgets the failures of key, after a successful sign-in.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, key)
}

func (l *Limiter) pruneLocked(now time.Time) {
	for k, e := range l.entries {
		if now.Sub(e.start) > l.Window && !now.Before(e.blocked) {
			delete(l.entries, k)
		}
	}
}
