package embedded

import (
	"io"
	"log/slog"
	"testing"
	"time"
)

var testEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func openTestStore(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
