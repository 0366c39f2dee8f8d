package sigma

import (
	"sort"
	"strings"
	"testing"
)

const sharedRules = "../../../shared/data/sigma/rules"

func TestLoadSharedRules(t *testing.T) {
	rs, rep, err := LoadFiles([]string{sharedRules}, LoadOptions{})
	if err != nil {
		t.Fatalf("LoadFiles: %v", err)
	}
	total := rep.Loaded + len(rep.Rejected)
	t.Logf("shared SigmaHQ rules: %d loaded, %d rejected of %d (%.1f%% loaded), %d routed by convention",
		rep.Loaded, len(rep.Rejected), total, 100*float64(rep.Loaded)/float64(total), len(rep.Notes))
	reasons := map[string]int{}
	for _, r := range rep.Rejected {
		t.Logf("rejected %s (%s): %s", r.Path, r.ID, r.Reason)
		reasons[r.Err.Key]++
		if r.Err == nil || !strings.HasPrefix(r.Err.Key, "sigma.err.") {
			t.Errorf("rejection of %s has no catalog key", r.Path)
		}
	}
	keys := make([]string, 0, len(reasons))
	for k := range reasons {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("reason %s: %d", k, reasons[k])
	}
	if rate := float64(rep.Loaded) / float64(total); rate < 0.95 {
		t.Errorf("loaded %.1f%% of the shared rules, want at least 95%%", 100*rate)
	}
	if len(rs.Rules())+len(rs.Filters()) != rep.Loaded {
		t.Errorf("Ruleset has %d rules, report says %d", len(rs.Rules()), rep.Loaded)
	}
}
