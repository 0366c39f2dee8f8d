package rules

import "testing"

func TestPackLoads(t *testing.T) {
	rs, rep, err := Load(nil, sigmaOpts())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for _, r := range rep.Rejected {
		t.Errorf("rejected %s: %s", r.Path, r.Reason)
	}
	if rep.Loaded != 9 {
		t.Errorf("loaded %d rules, want 9", rep.Loaded)
	}
	_ = rs
}
