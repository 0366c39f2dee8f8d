package sigma

import (
	"strings"
	"testing"

	"github.com/canhgac/canhgac/i18n"
)

func TestConditionErrors(t *testing.T) {
	searches := []string{"sel", "sel_a", "filter"}
	tests := []struct {
		cond    string
		wantKey string
		wantIn  string // substring of the English message
	}{
		{"sel and", "sigma.err.cond_syntax", "position 8: condition ends where a search identifier"},
		{"sel or or filter", "sigma.err.cond_syntax", `position 8: unexpected "or"`},
		{"(sel", "sigma.err.cond_syntax", "a closing ) is expected"},
		{"sel)", "sigma.err.cond_syntax", `unexpected ")", expected and, or or the end`},
		{"sel filter", "sigma.err.cond_syntax", `unexpected "filter"`},
		{"2 of sel*", "sigma.err.cond_count", `"2 of" is not supported`},
		{"sel | count() > 5", "sigma.err.cond_aggregation", "| count() > 5"},
		{"sel*", "sigma.err.cond_syntax", `pattern "sel*" can only follow`},
		{"unknown", "sigma.err.cond_unknown_ident", `"unknown"`},
		{"1 of nomatch*", "sigma.err.cond_pattern_empty", `"nomatch*"`},
		{"sel $ filter", "sigma.err.cond_syntax", `position 5: invalid character "$"`},
		{"all sel", "sigma.err.cond_syntax", "expected the keyword of"},
		{"1 of (sel)", "sigma.err.cond_syntax", "a search identifier pattern or them"},
		{"", "sigma.err.cond_syntax", "position 1: condition ends"},
		{"not", "sigma.err.cond_syntax", "condition ends"},
	}
	for _, tc := range tests {
		t.Run(tc.cond, func(t *testing.T) {
			_, err := parseCondition(tc.cond, searches)
			if err == nil {
				t.Fatalf("parseCondition(%q) succeeded, want %s", tc.cond, tc.wantKey)
			}
			if err.Key != tc.wantKey {
				t.Errorf("key = %s, want %s (%v)", err.Key, tc.wantKey, err)
			}
			if !strings.Contains(err.Error(), tc.wantIn) {
				t.Errorf("message %q does not contain %q", err.Error(), tc.wantIn)
			}
			if vi := err.Message(i18n.VI); vi == err.Error() || strings.Contains(vi, "sigma.") {
				t.Errorf("Vietnamese message missing: %q", vi)
			}
		})
	}
}

