package sigma

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const regressionData = "../../../shared/data/sigma/regression_data"

// TestSigmaHQRegression runs SigmaHQ's own regression cases: for every
// info.yml, the rule must match its JSON events exactly match_count times
// with all shared rules loaded.
func TestSigmaHQRegression(t *testing.T) {
	rs, _, err := LoadFiles([]string{sharedRules}, LoadOptions{Logger: quietLogger})
	if err != nil {
		t.Fatalf("LoadFiles: %v", err)
	}
	var infos []string
	err = filepath.WalkDir(regressionData, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "info.yml" {
			infos = append(infos, path)
		}
		return err
	})
	if err != nil {
		t.Fatalf("walk regression data: %v", err)
	}
	cases := 0
	for _, info := range infos {
		data, err := os.ReadFile(info)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			RuleMetadata []struct {
				ID string `yaml:"id"`
			} `yaml:"rule_metadata"`
			Tests []struct {
				Type       string `yaml:"type"`
				Name       string `yaml:"name"`
				MatchCount *int   `yaml:"match_count"`
				Path       string `yaml:"path"`
			} `yaml:"regression_tests_info"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", info, err)
		}
		if len(doc.RuleMetadata) == 0 {
			continue
		}
		ruleID := doc.RuleMetadata[0].ID
		for _, tc := range doc.Tests {
			if tc.Type != "evtx" {
				continue
			}
			jsonPath := filepath.Join(filepath.Dir(info), strings.TrimSuffix(filepath.Base(tc.Path), ".evtx")+".json")
			if _, err := os.Stat(jsonPath); err != nil {
				continue
			}
			cases++
			name := filepath.Base(filepath.Dir(info))
			t.Run(name, func(t *testing.T) {
				if _, ok := rs.Rule(ruleID); !ok {
					t.Fatalf("rule %s is not loaded", ruleID)
				}
				evs, err := readEvtxJSON(jsonPath)
				if err != nil {
					t.Fatal(err)
				}
				got := countRule(run(rs, EngineOptions{}, evs...), ruleID)
				// Without match_count a "Positive Detection Test"
				// requires a match on every event of the file.
				want := len(evs)
				if tc.MatchCount != nil {
					want = *tc.MatchCount
				}
				if got != want {
					t.Errorf("rule %s matched %d times over %d events, want %d", ruleID, got, len(evs), want)
				}
			})
		}
	}
	t.Logf("%d regression cases", cases)
	if cases < 100 {
		t.Errorf("found %d regression cases, want at least 100", cases)
	}
}
