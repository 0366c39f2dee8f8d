package crosscheck

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/detections/sigma"
	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/sensors/filesource"
)

const (
	linuxRules = sharedRules + "/linux"
	sharedLogs = "../../../shared/data/logs"
)

// linuxLogDirs are the shared Linux log folders: syslog and sshd, and
// auditd in raw and JSON form.
var linuxLogDirs = []string{sharedLogs + "/linux", sharedLogs + "/auditd"}

// readLogEvents parses every .log and .json file under dirs with the file
// source that hunt uses. The other files there are ground truth (.csv,
// .golden) or notes (.md, .yaml), not logs.
func readLogEvents(t *testing.T, dirs []string) ([]*ecs.Event, map[string]string) {
	t.Helper()
	var events []*ecs.Event
	origin := make(map[string]string)
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if ext := filepath.Ext(path); ext != ".log" && ext != ".json" {
				return nil
			}
			rel, _ := filepath.Rel(sharedLogs, path)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, _, err = filesource.Read(ctx, path, filesource.Options{Location: time.UTC}, func(b *pipeline.Batch) error {
				for _, ev := range b.Events {
					if _, dup := origin[ev.ID]; dup {
						return fmt.Errorf("event id %s occurs twice", ev.ID)
					}
					offset, _ := ev.Fields.Int("log.offset")
					origin[ev.ID] = fmt.Sprintf("%s at byte %d", rel, offset)
					events = append(events, ev)
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("read %s: %w", path, err)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", dir, err)
		}
	}
	return events, origin
}

// logDocument is the indexed form of a log event: canhgac's own fields.
func logDocument(ev *ecs.Event) map[string]any { return flatDocument(ev) }

// TestPySigmaAgreementLinux runs every SigmaHQ Linux rule through both sides
// over the shared Linux logs (syslog, sshd, auditd), parsed by canhgac's log
// parsers. pySigma-backend-elasticsearch 2.1.1 has no Linux processing
// pipeline, so a Linux rule keeps its Sigma field names (Image, type, a0)
// while canhgac's fieldmap maps them to ECS and auditd fields. The
// comparison is therefore meaningful mainly for keyword rules, whose query
// is an unbound *value* search.
func TestPySigmaAgreementLinux(t *testing.T) {
	esURL, python := services(t)

	rs, _, err := sigma.LoadFiles([]string{linuxRules}, sigma.LoadOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("load %s: %v", linuxRules, err)
	}
	s := sample{
		document:      logDocument,
		defaultFields: []string{"message", "event.original"},
		expected:      expectedLinuxDifferences,
		table:         "expectedLinuxDifferences",
	}
	for _, r := range rs.Rules() {
		if r.IsFilter() || r.IsCorrelation() {
			continue
		}
		rel, _ := filepath.Rel(sharedRules, r.Path)
		s.rules = append(s.rules, sampledRule{name: strings.TrimSuffix(filepath.ToSlash(rel), ".yml"), id: r.ID, path: r.Path})
	}
	if len(s.rules) < 150 {
		t.Fatalf("loaded %d Linux rules from %s, want at least 150", len(s.rules), linuxRules)
	}
	s.events, s.origin = readLogEvents(t, linuxLogDirs)
	if len(s.events) < 1000 {
		t.Fatalf("read %d events from %v, want at least 1000", len(s.events), linuxLogDirs)
	}
	crossCheck(t, esURL, python, s)
}
