package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline/embedded"
	"github.com/canhgac/canhgac/sensors/evtx"
	"github.com/canhgac/canhgac/sensors/logsensor"
)

// TestRestartAfterKillStoresEveryLineOnce kills `canhgac run` with SIGKILL
// while it ingests a large log, starts it again, and checks that the store
// then holds every line of the log exactly once.
func TestRestartAfterKillStoresEveryLineOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	logPath := filepath.Join(dir, "auth.log")
	sample, err := os.ReadFile(sharedData + "/logs/linux/loghub/OpenSSH/OpenSSH_2k.log")
	if err != nil {
		t.Fatal(err)
	}
	if sample[len(sample)-1] != '\n' {
		// The tailer holds a last line without a newline until more data
		// comes, so end each copy with one.
		sample = append(sample, '\n')
	}
	// 30 copies are about 60k lines: several store writes, so the kill
	// lands mid-ingest, yet small enough for a loaded machine.
	const copies = 30
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < copies; i++ {
		f.Write(sample)
	}
	f.Close()
	info, _ := os.Stat(logPath)
	lines := copies * countNewlines(sample)

	dataDir := filepath.Join(dir, "data")
	args := []string{"--data", dataDir, "--no-system-logs", "--file", logPath,
		"--syslog-udp", "off", "--syslog-tcp", "off", "--listen", freeAddr(t)}
	env := []string{"CANHGAC_ADMIN_PASSWORD=restart-test-password"}

	committed := func() int64 {
		cps, err := logsensor.OpenCheckpointStore(filepath.Join(dataDir, "checkpoints"))
		if err != nil {
			return 0
		}
		cp, ok, err := cps.LoadFile(logPath)
		if err != nil || !ok {
			return 0
		}
		return cp.Offset
	}

	first := startServer(t, env, args...)
	waitUntil(t, 60*time.Second, "first committed batch", func() bool { return committed() > 0 })
	first.kill(t)
	atKill := committed()
	t.Logf("killed at committed offset %d of %d bytes", atKill, info.Size())
	if atKill >= info.Size() {
		t.Fatalf("the whole log was ingested before the kill; make the log larger")
	}

	second := startServer(t, env, append(args, "--listen", freeAddr(t))...)
	deadline := time.Now().Add(5 * time.Minute)
	for committed() != info.Size() {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 min the restarted process has committed %d of %d bytes\n%s", committed(), info.Size(), second.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	second.stop(t)

	store, err := embedded.Open(filepath.Join(dataDir, "store"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	all, err := store.Search(ctx, embedded.SearchRequest{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if all.Total != lines {
		t.Errorf("store holds %d events, want %d (one per line)", all.Total, lines)
	}
	beyond, err := store.Search(ctx, embedded.SearchRequest{QueryText: fmt.Sprintf("event.sequence > %d", lines), Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if beyond.Total != 0 {
		t.Errorf("%d events have a line number beyond the last line %d", beyond.Total, lines)
	}
}

func countNewlines(b []byte) int {
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

// TestCorrelationSurvivesRestarts splits SSH brute forces over restarts of
// `canhgac run`: six failures, a clean stop, six more; then six failures
// from a second address, SIGKILL once they are committed, six more. Each
// brute force needs ten failures within five minutes, so it is raised only
// if the correlation state crossed the restart, and it must be raised once.
func TestCorrelationSurvivesRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	const bruteForce = "1b2433f2-d9fb-4885-b2f5-15efb9d61a31"
	dir := t.TempDir()
	logPath := filepath.Join(dir, "auth.log")
	dataDir := filepath.Join(dir, "data")
	args := []string{"--data", dataDir, "--no-system-logs", "--file", logPath,
		"--syslog-udp", "off", "--syslog-tcp", "off"}
	env := []string{"CANHGAC_ADMIN_PASSWORD=restart-test-password"}
	start := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	line := 0
	appendFailures := func(ip string, n int) {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for range n {
			at := start.Add(time.Duration(line) * 5 * time.Second)
			fmt.Fprintf(f, "%s web1 sshd[%d]: Failed password for root from %s port %d ssh2\n",
				at.Format(time.Stamp), 4000+line, ip, 40000+line)
			line++
		}
	}
	committed := func() int64 {
		cps, err := logsensor.OpenCheckpointStore(filepath.Join(dataDir, "checkpoints"))
		if err != nil {
			return 0
		}
		cp, ok, err := cps.LoadFile(logPath)
		if err != nil || !ok {
			return 0
		}
		return cp.Offset
	}
	size := func() int64 {
		fi, err := os.Stat(logPath)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	ingest := func(what string) *server {
		s := startServer(t, env, append(args, "--listen", freeAddr(t))...)
		deadline := time.Now().Add(2 * time.Minute)
		for committed() != size() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: committed %d of %d bytes after 2 min\n%s", what, committed(), size(), s.stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		return s
	}

	appendFailures("203.0.113.50", 6)
	ingest("first six failures committed").stop(t)
	appendFailures("203.0.113.50", 6)
	appendFailures("198.51.100.9", 6)
	ingest("second batch committed").kill(t)
	appendFailures("198.51.100.9", 6)
	ingest("last six failures committed").stop(t)

	store, err := embedded.Open(filepath.Join(dataDir, "store"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	alerts, _, err := store.Alerts(context.Background(), embedded.AlertFilter{RuleID: bruteForce})
	if err != nil {
		t.Fatal(err)
	}
	byIP := map[string]int{}
	for _, a := range alerts {
		ip, _ := a.Fields.String("source.ip")
		byIP[ip] += a.Count
		if len(a.EventIDs) < 10 {
			t.Errorf("alert %s for %s lists %d events, want at least 10", a.ID, ip, len(a.EventIDs))
		}
	}
	for _, ip := range []string{"203.0.113.50", "198.51.100.9"} {
		if byIP[ip] != 1 {
			t.Errorf("brute force from %s raised %d times across the restarts, want once (alerts: %+v)", ip, byIP[ip], alerts)
		}
	}
}

// TestRunWatchesEVTXFolder runs `canhgac run --evtx-dir` on a folder into
// which a SigmaHQ regression case's EVTX file is copied after the start:
// every record is stored once and the case's rule raises its alert.
func TestRunWatchesEVTXFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	caseDir := sharedData + "/sigma/regression_data/rules/windows/process_creation/proc_creation_win_wmic_recon_process"
	const ruleID = "221b251a-357a-49a9-920a-271802777cc0"
	rule := sharedData + "/sigma/rules/windows/process_creation/proc_creation_win_wmic_recon_process.yml"
	dir := t.TempDir()
	evtxDir := filepath.Join(dir, "forwarded")
	dataDir := filepath.Join(dir, "data")
	if err := os.Mkdir(evtxDir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, []string{"CANHGAC_ADMIN_PASSWORD=evtx-test-password"},
		"--data", dataDir, "--no-system-logs", "--evtx-dir", evtxDir, "--rules", rule,
		"--syslog-udp", "off", "--syslog-tcp", "off", "--listen", freeAddr(t))
	data, err := os.ReadFile(caseDir + "/" + ruleID + ".evtx")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(evtxDir, "Sysmon.evtx"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	var records int
	if _, err := evtx.ReadFile(context.Background(), filepath.Join(evtxDir, "Sysmon.evtx"), func(*ecs.Event) error { records++; return nil }); err != nil {
		t.Fatal(err)
	}
	store, err := embedded.Open(filepath.Join(dataDir, "store"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	stored := func() int {
		res, err := store.Search(ctx, embedded.SearchRequest{QueryText: "event.dataset:windows.*", Limit: 1})
		if err != nil {
			return -1
		}
		return res.Total
	}
	waitUntil(t, 60*time.Second, "EVTX records stored", func() bool { return stored() == records })
	waitUntil(t, 30*time.Second, "alert of the case's rule", func() bool {
		alerts, _, err := store.Alerts(ctx, embedded.AlertFilter{RuleID: ruleID})
		return err == nil && len(alerts) == 1 && alerts[0].Count == 1
	})
	s.stop(t)
	if n := stored(); n != records {
		t.Errorf("store holds %d Windows events, want %d (one per record)", n, records)
	}
}
