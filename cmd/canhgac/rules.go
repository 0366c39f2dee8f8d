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
	opts, err := placeholderOptions(placeholders, !skipBundled)
	if err != nil {
		return nil, err
	}
	var bundled fs.FS
	if !skipBundled {
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

// placeholderOptions loads the placeholder values for a rule load: the
// bundled pack's defaults when withDefaults is set, overridden by the file
// named by path.
func placeholderOptions(path string, withDefaults bool) (sigma.LoadOptions, error) {
	opts := sigma.LoadOptions{Placeholders: sigma.Placeholders{}}
	if withDefaults {
		defaults, err := rules.DefaultPlaceholders()
		if err != nil {
			return opts, fail("cli.rules.bundled_failed", err)
		}
		opts.Placeholders = defaults
	}
	if path != "" {
		ph, err := sigma.LoadPlaceholderFile(path)
		if err != nil {
			return opts, fail("cli.rules.placeholders_failed", path, err)
		}
		opts.Placeholders = opts.Placeholders.Merge(ph)
	}
	return opts, nil
}

// errRulesRejected makes `rules check` exit with status 1 after it has
// printed its report, which already names the rules and the reasons.
var errRulesRejected = &silentError{"rules rejected"}

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
				return &usageError{fail("cli.error.args_missing", argName("cli.arg.path"))}
			}
			opts, err := placeholderOptions(placeholders, true)
			if err != nil {
				return err
			}
			_, report, err := sigma.LoadFiles(args, opts)
			if err != nil {
				return fail("cli.rules.load_failed", err)
			}
			if err := printLoadReport(c, report); err != nil {
				return err
			}
			if len(report.Rejected) > 0 {
				return errRulesRejected
			}
			return nil
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
