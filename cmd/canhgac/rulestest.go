package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/canhgac/canhgac/detections/sigma"
	"github.com/canhgac/canhgac/i18n"
	"github.com/canhgac/canhgac/sensors/logparse"
)

// rulesTestCommand shows which events of some files a rule matches, and
// why: the search identifier, field, modifiers and value that matched.
func rulesTestCommand() *command {
	var placeholders, format string
	return &command{
		name:    "rules test",
		summary: "cli.rules_test.summary",
		usage:   "cli.rules_test.usage",
		flags: func(fs *flag.FlagSet, c *cli) {
			formatFlag(fs, c)
			fs.StringVar(&placeholders, "placeholders", "", i18n.T(c.lang, "cli.flag.placeholders"))
			fs.StringVar(&format, "log-format", "auto", i18n.T(c.lang, "cli.flag.log_format"))
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			if len(args) < 2 {
				return &usageError{fail("cli.error.args_missing", argName("cli.arg.rule_and_files"))}
			}
			logFormat, err := logparse.ParseFormat(format)
			if err != nil {
				return &usageError{err}
			}
			opts, err := placeholderOptions(placeholders, true)
			if err != nil {
				return err
			}
			rs, report, err := sigma.LoadFiles(args[:1], opts)
			if err != nil {
				return fail("cli.rules.load_failed", err)
			}
			printRejections(c, report)
			if len(rs.Rules()) == 0 {
				return fail("cli.rules.none_loaded")
			}
			return testRules(ctx, c, rs, logFormat, args[1:])
		},
	}
}

func testRules(ctx context.Context, c *cli, rs *sigma.Ruleset, logFormat logparse.Format, paths []string) error {
	out := c.table(headers(c.lang, "cli.hunt.col.time", "cli.hunt.col.rule_id", "cli.hunt.col.source", "cli.rules_test.col.why")...)
	matches := 0
	files, _, _, err := huntFiles(ctx, c, rs, logFormat, paths, func(d sigma.Detection) error {
		matches++
		source := ""
		if ev := lastEvent(d); ev != nil {
			source = eventPosition(ev)
		}
		doc := detectionDocument(d)
		doc["why"] = d.Why
		return out.Row([]string{d.Time.UTC().Format(time.RFC3339), d.RuleID, source, strings.Join(d.Why, "; ")}, doc)
	})
	if err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(c.stderr, i18n.T(c.lang, "cli.rules_test.done", matches, files))
	return nil
}
