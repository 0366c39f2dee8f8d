package packet

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/canhgac/canhgac/internal/cputime"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// benchFiles are the shared captures with the most packets.
var benchFiles = []string{
	"chrissanders-packets/synscan.pcapng",
	"otrf/mimikatz_CVE-2020-1472_Unauthenticated_NetrServerAuthenticate2_2020-09-16233923.cap",
	"chrissanders-packets/ek_to_cryptowall4.pcapng",
	"zeek-traces/ftp_bruteforce.pcap",
	"zeek-traces/nmap-vsn.pcap",
}

// BenchmarkSummarize summarizes each file from memory b.N times and
// reports packets per second, allocations per packet, and the ratio to one
// tshark run on the same file (fields as in the summary), timed in the
// same benchmark. It also reports the peak RSS of the test process.
func BenchmarkSummarize(b *testing.B) {
	tshark, _ := exec.LookPath("tshark")
	for _, name := range benchFiles {
		path := filepath.Join(pcapDir, name)
		raw, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(filepath.Base(name), func(b *testing.B) {
			s, err := Summarize(bytes.NewReader(raw), Options{})
			if err != nil {
				b.Fatal(err)
			}
			packets := float64(s.Packets)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			cpuBefore := cputime.Process()
			b.ResetTimer()
			for b.Loop() {
				if _, err := Summarize(bytes.NewReader(raw), Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			cpu := cputime.Process() - cpuBefore
			runtime.ReadMemStats(&after)
			perSecond := packets * float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(perSecond, "pkts/s")
			// Packets per second of process CPU time (all threads, GC
			// included): the per-core rate, less sensitive than wall
			// time to other load on a shared machine.
			b.ReportMetric(packets*float64(b.N)/cpu.Seconds(), "pkts/cpu_s")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/(packets*float64(b.N)), "allocs/pkt")
			if tshark != "" {
				start := time.Now()
				cmd := exec.Command(tshark, "-n", "-r", path, "-T", "fields", "-e", "frame.number", "-e", "dns.qry.name",
					"-e", "tls.handshake.extensions_server_name", "-e", "http.host")
				if err := cmd.Run(); err != nil {
					b.Fatalf("tshark: %v", err)
				}
				tsharkSeconds := time.Since(start).Seconds()
				b.ReportMetric(packets/tsharkSeconds, "tshark_pkts/s")
				b.ReportMetric(perSecond/(packets/tsharkSeconds), "x_tshark")
			}
			b.ReportMetric(cputime.PeakRSSMiB(), "peak_rss_MB")
		})
	}
}

// BenchmarkDecodePacket decodes one real HTTP request frame through the
// whole engine; it must not allocate.
func BenchmarkDecodePacket(b *testing.B) {
	pkts := readPackets(b, filepath.Join(pcapDir, "zeek-traces/ftp_bruteforce.pcap"))
	eng := newEngine(Options{}, &collectSink{})
	// Warm up the flow table so the loop measures the steady state.
	for i := range pkts {
		eng.packet(uint64(i+1), &pkts[i].ci, pkts[i].link, pkts[i].data)
	}
	p := pkts[len(pkts)/2]
	b.ReportAllocs()
	for b.Loop() {
		eng.packet(1, &p.ci, p.link, p.data)
	}
}

// BenchmarkSummarizeMerged runs on one larger capture built from 40
// copies of the benchFiles' packets (each copy an hour later, so flows do
// not merge), so tshark's start-up time weighs less in the ratio.
func BenchmarkSummarizeMerged(b *testing.B) {
	const copies = 40
	var all []capturedPacket
	for _, name := range benchFiles {
		for _, p := range readPackets(b, filepath.Join(pcapDir, name)) {
			if p.link == layers.LinkTypeEthernet {
				all = append(all, p)
			}
		}
	}
	var buf bytes.Buffer
	w := pcapgo.NewWriterNanos(&buf)
	if err := w.WriteFileHeader(maxPacketLength, layers.LinkTypeEthernet); err != nil {
		b.Fatal(err)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for c := 0; c < copies; c++ {
		for i, p := range all {
			ci := p.ci
			ci.Timestamp = base.Add(time.Duration(c)*time.Hour + time.Duration(i)*time.Millisecond)
			if err := w.WritePacket(ci, p.data); err != nil {
				b.Fatal(err)
			}
		}
	}
	raw := buf.Bytes()
	packets := float64(len(all) * copies)

	cpuBefore := cputime.Process()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Summarize(bytes.NewReader(raw), Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := cputime.Process() - cpuBefore
	perSecond := packets * float64(b.N) / b.Elapsed().Seconds()
	b.ReportMetric(packets, "pkts/op")
	b.ReportMetric(float64(len(raw))/(1<<20), "file_MB")
	b.ReportMetric(perSecond, "pkts/s")
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		// The in-memory file and its source packets are part of this.
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak_rss_MB")
	}
	b.ReportMetric(packets*float64(b.N)/cpu.Seconds(), "pkts/cpu_s")

	if tshark, err := exec.LookPath("tshark"); err == nil {
		path := filepath.Join(b.TempDir(), "merged.pcap")
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		cmd := exec.Command(tshark, "-n", "-r", path, "-T", "fields", "-e", "frame.number", "-e", "dns.qry.name",
			"-e", "tls.handshake.extensions_server_name", "-e", "http.host")
		if err := cmd.Run(); err != nil {
			b.Fatalf("tshark: %v", err)
		}
		tsharkRate := packets / time.Since(start).Seconds()
		b.ReportMetric(tsharkRate, "tshark_pkts/s")
		b.ReportMetric(perSecond/tsharkRate, "x_tshark")
	}
}
