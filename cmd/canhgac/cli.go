package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/canhgac/canhgac/i18n"
	"github.com/canhgac/canhgac/internal/tabular"
)

// command is one subcommand. Its texts are catalog keys, so help exists in
// both languages from the same definitions.
type command struct {
	name    string // "hunt", or "rules check" for a nested command
	summary string // catalog key: one line for the command list
	usage   string // catalog key: usage line and longer description
	// flags declares the command's flags on fs; descriptions come from the
	// catalog in the chosen language.
	flags func(fs *flag.FlagSet, c *cli)
	run   func(ctx context.Context, c *cli, args []string) error
}

// cli carries what every command needs: the language, the output streams
// and the values of global flags.
type cli struct {
	lang   i18n.Lang
	stdout io.Writer
	stderr io.Writer
	format string // --format of tabular commands
}

// userError is an error shown to the user from a catalog message.
type userError struct {
	key  string
	args []any
}

func (e *userError) Error() string { return i18n.T(i18n.EN, e.key, localizeArgs(i18n.EN, e.args)...) }

// argName is the name of a positional argument, which the message renders
// in the user's language: the key of a catalog entry.
type argName string

// Text returns the argument's name in lang.
func (a argName) Text(lang i18n.Lang) string { return i18n.T(lang, string(a)) }

// fail returns a user-facing error from a catalog key.
func fail(key string, args ...any) error { return &userError{key: key, args: args} }

// silentError fails a command whose output already explains the failure;
// execute prints nothing more and exits with status 1.
type silentError struct{ reason string }

func (e *silentError) Error() string { return e.reason }

// usageError marks bad command-line use: the exit status is 2 and the
// command's usage is shown.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// message renders err for the user in lang: catalog errors are translated,
// wrapped catalog errors keep their context.
func message(lang i18n.Lang, err error) string {
	var ue *userError
	if errors.As(err, &ue) {
		text := i18n.T(lang, ue.key, localizeArgs(lang, ue.args)...)
		if ue == err {
			return text
		}
		// Keep the wrapping context the code added around the catalog text.
		full := err.Error()
		english := ue.Error()
		if i := strings.Index(full, english); i > 0 {
			return full[:i] + text + full[i+len(english):]
		}
		return text
	}
	var te interface{ Text(i18n.Lang) string }
	if errors.As(err, &te) {
		return te.Text(lang)
	}
	var me interface{ Message(i18n.Lang) string }
	if errors.As(err, &me) {
		return me.Message(lang)
	}
	return err.Error()
}

// localizeArgs renders message arguments that have a text of their own in
// each language, such as argument names.
func localizeArgs(lang i18n.Lang, args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if t, ok := a.(interface{ Text(i18n.Lang) string }); ok {
			out[i] = t.Text(lang)
		} else {
			out[i] = a
		}
	}
	return out
}

// langFromArgs finds --lang before flags are parsed, because the flag
// descriptions themselves must be in the chosen language.
func langFromArgs(args []string) (i18n.Lang, error) {
	for i, a := range args {
		var v string
		switch {
		case a == "--lang" || a == "-lang":
			if i+1 < len(args) {
				v = args[i+1]
			}
		case strings.HasPrefix(a, "--lang="):
			v = strings.TrimPrefix(a, "--lang=")
		case strings.HasPrefix(a, "-lang="):
			v = strings.TrimPrefix(a, "-lang=")
		default:
			continue
		}
		l, ok := i18n.Parse(v)
		if !ok {
			return i18n.VI, fail("cli.error.lang", v)
		}
		return l, nil
	}
	return i18n.FromEnv(), nil
}

// commands returns every subcommand in the order the help lists them.
func commands() []*command {
	return []*command{
		runCommand(),
		sensorCommand(),
		pipelineCommand(),
		consoleCommand(),
		huntCommand(),
		rulesCheckCommand(),
		rulesTestCommand(),
		pcapSummaryCommand(),
		loginCommand(),
		alertsListCommand(),
		alertsShowCommand(),
		alertsAckCommand(),
		alertsCloseCommand(),
		searchCommand(),
		usersAddCommand(),
		usersPasswordCommand(),
		usersListCommand(),
		versionCommand(),
	}
}

// execute runs the command named by args and returns the exit status.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	lang, err := langFromArgs(args)
	c := &cli{lang: lang, stdout: stdout, stderr: stderr}
	if err != nil {
		fmt.Fprintln(stderr, message(i18n.VI, err))
		return 2
	}
	cmds := commands()
	if first := firstWord(args); first == "" || isHelp(first) {
		printOverview(c, cmds)
		return 0
	}
	cmd, rest := findCommand(cmds, args)
	if cmd == nil {
		if group := commandGroup(cmds, firstWord(args)); len(group) > 0 {
			// "canhgac alerts" or "canhgac alerts --help": the group's commands.
			printOverview(c, group)
			if wantsHelp(args) {
				return 0
			}
			return 2
		}
		fmt.Fprintln(stderr, i18n.T(lang, "cli.error.prefix")+i18n.T(lang, "cli.error.unknown_command", firstWord(args)))
		printOverview(&cli{lang: lang, stdout: stderr}, cmds)
		return 2
	}
	fs := flag.NewFlagSet("canhgac "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// The default is empty because the language comes from CANHGAC_LANG
	// when the flag is absent (Vietnamese otherwise), as the flag's text
	// explains.
	fs.String("lang", "", i18n.T(lang, "cli.flag.lang"))
	if cmd.flags != nil {
		cmd.flags(fs, c)
	}
	if err := fs.Parse(interleave(fs, rest)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(c, cmd, fs, stdout)
			return 0
		}
		fmt.Fprintln(stderr, i18n.T(lang, "cli.error.prefix")+i18n.T(lang, "cli.error.flags", err.Error()))
		printUsage(c, cmd, fs, stderr)
		return 2
	}
	if f := fs.Lookup("format"); f != nil {
		if _, err := tabular.ParseFormat(f.Value.String()); err != nil {
			fmt.Fprintln(stderr, i18n.T(lang, "cli.error.prefix")+i18n.T(lang, "cli.error.format", f.Value.String()))
			return 2
		}
		c.format = f.Value.String()
	}
	if err := cmd.run(ctx, c, fs.Args()); err != nil {
		var silent *silentError
		if errors.As(err, &silent) {
			return 1
		}
		fmt.Fprintln(stderr, i18n.T(lang, "cli.error.prefix")+message(lang, err))
		var ue *usageError
		if errors.As(err, &ue) {
			printUsage(c, cmd, fs, stderr)
			return 2
		}
		return 1
	}
	return 0
}

