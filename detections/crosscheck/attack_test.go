package crosscheck

import (
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canhgac/canhgac/detections/sigma"
	"github.com/canhgac/canhgac/ecs"
)

const (
	windowsRules = sharedRules + "/windows"
	sharedEVTX   = "../../../shared/data/evtx"
)

// readEVTXDir reads every .evtx file under dir with the EVTX sensor.
func readEVTXDir(t *testing.T, dir string) ([]*ecs.Event, map[string]string) {
	t.Helper()
	var cases []regressionCase
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(path) == ".evtx" {
			rel, _ := filepath.Rel(dir, path)
			cases = append(cases, regressionCase{name: filepath.ToSlash(rel), evtxPath: path})
		}
		return err
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return readEvents(t, cases)
}

// TestPySigmaAgreementAttackSamples runs every shared SigmaHQ Windows rule
// through both sides over the shared EVTX attack samples (EVTX-ATTACK-SAMPLES
// and DeepBlueCLI). Unlike the regression cases, these events were not
// chosen for the rules, so most of the comparison is on negatives: events
// that neither side should match.
func TestPySigmaAgreementAttackSamples(t *testing.T) {
	esURL, python := services(t)

	rs, _, err := sigma.LoadFiles([]string{windowsRules}, sigma.LoadOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("load %s: %v", windowsRules, err)
	}
	s := sample{
		document:      document,
		defaultFields: []string{"message", "event.original", "winlog.event_data.*"},
		expected:      expectedAttackSampleDifferences,
		table:         "expectedAttackSampleDifferences",
	}
	for _, r := range rs.Rules() {
		if r.IsFilter() || r.IsCorrelation() {
			continue
		}
		rel, _ := filepath.Rel(sharedRules, r.Path)
		s.rules = append(s.rules, sampledRule{name: strings.TrimSuffix(filepath.ToSlash(rel), ".yml"), id: r.ID, path: r.Path})
	}
	if len(s.rules) < 300 {
		t.Fatalf("loaded %d Windows rules from %s, want at least 300", len(s.rules), windowsRules)
	}
	s.events, s.origin = readEVTXDir(t, sharedEVTX)
	if len(s.events) < 1000 {
		t.Fatalf("read %d events from %s, want at least 1000", len(s.events), sharedEVTX)
	}
	crossCheck(t, esURL, python, s)
}
