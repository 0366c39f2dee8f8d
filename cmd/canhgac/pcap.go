package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/canhgac/canhgac/i18n"
	"github.com/canhgac/canhgac/sensors/filesource"
	"github.com/canhgac/canhgac/sensors/packet"
)

func pcapSummaryCommand() *command {
	return &command{
		name:    "pcap summary",
		summary: "cli.pcap.summary",
		usage:   "cli.pcap.usage",
		flags: func(fs *flag.FlagSet, c *cli) {
			fs.String("format", "json", i18n.T(c.lang, "cli.flag.format"))
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			path, err := oneArg(args, "cli.arg.file")
			if err != nil {
				return err
			}
			if c.format == "csv" {
				// A summary is several tables of different columns, which
				// one CSV stream cannot hold.
				return &usageError{fail("cli.pcap.no_csv")}
			}
			sum, err := summarizeWithProgress(c, path)
			if err != nil {
				return fail("cli.pcap.read_failed", path, err)
			}
			if c.format == "json" {
				return writeJSON(c.stdout, sum)
			}
			return printSummary(c, sum)
		},
	}
}

// summarizeWithProgress summarizes a capture file with a progress bar on a
// terminal.
func summarizeWithProgress(c *cli, path string) (*packet.Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	bar := newProgress(c.stderr)
	bar.begin(path, info.Size())
	defer bar.end()
	sum, err := packet.Summarize(filesource.NewProgressReader(f, bar.update), packet.Options{})
	if sum != nil {
		sum.File = path
	}
	return sum, err
}

// printSummary prints the counts and then one table per kind of record.
func printSummary(c *cli, s *packet.Summary) error {
	w := c.stdout
	for _, kv := range [][2]string{
		{"cli.pcap.packets", strconv.FormatUint(s.Packets, 10)},
		{"cli.pcap.bytes", strconv.FormatUint(s.Bytes, 10)},
		{"cli.pcap.decode_errors", strconv.FormatUint(s.DecodeErrors, 10)},
		{"cli.pcap.flows", strconv.FormatUint(s.Flows, 10)},
	} {
		fmt.Fprintf(w, "%-20s %s\n", i18n.T(c.lang, kv[0])+":", kv[1])
	}
	section := func(key string, n int) { fmt.Fprintf(w, "\n%s (%d)\n", i18n.T(c.lang, key), n) }

	section("cli.pcap.dns", len(s.DNSQueries))
	out := c.table(headers(c.lang, "cli.pcap.col.packet", "cli.pcap.col.client", "cli.pcap.col.name", "cli.pcap.col.type", "cli.pcap.col.rcode", "cli.pcap.col.answers")...)
	for _, q := range s.DNSQueries {
		var answers []string
		for _, a := range q.Answers {
			answers = append(answers, a.Data)
		}
		out.Row([]string{strconv.FormatUint(q.Packet, 10), q.Client, q.Name, q.Type, q.ResponseCode, strings.Join(answers, " ")}, q)
	}
	out.Flush()

	section("cli.pcap.tls", len(s.TLSClientHellos))
	out = c.table(headers(c.lang, "cli.pcap.col.packet", "cli.pcap.col.client", "cli.pcap.col.server", "cli.pcap.col.sni", "cli.pcap.col.version", "cli.pcap.col.ja4")...)
	for _, h := range s.TLSClientHellos {
		out.Row([]string{strconv.FormatUint(h.Packet, 10), h.Client, h.Server, h.SNI, h.Version, h.JA4}, h)
	}
	out.Flush()

	section("cli.pcap.http", len(s.HTTPRequests))
	out = c.table(headers(c.lang, "cli.pcap.col.packet", "cli.pcap.col.client", "cli.pcap.col.method", "cli.pcap.col.host", "cli.pcap.col.path", "cli.pcap.col.user_agent")...)
	for _, r := range s.HTTPRequests {
		out.Row([]string{strconv.FormatUint(r.Packet, 10), r.Client, r.Method, r.Host, r.Path, r.UserAgent}, r)
	}
	out.Flush()

	section("cli.pcap.ssh", len(s.SSHBanners))
	out = c.table(headers(c.lang, "cli.pcap.col.packet", "cli.pcap.col.client", "cli.pcap.col.server", "cli.pcap.col.role", "cli.pcap.col.banner")...)
	for _, b := range s.SSHBanners {
		out.Row([]string{strconv.FormatUint(b.Packet, 10), b.Client, b.Server, b.Role, b.Banner}, b)
	}
	return out.Flush()
}
