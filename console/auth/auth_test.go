package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHashPasswordRoundTrip(t *testing.T) {
	hash, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q: want PHC argon2id prefix", hash)
	}
	tests := []struct {
		password string
		want     bool
	}{
		{"correct horse battery", true},
		{"correct horse batterY", false},
		{"", false},
	}
	for _, tt := range tests {
		got, err := CheckPassword(hash, tt.password)
		if err != nil {
			t.Fatalf("CheckPassword(%q): %v", tt.password, err)
		}
		if got != tt.want {
			t.Errorf("CheckPassword(%q) = %v, want %v", tt.password, got, tt.want)
		}
	}
}

func TestCheckPasswordRejectsBadHash(t *testing.T) {
	tests := []string{
		"",
		"plain",
		"$2a$10$abcdefghijklmnopqrstuv",
		"$argon2id$v=18$m=19456,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=19456,t=2,p=1$!!$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5",
	}
	for _, hash := range tests {
		if _, err := CheckPassword(hash, "x"); err == nil {
			t.Errorf("CheckPassword(%q): want error", hash)
		}
	}
}

func TestEnsureAdminCreatesOnce(t *testing.T) {
	t.Setenv(AdminPasswordEnv, "")
	path := filepath.Join(t.TempDir(), "data", "users.json")
	password, created, err := EnsureAdmin(path)
	if err != nil {
		t.Fatal(err)
	}
	if !created || len(password) < MinPasswordLength {
		t.Fatalf("EnsureAdmin = %q, %v: want a new password", password, created)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("users file mode = %v, want 0600", info.Mode().Perm())
	}
	again, created, err := EnsureAdmin(path)
	if err != nil || created || again != "" {
		t.Errorf("second EnsureAdmin = %q, %v, %v: want no change", again, created, err)
	}
	users, err := OpenUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	u, err := users.Verify("admin", password)
	if err != nil {
		t.Fatalf("Verify admin: %v", err)
	}
	if u.Role != RoleAdmin {
		t.Errorf("admin role = %v", u.Role)
	}
}

func TestEnsureAdminFromEnv(t *testing.T) {
	t.Setenv(AdminPasswordEnv, "from-the-environment")
	path := filepath.Join(t.TempDir(), "users.json")
	password, created, err := EnsureAdmin(path)
	if err != nil || !created || password != "" {
		t.Fatalf("EnsureAdmin = %q, %v, %v: want created with the password not echoed", password, created, err)
	}
	users, err := OpenUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := users.Verify("admin", "from-the-environment"); err != nil {
		t.Errorf("admin with the password from %s: %v", AdminPasswordEnv, err)
	}
	t.Setenv(AdminPasswordEnv, "short")
	if _, _, err := EnsureAdmin(filepath.Join(t.TempDir(), "users.json")); err == nil || !strings.Contains(err.Error(), AdminPasswordEnv) {
		t.Errorf("short env password: err = %v, want one naming %s", err, AdminPasswordEnv)
	}
}

func TestUsersAddAndVerify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	users, err := OpenUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := users.Add("lan.nguyen", RoleAnalyst, "mat-khau-rat-dai"); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name, password string
		role           Role
	}{
		{"lan.nguyen", "mat-khau-rat-dai", RoleAnalyst},
		{"Upper", "mat-khau-rat-dai", RoleAnalyst},
		{"short", "ngan", RoleAnalyst},
		{"norole", "mat-khau-rat-dai", Role(9)},
	}
	for _, b := range bad {
		if err := users.Add(b.name, b.role, b.password); err == nil {
			t.Errorf("Add(%q, %v): want error", b.name, b.role)
		}
	}
	reopened, err := OpenUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reopened.Verify("lan.nguyen", "wrong-password!"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("wrong password: err = %v", err)
	}
	if _, err := reopened.Verify("nobody", "mat-khau-rat-dai"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("unknown user: err = %v", err)
	}
	u, err := reopened.Verify("lan.nguyen", "mat-khau-rat-dai")
	if err != nil || u.Role != RoleAnalyst {
		t.Errorf("Verify = %+v, %v", u, err)
	}
}

func TestOpenUsersRejectsBadFile(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]string{
		"not json":  "{",
		"bad name":  `{"users":[{"name":"Bad Name","role":"admin","password_hash":"x"}]}`,
		"bad role":  `{"users":[{"name":"a","role":"root","password_hash":"x"}]}`,
		"duplicate": `{"users":[{"name":"a","role":"admin"},{"name":"a","role":"admin"}]}`,
	}
	for name, content := range tests {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenUsers(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want one naming the file", name, err)
		}
	}
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestSessionsExpireAndRevoke(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)}
	s := NewSessions(time.Hour, clock.now)
	token, session := s.Create(User{Name: "an", Role: RoleAuditor})
	if len(token) < 40 || session.CSRF == "" || session.CSRF == token {
		t.Fatalf("token %q csrf %q: want distinct random values", token, session.CSRF)
	}
	if got, ok := s.Lookup(token); !ok || got.User != "an" || got.Role != RoleAuditor {
		t.Fatalf("Lookup = %+v, %v", got, ok)
	}
	if _, ok := s.Lookup(token + "x"); ok {
		t.Error("Lookup of a changed token succeeded")
	}
	clock.t = clock.t.Add(time.Hour)
	if _, ok := s.Lookup(token); ok {
		t.Error("Lookup after expiry succeeded")
	}
	token2, _ := s.Create(User{Name: "an", Role: RoleAuditor})
	s.Revoke(token2)
	if _, ok := s.Lookup(token2); ok {
		t.Error("Lookup after Revoke succeeded")
	}
	if !session.CheckCSRF(session.CSRF) || session.CheckCSRF("") || session.CheckCSRF("x") {
		t.Error("CheckCSRF does not compare exactly")
	}
}

