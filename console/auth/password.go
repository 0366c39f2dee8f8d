package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for new hashes. Memory is in KiB. The values are the
// OWASP minimum for argon2id (19 MiB, 2 passes, 1 lane) and take tens of
// milliseconds per sign-in, which the failed sign-in limiter keeps from
// being abused. Stored hashes carry their own parameters, so raising these
// later does not invalidate existing passwords.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// maxArgonMemoryKiB bounds the memory a stored hash may demand, so an edited
// users file cannot make one verification allocate gigabytes.
const maxArgonMemoryKiB = 256 * 1024

// HashPassword returns an argon2id hash of password in the PHC string
// format: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read random salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// errBadHash reports a stored hash that is not an argon2id PHC string.
var errBadHash = errors.New("invalid password hash: expected $argon2id$v=19$m=...,t=...,p=...$salt$key")

// argonHash is a parsed argon2id PHC string.
type argonHash struct {
	memory  uint32 // KiB
	passes  uint32
	threads uint8
	salt    []byte
	key     []byte
}

// parseArgonHash parses $argon2id$v=19$m=M,t=T,p=P$salt$key with
// unpadded standard base64 salt and key, and checks the parameters
// against the bounds above.
func parseArgonHash(hash string) (argonHash, error) {
	var h argonHash
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return h, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return h, fmt.Errorf("password hash version %q: %w", parts[2], errBadHash)
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.memory, &h.passes, &h.threads); err != nil {
		return h, fmt.Errorf("password hash parameters %q: %w", parts[3], errBadHash)
	}
	if h.memory < 8 || h.memory > maxArgonMemoryKiB || h.passes == 0 || h.passes > 16 || h.threads == 0 {
		return h, fmt.Errorf("password hash parameters %q out of range: %w", parts[3], errBadHash)
	}
	var err error
	if h.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return h, fmt.Errorf("password hash salt: %w", errBadHash)
	}
	if h.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return h, fmt.Errorf("password hash key: %w", errBadHash)
	}
	return h, nil
}

// CheckPassword reports whether password matches the argon2id hash. The
// comparison of the derived keys takes constant time.
func CheckPassword(hash, password string) (bool, error) {
	h, err := parseArgonHash(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), h.salt, h.passes, h.memory, h.threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(got, h.key) == 1, nil
}

// RandomPassword returns a new password of 26 base32 characters
// (128 random bits), from crypto/rand.Text.
func RandomPassword() string {
	return rand.Text()
}
