package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// Session is one signed-in user. The token itself is not kept: sessions
// are indexed by the SHA-256 of the token, so a memory dump does not yield
// usable tokens.
type Session struct {
	User    string
	Role    Role
	Created time.Time
	Expires time.Time
	// CSRF is the per-session value that cookie-authenticated
	// state-changing requests must echo in the X-CSRF-Token header.
	CSRF string
}

// Sessions is the table of live sessions. Made by NewSessions it lives in
// memory only, so users sign in again after a restart. Made by
// OpenSessions it is also kept in a file, so CLI tokens survive a restart.
// It is safe for concurrent use.
type Sessions struct {
	ttl time.Duration
	now func() time.Time
	// path is the sessions file, "" for a table in memory only.
	path string

	mu       sync.Mutex
	sessions map[[sha256.Size]byte]Session
}

// NewSessions returns an empty session table whose sessions expire ttl
// after sign-in. now is the clock; nil means time.Now.
func NewSessions(ttl time.Duration, now func() time.Time) *Sessions {
	if now == nil {
		now = time.Now
	}
	return &Sessions{ttl: ttl, now: now, sessions: make(map[[sha256.Size]byte]Session)}
}

// Create starts a session for user and returns its bearer token, 256
// random bits encoded as base64url.
func (s *Sessions) Create(user User) (token string, session Session) {
	token = randomToken()
	now := s.now()
	session = Session{User: user.Name, Role: user.Role, Created: now, Expires: now.Add(s.ttl), CSRF: randomToken()}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	s.sessions[sha256.Sum256([]byte(token))] = session
	s.saveLocked()
	return token, session
}

// Lookup returns the live session for token.
func (s *Sessions) Lookup(token string) (Session, bool) {
	if token == "" {
		return Session{}, false
	}
	key := sha256.Sum256([]byte(token))
	s.mu.Lock()
	defer s.mu.Unlock()
	session, ok := s.sessions[key]
	if !ok {
		return Session{}, false
	}
	if !s.now().Before(session.Expires) {
		delete(s.sessions, key)
		return Session{}, false
	}
	return session, true
}

// Revoke ends the session for token. Revoking an unknown token does nothing.
func (s *Sessions) Revoke(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := sha256.Sum256([]byte(token))
	if _, ok := s.sessions[key]; !ok {
		return
	}
	delete(s.sessions, key)
	s.saveLocked()
}

// pruneLocked drops expired sessions, so the table stays bounded by the
// sign-ins of one TTL.
func (s *Sessions) pruneLocked(now time.Time) {
	for k, session := range s.sessions {
		if !now.Before(session.Expires) {
			delete(s.sessions, k)
		}
	}
}

// CheckCSRF reports whether got equals the session's CSRF value, in
// constant time.
func (session Session) CheckCSRF(got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(session.CSRF)) == 1
}

func randomToken() string {
	b := make([]byte, 32)
	// crypto/rand.Read never returns an error since Go 1.24; it crashes the
	// program if the system source fails.
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
