package console_test

import (
	"testing"

	"github.com/canhgac/canhgac/console/embedstore"
	"github.com/canhgac/canhgac/pipeline/embedded"
)

// newTestStore opens the embedded store in a temporary folder; tests run
// against the store `canhgac run` uses.
func newTestStore(t testing.TB) (*embedded.Store, *embedstore.Store) {
	t.Helper()
	s, err := embedded.Open(t.TempDir(), embedded.Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("open embedded store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close embedded store: %v", err)
		}
	})
	return s, embedstore.New(s)
}
