package console

import (
	"context"
	"testing"

	"github.com/canhgac/canhgac/pipeline"
)

// testStore is what the tests need from a store: the console's interfaces
// plus the pipeline's write path for seeding.
type testStore interface {
	EventSearcher
	AlertStore
	WriteBatch(ctx context.Context, w *pipeline.Write) error
}

func newTestStore(t testing.TB) testStore {
	return newDevStore()
}
