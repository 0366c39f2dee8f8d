package crosscheck

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/canhgac/canhgac/detections/sigma"
	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/internal/itest"
	"github.com/canhgac/canhgac/sensors/evtx"
)

const (
	sigmaData      = "../../../shared/data/sigma"
	regressionData = sigmaData + "/regression_data/rules"
	sharedRules    = sigmaData + "/rules"
	converter      = "pysigma/convert.py"
)

// regressionCase is one SigmaHQ regression case: a rule and the .evtx file
// of events it must match.
type regressionCase struct {
	name     string // folder under regression_data/rules, the rule's path without .yml
	ruleID   string
	rulePath string
	evtxPath string
}

// loadRegressionCases returns every case whose info.yml names an .evtx test
// file that exists.
func loadRegressionCases(t *testing.T) []regressionCase {
	t.Helper()
	var cases []regressionCase
	err := filepath.WalkDir(regressionData, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Name() != "info.yml" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var info struct {
			RuleMetadata []struct {
				ID string `yaml:"id"`
			} `yaml:"rule_metadata"`
			Tests []struct {
				Type string `yaml:"type"`
				Path string `yaml:"path"`
			} `yaml:"regression_tests_info"`
		}
		if err := yaml.Unmarshal(data, &info); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(info.RuleMetadata) == 0 {
			return nil
		}
		dir := filepath.Dir(path)
		name, err := filepath.Rel(regressionData, dir)
		if err != nil {
			return err
		}
		for _, tc := range info.Tests {
			if tc.Type != "evtx" {
				continue
			}
			evtxPath := filepath.Join(dir, filepath.Base(tc.Path))
			if _, err := os.Stat(evtxPath); err != nil {
				continue
			}
			cases = append(cases, regressionCase{
				name:     filepath.ToSlash(name),
				ruleID:   info.RuleMetadata[0].ID,
				rulePath: filepath.Join(sharedRules, name+".yml"),
				evtxPath: evtxPath,
			})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", regressionData, err)
	}
	return cases
}

// conversion is the converter's output (see pysigma/convert.py).
type conversion struct {
	Versions map[string]string `json:"versions"`
	Pipeline string            `json:"pipeline"`
	Rules    map[string]struct {
		Path  string          `json:"path"`
		Query string          `json:"query"`
		DSL   json.RawMessage `json:"dsl"`
		Error string          `json:"error"`
	} `json:"rules"`
}

// pinnedVersions are the versions that scripts/pysigma installs. The table
// of expected differences was recorded with them.
var pinnedVersions = map[string]string{"pySigma": "1.5.1", "pySigma-backend-elasticsearch": "2.1.1"}

// convertRules runs the converter once for all rule files.
func convertRules(t *testing.T, python string, rulePaths []string) conversion {
	t.Helper()
	input, err := json.Marshal(rulePaths)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, converter)
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run %s %s: %v\n%s", python, converter, err, stderr.String())
	}
	var conv conversion
	if err := json.Unmarshal(stdout.Bytes(), &conv); err != nil {
		t.Fatalf("decode output of %s: %v", converter, err)
	}
	return conv
}

// pysigmaPython returns the interpreter of the pySigma venv.
func pysigmaPython(t *testing.T) string {
	t.Helper()
	const name = "CANHGAC_PYSIGMA_PYTHON"
	python := os.Getenv(name)
	if python != "" {
		return python
	}
	if itest.Required() {
		t.Fatalf("%s is not set although CANHGAC_INTEGRATION=1: scripts/test must export the path that scripts/pysigma prints", name)
	}
	t.Skipf("%s not set: run scripts/test, or set %s=$(scripts/pysigma)", name, name)
	return ""
}

// readEvents reads the .evtx files of all cases with the EVTX sensor and
// returns the events with the case each came from. The same file named by
// two cases is read once.
func readEvents(t *testing.T, cases []regressionCase) ([]*ecs.Event, map[string]string) {
	t.Helper()
	var events []*ecs.Event
	caseOf := make(map[string]string)
	seen := make(map[string]bool)
	for _, c := range cases {
		if seen[c.evtxPath] {
			continue
		}
		seen[c.evtxPath] = true
		_, err := evtx.ReadFile(context.Background(), c.evtxPath, func(ev *ecs.Event) error {
			if _, dup := caseOf[ev.ID]; dup {
				return fmt.Errorf("event id %s occurs twice", ev.ID)
			}
			caseOf[ev.ID] = c.name
			events = append(events, ev)
			return nil
		})
		if err != nil {
			t.Fatalf("read %s: %v", c.evtxPath, err)
		}
	}
	return events, caseOf
}

