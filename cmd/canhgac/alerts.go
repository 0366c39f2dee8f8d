package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/i18n"
)

// alertView is an alert as the console API returns it: the alert with its
// workflow status by name.
type alertView struct {
	ecs.Alert
	Status string `json:"status"`
}

func alertHeaders(lang i18n.Lang) []string {
	return headers(lang, "cli.alerts.col.id", "cli.alerts.col.last_seen", "cli.alerts.col.level", "cli.alerts.col.status",
		"cli.alerts.col.count", "cli.alerts.col.region", "cli.alerts.col.rule")
}

// localTime is the table layout of a wall-clock time: local, with its offset.
const localTime = "2006-01-02 15:04:05 -07:00"

// eventTime is the table layout of an event's @timestamp: UTC, milliseconds.
const eventTime = "2006-01-02T15:04:05.000Z"

func alertCells(lang i18n.Lang, a alertView) []string {
	return []string{a.ID, a.LastSeen.Local().Format(localTime), levelText(lang, a.Level), statusText(lang, a.Status),
		strconv.Itoa(a.Count), a.Region, a.RuleName}
}

// levelText and statusText show a rule level or an alert status in the
// user's language, with the console's words; JSON and CSV keep the values.
func levelText(lang i18n.Lang, level string) string { return catalogOr(lang, "ui.level."+level, level) }

func statusText(lang i18n.Lang, status string) string {
	return catalogOr(lang, "ui.status."+status, status)
}

func catalogOr(lang i18n.Lang, key, fallback string) string {
	if i18n.Has(key) {
		return i18n.T(lang, key)
	}
	return fallback
}

// pageFlags are the time range and paging flags of the list commands.
type pageFlags struct {
	from, to      string
	limit, offset int
}

func (p *pageFlags) declare(fs *flag.FlagSet, c *cli, defaultFrom string) {
	fs.StringVar(&p.from, "from", defaultFrom, i18n.T(c.lang, "cli.flag.from"))
	fs.StringVar(&p.to, "to", "", i18n.T(c.lang, "cli.flag.to"))
	fs.IntVar(&p.limit, "limit", 50, i18n.T(c.lang, "cli.flag.limit"))
	fs.IntVar(&p.offset, "offset", 0, i18n.T(c.lang, "cli.flag.offset"))
}

// query returns the flags as API query parameters.
func (p *pageFlags) query() url.Values {
	q := url.Values{"limit": {strconv.Itoa(p.limit)}, "offset": {strconv.Itoa(p.offset)}}
	if p.from != "" {
		q.Set("from", p.from)
	}
	if p.to != "" {
		q.Set("to", p.to)
	}
	return q
}

func alertsListCommand() *command {
	var server, level, status, region, rule string
	var page pageFlags
	return &command{
		name:    "alerts list",
		summary: "cli.alerts_list.summary",
		usage:   "cli.alerts_list.usage",
		flags: func(fs *flag.FlagSet, c *cli) {
			formatFlag(fs, c)
			serverFlag(fs, c, &server)
			fs.StringVar(&level, "level", "", i18n.T(c.lang, "cli.alerts.flag.level"))
			fs.StringVar(&status, "status", "", i18n.T(c.lang, "cli.alerts.flag.status"))
			fs.StringVar(&region, "region", "", i18n.T(c.lang, "cli.alerts.flag.region"))
			fs.StringVar(&rule, "rule", "", i18n.T(c.lang, "cli.alerts.flag.rule"))
			page.declare(fs, c, "")
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			a, err := newAPIClient(c, server)
			if err != nil {
				return err
			}
			q := page.query()
			for name, v := range map[string]string{"level": level, "status": status, "region": region, "rule": rule} {
				if v != "" {
					q.Set(name, v)
				}
			}
			var resp struct {
				Total    int             `json:"total"`
				Alerts   []alertView     `json:"alerts"`
				Warnings []regionWarning `json:"warnings"`
			}
			if err := a.call(ctx, http.MethodGet, "/api/alerts?"+q.Encode(), nil, &resp); err != nil {
				return err
			}
			printWarnings(c, resp.Warnings)
			out := c.table(alertHeaders(c.lang)...)
			for _, al := range resp.Alerts {
				cells := alertCells(c.lang, al)
				if c.format == "csv" {
					cells[2], cells[3] = al.Level, al.Status
				}
				if err := out.Row(cells, al); err != nil {
					return err
				}
			}
			if err := out.Flush(); err != nil {
				return err
			}
			if c.format == "table" {
				fmt.Fprintln(c.stderr, i18n.T(c.lang, "cli.alerts.total", len(resp.Alerts), resp.Total))
			}
			return nil
		},
	}
}

