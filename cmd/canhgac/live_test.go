package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/canhgac/canhgac/detections/sigma"
	"github.com/canhgac/canhgac/internal/config"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/embedded"
	"github.com/canhgac/canhgac/sensors/logparse"
	"github.com/canhgac/canhgac/sensors/logsensor"
)

// alertCounts maps an alert group key to the number of distinct matches
// folded into it.
type alertCounts map[string]int

// foldHunt folds hunt's JSON detections the way the store folds detections
// into alerts: one match per rule and first matching event.
func foldHunt(docs []map[string]any) alertCounts {
	seen := map[[2]string]bool{}
	out := alertCounts{}
	for _, doc := range docs {
		det, _ := doc["detection"].(map[string]any)
		group, _ := det["group_key"].(string)
		ids, _ := det["event_ids"].([]any)
		first := ""
		if len(ids) > 0 {
			first, _ = ids[0].(string)
		}
		key := [2]string{docString(doc, "rule", "id"), first}
		if seen[key] {
			continue
		}
		seen[key] = true
		out[group]++
	}
	return out
}

// ingestLive feeds one file through the live path of `canhgac run` — the
// tailer, the parser, the pipeline with the detection engine, the embedded
// store — and returns the store's alerts and event count.
func ingestLive(t *testing.T, rs *sigma.Ruleset, path string) (alertCounts, int) {
	t.Helper()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := embedded.Open(filepath.Join(dir, "store"), embedded.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	pipe := pipeline.New(store, newDetector(rs, liveEngineOptions(log)), pipeline.Options{Region: "dc1", MaxWriteDelay: 10 * time.Millisecond, Logger: log})
	pipeDone := make(chan error, 1)
	go func() { pipeDone <- pipe.Run(context.Background()) }()

	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Files = []config.FileInput{{Path: path, Format: "auto"}}
	p := &platform{cfg: cfg, c: &cli{lang: "en", stdout: io.Discard, stderr: io.Discard}, log: log, store: store, pipe: pipe, sink: pipe}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if err := p.startFiles(func(name string, run func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(ctx)
		}()
	}); err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(path)
	checkpoints, err := logsensor.OpenCheckpointStore(filepath.Join(dir, "checkpoints"))
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 2*time.Minute, "file committed", func() bool {
		cp, ok, _ := checkpoints.LoadFile(path)
		return ok && cp.Offset == info.Size()
	})
	cancel()
	wg.Wait()
	pipe.Close()
	if err := <-pipeDone; err != nil {
		t.Fatal(err)
	}

	alerts, _, err := store.Alerts(context.Background(), embedded.AlertFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	out := alertCounts{}
	for _, a := range alerts {
		out[a.GroupKey] += a.Count
	}
	all, err := store.Search(context.Background(), embedded.SearchRequest{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return out, all.Total
}

// withNewline copies a file into dir, ending it with a newline, because
// the live tailer holds an unterminated last line until the file grows.
func withNewline(t *testing.T, src, dir string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	dst := filepath.Join(dir, filepath.Base(src))
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestHuntEqualsLivePipeline runs the bundled and the shared Sigma rules
// over every shared log file twice — offline with hunt and live through
// the pipeline into the store — and expects the same alerts and events.
func TestHuntEqualsLivePipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests every shared log file")
	}
	var files []string
	for _, dir := range []string{"linux", "web", "auditd", "windows_json"} {
		filepath.WalkDir(filepath.Join(sharedData, "logs", dir), func(path string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && filepath.Base(filepath.Dir(path)) != "metadata" &&
				filepath.Ext(path) != ".csv" && filepath.Ext(path) != ".golden" && filepath.Ext(path) != ".md" {
				files = append(files, path)
			}
			return nil
		})
	}
	sort.Strings(files)
	rulePaths := []string{sharedData + "/sigma/rules"}
	c := &cli{lang: "en", stdout: io.Discard, stderr: io.Discard}
	rs, err := loadRules(c, rulePaths, "", false)
	if err != nil {
		t.Fatal(err)
	}
	totalAlerts := 0
	for _, src := range files {
		t.Run(filepath.Base(src), func(t *testing.T) {
			path := withNewline(t, src, t.TempDir())
			var out bytes.Buffer
			hc := &cli{lang: "en", stdout: &out, stderr: io.Discard, format: "json"}
			if err := hunt(context.Background(), hc, rs, logparse.FormatAuto, []string{path}); err != nil {
				t.Fatal(err)
			}
			want := foldHunt(decodeLines(t, out.Bytes()))
			got, events := ingestLive(t, rs, path)
			if events == 0 {
				t.Fatalf("live pipeline stored no events")
			}
			for key, n := range want {
				if got[key] != n {
					t.Errorf("alert %s: %d matches live, %d in hunt", key, got[key], n)
				}
			}
			for key, n := range got {
				if _, ok := want[key]; !ok {
					t.Errorf("alert %s: %d matches live, none in hunt", key, n)
				}
			}
			totalAlerts += len(want)
		})
	}
	if totalAlerts == 0 {
		t.Error("no alert in any file: the comparison proved nothing")
	}
	t.Logf("%d files, %d alert groups compared", len(files), totalAlerts)
}