// engineMatches runs the Sigma engine over events and returns, per rule
// id, the ids of the matched events.
func engineMatches(rs *sigma.Ruleset, events []*ecs.Event) map[string]map[string]bool {
	out := make(map[string]map[string]bool)
	emit := func(d sigma.Detection) {
		if out[d.RuleID] == nil {
			out[d.RuleID] = make(map[string]bool)
		}
		for _, ev := range d.Events {
			out[d.RuleID][ev.ID] = true
		}
	}
	e := sigma.NewEngine(rs, sigma.EngineOptions{})
	for _, ev := range events {
		e.Process(ev, emit)
	}
	e.Flush(emit)
	return out
}

// document is the indexed form of an event: the event as Winlogbeat 8's
// ingest pipelines store it (see winlogbeat_test.go).
func document(ev *ecs.Event) map[string]any {
	view := *ev
	view.Fields = winlogbeatView(ev.Fields)
	return flatDocument(&view)
}

// outcome is the comparison for one rule.
type outcome struct {
	rule       sampledRule
	engine     []string // event ids only the engine matched
	pysigma    []string // event ids only the pySigma query matched
	both       int      // events both matched
	convertErr string   // the backend's rejection, if any
	searchErr  string   // Elasticsearch's rejection of the query, if any
}

func (o outcome) agrees() bool {
	return o.convertErr == "" && o.searchErr == "" && len(o.engine) == 0 && len(o.pysigma) == 0
}

// sampledRule is one rule of a sample.
type sampledRule struct {
	name string // shown in the result table
	id   string
	path string
}

// sample is a set of rules and the events that every rule runs over.
type sample struct {
	rules    []sampledRule
	events   []*ecs.Event
	origin   map[string]string               // event id to where the event comes from
	document func(*ecs.Event) map[string]any // the indexed form of an event
	// defaultFields are the fields a keyword search covers: the ones the
	// engine's keyword search reads (see the sigma package documentation).
	defaultFields []string
	expected      map[string]difference // by rule id
	table         string                // Go name of expected, for failure messages
}

// services returns the Elasticsearch URL and the pySigma interpreter, or
// skips or fails the test as internal/itest does.
func services(t *testing.T) (esURL, python string) {
	t.Helper()
	return itest.ElasticURL(t), pysigmaPython(t)
}

// crossCheck converts the sample's rules with pySigma, runs the queries on
// an index of the sample's events and compares the hits with the engine's
// matches over the same events.
func crossCheck(t *testing.T, esURL, python string, s sample) {
	t.Helper()
	rulePaths := make([]string, 0, len(s.rules))
	seenPath := make(map[string]bool)
	for _, r := range s.rules {
		if !seenPath[r.path] {
			seenPath[r.path] = true
			rulePaths = append(rulePaths, r.path)
		}
	}

	conv := convertRules(t, python, rulePaths)
	for name, want := range pinnedVersions {
		if got := conv.Versions[name]; got != want {
			t.Errorf("converter ran %s %s; the expected differences were recorded with %s (scripts/pysigma pins it)", name, got, want)
		}
	}

	rs, report, err := sigma.LoadFiles(rulePaths, sigma.LoadOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("load rules: %v", err)
	}
	for _, r := range report.Rejected {
		t.Errorf("engine rejected %s: %s", r.Path, r.Reason)
	}
	matched := engineMatches(rs, s.events)

	es := newESClient(esURL)
	index := fmt.Sprintf("canhgac-crosscheck-%d", time.Now().UnixNano())
	if err := es.do("PUT", "/"+index, indexSettings(s.defaultFields), "", nil); err != nil {
		t.Fatalf("create index: %v", err)
	}
	t.Cleanup(func() {
		if err := es.do("DELETE", "/"+index, nil, "", nil); err != nil {
			t.Logf("delete index %s: %v", index, err)
		}
	})
	ids := make([]string, len(s.events))
	docs := make([]map[string]any, len(s.events))
	for i, ev := range s.events {
		ids[i], docs[i] = ev.ID, s.document(ev)
	}
	if err := es.bulkIndex(index, ids, docs); err != nil {
		t.Fatalf("index %d events: %v", len(s.events), err)
	}

	var outcomes []outcome
	for _, r := range s.rules {
		o := outcome{rule: r}
		conversion, ok := conv.Rules[r.id]
		switch {
		case !ok:
			t.Errorf("%s: converter output has no rule %s", r.name, r.id)
			continue
		case conversion.Error != "":
			// Without a query every engine match counts as engine-only,
			// so the table shows what the rejection loses.
			o.convertErr = conversion.Error
			for id := range matched[r.id] {
				o.engine = append(o.engine, id)
			}
		default:
			hits, err := es.searchIDs(index, conversion.DSL, len(s.events)+1)
			if err != nil {
				o.searchErr = err.Error()
				break
			}
			esSet := make(map[string]bool, len(hits))
			for _, id := range hits {
				esSet[id] = true
			}
			for id := range matched[r.id] {
				if esSet[id] {
					o.both++
				} else {
					o.engine = append(o.engine, id)
				}
			}
			for id := range esSet {
				if !matched[r.id][id] {
					o.pysigma = append(o.pysigma, id)
				}
			}
		}
		sort.Strings(o.engine)
		sort.Strings(o.pysigma)
		outcomes = append(outcomes, o)
	}

	checkOutcomes(t, outcomes, s, conv)
}