func alertsShowCommand() *command {
	var server string
	return &command{
		name:    "alerts show",
		summary: "cli.alerts_show.summary",
		usage:   "cli.alerts_show.usage",
		flags: func(fs *flag.FlagSet, c *cli) {
			formatFlag(fs, c)
			serverFlag(fs, c, &server)
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			id, err := oneArg(args, "cli.arg.id")
			if err != nil {
				return err
			}
			a, err := newAPIClient(c, server)
			if err != nil {
				return err
			}
			var resp struct {
				Alert  alertView        `json:"alert"`
				Events []map[string]any `json:"events"`
			}
			if err := a.call(ctx, http.MethodGet, "/api/alerts/"+url.PathEscape(id), nil, &resp); err != nil {
				return err
			}
			if c.format == "json" {
				return writeJSON(c.stdout, resp)
			}
			al := resp.Alert
			w := c.stdout
			row := func(key string, v any) { fmt.Fprintf(w, "%-16s %v\n", i18n.T(c.lang, key)+":", v) }
			row("cli.alerts.col.id", al.ID)
			row("cli.alerts.col.rule", al.RuleName+" ("+al.RuleID+")")
			row("cli.alerts.col.level", levelText(c.lang, al.Level))
			row("cli.alerts.col.status", statusText(c.lang, al.Status))
			if al.Reason != "" {
				row("cli.alerts.col.reason", al.Reason)
			}
			row("cli.alerts.col.region", al.Region)
			row("cli.alerts.col.first_seen", al.FirstSeen.Local().Format(localTime))
			row("cli.alerts.col.last_seen", al.LastSeen.Local().Format(localTime))
			row("cli.alerts.col.count", al.Count)
			if len(al.Tactics) > 0 {
				names := make([]string, len(al.Tactics))
				for i, t := range al.Tactics {
					names[i] = t.ID + " " + t.Name
				}
				row("cli.alerts.col.tactics", strings.Join(names, ", "))
			}
			if len(al.Techniques) > 0 {
				row("cli.alerts.col.techniques", strings.Join(al.Techniques, ", "))
			}
			if len(al.Tags) > 0 {
				row("cli.alerts.col.tags", strings.Join(al.Tags, ", "))
			}
			if al.RuleStatus != "" {
				row("cli.alerts.col.rule_status", al.RuleStatus)
			}
			for _, fp := range al.FalsePositives {
				row("cli.alerts.col.falsepositive", fp)
			}
			if len(al.Fields) > 0 {
				names := make([]string, 0, len(al.Fields))
				for name := range al.Fields {
					names = append(names, name)
				}
				sort.Strings(names)
				parts := make([]string, len(names))
				for i, name := range names {
					parts[i] = name + "=" + valueText(al.Fields[name])
				}
				row("cli.alerts.col.fields", strings.Join(parts, " "))
			}
			fmt.Fprintln(w)
			fmt.Fprintln(w, i18n.T(c.lang, "cli.alerts.events", len(resp.Events)))
			if err := printEvents(c, resp.Events); err != nil {
				return err
			}
			if al.Count > len(resp.Events) {
				fmt.Fprintln(w, i18n.T(c.lang, "cli.alerts.events_capped", len(resp.Events), al.Count, ecs.MaxAlertEvents))
			}
			return nil
		},
	}
}

// oneArg returns the one positional argument a command takes; nameKey is
// the catalog key of its name in the usage line.
func oneArg(args []string, nameKey string) (string, error) {
	switch len(args) {
	case 0:
		return "", &usageError{fail("cli.error.args_missing", argName(nameKey))}
	case 1:
		return args[0], nil
	}
	return "", &usageError{fail("cli.error.args_extra", strings.Join(args[1:], " "))}
}

func alertsAckCommand() *command {
	var server string
	return &command{
		name:    "alerts ack",
		summary: "cli.alerts_ack.summary",
		usage:   "cli.alerts_ack.usage",
		flags:   func(fs *flag.FlagSet, c *cli) { serverFlag(fs, c, &server) },
		run: func(ctx context.Context, c *cli, args []string) error {
			return changeAlert(ctx, c, server, args, "ack", nil, "cli.alerts.acked")
		},
	}
}

