package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/internal/itest"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/elastic"
	"github.com/canhgac/canhgac/sensors/filesource"
)

// TestConsoleOverRegions runs `canhgac console` over two regions: one
// holds the shared OpenSSH log in Elasticsearch, the other's cluster does
// not answer. Search and alerts come from the first region, marked with
// it, and the CLI shows the console's warning about the second.
func TestConsoleOverRegions(t *testing.T) {
	esURL := itest.ElasticURL(t)
	binary(t) // build before HOME moves, so the Go caches stay where they are
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)
	t.Setenv("CANHGAC_LANG", "en")
	up := fmt.Sprintf("cup%d", time.Now().UnixNano()%1e9)
	down := up + "x"

	ctx := context.Background()
	store, err := elastic.New(ctx, elastic.Options{URLs: []string{esURL}, Region: up,
		SystemRetentionDays: 36500, AuditRetentionDays: 36500})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	log := sharedData + "/logs/linux/loghub/OpenSSH/OpenSSH_2k.log"
	stored := 0
	_, _, err = filesource.Read(ctx, log, filesource.Options{}, func(b *pipeline.Batch) error {
		for _, ev := range b.Events {
			ev.Fields["observer.geo.name"] = up
		}
		stored += len(b.Events)
		return store.WriteBatch(ctx, &pipeline.Write{Events: b.Events})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Refresh(ctx); err != nil {
		t.Fatal(err)
	}

	cfg := filepath.Join(dir, "canhgac.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`regions: [%s, %s]
region: %s
elasticsearch: {urls: [%s]}
region_elasticsearch:
  %s: {urls: ["http://%s"], request_timeout: 2s}
`, up, down, up, esURL, down, freeAddr(t))), 0o600)
	srv := startConsoleCommand(t, []string{"CANHGAC_ADMIN_PASSWORD=console-test-password"}, "console",
		"--config", cfg, "--data", filepath.Join(dir, "data"), "--listen", freeAddr(t), "--lang", "en")
	if !strings.Contains(srv.stderr.String(), "Region "+down+" is unreachable at start") {
		t.Errorf("console start does not report the unreachable region:\n%s", srv.stderr.String())
	}
	t.Setenv("CANHGAC_PASSWORD", "console-test-password")
	if code, out, errOut := runCLI(t, "login", "--server", srv.url); code != 0 {
		t.Fatalf("login: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, "search", "event.outcome:failure", "--from", "now-3650d", "--to", "now+1d", "--format", "json", "--limit", "50")
	if code != 0 {
		t.Fatalf("search: exit %d\n%s", code, errOut)
	}
	docs := decodeLines(t, []byte(out))
	if len(docs) != 50 {
		t.Errorf("search returned %d events, want a full page of 50", len(docs))
	}
	for _, doc := range docs {
		if obs, _ := doc["observer"].(map[string]any); obs == nil || obs["geo"].(map[string]any)["name"] != up {
			t.Fatalf("event not marked with region %s: %v", up, doc["observer"])
		}
	}
	if !strings.Contains(errOut, "Warning:") || !strings.Contains(errOut, down) {
		t.Errorf("search does not warn that region %s was left out; stderr:\n%s", down, errOut)
	}
	t.Logf("%d events stored in %s; the console served them with a warning for %s", stored, up, down)
	srv.stop(t)
}