// firstWord returns the first argument that is neither a flag nor the
// value of --lang, or "" when there is none. "-h" and "--help" count as
// words, so they select the overview.
func firstWord(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case isHelp(a):
			return a
		case a == "--lang" || a == "-lang":
			i++
		case !strings.HasPrefix(a, "-"):
			return a
		}
	}
	return ""
}

// commandGroup returns the commands whose first word is word, for a group
// such as "alerts" or "pcap" named without its subcommand.
func commandGroup(cmds []*command, word string) []*command {
	var group []*command
	for _, cmd := range cmds {
		if first, _, nested := strings.Cut(cmd.name, " "); nested && first == word {
			group = append(group, cmd)
		}
	}
	return group
}

func wantsHelp(args []string) bool {
	for _, a := range args {
		if isHelp(a) {
			return true
		}
	}
	return false
}

func isHelp(a string) bool {
	return a == "-h" || a == "--help" || a == "-help" || a == "help"
}

// findCommand matches the longest command name at the start of args,
// skipping global flags such as --lang that may come first.
func findCommand(cmds []*command, args []string) (*command, []string) {
	var words []string
	var flagsBefore []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			flagsBefore = append(flagsBefore, a)
			if (a == "--lang" || a == "-lang") && i+1 < len(args) {
				flagsBefore = append(flagsBefore, args[i+1])
				i++
			}
			continue
		}
		words = args[i:]
		break
	}
	var best *command
	bestLen := 0
	for _, cmd := range cmds {
		parts := strings.Fields(cmd.name)
		if len(parts) > len(words) || len(parts) <= bestLen {
			continue
		}
		match := true
		for i, p := range parts {
			if words[i] != p {
				match = false
				break
			}
		}
		if match {
			best, bestLen = cmd, len(parts)
		}
	}
	if best == nil {
		return nil, nil
	}
	return best, append(flagsBefore, words[bestLen:]...)
}

// interleave moves flags after positional arguments in front of them, so
// "hunt FILE --format json" works like "hunt --format json FILE". A lone
// "--" ends flag parsing as usual.
func interleave(fs *flag.FlagSet, args []string) []string {
	var flags, positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			continue
		}
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
			continue
		}
		if i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return append(flags, positional...)
}

func printOverview(c *cli, cmds []*command) {
	w := c.stdout
	fmt.Fprintln(w, i18n.T(c.lang, "cli.overview"))
	fmt.Fprintln(w)
	fmt.Fprintln(w, i18n.T(c.lang, "cli.overview.usage"))
	fmt.Fprintln(w)
	fmt.Fprintln(w, i18n.T(c.lang, "cli.overview.commands"))
	width := 0
	for _, cmd := range cmds {
		width = max(width, len(cmd.name))
	}
	for _, cmd := range cmds {
		fmt.Fprintf(w, "  %-*s  %s\n", width, cmd.name, i18n.T(c.lang, cmd.summary))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, i18n.T(c.lang, "cli.overview.more"))
}

func printUsage(c *cli, cmd *command, fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintln(w, i18n.T(c.lang, cmd.usage))
	fmt.Fprintln(w)
	fmt.Fprintln(w, i18n.T(c.lang, "cli.usage.flags"))
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	sort.Strings(names)
	for _, name := range names {
		f := fs.Lookup(name)
		arg := ""
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !bf.IsBoolFlag() {
			arg = " " + i18n.T(c.lang, "cli.usage.value")
		}
		fmt.Fprintf(w, "  --%s%s\n      %s", name, arg, f.Usage)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" {
			fmt.Fprintf(w, " (%s %s)", i18n.T(c.lang, "cli.usage.default"), f.DefValue)
		}
		fmt.Fprintln(w)
	}
}

// table returns a writer in the command's --format.
func (c *cli) table(headers ...string) *tabular.Writer {
	return tabular.NewWriter(c.stdout, tabular.Format(c.format), headers...)
}

// headers returns the catalog texts of column header keys.
func headers(lang i18n.Lang, keys ...string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = i18n.T(lang, k)
	}
	return out
}

// formatFlag declares --format for tabular commands.
func formatFlag(fs *flag.FlagSet, c *cli) {
	fs.String("format", "table", i18n.T(c.lang, "cli.flag.format"))
}

func main() {
	ctx, stop := signalContext()
	defer stop()
	os.Exit(execute(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
