package logparse

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/internal/cputime"
)

// benchLines decodes the sample lines b.N times in total and reports lines
// per second and allocations per line.
func benchLines(b *testing.B, format Format, lines []string) {
	b.Helper()
	data := make([][]byte, len(lines))
	var size int
	for i, l := range lines {
		data[i] = []byte(l)
		size += len(l) + 1
	}
	d, err := NewDecoder(format, Options{Location: time.UTC, Reference: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	emit := func(Record) { n++ }
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	cpu0 := cputime.Process()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Decode(Line{Data: data[i%len(data)], Offset: int64(i)}, emit)
	}
	d.Flush(emit)
	b.StopTimer()
	reportRates(b, cputime.Process()-cpu0)
}

// reportRates reports lines per wall-clock second and lines per CPU second
// of the whole process (parser plus garbage collector). On a machine shared
// with other jobs the CPU figure is the per-core throughput; the wall-clock
// figure also counts time spent waiting for a core.
func reportRates(b *testing.B, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lines/s")
	if cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "lines/cpu-s")
	}
}

func benchFile(b *testing.B, path string) []string {
	b.Helper()
	raw, err := osReadFile(dataDir + path)
	if err != nil {
		b.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(raw), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

func BenchmarkAuthLog(b *testing.B) {
	benchLines(b, FormatAuto, benchFile(b, "logs/linux/loghub/OpenSSH/OpenSSH_2k.log"))
}

func BenchmarkAccessLog(b *testing.B) {
	benchLines(b, FormatAccess, benchFile(b, "logs/web/elastic-examples/apache_access_combined.log"))
}

func BenchmarkAccessLogAuto(b *testing.B) {
	benchLines(b, FormatAuto, benchFile(b, "logs/web/elastic-examples/apache_access_combined.log"))
}

func BenchmarkApacheError(b *testing.B) {
	benchLines(b, FormatAuto, benchFile(b, "logs/web/loghub/Apache/Apache_2k.log"))
}

func BenchmarkAuditd(b *testing.B) {
	benchLines(b, FormatAuditd, benchFile(b, "logs/auditd/go-libaudit/audit-rhel7.log"))
}

func BenchmarkJSONWindows(b *testing.B) {
	benchLines(b, FormatJSON, benchFile(b, "logs/windows_json/otrf/psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json"))
}

func BenchmarkJSONZeek(b *testing.B) {
	benchLines(b, FormatJSON, benchFile(b, "logs/zeek/otrf-apt29-day1/SCRANTON_conn.log"))
}

// accessRE is the regular expression a parser would use for the combined
// format; BenchmarkAccessRegexp measures it against the hand-written
// scanner of BenchmarkAccessLog (capture only, no ECS fields).
var accessRE = regexp.MustCompile(`^(\S+) (\S+) (.*?) \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) (\d+|-)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?`)

func BenchmarkAccessRegexp(b *testing.B) {
	lines := benchFile(b, "logs/web/elastic-examples/apache_access_combined.log")
	b.ReportAllocs()
	cpu0 := cputime.Process()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if accessRE.FindStringSubmatchIndex(lines[i%len(lines)]) == nil {
			b.Fatal("no match")
		}
	}
	b.StopTimer()
	reportRates(b, cputime.Process()-cpu0)
}
