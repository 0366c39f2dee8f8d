package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/internal/itest"
)

// clockTicks is the kernel's USER_HZ, the unit of the CPU times in
// /proc/PID/stat; it is 100 on every Linux architecture Go supports.
const clockTicks = 100

// processCPU returns the user and system CPU time that process pid has
// used so far, from /proc/PID/stat.
func processCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may contain spaces, so count the fields
	// after its closing parenthesis: utime and stime are fields 14 and 15.
	end := strings.LastIndexByte(string(data), ')')
	if end < 0 {
		return 0, fmt.Errorf("parse /proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(data[end+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("parse /proc/%d/stat: %d fields after the command name", pid, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// elasticPID returns the PID of the dedicated node's server process.
func elasticPID(b *testing.B, es *itest.Elastic) int {
	b.Helper()
	data, err := os.ReadFile(filepath.Join(es.Dir(), "run", "server.pid"))
	if err != nil {
		b.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		b.Fatal(err)
	}
	return pid
}

// BenchmarkProductionPipeline measures one canhgac pipeline process
// consuming a filled events topic into a dedicated Elasticsearch node.
// Each iteration fills the topic of a new region with
// CANHGAC_BENCH_COPIES (default 20) copies of a 10000-line access log
// through canhgac sensor, with the timer stopped, then starts the pipeline
// and waits until the store holds every event. One untimed round first
// warms up the node. It reports events/s over the whole run (from the
// process start, so rule loading and store setup count), the pipeline's
// and the node's CPU seconds, and writes the pipeline's CPU profile to
// CANHGAC_BENCH_CPUPROFILE when that is set. With CANHGAC_BENCH_METRICS
// set to an address, the pipeline serves /metrics there and the
// benchmark logs its latency sums and counts.
//
// Run: CANHGAC_INTEGRATION=1 CANHGAC_KAFKA_BROKERS=HOST:PORT go test -run '^$'
// -bench BenchmarkProductionPipeline -benchtime 1x ./cmd/canhgac
func BenchmarkProductionPipeline(b *testing.B) {
	copies := 20
	if v := os.Getenv("CANHGAC_BENCH_COPIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("invalid CANHGAC_BENCH_COPIES %q: use a positive number of log copies", v)
		}
		copies = n
	}
	brokers := itest.KafkaBrokers(b)
	es := itest.NewElastic(b)
	esPID := elasticPID(b, es)
	sample, err := os.ReadFile(loadSample)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	var inputs []string
	for i := range copies {
		path := filepath.Join(dir, fmt.Sprintf("access-%03d.log", i))
		if err := os.WriteFile(path, sample, 0o600); err != nil {
			b.Fatal(err)
		}
		inputs = append(inputs, path)
	}
	// Every line of the sample is one event.
	want := copies * strings.Count(string(sample), "\n")

	run := func(profile string) (wall, pipeCPU, esCPU time.Duration) {
		e := newProdEnv(b, brokers, es.URL())
		sensor := e.start(b, "sensor", "sensor", append(importArgs(inputs), "--metrics", "off")...)
		deadline := time.Now().Add(10 * time.Minute)
		for strings.Count(sensor.stderr.String(), "Imported ") < copies {
			if done, err := sensor.exited(); done || time.Now().After(deadline) {
				b.Fatalf("the sensor did not publish %d files (exited %v: %v)\n%s", copies, done, err, tail(sensor.stderr.String(), 4000))
			}
			time.Sleep(100 * time.Millisecond)
		}
		sensor.stop(b)

		metrics := os.Getenv("CANHGAC_BENCH_METRICS")
		if metrics == "" {
			metrics = "off"
		}
		args := []string{"--rules", e.rules, "--metrics", metrics}
		if profile != "" {
			args = append(args, "--cpuprofile", profile)
		}
		esBefore, err := processCPU(esPID)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		pipe := e.start(b, "pipeline", "pipeline", args...)
		for deadline := time.Now().Add(15 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
			if n, _ := e.storedCount(); n >= want {
				break
			}
			if done, err := pipe.exited(); done || time.Now().After(deadline) {
				b.Fatalf("the pipeline did not store %d events (exited %v: %v)\n%s", want, done, err, tail(pipe.stderr.String(), 4000))
			}
		}
		wall = time.Since(start)
		b.StopTimer()
		pipeCPU, err = processCPU(pipe.cmd.Process.Pid)
		if err != nil {
			b.Fatal(err)
		}
		esAfter, err := processCPU(esPID)
		if err != nil {
			b.Fatal(err)
		}
		if metrics != "off" {
			printLatencies(b, metrics)
		}
		pipe.stop(b)
		return wall, pipeCPU, esAfter - esBefore
	}

	// A new node spends more CPU compiling its hot code (JIT) than
	// indexing during its first minutes, so one untimed round warms it
	// up, as a node that has run for days would be.
	b.StopTimer()
	run("")
	b.StartTimer()

	var events int
	var wall, pipeCPU, esCPU time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		w, p, n := run(os.Getenv("CANHGAC_BENCH_CPUPROFILE"))
		wall += w
		pipeCPU += p
		esCPU += n
		events += want
	}
	b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
	b.ReportMetric(pipeCPU.Seconds()/float64(b.N), "pipeline-cpu-s/op")
	b.ReportMetric(esCPU.Seconds()/float64(b.N), "es-cpu-s/op")
	b.ReportMetric(float64(events)/pipeCPU.Seconds(), "events/pipeline-cpu-s")
}

// printLatencies logs the sums and counts of the pipeline's latency
// histograms and its bulk retries, from its /metrics at addr.
func printLatencies(b *testing.B, addr string) {
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		b.Logf("scrape metrics: %v", err)
		return
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(data), "\n") {
		if strings.Contains(line, "_seconds_sum") || strings.Contains(line, "_seconds_count") ||
			strings.HasPrefix(line, "canhgac_elastic_retries_total") {
			b.Log(line)
		}
	}
}
