package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/internal/itest"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/elastic"
	"github.com/canhgac/canhgac/sensors/filesource"
)

// prodEnv is one deployment of the production path on the test servers:
// a region of its own (so topics and data streams of its own), a consumer
// group of its own and a config file that canhgac sensor and canhgac
// pipeline share.
type prodEnv struct {
	dir     string
	region  string
	group   string
	sensor  string
	brokers []string
	esURL   string
	config  string
	rules   string
}

// newProdEnv writes the config of a new deployment on the Kafka brokers
// and Elasticsearch node of the test run.
func newProdEnv(t testing.TB, brokers []string, esURL string) *prodEnv {
	t.Helper()
	var b [4]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	e := &prodEnv{
		dir: t.TempDir(), region: "e2e" + id, group: "e2e-" + id, sensor: "sensor-" + id,
		brokers: brokers, esURL: esURL, rules: sharedData + "/sigma/rules",
	}
	e.config = filepath.Join(e.dir, "canhgac.yaml")
	cfg := fmt.Sprintf(`region: %s
sensor: %s
files: []
syslog: {udp: "", tcp: ""}
metrics: "off"
no_bundled_rules: true
kafka:
  brokers: [%s]
  consumer: {group: %s, initial: oldest}
  topics: {partitions: 3}
elasticsearch:
  urls: [%s]
  system_retention_days: 36500
  audit_retention_days: 36500
`, e.region, e.sensor, strings.Join(brokers, ", "), e.group, esURL)
	if err := os.WriteFile(e.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// process is a canhgac sensor or pipeline started by a test.
type process struct {
	name   string
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan error
}

// start runs `canhgac COMMAND --config CONFIG ARGS...` with its own data
// folder; the test's cleanup kills it if it still runs.
func (e *prodEnv) start(t testing.TB, command, dataName string, args ...string) *process {
	t.Helper()
	all := append([]string{command, "--lang", "en", "--config", e.config, "--data", filepath.Join(e.dir, dataName)}, args...)
	cmd := exec.Command(binary(t), all...)
	p := &process{name: command, cmd: cmd, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stdout = p.stderr
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// stop sends SIGINT and waits for a clean exit.
func (p *process) stop(t testing.TB) {
	t.Helper()
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("canhgac %s exited with %v after SIGINT\n%s", p.name, err, p.stderr.String())
		}
	case <-time.After(90 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("canhgac %s did not stop within 90 s of SIGINT\n%s", p.name, p.stderr.String())
	}
}

// kill ends the process with SIGKILL, as a crash would.
func (p *process) kill() {
	p.cmd.Process.Kill()
	<-p.done
}

// exited reports whether the process has ended, with its error.
func (p *process) exited() (bool, error) {
	select {
	case err := <-p.done:
		p.done <- err
		return true, err
	default:
		return false, nil
	}
}

// storedIDs returns the ids of the region's events in Elasticsearch, with
// the number of documents that carry each id. It pages with the scroll API,
// so it returns every event however many the region contains.
func (e *prodEnv) storedIDs(t *testing.T) map[string]int {
	t.Helper()
	http.Post(e.esURL+"/logs-*-"+e.region+"/_refresh", "application/json", nil)
	body := `{"size":10000,"_source":false,"query":{"match_all":{}}}`
	resp, err := http.Post(e.esURL+"/logs-*-"+e.region+",-logs-canhgac.deadletter-*/_search?scroll=1m", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("search the region's events: %v", err)
	}
	ids := map[string]int{}
	for {
		var out struct {
			ScrollID string `json:"_scroll_id"`
			Hits     struct {
				Hits []struct {
					ID string `json:"_id"`
				} `json:"hits"`
			} `json:"hits"`
		}
		err := json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("decode search response: %v", err)
		}
		for _, h := range out.Hits.Hits {
			ids[h.ID]++
		}
		if len(out.Hits.Hits) == 0 || out.ScrollID == "" {
			if out.ScrollID != "" {
				clearScroll(e.esURL, out.ScrollID)
			}
			return ids
		}
		next, _ := json.Marshal(map[string]string{"scroll": "1m", "scroll_id": out.ScrollID})
		resp, err = http.Post(e.esURL+"/_search/scroll", "application/json", bytes.NewReader(next))
		if err != nil {
			t.Fatalf("page through the region's events: %v", err)
		}
	}
}

// clearScroll frees a scroll context on the node; an error only leaves it
// to expire after its keep-alive.
func clearScroll(esURL, id string) {
	body, _ := json.Marshal(map[string]string{"scroll_id": id})
	req, err := http.NewRequest(http.MethodDelete, esURL+"/_search/scroll", bytes.NewReader(body))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

// store opens the region's store in this process, for alerts.
func (e *prodEnv) store(t *testing.T) *elastic.Store {
	t.Helper()
	s, err := elastic.New(context.Background(), elastic.Options{URLs: []string{e.esURL}, Region: e.region,
		SystemRetentionDays: 36500, AuditRetentionDays: 36500})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// alertCounts returns the region's alerts as group key → count.
func (e *prodEnv) alertCounts(t *testing.T) map[string]int {
	t.Helper()
	alerts, _, err := e.store(t).Alerts(context.Background(), elastic.AlertFilter{Region: e.region, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, a := range alerts {
		out[a.GroupKey] += a.Count
	}
	return out
}

// expectedIDs reads the inputs as the sensor's import does and returns
// the ids under which the sensor publishes their events.
func (e *prodEnv) expectedIDs(t *testing.T, inputs []string) map[string]bool {
	t.Helper()
	files, _, err := expandInputs(inputs)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, in := range files {
		_, _, err := filesource.Read(context.Background(), in.path, filesource.Options{Packets: readPackets}, func(b *pipeline.Batch) error {
			for _, ev := range b.Events {
				ids[sensorEventID(e.sensor, ev.ID)] = true
			}
			return nil
		})
		if err != nil && !in.named {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// huntAlertCounts runs canhgac hunt over the inputs with the same rules
// and folds its detections by group key, as the store folds alerts.
func (e *prodEnv) huntAlertCounts(t *testing.T, inputs []string) map[string]int {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"hunt", "--format", "json", "--lang", "en", "--rules", e.rules}, inputs...)...)
	if code != 0 {
		t.Fatalf("hunt exit %d: %s", code, errOut)
	}
	counts := map[string]int{}
	for _, doc := range decodeLines(t, []byte(out)) {
		det, _ := doc["detection"].(map[string]any)
		key, _ := det["group_key"].(string)
		counts[key]++
	}
	return counts
}

// waitStored waits until the region holds want events, failing with both
// processes' output when it does not within limit.
func (e *prodEnv) waitStored(t *testing.T, want int, limit time.Duration, procs ...*process) map[string]int {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ids := e.storedIDs(t)
		if len(ids) >= want {
			return ids
		}
		if time.Now().After(deadline) {
			var logs bytes.Buffer
			for _, p := range procs {
				fmt.Fprintf(&logs, "--- canhgac %s\n%s\n", p.name, tail(p.stderr.String(), 4000))
			}
			t.Fatalf("the store holds %d of %d events after %v\n%s", len(ids), want, limit, logs.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// compareIDs reports missing, unexpected and doubled events.
func compareIDs(t *testing.T, got map[string]int, want map[string]bool) {
	t.Helper()
	var missing, extra, doubled []string
	for id := range want {
		if got[id] == 0 {
			missing = append(missing, id)
		}
	}
	for id, n := range got {
		if !want[id] {
			extra = append(extra, id)
		}
		if n > 1 {
			doubled = append(doubled, id)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra)+len(doubled) > 0 {
		t.Errorf("store vs expected: %d missing (%.5v), %d unexpected (%.5v), %d stored twice", len(missing), missing, len(extra), extra, len(doubled))
	}
}

// productionInputs are the shared files the production tests send: SSH
// and web logs, captures, and EVTX files with attack techniques.
var productionInputs = []string{
	sharedData + "/logs/linux/loghub/OpenSSH/OpenSSH_2k.log",
	sharedData + "/pcap/chrissanders-packets/dns.pcap",
	sharedData + "/pcap/chrissanders-packets/http_google.pcapng",
	sharedData + "/pcap/chrissanders-packets/http_dvwa_sqlinjection.pcapng",
	sharedData + "/evtx/evtx-attack-samples/credential_access",
}

// TestProductionPathEqualsHunt sends shared logs, captures and EVTX files
// through canhgac sensor → Kafka → canhgac pipeline → Elasticsearch, on
// the real servers, and expects exactly the events hunt reads (by id, each
// once) and the alerts hunt raises (by group key and count).
func TestProductionPathEqualsHunt(t *testing.T) {
	brokers, esURL := itest.KafkaBrokers(t), itest.ElasticURL(t)
	e := newProdEnv(t, brokers, esURL)
	want := e.expectedIDs(t, productionInputs)
	pipe := e.start(t, "pipeline", "pipeline", "--rules", e.rules)
	var args []string
	for _, in := range productionInputs {
		args = append(args, "--import", in)
	}
	sensor := e.start(t, "sensor", "sensor", args...)
	got := e.waitStored(t, len(want), 5*time.Minute, pipe, sensor)
	compareIDs(t, got, want)

	wantAlerts := e.huntAlertCounts(t, productionInputs)
	var gotAlerts map[string]int
	deadline := time.Now().Add(60 * time.Second)
	for {
		gotAlerts = e.alertCounts(t)
		if fmt.Sprint(gotAlerts) == fmt.Sprint(wantAlerts) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	if fmt.Sprint(gotAlerts) != fmt.Sprint(wantAlerts) {
		t.Errorf("alerts by group key differ from hunt\n got %v\nwant %v\n--- pipeline\n%s", gotAlerts, wantAlerts, tail(pipe.stderr.String(), 3000))
	}
	t.Logf("%d events and %d alert groups through Kafka and Elasticsearch, equal to hunt", len(got), len(gotAlerts))
	sensor.stop(t)
	pipe.stop(t)
}
