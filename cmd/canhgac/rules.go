package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"

	"github.com/canhgac/canhgac/detections/rules"
	"github.com/canhgac/canhgac/detections/sigma"
	"github.com/canhgac/canhgac/i18n"
)

// loadRules loads the bundled pack (unless skipped) and the rule files or
// folders in paths into one ruleset, so correlations may refer to rules of
// either. Rejected rules are reported on stderr and do not stop the load.
func loadRules(c *cli, paths []string, placeholders string, skipBundled bool) (*sigma.Ruleset, error) {
	opts := sigma.LoadOptions{}
	if placeholders != "" {
		ph, err := sigma.LoadPlaceholderFile(placeholders)
		if err != nil {
			return nil, fail("cli.rules.placeholders_failed", placeholders, err)
		}
		opts.Placeholders = ph
	}
	var bundled fs.FS
	if !skipBundled {
		defaults, err := rules.DefaultPlaceholders()
		if err != nil {
			return nil, fail("cli.rules.bundled_failed", err)
		}
		opts.Placeholders = defaults.Merge(opts.Placeholders)
		bundled = rules.Rules()
	}
	rs, report, err := sigma.LoadAll(bundled, paths, opts)
	if err != nil {
		return nil, fail("cli.rules.load_failed", err)
	}
	printRejections(c, report)
	if len(rs.Rules()) == 0 {
		return nil, fail("cli.rules.none_loaded")
	}
	return rs, nil
}

func printRejections(c *cli, report *sigma.LoadReport) {
	for _, r := range report.Rejected {
		fmt.Fprintln(c.stderr, i18n.T(c.lang, "cli.rules.rejected", r.Path, r.ID, r.Message(c.lang)))
	}
}

func rulesCheckCommand() *command {
	var placeholders string
	return &command{
		name:    "rules check",
		summary: "cli.rules_check.summary",
		usage:   "cli.rules_check.usage",
		flags: func(fs *flag.FlagSet, c *cli) {
			formatFlag(fs, c)
			fs.StringVar(&placeholders, "placeholders", "", i18n.T(c.lang, "cli.flag.placeholders"))
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			if len(args) == 0 {
				return &usageError{fail("cli.error.args_missing", "PATH")}
			}
			opts := sigma.LoadOptions{}
			if placeholders != "" {
				ph, err := sigma.LoadPlaceholderFile(placeholders)
				if err != nil {
					return fail("cli.rules.placeholders_failed", placeholders, err)
				}
				opts.Placeholders = ph
			}
			_, report, err := sigma.LoadFiles(args, opts)
			if err != nil {
				return fail("cli.rules.load_failed", err)
			}
			return printLoadReport(c, report)
		},
	}
}

// rejectionJSON is one rejected rule in `rules check --format json`.
type rejectionJSON struct {
	Path   string `json:"path"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

func printLoadReport(c *cli, report *sigma.LoadReport) error {
	if c.format == "json" {
		rejected := make([]rejectionJSON, 0, len(report.Rejected))
		for _, r := range report.Rejected {
			rejected = append(rejected, rejectionJSON{Path: r.Path, ID: r.ID, Reason: r.Message(c.lang)})
		}
		return writeJSON(c.stdout, map[string]any{"loaded": report.Loaded, "rejected": rejected})
	}
	out := c.table(i18n.T(c.lang, "cli.rules.col.path"), i18n.T(c.lang, "cli.rules.col.id"), i18n.T(c.lang, "cli.rules.col.reason"))
	for _, r := range report.Rejected {
		if err := out.Row([]string{r.Path, r.ID, r.Message(c.lang)}, nil); err != nil {
			return err
		}
	}
	if err := out.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(c.stderr, i18n.T(c.lang, "cli.rules.summary_line", report.Loaded, len(report.Rejected)))
	return nil
}