func TestRejections(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		wantKey string
		wantIn  string
	}{
		{"unknown modifier", ruleYAML("r1", "sel:\n    f|nosuch: a\ncondition: sel"), "sigma.err.in_field", `modifier "nosuch" is not supported`},
		{"regex lookahead", ruleYAML("r1", "sel:\n    f|re: 'a(?!b)'\ncondition: sel"), "sigma.err.in_field", "not supported by the RE2 engine"},
		{"bad cidr", ruleYAML("r1", "sel:\n    f|cidr: 10.0.0.300/8\ncondition: sel"), "sigma.err.in_field", `invalid value "10.0.0.300/8"`},
		{"missing placeholder", ruleYAML("r1", "sel:\n    f|expand: '%nope%'\ncondition: sel"), "sigma.err.in_field", "placeholder %nope% has no values"},
		{"utf16 without base64", ruleYAML("r1", "sel:\n    f|wide: a\ncondition: sel"), "sigma.err.in_field", `"wide" requires base64 or base64offset`},
		{"base64 wildcard", ruleYAML("r1", "sel:\n    f|base64: 'a*'\ncondition: sel"), "sigma.err.in_field", "contains wildcards"},
		{"gt not number", ruleYAML("r1", "sel:\n    f|gt: abc\ncondition: sel"), "sigma.err.in_field", `"gt": invalid value "abc"`},
		{"two match modifiers", ruleYAML("r1", "sel:\n    f|contains|startswith: a\ncondition: sel"), "sigma.err.in_field", `"startswith" cannot be combined with "contains"`},
		{"re flag without re", ruleYAML("r1", "sel:\n    f|i: a\ncondition: sel"), "sigma.err.in_field", `"i" requires re before it`},
		{"exists not boolean", ruleYAML("r1", "sel:\n    f|exists: maybe\ncondition: sel"), "sigma.err.in_field", "true or false"},
		{"keyword cidr", ruleYAML("r1", "kw:\n    '|cidr':\n        - 10.0.0.0/8\ncondition: kw"), "sigma.err.in_field", "cannot be used on a keyword search"},
		{"nested map value", ruleYAML("r1", "sel:\n    f:\n        g: a\ncondition: sel"), "sigma.err.in_field", "scalar or a list of scalars"},
		{"all with one value", ruleYAML("r1", "sel:\n    f|contains|all: a\ncondition: sel"), "sigma.err.in_field", "needs a list of two or more values"},
		{"all with one-item list", ruleYAML("r1", "sel:\n    f|contains|all:\n        - a\ncondition: sel"), "sigma.err.in_field", "needs a list of two or more values"},
		{"no condition", ruleYAML("r1", "sel:\n    f: a"), "sigma.err.no_condition", "no condition"},
		{"aggregation", ruleYAML("r1", "sel:\n    f: a\ncondition: sel | count() by h > 3"), "sigma.err.cond_aggregation", "correlation rule"},
		{"no title", "id: x\nlogsource:\n    product: a\ndetection:\n    sel:\n        f: a\n    condition: sel\n", "sigma.err.missing", `"title"`},
		{"no logsource", "title: t\ndetection:\n    sel:\n        f: a\n    condition: sel\n", "sigma.err.missing", `"logsource"`},
		{"invalid yaml", "title: [unclosed\n", "sigma.err.yaml", "invalid YAML"},
		{"duplicate id", ruleYAML("r1", "sel:\n    f: a\ncondition: sel") + "---\n" + ruleYAML("r1", "sel:\n    f: b\ncondition: sel"), "sigma.err.duplicate_id", `rule id "r1" is already used`},
		{"unknown correlation rule", "title: c\nid: c1\ncorrelation:\n    type: event_count\n    rules: [nope]\n    timespan: 5m\n    condition: {gte: 2}\n", "sigma.err.corr_rule", `rule "nope"`},
		{"correlation cycle", "title: a\nid: a\ncorrelation:\n    type: event_count\n    rules: [b]\n    timespan: 5m\n    condition: {gte: 2}\n---\ntitle: b\nid: b\ncorrelation:\n    type: event_count\n    rules: [a]\n    timespan: 5m\n    condition: {gte: 2}\n", "sigma.err.corr_cycle", "cycle"},
		{"bad timespan", "title: c\nid: c1\ncorrelation:\n    type: event_count\n    rules: [x]\n    timespan: 5 minutes\n    condition: {gte: 2}\n", "sigma.err.timespan", `"5 minutes"`},
		{"unknown correlation type", "title: c\nid: c1\ncorrelation:\n    type: value_sum\n    rules: [x]\n    timespan: 5m\n", "sigma.err.corr_type", `"value_sum"`},
		{"value_count without field", "title: c\nid: c1\ncorrelation:\n    type: value_count\n    rules: [x]\n    timespan: 5m\n    condition: {gte: 2}\n", "sigma.err.corr_field", "condition.field"},
		{"temporal one rule", "title: c\nid: c1\ncorrelation:\n    type: temporal\n    rules: [x]\n    timespan: 5m\n", "sigma.err.corr_temporal_rules", "at least two rules"},
		{"bad action", "action: nope\ntitle: t\n", "sigma.err.action", `"nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, rep, err := LoadBytes("test.yml", []byte(tc.text), LoadOptions{Logger: quietLogger})
			if err != nil {
				t.Fatalf("LoadBytes: %v", err)
			}
			if len(rep.Rejected) == 0 {
				t.Fatalf("no rejection, want %s", tc.wantKey)
			}
			last := rep.Rejected[0]
			if last.Err.Key != tc.wantKey {
				t.Errorf("key = %s, want %s (%s)", last.Err.Key, tc.wantKey, last.Reason)
			}
			if !strings.Contains(last.Reason, tc.wantIn) {
				t.Errorf("reason %q does not contain %q", last.Reason, tc.wantIn)
			}
			if vi := last.Message(i18n.VI); vi == last.Reason || strings.Contains(vi, "%!") {
				t.Errorf("Vietnamese reason missing or malformed: %q", vi)
			}
			for _, r := range rs.Rules() {
				if r.Path == "test.yml" && r.ID == last.ID && r.Document == last.Doc {
					t.Errorf("rejected rule %s is in the Ruleset", r.ID)
				}
			}
		})
	}
}

func TestRuleCollectionGlobal(t *testing.T) {
	text := `action: global
title: shared
logsource:
    product: test
    service: unit
detection:
    base:
        f: a
    condition: base and sel
level: low
---
id: one
detection:
    sel:
        g: "1"
---
id: two
detection:
    sel:
        g: "2"
`
	rs := mustLoad(t, text, LoadOptions{})
	if n := len(rs.Rules()); n != 2 {
		t.Fatalf("loaded %d rules, want 2", n)
	}
	got := run(rs, EngineOptions{}, event(map[string]any{"f": "a", "g": "2"}))
	if len(got) != 1 || got[0].RuleID != "two" {
		t.Fatalf("detections = %+v, want one of rule two", got)
	}
	if got[0].Title != "shared" {
		t.Errorf("title = %q, want the global title", got[0].Title)
	}
}

func TestCatalogComplete(t *testing.T) {
	for _, key := range i18n.Keys("sigma.") {
		vi, en := i18n.T(i18n.VI, key), i18n.T(i18n.EN, key)
		if vi == en {
			t.Errorf("%s: Vietnamese and English texts are equal", key)
		}
	}
}