func alertsCloseCommand() *command {
	var server, reason string
	return &command{
		name:    "alerts close",
		summary: "cli.alerts_close.summary",
		usage:   "cli.alerts_close.usage",
		flags: func(fs *flag.FlagSet, c *cli) {
			serverFlag(fs, c, &server)
			fs.StringVar(&reason, "reason", "", i18n.T(c.lang, "cli.alerts.flag.reason"))
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return &usageError{fail("cli.alerts.reason_required")}
			}
			return changeAlert(ctx, c, server, args, "close", map[string]string{"reason": reason}, "cli.alerts.closed")
		},
	}
}

func changeAlert(ctx context.Context, c *cli, server string, args []string, action string, body any, doneKey string) error {
	id, err := oneArg(args, "cli.arg.id")
	if err != nil {
		return err
	}
	a, err := newAPIClient(c, server)
	if err != nil {
		return err
	}
	if body == nil {
		body = map[string]string{}
	}
	if err := a.call(ctx, http.MethodPost, "/api/alerts/"+url.PathEscape(id)+"/"+action, body, nil); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, i18n.T(c.lang, doneKey, id))
	return nil
}

func searchCommand() *command {
	var server string
	var page pageFlags
	return &command{
		name:    "search",
		summary: "cli.search.summary",
		usage:   "cli.search.usage",
		flags: func(fs *flag.FlagSet, c *cli) {
			formatFlag(fs, c)
			serverFlag(fs, c, &server)
			page.declare(fs, c, "now-24h")
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			query := strings.Join(args, " ")
			a, err := newAPIClient(c, server)
			if err != nil {
				return err
			}
			q := page.query()
			q.Set("q", query)
			var resp struct {
				Total    int              `json:"total"`
				TookMS   int64            `json:"took_ms"`
				Events   []map[string]any `json:"events"`
				Warnings []regionWarning  `json:"warnings"`
			}
			if err := a.call(ctx, http.MethodGet, "/api/search?"+q.Encode(), nil, &resp); err != nil {
				return err
			}
			printWarnings(c, resp.Warnings)
			if err := printEvents(c, resp.Events); err != nil {
				return err
			}
			if c.format == "table" {
				fmt.Fprintln(c.stderr, i18n.T(c.lang, "cli.search.total", len(resp.Events), resp.Total, resp.TookMS))
			}
			return nil
		},
	}
}

// eventColumns are the nested-document paths shown per event in tables.
var eventColumns = []struct{ key, path string }{
	{"cli.events.col.time", "@timestamp"},
	{"cli.events.col.dataset", "event.dataset"},
	{"cli.events.col.host", "host.hostname|host.name|observer.name"},
	{"cli.events.col.source", "source.ip"},
	{"cli.events.col.user", "user.name"},
	{"cli.events.col.message", "message|event.original|event.action"},
}

// printEvents prints event documents as a table or CSV, or each as one
// JSON line.
func printEvents(c *cli, docs []map[string]any) error {
	keys := make([]string, len(eventColumns))
	for i, col := range eventColumns {
		keys[i] = col.key
	}
	out := c.table(headers(c.lang, keys...)...)
	for _, doc := range docs {
		cells := make([]string, len(eventColumns))
		for i, col := range eventColumns {
			for _, path := range strings.Split(col.path, "|") {
				if v := lookupPath(doc, path); v != "" {
					cells[i] = v
					break
				}
			}
			if col.path == "@timestamp" && c.format == "table" {
				if ts, err := time.Parse(time.RFC3339Nano, cells[i]); err == nil {
					cells[i] = ts.UTC().Format(eventTime)
				}
			}
		}
		if err := out.Row(cells, doc); err != nil {
			return err
		}
	}
	return out.Flush()
}

// lookupPath finds a dotted path in a nested document, also where a
// document keeps a dotted name flat.
func lookupPath(doc map[string]any, path string) string {
	if v, ok := doc[path]; ok {
		return valueText(v)
	}
	head, rest, found := strings.Cut(path, ".")
	if !found {
		return ""
	}
	sub, ok := doc[head].(map[string]any)
	if !ok {
		return ""
	}
	return lookupPath(sub, rest)
}

func valueText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	data, _ := json.Marshal(v)
	return string(data)
}

// regionWarning is a region the console could not query for a result.
type regionWarning struct {
	Region  string `json:"region"`
	Message string `json:"message"`
}

// printWarnings writes the console's region warnings to stderr, so a
// result that leaves out a region never looks complete.
func printWarnings(c *cli, ws []regionWarning) {
	for _, w := range ws {
		fmt.Fprintln(c.stderr, i18n.T(c.lang, "cli.warning", w.Message))
	}
}
