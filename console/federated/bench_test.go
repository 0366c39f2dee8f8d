package federated

import (
	"context"
	"testing"

	"github.com/canhgac/canhgac/console"
)

// BenchmarkSearch compares a page of the federation over two embedded
// stores with the same page of one store holding both regions' events
// (2000 sshd events in all).
func BenchmarkSearch(b *testing.B) {
	fx := newFixture(b, 2000)
	ctx := context.Background()
	for _, bc := range []struct {
		name  string
		store console.EventSearcher
		req   console.SearchRequest
	}{
		{"federated/first_page", fx.fed, console.SearchRequest{Limit: 100}},
		{"one_store/first_page", fx.combined, console.SearchRequest{Limit: 100}},
		{"federated/offset_1000", fx.fed, console.SearchRequest{Limit: 100, Offset: 1000}},
		{"one_store/offset_1000", fx.combined, console.SearchRequest{Limit: 100, Offset: 1000}},
		{"federated/query", fx.fed, console.SearchRequest{Query: "event.outcome:failure", Limit: 100}},
		{"one_store/query", fx.combined, console.SearchRequest{Query: "event.outcome:failure", Limit: 100}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := bc.store.Search(ctx, bc.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRegionStatus measures the status of two embedded stores of
// 1000 events each, computed through KQL searches.
func BenchmarkRegionStatus(b *testing.B) {
	fx := newFixture(b, 2000)
	ctx := context.Background()
	for b.Loop() {
		if _, err := fx.fed.RegionStatus(ctx, statusNow); err != nil {
			b.Fatal(err)
		}
	}
}
