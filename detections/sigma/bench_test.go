package sigma

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/internal/cputime"
)

const otrfDir = "../../../shared/data/logs/windows_json/otrf"

// windowsMix returns the OTRF events and the SigmaHQ regression events:
// Security, Sysmon and PowerShell events from real attack simulations.
func windowsMix(tb testing.TB) []*ecs.Event {
	tb.Helper()
	var evs []*ecs.Event
	files, _ := filepath.Glob(filepath.Join(otrfDir, "*.json"))
	for _, f := range files {
		part, err := readOTRF(f)
		if err != nil {
			tb.Fatal(err)
		}
		evs = append(evs, part...)
	}
	err := filepath.WalkDir(regressionData, func(path string, d os.DirEntry, err error) error {
		if err != nil || filepath.Ext(path) != ".json" {
			return err
		}
		part, err := readEvtxJSON(path)
		if err != nil {
			return err
		}
		evs = append(evs, part...)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if len(evs) < 500 {
		tb.Fatalf("only %d events in the Windows mix", len(evs))
	}
	return evs
}

// BenchmarkSharedRulesWindows measures one engine with all shared SigmaHQ
// rules over the Windows event mix.
func BenchmarkSharedRulesWindows(b *testing.B) {
	rs, _, err := LoadFiles([]string{sharedRules}, LoadOptions{Logger: quietLogger})
	if err != nil {
		b.Fatal(err)
	}
	evs := windowsMix(b)
	e := NewEngine(rs, EngineOptions{})
	emit := func(Detection) {}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	for i := 0; i < b.N; i++ {
		e.Process(evs[i%len(evs)], emit)
	}
	b.StopTimer()
	cputime.Report(b, cpu, "events")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func TestOTRFDetections(t *testing.T) {
	rs, _, err := LoadFiles([]string{sharedRules}, LoadOptions{Logger: quietLogger})
	if err != nil {
		t.Fatal(err)
	}
	evs, err := readOTRF(filepath.Join(otrfDir, "psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := run(rs, EngineOptions{}, evs...)
	byRule := map[string]int{}
	for _, d := range got {
		byRule[d.Title]++
	}
	for title, n := range byRule {
		t.Logf("%4d %s", n, title)
	}
	// The simulation opens lsass.exe with read access (Security 4656/4663,
	// AccessMask 0x10) before rundll32 comsvcs.dll MiniDump writes it.
	if byRule["Potentially Suspicious AccessMask Requested From LSASS"] == 0 {
		t.Errorf("no detection of the lsass access in %d events", len(evs))
	}
}

// TestEnginesShareRuleset runs engines on one Ruleset in parallel; run it
// with -race to check that matching does not write shared state.
func TestEnginesShareRuleset(t *testing.T) {
	rs, _, err := LoadFiles([]string{sharedRules}, LoadOptions{Logger: quietLogger})
	if err != nil {
		t.Fatal(err)
	}
	evs := windowsMix(t)
	want := len(run(rs, EngineOptions{}, evs...))
	results := make(chan int, 2)
	for i := 0; i < 2; i++ {
		go func() { results <- len(run(rs, EngineOptions{}, evs...)) }()
	}
	for i := 0; i < 2; i++ {
		if got := <-results; got != want {
			t.Errorf("parallel engine found %d detections, want %d", got, want)
		}
	}
}
