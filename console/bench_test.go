package console_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/canhgac/canhgac/console/auth"
)

// benchGet measures one authenticated API call against the embedded store
// seeded with the whole OpenSSH sample (2000 events).
func benchGet(b *testing.B, path string) {
	env := newTestEnvWith(b, 2000)
	bearer := env.bearer("minh.auditor")
	b.ResetTimer()
	for b.Loop() {
		res := env.do(nil, "GET", path, "", bearer)
		if res.status != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, res.status, res.raw)
		}
	}
}

func BenchmarkSearchAPI(b *testing.B) {
	benchGet(b, "/api/search?from=now-7d&limit=50&q="+url.QueryEscape("user.name:root and event.outcome:failure"))
}

func BenchmarkSearchAPIAll(b *testing.B) {
	benchGet(b, "/api/search?from=now-7d&limit=100&q=")
}

func BenchmarkOverviewAPI(b *testing.B) {
	benchGet(b, "/api/overview?from=now-7d")
}

func BenchmarkAlertDetailAPI(b *testing.B) {
	env := newTestEnvWith(b, 2000)
	bearer := env.bearer("minh.auditor")
	b.ResetTimer()
	for b.Loop() {
		if res := env.do(nil, "GET", "/api/alerts/"+env.alertID, "", bearer); res.status != http.StatusOK {
			b.Fatalf("alert: %d", res.status)
		}
	}
}

// BenchmarkCheckPassword is the argon2id cost of one sign-in.
func BenchmarkCheckPassword(b *testing.B) {
	hash, err := auth.HashPassword("analyst-password-123")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := auth.CheckPassword(hash, "analyst-password-123"); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
