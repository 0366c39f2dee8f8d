package sigma

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/canhgac/canhgac/ecs"
)

// seedRules returns a sample of the shared SigmaHQ rule files.
func seedRules(tb testing.TB, max int) [][]byte {
	var out [][]byte
	_ = filepath.WalkDir(sharedRules, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || len(out) >= max || !strings.HasSuffix(path, ".yml") {
			return err
		}
		data, rerr := os.ReadFile(path)
		if rerr == nil {
			out = append(out, data)
		}
		return nil
	})
	return out
}

func FuzzParseRule(f *testing.F) {
	for _, data := range seedRules(f, 60) {
		f.Add(data)
	}
	f.Add([]byte(ruleYAML("r1", "sel:\n    f|windash|contains|all:\n        - '-a'\n        - '/b'\ncondition: sel")))
	f.Add([]byte(failRule + "---\n" + corrRule("bf", "type: event_count\nrules: [fail]\ngroup-by: [source.ip]\ntimespan: 5m\ncondition:\n    gte: 2")))
	f.Add([]byte(procCreationRule + "---\n" + filterDoc("product: windows", "rules: [w-1]", adminFilterBody)))
	sample := []*ecs.Event{
		event(ecs.Fields{"f": "a-b", "g": int64(3), "message": "x y", "source.ip": "10.0.0.1", "event.outcome": "failure"}),
		event(ecs.Fields{"f": []string{"x", "y"}, "winlog.channel": "Security", "winlog.event_data.CommandLine": "cmd /c"}),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A hang would stall the fuzzer without a report; the panic makes
		// the worker crash so the input is saved.
		watchdog := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("slow input %q", data)) })
		defer watchdog.Stop()
		rs, rep, err := LoadBytes("fuzz.yml", data, LoadOptions{Logger: quietLogger, Placeholders: Placeholders{"p": {"v"}}})
		if err != nil {
			t.Fatalf("LoadBytes returned an error for rule text: %v", err)
		}
		for _, r := range rep.Rejected {
			if r.Err == nil || r.Reason == "" {
				t.Fatalf("rejection without reason: %+v", r)
			}
		}
		e := NewEngine(rs, EngineOptions{})
		emit := func(Detection) {}
		for _, ev := range sample {
			// The dataset of the rule is unknown, so feed the event under
			// every dataset in the index.
			for ds := range rs.index.exact {
				c := ev.Clone()
				c.Fields["event.dataset"] = ds
				e.Process(c, emit)
			}
			e.Process(ev, emit)
		}
		e.Flush(emit)
	})
}

func FuzzCondition(f *testing.F) {
	seen := map[string]bool{}
	for _, data := range seedRules(f, 400) {
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if c, ok := strings.CutPrefix(line, "condition: "); ok && !seen[c] {
				seen[c] = true
				f.Add(c)
			}
		}
	}
	f.Add("not (sel_a or 1 of filter_*) and all of them")
	searches := []string{"selection", "selection_img", "selection_cli", "filter", "filter_main_a", "keywords", "_x", "1"}
	f.Fuzz(func(t *testing.T, cond string) {
		n, err := parseCondition(cond, searches)
		if err != nil {
			if err.Key == "" || err.Error() == "" {
				t.Fatalf("error without message for %q", cond)
			}
			return
		}
		// A parsed condition only references known searches.
		var check func(*condNode)
		check = func(c *condNode) {
			for _, r := range c.refs {
				if r < 0 || r >= len(searches) {
					t.Fatalf("condition %q references search %d", cond, r)
				}
			}
			if c.kind == condNot && len(c.kids) != 1 {
				t.Fatalf("not node with %d children in %q", len(c.kids), cond)
			}
			for _, k := range c.kids {
				check(k)
			}
		}
		check(n)
	})
}

// FuzzGlob compares globMatch with the equivalent regular expression.
func FuzzGlob(f *testing.F) {
	f.Add("a*b?c", "axxbyc")
	f.Add("*\\cmd.exe", "c:\\windows\\cmd.exe")
	f.Add("*a*a*", "banana")
	f.Add("?*?", "đx")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		// Invalid UTF-8 is left out: regexp reads each bad byte as U+FFFD,
		// which a byte comparison rightly does not.
		if len(pattern) > 64 || len(s) > 256 || !utf8.ValidString(pattern) || !utf8.ValidString(s) {
			return
		}
		ss := parseSigmaString(pattern)
		m := stringMatcher(ss, "", true, pattern)
		var re strings.Builder
		re.WriteString("(?s)^")
		for i, r := range ss.runes {
			switch {
			case ss.wild[i] && r == '*':
				re.WriteString(".*")
			case ss.wild[i] && r == '?':
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString("$")
		want := regexp.MustCompile(re.String()).MatchString(s)
		var got bool
		if m.op == opGlob {
			got = globMatch(m.glob, s)
		} else {
			got = s == m.s
		}
		if got != want {
			t.Fatalf("pattern %q on %q: glob %v, regexp %v", pattern, s, got, want)
		}
	})
}
