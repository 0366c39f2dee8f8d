package embedded

import (
	"context"
	"slices"
	"testing"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline/kql"
	"github.com/canhgac/canhgac/pipeline/kql/kqltest"
)

// TestConformanceWithMatch runs the shared kqltest suite through the store
// and through kql.Match and expects the same events.
func TestConformanceWithMatch(t *testing.T) {
	events := allFixtureEvents(t)
	if len(events) < 800 {
		t.Fatalf("only %d fixture events; is ../../../shared/data present?", len(events))
	}
	s := openTestStore(t)
	ctx := context.Background()
	for i := 0; i < len(events); i += 250 {
		end := min(i+250, len(events))
		if err := s.WriteBatch(ctx, &Batch{Events: events[i:end]}); err != nil {
			t.Fatalf("WriteBatch: %v", err)
		}
	}
	nonEmpty := 0
	for _, q := range kqltest.Queries {
		t.Run(q, func(t *testing.T) {
			node, err := kql.Parse(q)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var want []string
			for _, e := range events {
				if kql.Match(node, e) {
					want = append(want, e.ID)
				}
			}
			res, err := s.Search(ctx, SearchRequest{Query: node, Limit: len(events) + 1})
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			got := make([]string, len(res.Events))
			for i, e := range res.Events {
				got[i] = e.ID
			}
			slices.Sort(want)
			slices.Sort(got)
			if res.Total != len(want) {
				t.Errorf("Total = %d, Match finds %d", res.Total, len(want))
			}
			if !slices.Equal(got, want) {
				t.Errorf("store returns %d events, Match %d; only in store: %v; only in Match: %v",
					len(got), len(want), diff(got, want), diff(want, got))
			}
			if len(want) > 0 && len(want) < len(events) {
				nonEmpty++
			}
		})
	}
	if nonEmpty < len(kqltest.Queries)/2 {
		t.Errorf("only %d of %d queries select a proper subset; the fixtures do not exercise the queries", nonEmpty, len(kqltest.Queries))
	}
}

func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
			if len(out) == 5 {
				break
			}
		}
	}
	return out
}

// TestRoundTripEvents checks that stored events come back with the same
// fields.
func TestRoundTripEvents(t *testing.T) {
	events := allFixtureEvents(t)
	s := openTestStore(t)
	ctx := context.Background()
	if err := s.WriteBatch(ctx, &Batch{Events: events}); err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}
	byID := map[string]*ecs.Event{}
	for _, e := range events {
		byID[e.ID] = e
	}
	res, err := s.Search(ctx, SearchRequest{Limit: len(events)})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	for _, got := range res.Events {
		want := byID[got.ID]
		if !got.Timestamp.Equal(want.Timestamp) || got.SourceID != want.SourceID || got.Seq != want.Seq {
			t.Errorf("event %s: header %v %s %d, want %v %s %d", got.ID, got.Timestamp, got.SourceID, got.Seq, want.Timestamp, want.SourceID, want.Seq)
		}
		for k, v := range want.Fields {
			if v == nil {
				continue
			}
			g, ok := got.Fields[k]
			if !ok {
				t.Errorf("event %s lost field %s", got.ID, k)
				continue
			}
			if ecsString(g) != ecsString(v) {
				t.Errorf("event %s field %s = %#v, want %#v", got.ID, k, g, v)
			}
		}
	}
}

func ecsString(v any) string {
	b, _ := (&ecs.Event{Fields: ecs.Fields{"v": v}, Timestamp: testEpoch}).MarshalJSON()
	return string(b)
}
