package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/canhgac/canhgac/detections/sigma"
	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/i18n"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/sensors/filesource"
	"github.com/canhgac/canhgac/sensors/logparse"
)

func huntCommand() *command {
	var rules, placeholders, format string
	var noBundled bool
	return &command{
		name:    "hunt",
		summary: "cli.hunt.summary",
		usage:   "cli.hunt.usage",
		flags: func(fs *flag.FlagSet, c *cli) {
			formatFlag(fs, c)
			fs.StringVar(&rules, "rules", "", i18n.T(c.lang, "cli.flag.rules"))
			fs.StringVar(&placeholders, "placeholders", "", i18n.T(c.lang, "cli.flag.placeholders"))
			fs.BoolVar(&noBundled, "no-bundled-rules", false, i18n.T(c.lang, "cli.flag.no_bundled"))
			fs.StringVar(&format, "log-format", "auto", i18n.T(c.lang, "cli.flag.log_format"))
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			if len(args) == 0 {
				return &usageError{fail("cli.error.args_missing", argName("cli.arg.path"))}
			}
			logFormat, err := logparse.ParseFormat(format)
			if err != nil {
				return &usageError{err}
			}
			rs, err := loadRules(c, splitList(rules), placeholders, noBundled || rules != "")
			if err != nil {
				return err
			}
			return hunt(ctx, c, rs, logFormat, args)
		},
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// skippedInFolders are extensions of files that sit beside logs in folders
// (documentation, expected-output files, metadata, rules) and are not
// logs themselves. A hunt over a folder leaves them out; naming one as an
// argument still reads it.
var skippedInFolders = map[string]bool{".md": true, ".csv": true, ".yml": true, ".yaml": true, ".golden": true, ".rules": true}

// input is one file to read; named is set when the user named it rather
// than a folder holding it.
type input struct {
	path  string
	named bool
}

// expandInputs turns folders into the files below them, sorted, so a hunt
// over a folder reads every file in a stable order. It returns the files to
// read and the number left out by extension.
func expandInputs(paths []string) ([]input, int, error) {
	skipped := 0
	var files []input
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, 0, fail("cli.hunt.input_missing", p, err)
		}
		if !info.IsDir() {
			files = append(files, input{path: p, named: true})
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			if skippedInFolders[strings.ToLower(filepath.Ext(path))] {
				skipped++
				return nil
			}
			found = append(found, path)
			return nil
		})
		if err != nil {
			return nil, 0, fail("cli.hunt.input_missing", p, err)
		}
		sort.Strings(found)
		for _, f := range found {
			files = append(files, input{path: f})
		}
	}
	return files, skipped, nil
}

// readInputs reads the files in order and hands every event to onEvent,
// with a progress bar on a terminal. A file of a kind that cannot be read
// is an error when the user named it and is left out with a warning when it
// was found in a folder. It returns the numbers of files read, events and
// unparseable inputs.
func readInputs(ctx context.Context, c *cli, paths []string, logFormat logparse.Format, onEvent func(*ecs.Event) error) (files, events, dead int, err error) {
	inputs, skipped, err := expandInputs(paths)
	if err != nil {
		return 0, 0, 0, err
	}
	if skipped > 0 {
		fmt.Fprintln(c.stderr, i18n.T(c.lang, "cli.hunt.skipped", skipped))
	}
	bar := newProgress(c.stderr)
	for _, in := range inputs {
		info, err := os.Stat(in.path)
		if err != nil {
			return files, events, dead, fail("cli.hunt.input_missing", in.path, err)
		}
		bar.begin(in.path, info.Size())
		n, d, err := filesource.Read(ctx, in.path, filesource.Options{Format: logFormat, Progress: bar.update, Packets: readPackets},
			func(b *pipeline.Batch) error {
				for _, ev := range b.Events {
					if err := onEvent(ev); err != nil {
						return err
					}
				}
				return nil
			})
		bar.end()
		events += n
		dead += d
		if errors.Is(err, filesource.ErrUnsupported) && !in.named {
			fmt.Fprintln(c.stderr, i18n.T(c.lang, "cli.hunt.skip_unsupported")+message(c.lang, readError(in.path, err)))
			continue
		}
		if err != nil {
			return files, events, dead, readError(in.path, err)
		}
		files++
	}
	return files, events, dead, nil
}

// huntFiles runs the rules over the files with the offline engine settings
// and hands every detection to onDetection, in order. An error from
// onDetection stops the hunt. It returns the counts of readInputs.
func huntFiles(ctx context.Context, c *cli, rs *sigma.Ruleset, logFormat logparse.Format, paths []string,
	onDetection func(sigma.Detection) error) (files, events, dead int, err error) {
	engine := sigma.NewEngine(rs, huntEngineOptions())
	var detectErr error
	emit := func(d sigma.Detection) {
		if detectErr == nil {
			detectErr = onDetection(d)
		}
	}
	files, events, dead, err = readInputs(ctx, c, paths, logFormat, func(ev *ecs.Event) error {
		engine.Process(ev, emit)
		return detectErr
	})
	if err != nil {
		return files, events, dead, err
	}
	engine.Flush(emit)
	return files, events, dead, detectErr
}

