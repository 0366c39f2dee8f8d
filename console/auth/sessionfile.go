package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/canhgac/canhgac/internal/atomicfile"
)

// sessionRecord is one session in the sessions file. The file stores the
// SHA-256 of each token, never the token, so reading it gives no usable
// credential except the CSRF values, which are useless without the token.
type sessionRecord struct {
	TokenSHA256 string    `json:"token_sha256"`
	User        string    `json:"user"`
	Role        Role      `json:"role"`
	Created     time.Time `json:"created"`
	Expires     time.Time `json:"expires"`
	CSRF        string    `json:"csrf"`
}

type sessionsFile struct {
	Sessions []sessionRecord `json:"sessions"`
}

// OpenSessions returns a session table kept in the file at path (mode
// 0600), with the unexpired sessions the file already holds. Sessions
// expire ttl after sign-in; now is the clock, nil means time.Now. A file
// that does not parse is an error: move it away to drop the sessions.
func OpenSessions(path string, ttl time.Duration, now func() time.Time) (*Sessions, error) {
	s := NewSessions(ttl, now)
	s.path = path
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read sessions file %s: %w", path, err)
	}
	sessions, err := parseSessions(data, s.now())
	if err != nil {
		return nil, fmt.Errorf("sessions file %s: %w (delete the file to sign everybody out)", path, err)
	}
	s.sessions = sessions
	return s, nil
}

// parseSessions decodes a sessions file and keeps the sessions that have
// not expired at now.
func parseSessions(data []byte, now time.Time) (map[[sha256.Size]byte]Session, error) {
	var f sessionsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	sessions := make(map[[sha256.Size]byte]Session, len(f.Sessions))
	for _, r := range f.Sessions {
		raw, err := hex.DecodeString(r.TokenSHA256)
		if err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("invalid token_sha256 %q: expected 64 hex digits", r.TokenSHA256)
		}
		if !now.Before(r.Expires) {
			continue
		}
		var key [sha256.Size]byte
		copy(key[:], raw)
		sessions[key] = Session{User: r.User, Role: r.Role, Created: r.Created, Expires: r.Expires, CSRF: r.CSRF}
	}
	return sessions, nil
}

// saveLocked writes the table to the sessions file, when there is one,
// through a temporary file and a rename. The caller holds s.mu. A failed
// write is logged and the session stays valid in memory, so a full disk
// does not stop sign-ins. It costs only the survival of the session
// across a restart.
func (s *Sessions) saveLocked() {
	if s.path == "" {
		return
	}
	f := sessionsFile{Sessions: make([]sessionRecord, 0, len(s.sessions))}
	for key, session := range s.sessions {
		f.Sessions = append(f.Sessions, sessionRecord{TokenSHA256: hex.EncodeToString(key[:]), User: session.User,
			Role: session.Role, Created: session.Created, Expires: session.Expires, CSRF: session.CSRF})
	}
	if err := writeFileAtomic(s.path, f); err != nil {
		slog.Error("save sessions failed; sessions will not survive a restart", "path", s.path, "err", err)
	}
}

// writeFileAtomic writes v as indented JSON to path with mode 0600 through
// a temporary file in the same folder and a rename.
func writeFileAtomic(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create directory %s: %w", dir, err)
	}
	return atomicfile.WriteFile(path, append(data, '\n'), 0o600)
}
