package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/canhgac/canhgac/internal/itest"
)

// The fault tests run canhgac sensor and canhgac pipeline as processes
// against real servers on 127.0.0.1 and break one part of the path while
// events flow. After each fault every event must be stored exactly once
// (ids compared with what the sensor publishes) and the alerts must equal
// those of canhgac hunt over the same inputs.
//
// The Kafka fault tests use a broker of their own and the Elasticsearch
// fault test a node of its own. The others share the servers of the test
// run, in a region, topics and consumer group of their own.

// loadSample is the log that the fault tests copy to make load: 10000
// Apache access lines that no bundled or shared rule matches. Copies of a
// log that feeds correlation rules would not do, because in the pipeline
// the copies share a partition and their identical events add up in one
// correlation window, while hunt correlates each file on its own.
const loadSample = sharedData + "/logs/web/elastic-examples/apache_access_combined.log"

// loadInputs writes copies of loadSample into a temporary folder and
// returns their paths after productionInputs. Each copy has its own path,
// so its events have their own ids.
func loadInputs(t *testing.T, copies int) []string {
	t.Helper()
	sample, err := os.ReadFile(loadSample)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	inputs := append([]string(nil), productionInputs...)
	for i := range copies {
		path := filepath.Join(dir, fmt.Sprintf("access-%02d.log", i))
		if err := os.WriteFile(path, sample, 0o600); err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, path)
	}
	return inputs
}

// importArgs returns the sensor flags that import inputs.
func importArgs(inputs []string) []string {
	var args []string
	for _, in := range inputs {
		args = append(args, "--import", in)
	}
	return args
}