// hunt runs the rules over the files and prints each detection.
func hunt(ctx context.Context, c *cli, rs *sigma.Ruleset, logFormat logparse.Format, paths []string) error {
	out := c.table(headers(c.lang, "cli.hunt.col.time", "cli.hunt.col.level", "cli.hunt.col.rule",
		"cli.hunt.col.rule_id", "cli.hunt.col.fields", "cli.hunt.col.source")...)
	count := 0
	files, events, dead, err := huntFiles(ctx, c, rs, logFormat, paths, func(d sigma.Detection) error {
		count++
		cells := detectionCells(c.lang, d)
		if c.format == "csv" {
			cells[1] = d.Level
		}
		// Only JSON output writes the ECS document; building it for every
		// detection cost a fifth of a hunt's time with table or CSV output.
		var doc map[string]any
		if c.format == "json" {
			doc = detectionDocument(d)
		}
		return out.Row(cells, doc)
	})
	if err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(c.stderr, i18n.T(c.lang, "cli.hunt.done", files, events, dead, count))
	return nil
}

// readError turns a failed read into the message a responder can act on.
func readError(path string, err error) error {
	var unsupported *filesource.UnsupportedError
	if errors.As(err, &unsupported) {
		if unsupported.Kind == filesource.KindBinary {
			return fail("cli.hunt.binary", path)
		}
	}
	return fail("cli.hunt.read_failed", path, err)
}

// keyFields are the fields shown for a detection in table output, in order.
var keyFields = []string{"source.ip", "user.name", "host.name", "host.hostname", "destination.ip", "destination.port",
	"dns.question.name", "process.command_line", "winlog.event_id", "winlog.computer_name"}

func detectionCells(lang i18n.Lang, d sigma.Detection) []string {
	ev := lastEvent(d)
	var parts []string
	for _, name := range keyFields {
		v, ok := d.Fields.String(name)
		if !ok && ev != nil {
			v, ok = ev.Fields.String(name)
		}
		if ok && v != "" {
			parts = append(parts, name+"="+v)
		}
	}
	source := ""
	if ev != nil {
		source = eventPosition(ev)
	}
	return []string{d.Time.UTC().Format(time.RFC3339), levelText(lang, d.Level), d.Title, d.RuleID, strings.Join(parts, " "), source}
}

// eventPosition returns "file:offset" or "file#packet" for an event.
func eventPosition(ev *ecs.Event) string {
	path, _ := ev.Fields.String("log.file.path")
	if path == "" {
		path = ev.SourceID
	}
	if off, ok := ev.Fields.Int("log.offset"); ok {
		return fmt.Sprintf("%s:%d", path, off)
	}
	return path
}

func lastEvent(d sigma.Detection) *ecs.Event {
	if len(d.Events) == 0 {
		return nil
	}
	return d.Events[len(d.Events)-1]
}

// detectionDocument is the JSON output of one detection: the matched
// event's ECS document with the rule and, for correlations, the ids of all
// contributing events.
func detectionDocument(d sigma.Detection) map[string]any {
	var doc map[string]any
	if ev := lastEvent(d); ev != nil {
		doc = ev.Document()
	} else {
		doc = map[string]any{}
	}
	for name, v := range d.Fields.Nest() {
		if _, exists := doc[name]; !exists {
			doc[name] = v
		}
	}
	doc["@timestamp"] = d.Time.UTC().Format(ecs.TimeFormat)
	rule := map[string]any{"id": d.RuleID, "name": d.Title, "level": d.Level}
	if len(d.Tags) > 0 {
		rule["tags"] = d.Tags
	}
	if d.Status != "" {
		rule["status"] = d.Status
	}
	if len(d.FalsePositives) > 0 {
		rule["falsepositives"] = d.FalsePositives
	}
	doc["rule"] = rule
	if threat := threatDocument(d.Tactics, d.Techniques); threat != nil {
		doc["threat"] = threat
	}
	ids := make([]string, 0, len(d.Events))
	for _, ev := range d.Events {
		ids = append(ids, ev.ID)
	}
	doc["detection"] = map[string]any{"group_key": d.GroupKey, "event_ids": ids, "events": len(d.Events)}
	return doc
}

// threatDocument returns the ECS threat object of ATT&CK tactics and
// techniques (threat.framework, threat.tactic.id/name,
// threat.technique.id), or nil when there are none.
func threatDocument(tactics []ecs.Tactic, techniques []string) map[string]any {
	if len(tactics) == 0 && len(techniques) == 0 {
		return nil
	}
	threat := map[string]any{"framework": "MITRE ATT&CK"}
	if len(tactics) > 0 {
		ids := make([]string, len(tactics))
		names := make([]string, len(tactics))
		for i, t := range tactics {
			ids[i], names[i] = t.ID, t.Name
		}
		threat["tactic"] = map[string]any{"id": ids, "name": names}
	}
	if len(techniques) > 0 {
		threat["technique"] = map[string]any{"id": techniques}
	}
	return threat
}