// TestPySigmaAgreement converts every SigmaHQ regression rule with pySigma
// (Lucene backend, ecs_windows pipeline) and runs the queries on an
// Elasticsearch index of all regression events. It compares the matched ids
// with the Sigma engine's matches of the same rules over the same events.
// Each query thus meets its own case's events and, as negatives, every
// other case's events. A rule must agree unless expectedDifferences lists
// it, and a listed rule must still differ in the listed way.
func TestPySigmaAgreement(t *testing.T) {
	esURL, python := services(t)

	cases := loadRegressionCases(t)
	if len(cases) < 100 {
		t.Fatalf("found %d regression cases with an .evtx file in %s, want at least 100", len(cases), regressionData)
	}
	events, origin := readEvents(t, cases)
	s := sample{
		events:        events,
		origin:        origin,
		document:      document,
		defaultFields: []string{"message", "event.original", "winlog.event_data.*"},
		expected:      expectedDifferences,
		table:         "expectedDifferences",
	}
	for _, c := range cases {
		s.rules = append(s.rules, sampledRule{name: c.name, id: c.ruleID, path: c.rulePath})
	}
	crossCheck(t, esURL, python, s)
}

// checkOutcomes compares outcomes with the sample's expected differences and logs the
// result table and the count of each difference class.
func checkOutcomes(t *testing.T, outcomes []outcome, s sample, conv conversion) {
	t.Helper()
	agree, agreeOnHits := 0, 0
	byClass := make(map[diffClass]int)
	var table strings.Builder
	fmt.Fprintf(&table, "%-8s %-6s %-6s %-6s %-22s %s\n", "result", "both", "engine", "pysig", "class", "rule")
	for _, o := range outcomes {
		want, listed := s.expected[o.rule.id]
		result := "agree"
		class := diffClass("")
		if !o.agrees() {
			result = "differ"
			class = want.class
			if !listed {
				class = "NEW"
			}
			byClass[class]++
		} else {
			agree++
			if o.both > 0 {
				agreeOnHits++
			}
		}
		fmt.Fprintf(&table, "%-8s %-6d %-6d %-6d %-22s %s\n", result, o.both, len(o.engine), len(o.pysigma), class, o.rule.name)

		switch {
		case o.agrees() && listed:
			t.Errorf("%s (rule %s) now agrees with pySigma; remove it from %s (%s: %s)",
				o.rule.name, o.rule.id, s.table, want.class, want.reason)
		case !o.agrees() && !listed:
			t.Errorf("%s (rule %s) differs from pySigma and %s does not list it:\n%s",
				o.rule.name, o.rule.id, s.table, describe(o, s.origin, conv))
		case !o.agrees() && !want.matchesShape(o):
			t.Errorf("%s (rule %s) differs from pySigma in another way than %s lists (%s: %s):\n%s",
				o.rule.name, o.rule.id, s.table, want.class, want.reason, describe(o, s.origin, conv))
		}
	}
	t.Logf("pySigma %s, backend %s, pipeline %s\n%s", conv.Versions["pySigma"],
		conv.Versions["pySigma-backend-elasticsearch"], conv.Pipeline, table.String())

	classes := make([]string, 0, len(byClass))
	for class, n := range byClass {
		classes = append(classes, fmt.Sprintf("%s=%d", class, n))
	}
	sort.Strings(classes)
	t.Logf("%d rules sampled over %d events: %d agree (%d of them on at least one matched event), %d differ (%s)",
		len(outcomes), len(s.events), agree, agreeOnHits, len(outcomes)-agree, strings.Join(classes, ", "))
}

// describe explains a difference for a failure message: the query and
// which regression case each differing event comes from.
func describe(o outcome, origin map[string]string, conv conversion) string {
	var b strings.Builder
	if o.convertErr != "" {
		fmt.Fprintf(&b, "  pySigma rejects the rule: %s\n", o.convertErr)
	} else {
		fmt.Fprintf(&b, "  query: %s\n", conv.Rules[o.rule.id].Query)
	}
	if o.searchErr != "" {
		fmt.Fprintf(&b, "  Elasticsearch rejects the query: %s\n", o.searchErr)
	}
	fmt.Fprintf(&b, "  both matched %d events\n", o.both)
	for _, id := range o.engine {
		fmt.Fprintf(&b, "  only the engine matched event %s of %s\n", id, origin[id])
	}
	for _, id := range o.pysigma {
		fmt.Fprintf(&b, "  only pySigma matched event %s of %s\n", id, origin[id])
	}
	return b.String()
}
