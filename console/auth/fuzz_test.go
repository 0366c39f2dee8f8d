package auth

import "testing"

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