// storedCount returns the number of the region's events in Elasticsearch,
// without refreshing, and false when the node does not respond.
func (e *prodEnv) storedCount() (int, bool) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(e.esURL + "/logs-*-" + e.region + ",-logs-canhgac.deadletter-*/_count")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	var out struct {
		Count int `json:"count"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil {
		return 0, false
	}
	return out.Count, true
}

// waitPartlyStored waits until the store holds between lowPct and highPct
// percent of want events and returns that count. It fails when the count
// passes highPct before it is seen in the window, because the fault would
// then hit an idle path.
func (e *prodEnv) waitPartlyStored(t *testing.T, want, lowPct, highPct int, limit time.Duration, procs ...*process) int {
	t.Helper()
	low, high := want*lowPct/100, want*highPct/100
	deadline := time.Now().Add(limit)
	for {
		n, _ := e.storedCount()
		switch {
		case n > high:
			t.Fatalf("the store already holds %d of %d events (more than %d%%) before the fault; use more input", n, want, highPct)
		case n >= low:
			return n
		case time.Now().After(deadline):
			t.Fatalf("the store holds %d of %d events after %v, fewer than %d%%\n%s", n, want, limit, lowPct, processLogs(procs))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// processLogs returns the end of each process's output, for failures.
func processLogs(procs []*process) string {
	var b strings.Builder
	for _, p := range procs {
		fmt.Fprintf(&b, "--- canhgac %s\n%s\n", p.name, tail(p.stderr.String(), 4000))
	}
	return b.String()
}

// expectAlertsLikeHunt waits up to a minute for the region's alerts to
// equal hunt's over inputs (group key → count), then reports a difference.
// Alerts are written in the same store write as their events, but the
// last correlation windows close only when the input has been idle, so
// they may come a little after the last event.
func (e *prodEnv) expectAlertsLikeHunt(t *testing.T, inputs []string, procs ...*process) {
	t.Helper()
	want := e.huntAlertCounts(t, inputs)
	var got map[string]int
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(time.Second) {
		got = e.alertCounts(t)
		if fmt.Sprint(got) == fmt.Sprint(want) || time.Now().After(deadline) {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("alerts by group key differ from hunt\n got %v\nwant %v\n%s", got, want, processLogs(procs))
	}
	if len(want) == 0 {
		t.Errorf("hunt raised no alert over the inputs, so the alert check proves nothing")
	}
}

// expectRunning fails when a process has exited.
func expectRunning(t *testing.T, procs ...*process) {
	t.Helper()
	for _, p := range procs {
		if done, err := p.exited(); done {
			t.Fatalf("canhgac %s exited (%v) during the fault\n%s", p.name, err, tail(p.stderr.String(), 4000))
		}
	}
}

// metricValue returns the value of an unlabelled series from a
// Prometheus text endpoint.
func metricValue(url, name string) (float64, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if value, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(value, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read %s: %w", url, err)
	}
	return 0, fmt.Errorf("series %s not found at %s", name, url)
}

// canhgacMetrics returns the canhgac_ series of a /metrics endpoint, for
// failure messages.
func canhgacMetrics(url string) string {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "canhgac_") {
			b.WriteString(sc.Text() + "\n")
		}
	}
	return b.String()
}

// TestFaultPipelineKilledMidBatch fills the region's topic, lets a
// pipeline store part of it, kills the pipeline with SIGKILL and starts a
// new one with the same consumer group. Offsets committed only after the
// store acknowledged a write and the detection state was saved mean that
// the new process stores the rest, and events written twice keep one
// document by id.
func TestFaultPipelineKilledMidBatch(t *testing.T) {
	e := newProdEnv(t, itest.KafkaBrokers(t), itest.ElasticURL(t))
	inputs := loadInputs(t, 3)
	want := e.expectedIDs(t, inputs)

	// The topic is filled first, so the pipeline consumes at full speed
	// and the kill lands while store writes are in flight.
	sensor := e.start(t, "sensor", "sensor", append(importArgs(inputs), "--metrics", "off")...)
	files := importedFiles(t, inputs)
	waitUntil(t, 3*time.Minute, "the sensor publishes every input", func() bool {
		return strings.Count(sensor.stderr.String(), "Imported ") >= files
	})

	first := e.start(t, "pipeline", "pipeline", "--rules", e.rules, "--metrics", "off")
	atKill := e.waitPartlyStored(t, len(want), 10, 90, 3*time.Minute, first, sensor)
	first.kill()
	t.Logf("killed the first pipeline with %d of %d events stored", atKill, len(want))

	second := e.start(t, "pipeline", "pipeline", "--rules", e.rules, "--metrics", "off")
	got := e.waitStored(t, len(want), 4*time.Minute, second, sensor)
	compareIDs(t, got, want)
	e.expectAlertsLikeHunt(t, inputs, second)
	sensor.stop(t)
	second.stop(t)
}

// importedFiles returns the number of files the sensor imports from
// inputs; it prints one "Imported" line for each.
func importedFiles(t *testing.T, inputs []string) int {
	t.Helper()
	files, _, err := expandInputs(inputs)
	if err != nil {
		t.Fatal(err)
	}
	return len(files)
}

// TestFaultElasticsearchDown60s stops a dedicated Elasticsearch node for
// 60 s while the sensor publishes and the pipeline stores. The pipeline
// must keep running and retry with backoff, and once the node is back the
// same process must store every event once.
func TestFaultElasticsearchDown60s(t *testing.T) {
	brokers := itest.KafkaBrokers(t)
	es := itest.NewElastic(t)
	e := newProdEnv(t, brokers, es.URL())
	inputs := loadInputs(t, 3)
	want := e.expectedIDs(t, inputs)

	pipe := e.start(t, "pipeline", "pipeline", "--rules", e.rules, "--metrics", "off")
	sensor := e.start(t, "sensor", "sensor", append(importArgs(inputs), "--metrics", "off")...)
	atStop := e.waitPartlyStored(t, len(want), 5, 70, 4*time.Minute, pipe, sensor)
	es.Stop()
	t.Logf("stopped Elasticsearch with %d of %d events stored", atStop, len(want))

	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(time.Second) {
		expectRunning(t, pipe, sensor)
	}
	if !strings.Contains(pipe.stderr.String(), "store write failed; retrying") {
		t.Errorf("the pipeline logged no retried store write while Elasticsearch was down\n%s", tail(pipe.stderr.String(), 4000))
	}
	es.Start()

	got := e.waitStored(t, len(want), 4*time.Minute, pipe, sensor)
	compareIDs(t, got, want)
	e.expectAlertsLikeHunt(t, inputs, pipe)
	sensor.stop(t)
	pipe.stop(t)
}

// TestFaultKafkaRestart restarts a dedicated Kafka broker while the sensor
// publishes and the pipeline consumes. The sensor spools what the broker
// does not acknowledge, and the pipeline rejoins its group and resumes at
// the committed offsets.
func TestFaultKafkaRestart(t *testing.T) {
	k := itest.NewKafka(t)
	e := newProdEnv(t, k.Brokers(), itest.ElasticURL(t))
	inputs := loadInputs(t, 3)
	want := e.expectedIDs(t, inputs)

	pipe := e.start(t, "pipeline", "pipeline", "--rules", e.rules, "--metrics", "off")
	sensor := e.start(t, "sensor", "sensor", append(importArgs(inputs), "--metrics", "off")...)
	atStop := e.waitPartlyStored(t, len(want), 5, 80, 4*time.Minute, pipe, sensor)
	k.Stop()
	t.Logf("stopped Kafka with %d of %d events stored", atStop, len(want))
	expectRunning(t, pipe, sensor)
	k.Start()

	got := e.waitStored(t, len(want), 4*time.Minute, pipe, sensor)
	compareIDs(t, got, want)
	e.expectAlertsLikeHunt(t, inputs, pipe)
	sensor.stop(t)
	pipe.stop(t)
}

// webAttackLog is an access log with web attacks that the shared rules
// detect; the spool test follows it as a growing file.
const webAttackLog = sharedData + "/logs/web/evtx-attack-samples/web_attack_and_isp_webshell_localhost_access_log.txt"

// TestFaultSensorSpoolsWhileKafkaDown stops a dedicated Kafka broker while
// a sensor follows a log file, appends the second half of the log, and
// expects the sensor to keep reading into its spool
// (canhgac_kafka_spool_records on its /metrics). Once the broker is back
// the spool drains and the pipeline stores every line once.
func TestFaultSensorSpoolsWhileKafkaDown(t *testing.T) {
	k := itest.NewKafka(t)
	e := newProdEnv(t, k.Brokers(), itest.ElasticURL(t))
	sample, err := os.ReadFile(webAttackLog)
	if err != nil {
		t.Fatal(err)
	}
	if sample[len(sample)-1] != '\n' {
		// The tailer holds back a last line without a newline.
		sample = append(sample, '\n')
	}
	half := bytes.IndexByte(sample[len(sample)/2:], '\n') + len(sample)/2 + 1
	logPath := filepath.Join(t.TempDir(), "access.log")
	if err := os.WriteFile(logPath, sample[:half], 0o600); err != nil {
		t.Fatal(err)
	}

	metricsAddr := freeAddr(t)
	pipe := e.start(t, "pipeline", "pipeline", "--rules", e.rules, "--metrics", "off")
	sensor := e.start(t, "sensor", "sensor", "--file", logPath, "--no-system-logs",
		"--syslog-udp", "off", "--syslog-tcp", "off", "--metrics", metricsAddr)
	before := len(e.expectedIDs(t, []string{logPath}))
	e.waitStored(t, before, 3*time.Minute, pipe, sensor)

	k.Stop()
	f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(sample[half:]); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := e.expectedIDs(t, []string{logPath})
	appended := len(want) - before

	metricsURL := "http://" + metricsAddr + "/metrics"
	var spooled float64
	for deadline := time.Now().Add(2 * time.Minute); spooled < float64(appended); time.Sleep(100 * time.Millisecond) {
		spooled, err = metricValue(metricsURL, "canhgac_kafka_spool_records")
		if time.Now().After(deadline) {
			metrics := canhgacMetrics(metricsURL)
			// SIGQUIT makes the Go runtime print every goroutine's stack,
			// which shows where the sensor waits.
			sensor.cmd.Process.Signal(syscall.SIGQUIT)
			<-sensor.done
			sensor.done <- nil
			t.Fatalf("the sensor's spool holds %.0f records (err %v) 2 min after %d events were appended\n%s\n%s",
				spooled, err, appended, metrics, tail(sensor.stderr.String(), 60000))
		}
	}
	t.Logf("the sensor spooled %.0f records while Kafka was down (%d events appended)", spooled, appended)
	expectRunning(t, pipe, sensor)
	k.Start()

	got := e.waitStored(t, len(want), 4*time.Minute, pipe, sensor)
	compareIDs(t, got, want)
	waitUntil(t, time.Minute, "the spool drains", func() bool {
		n, err := metricValue(metricsURL, "canhgac_kafka_spool_records")
		return err == nil && n == 0
	})
	e.expectAlertsLikeHunt(t, []string{logPath}, pipe)
	sensor.stop(t)
	pipe.stop(t)
}
