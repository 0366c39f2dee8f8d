package auth

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseArgonHash feeds the users file's password hash parser, which
// reads a file an operator may edit by hand.
func FuzzParseArgonHash(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$3q2+7w0x8dZc1oT7m0ZL8A$6N0qH3L2cXJ9m4oFvN1nS0fQH1jY2kU3bW7cR8dE5aA")
	f.Add("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5")
	f.Add("$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy")
	f.Add("$argon2id$v=19$m=0,t=0,p=0$$")
	f.Fuzz(func(t *testing.T, hash string) {
		h, err := parseArgonHash(hash)
		if err != nil {
			return
		}
		if h.memory > maxArgonMemoryKiB || h.passes == 0 || h.threads == 0 || len(h.salt) < 8 || len(h.key) < 16 {
			t.Fatalf("parseArgonHash(%q) accepted out-of-range values: %+v", hash, h)
		}
	})
}

// FuzzParseUsers feeds the users file parser, which reads a file an
// operator may edit by hand.
func FuzzParseUsers(f *testing.F) {
	f.Add([]byte(`{"users":[{"name":"admin","role":"admin","password_hash":"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5","created_at":"2026-12-04T20:00:00Z"}]}`))
	f.Add([]byte(`{"users":[{"name":"a","role":"auditor"},{"name":"a","role":"admin"}]}`))
	f.Add([]byte(`{"users":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		users, err := parseUsers(data)
		if err != nil {
			return
		}
		for name, u := range users {
			if name != u.Name || !userNamePattern.MatchString(name) || !u.Role.CanTriage() && u.Role != RoleAuditor {
				t.Fatalf("parseUsers accepted %q with role %v", name, u.Role)
			}
		}
	})
}

// FuzzParseSessions feeds the sessions file parser.
func FuzzParseSessions(f *testing.F) {
	f.Add([]byte(`{"sessions":[{"token_sha256":"` + strings.Repeat("ab", 32) + `","user":"lan","role":"analyst","created":"2026-12-04T08:00:00Z","expires":"2026-12-04T20:00:00Z","csrf":"x"}]}`))
	f.Add([]byte(`{"sessions":[{"token_sha256":"00"}]}`))
	f.Add([]byte(`{}`))
	now := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		sessions, err := parseSessions(data, now)
		if err != nil {
			return
		}
		for _, s := range sessions {
			if !now.Before(s.Expires) {
				t.Fatalf("parseSessions kept an expired session: %+v", s)
			}
		}
	})
}