func TestLimiterBlocksAfterFailures(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)}
	l := NewLimiter(3, time.Minute, clock.now)
	for i := 0; i < 2; i++ {
		l.Fail("user:admin")
	}
	if blocked, _ := l.Blocked("user:admin"); blocked {
		t.Fatal("blocked after 2 of 3 failures")
	}
	l.Fail("user:admin")
	blocked, wait := l.Blocked("user:admin")
	if !blocked || wait != time.Minute {
		t.Fatalf("Blocked = %v, %v: want blocked for 1m", blocked, wait)
	}
	if blocked, _ := l.Blocked("user:other"); blocked {
		t.Error("other key blocked")
	}
	clock.t = clock.t.Add(time.Minute)
	if blocked, _ := l.Blocked("user:admin"); blocked {
		t.Error("still blocked after the window")
	}
	l.Fail("ip:127.0.0.1")
	l.Reset("ip:127.0.0.1")
	l.Fail("ip:127.0.0.1")
	l.Fail("ip:127.0.0.1")
	if blocked, _ := l.Blocked("ip:127.0.0.1"); blocked {
		t.Error("Reset did not clear the failures")
	}
}

func TestRoleText(t *testing.T) {
	for _, r := range []Role{RoleAuditor, RoleAnalyst, RoleAdmin} {
		b, err := r.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Role
		if err := back.UnmarshalText(b); err != nil || back != r {
			t.Errorf("round trip %v: %v, %v", r, back, err)
		}
	}
	if RoleAuditor.CanTriage() || !RoleAnalyst.CanTriage() || !RoleAdmin.CanTriage() {
		t.Error("CanTriage: only analyst and admin may triage")
	}
}

func TestVerifySeesUsersAddedElsewhere(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.json")
	server, err := OpenUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	cli, err := OpenUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Add("hoa.auditor", RoleAuditor, "kiem-toan-vien-01"); err != nil {
		t.Fatal(err)
	}
	u, err := server.Verify("hoa.auditor", "kiem-toan-vien-01")
	if err != nil || u.Role != RoleAuditor {
		t.Fatalf("Verify after another process added the user: %+v, %v", u, err)
	}
	if err := os.WriteFile(path, []byte("{broken"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Verify("hoa.auditor", "kiem-toan-vien-01"); err == nil || errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("Verify with a broken file: err = %v, want the parse error", err)
	}
}

func TestSetPassword(t *testing.T) {
	users, err := OpenUsers(filepath.Join(t.TempDir(), "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := users.Add("lan", RoleAnalyst, "mat-khau-cu-123"); err != nil {
		t.Fatal(err)
	}
	if err := users.SetPassword("lan", "mat-khau-moi-456"); err != nil {
		t.Fatal(err)
	}
	if _, err := users.Verify("lan", "mat-khau-cu-123"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("old password: err = %v", err)
	}
	if _, err := users.Verify("lan", "mat-khau-moi-456"); err != nil {
		t.Errorf("new password: %v", err)
	}
	if err := users.SetPassword("nobody", "mat-khau-moi-456"); err == nil {
		t.Error("SetPassword of an unknown user: want error")
	}
	if err := users.SetPassword("lan", "short"); err == nil {
		t.Error("SetPassword with a short password: want error")
	}
}

func TestSessionsFileSurvivesRestart(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)}
	path := filepath.Join(t.TempDir(), "sessions.json")
	s, err := OpenSessions(path, time.Hour, clock.now)
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := s.Create(User{Name: "lan", Role: RoleAnalyst})
	revoked, _ := s.Create(User{Name: "minh", Role: RoleAuditor})
	s.Revoke(revoked)

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), kept) {
		t.Error("sessions file contains a token in clear")
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Errorf("sessions file mode = %v, want 0600", info.Mode().Perm())
	}

	reopened, err := OpenSessions(path, time.Hour, clock.now)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := reopened.Lookup(kept); !ok || got.User != "lan" || got.Role != RoleAnalyst || got.CSRF == "" {
		t.Errorf("session after restart = %+v, %v", got, ok)
	}
	if _, ok := reopened.Lookup(revoked); ok {
		t.Error("revoked session came back after restart")
	}
	clock.t = clock.t.Add(time.Hour)
	expired, err := OpenSessions(path, time.Hour, clock.now)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := expired.Lookup(kept); ok {
		t.Error("expired session loaded")
	}
}

func TestOpenSessionsRejectsBadFile(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"not_json": "[",
		"bad_hash": `{"sessions":[{"token_sha256":"xyz","user":"a","role":"admin","expires":"2030-01-01T00:00:00Z"}]}`,
		"bad_role": `{"sessions":[{"token_sha256":"00","user":"a","role":"root"}]}`,
	} {
		path := filepath.Join(dir, name+".json")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenSessions(path, time.Hour, nil); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want one naming the file", name, err)
		}
	}
}
