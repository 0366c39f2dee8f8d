package esquery

import (
	"testing"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline/kql"
	"github.com/canhgac/canhgac/pipeline/kql/kqltest"
)

// BenchmarkCompile compiles every query of the shared suite once per
// iteration; ns/op divided by the number of queries is the cost of one.
func BenchmarkCompile(b *testing.B) {
	nodes := make([]kql.Node, len(kqltest.Queries))
	for i, q := range kqltest.Queries {
		nodes[i] = kql.MustParse(q)
	}
	b.ReportAllocs()
	b.ReportMetric(float64(len(nodes)), "queries/op")
	for b.Loop() {
		for _, n := range nodes {
			if _, err := Compile(n); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkDocument builds the indexed document of the fixture events,
// which the store does for every event it writes. The ecs case is
// ecs.Event.Document alone, so the difference is the cost of the words.
func BenchmarkDocument(b *testing.B) {
	events := kqltest.Events(b, sharedData)
	for _, bc := range []struct {
		name     string
		document func(*ecs.Event) map[string]any
	}{
		{"ecs", (*ecs.Event).Document},
		{"esquery", Document},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.ReportMetric(float64(len(events)), "events/op")
			for b.Loop() {
				for _, e := range events {
					bc.document(e)
				}
			}
		})
	}
}
