package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Role is the permission level of a console account.
type Role int

// The console roles. An auditor reads alerts and events; an analyst also
// acknowledges and closes alerts; an admin may do everything.
const (
	RoleAuditor Role = iota + 1
	RoleAnalyst
	RoleAdmin
)

var roleNames = map[Role]string{RoleAuditor: "auditor", RoleAnalyst: "analyst", RoleAdmin: "admin"}

// String returns the role's name as stored in the users file.
func (r Role) String() string {
	if name, ok := roleNames[r]; ok {
		return name
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// ParseRole returns the role named by s.
func ParseRole(s string) (Role, error) {
	for r, name := range roleNames {
		if name == s {
			return r, nil
		}
	}
	return 0, fmt.Errorf("invalid role %q: expected admin, analyst or auditor", s)
}

// MarshalText encodes the role by name.
func (r Role) MarshalText() ([]byte, error) {
	if _, ok := roleNames[r]; !ok {
		return nil, fmt.Errorf("invalid role %d", int(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText decodes a role name.
func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// CanTriage reports whether the role may acknowledge and close alerts.
func (r Role) CanTriage() bool { return r == RoleAnalyst || r == RoleAdmin }

// User is one console account as stored in the users file.
type User struct {
	Name         string    `json:"name"`
	Role         Role      `json:"role"`
	PasswordHash string    `json:"password_hash"`
	CreatedAt    time.Time `json:"created_at"`
}

// ErrInvalidCredentials is returned for an unknown user or a wrong
// password; callers do not learn which of the two it was.
var ErrInvalidCredentials = errors.New("invalid user name or password")

var userNamePattern = regexp.MustCompile(`^[a-z][a-z0-9._-]{0,63}$`)

// MinPasswordLength is the shortest password Add and SetPassword accept.
const MinPasswordLength = 12

// Users is the set of console accounts, kept in a JSON file with mode 0600.
// It is safe for concurrent use; every change rewrites the file atomically.
type Users struct {
	path  string
	mu    sync.RWMutex
	users map[string]User
	// stamp is the size and modification time of the file as last read or
	// written; Verify rereads the file when it changes, so accounts added
	// by another process (the CLI) can sign in without a restart.
	stamp fileStamp
	// dummyHash is verified for unknown names so that a sign-in with an
	// unknown name takes as long as one with a wrong password.
	dummyHash string
}

type usersFile struct {
	Users []User `json:"users"`
}

type fileStamp struct {
	size    int64
	modTime time.Time
}

func statFile(path string) (fileStamp, bool) {
	info, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, false
	}
	return fileStamp{size: info.Size(), modTime: info.ModTime()}, true
}

// readUsersFile parses the users file; a missing file is an empty set.
func readUsersFile(path string) (map[string]User, fileStamp, error) {
	users := make(map[string]User)
	stamp, _ := statFile(path)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return users, stamp, nil
	case err != nil:
		return nil, stamp, fmt.Errorf("read users file %s: %w", path, err)
	}
	users, err = parseUsers(data)
	if err != nil {
		return nil, stamp, fmt.Errorf("users file %s: %w (fix it, or move it away to start over)", path, err)
	}
	return users, stamp, nil
}

// parseUsers decodes a users file and checks names and roles.
func parseUsers(data []byte) (map[string]User, error) {
	var f usersFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	users := make(map[string]User, len(f.Users))
	for _, user := range f.Users {
		if !userNamePattern.MatchString(user.Name) {
			return nil, fmt.Errorf("invalid user name %q: expected lower-case letters, digits, '.', '_' or '-'", user.Name)
		}
		if _, ok := roleNames[user.Role]; !ok {
			return nil, fmt.Errorf("user %q has no role: expected admin, analyst or auditor", user.Name)
		}
		if _, dup := users[user.Name]; dup {
			return nil, fmt.Errorf("user %q listed twice", user.Name)
		}
		users[user.Name] = user
	}
	return users, nil
}

// OpenUsers loads the users file at path. A missing file gives an empty
// set, which EnsureAdmin fills.
func OpenUsers(path string) (*Users, error) {
	users, stamp, err := readUsersFile(path)
	if err != nil {
		return nil, err
	}
	u := &Users{path: path, users: users, stamp: stamp}
	dummy, err := HashPassword(RandomPassword())
	if err != nil {
		return nil, err
	}
	u.dummyHash = dummy
	return u, nil
}

// Path returns the users file's path.
func (u *Users) Path() string { return u.path }

// Len returns the number of accounts.
func (u *Users) Len() int {
	u.mu.RLock()
	defer u.mu.RUnlock()
	return len(u.users)
}

// List returns every account, sorted by name.
func (u *Users) List() []User {
	u.mu.RLock()
	defer u.mu.RUnlock()
	out := make([]User, 0, len(u.users))
	for _, user := range u.users {
		out = append(out, user)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Get returns the account named name.
func (u *Users) Get(name string) (User, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	user, ok := u.users[name]
	return user, ok
}

// Verify checks a user name and password and returns the account. It
// returns ErrInvalidCredentials for an unknown name or a wrong password.
func (u *Users) Verify(name, password string) (User, error) {
	if err := u.reloadIfChanged(); err != nil {
		return User{}, err
	}
	u.mu.RLock()
	user, ok := u.users[name]
	dummy := u.dummyHash
	u.mu.RUnlock()
	if !ok {
		CheckPassword(dummy, password)
		return User{}, ErrInvalidCredentials
	}
	match, err := CheckPassword(user.PasswordHash, password)
	if err != nil {
		return User{}, fmt.Errorf("user %q: %w", name, err)
	}
	if !match {
		return User{}, ErrInvalidCredentials
	}
	return user, nil
}

// reloadIfChanged rereads the file when its size or modification time
// differs from the last read or write. A file that no longer parses keeps
// the accounts in memory and returns the error.
func (u *Users) reloadIfChanged() error {
	stamp, ok := statFile(u.path)
	u.mu.RLock()
	same := !ok || stamp == u.stamp
	u.mu.RUnlock()
	if same {
		return nil
	}
	users, stamp, err := readUsersFile(u.path)
	if err != nil {
		return err
	}
	u.mu.Lock()
	u.users, u.stamp = users, stamp
	u.mu.Unlock()
	return nil
}

// SetPassword replaces the password of an existing account and saves the
// file. Sessions signed in with the old password stay valid until they
// expire.
func (u *Users) SetPassword(name, password string) error {
	if len(password) < MinPasswordLength {
		return fmt.Errorf("password for user %q too short: use at least %d characters", name, MinPasswordLength)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if err := u.reloadIfChanged(); err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	user, ok := u.users[name]
	if !ok {
		return fmt.Errorf("user %q not found", name)
	}
	old := user
	user.PasswordHash = hash
	u.users[name] = user
	if err := u.saveLocked(); err != nil {
		u.users[name] = old
		return err
	}
	return nil
}

// Add creates an account and saves the file. It rejects an existing name,
// an invalid name and a password shorter than MinPasswordLength.
func (u *Users) Add(name string, role Role, password string) error {
	if !userNamePattern.MatchString(name) {
		return fmt.Errorf("invalid user name %q: use 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter", name)
	}
	if _, ok := roleNames[role]; !ok {
		return fmt.Errorf("invalid role %d for user %q: expected admin, analyst or auditor", int(role), name)
	}
	if len(password) < MinPasswordLength {
		return fmt.Errorf("password for user %q too short: use at least %d characters", name, MinPasswordLength)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	// Start from the file as it is now, so accounts another process added
	// are kept. TODO: two processes adding at the same moment can still
	// lose one account; the file has no lock.
	if err := u.reloadIfChanged(); err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, ok := u.users[name]; ok {
		return fmt.Errorf("user %q already exists", name)
	}
	u.users[name] = User{Name: name, Role: role, PasswordHash: hash, CreatedAt: time.Now().UTC()}
	if err := u.saveLocked(); err != nil {
		delete(u.users, name)
		return err
	}
	return nil
}

// saveLocked writes the file through a temporary file and a rename, so a
// crash leaves either the old or the new file. The caller holds u.mu.
func (u *Users) saveLocked() error {
	f := usersFile{Users: make([]User, 0, len(u.users))}
	for _, user := range u.users {
		f.Users = append(f.Users, user)
	}
	sort.Slice(f.Users, func(i, j int) bool { return f.Users[i].Name < f.Users[j].Name })
	if err := writeFileAtomic(u.path, f); err != nil {
		return fmt.Errorf("save users: %w", err)
	}
	u.stamp, _ = statFile(u.path)
	return nil
}

// AdminPasswordEnv names the environment variable that sets the first
// admin password instead of a random one.
const AdminPasswordEnv = "CANHGAC_ADMIN_PASSWORD"

// EnsureAdmin makes sure the users file at path has at least one account.
// When it has none, it creates user "admin" with role admin and returns
// created true. The password comes from CANHGAC_ADMIN_PASSWORD, and then
// EnsureAdmin returns "" so the operator's secret is not echoed. Otherwise
// it is random and returned once for the caller to show. When accounts
// exist, EnsureAdmin changes nothing and returns "", false.
func EnsureAdmin(path string) (password string, created bool, err error) {
	users, err := OpenUsers(path)
	if err != nil {
		return "", false, err
	}
	if users.Len() > 0 {
		return "", false, nil
	}
	if fromEnv := os.Getenv(AdminPasswordEnv); fromEnv != "" {
		if len(fromEnv) < MinPasswordLength {
			return "", false, fmt.Errorf("%s too short: use at least %d characters", AdminPasswordEnv, MinPasswordLength)
		}
		if err := users.Add("admin", RoleAdmin, fromEnv); err != nil {
			return "", false, err
		}
		return "", true, nil
	}
	password = RandomPassword()
	if err := users.Add("admin", RoleAdmin, password); err != nil {
		return "", false, err
	}
	return password, true, nil
}
