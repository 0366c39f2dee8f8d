package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// regressionInfo is the part of a SigmaHQ regression info.yml the test uses.
type regressionInfo struct {
	RuleMetadata []struct {
		ID string `yaml:"id"`
	} `yaml:"rule_metadata"`
	Tests []struct {
		Name string `yaml:"name"`
		Type string `yaml:"type"`
		// MatchCount is the exact number of matches; a positive test
		// without it only requires at least one.
		MatchCount *int   `yaml:"match_count"`
		Path       string `yaml:"path"`
	} `yaml:"regression_tests_info"`
}

// TestSigmaHQRegression runs hunt with each rule of SigmaHQ's regression
// data on its test events, both the .evtx file and its JSON copy (the shape
// evtx_dump writes), and expects SigmaHQ's own match count from each.
func TestSigmaHQRegression(t *testing.T) {
	root := sharedData + "/sigma/regression_data"
	var infos []string
	filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Name() == "info.yml" {
			infos = append(infos, path)
		}
		return nil
	})
	cases := 0
	for _, infoPath := range infos {
		data, err := os.ReadFile(infoPath)
		if err != nil {
			t.Fatal(err)
		}
		var info regressionInfo
		if err := yaml.Unmarshal(data, &info); err != nil {
			t.Fatalf("%s: %v", infoPath, err)
		}
		if len(info.Tests) == 0 || len(info.RuleMetadata) == 0 {
			continue
		}
		dir := filepath.Dir(infoPath)
		rel, _ := filepath.Rel(filepath.Join(root, "rules"), dir)
		rule := filepath.Join(sharedData, "sigma", "rules", rel+".yml")
		id := info.RuleMetadata[0].ID
		for _, tc := range info.Tests {
			base := filepath.Join(dir, strings.TrimSuffix(filepath.Base(tc.Path), filepath.Ext(tc.Path)))
			for _, ext := range []string{".evtx", ".json"} {
				events := base + ext
				if _, err := os.Stat(events); err != nil {
					continue
				}
				cases++
				t.Run(rel+ext, func(t *testing.T) {
					got := 0
					for _, doc := range huntJSON(t, []string{rule}, events) {
						if docString(doc, "rule", "id") == id {
							got++
						}
					}
					switch {
					case tc.MatchCount != nil && got != *tc.MatchCount:
						t.Errorf("%s: %d detections of rule %s, SigmaHQ expects %d", tc.Name, got, id, *tc.MatchCount)
					case tc.MatchCount == nil && got == 0:
						t.Errorf("%s: no detection of rule %s, SigmaHQ expects at least one", tc.Name, id)
					}
				})
			}
		}
	}
	if cases < 200 {
		t.Errorf("only %d regression files found; the data set has about 120 cases with an .evtx and a .json each", cases)
	}
	t.Logf("%d SigmaHQ regression cases", cases)
}
