package itest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Elastic is a dedicated single-node Elasticsearch server for one test,
// started with scripts/services/elasticsearch in a temporary directory on
// a free port. Fault tests stop, restart and kill it, so it is never
// shared with other tests.
type Elastic struct {
	t      testing.TB
	script string
	dir    string
	port   int
}

// NewElastic starts a dedicated node and stops it when the test ends. It
// runs when CANHGAC_INTEGRATION=1 or CANHGAC_ES_URL is set (the machine
// can run Elasticsearch), and skips with a message otherwise. A node that
// does not start fails the test.
//
// As root the script runs the server as the user canhgac-es, which must be
// able to reach the directory, so the test's temporary folder is made
// searchable (mode 0711) by other users.
func NewElastic(t testing.TB) *Elastic {
	t.Helper()
	if !Required() && os.Getenv("CANHGAC_ES_URL") == "" {
		t.Skip("dedicated Elasticsearch node not started: set CANHGAC_INTEGRATION=1 or CANHGAC_ES_URL " +
			"(Java 17+ and Maven are needed, see scripts/services/README.md)")
	}
	port, err := freeElasticPort()
	if err != nil {
		t.Fatalf("find a free port for an Elasticsearch node: %v", err)
	}
	dir := t.TempDir()
	// The testing package creates the parent with mode 0700.
	if err := os.Chmod(filepath.Dir(dir), 0o711); err != nil {
		t.Fatalf("make %s searchable for the Elasticsearch user: %v", filepath.Dir(dir), err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("make %s readable for the Elasticsearch user: %v", dir, err)
	}
	e := &Elastic{t: t, script: elasticScript(), dir: dir, port: port}
	t.Cleanup(func() {
		if err := e.run("stop"); err != nil {
			t.Errorf("stop Elasticsearch node in %s: %v", e.dir, err)
		}
	})
	e.Start()
	return e
}

// URL returns the node's base URL, for example http://127.0.0.1:41234.
func (e *Elastic) URL() string { return "http://127.0.0.1:" + strconv.Itoa(e.port) }

// Dir returns the node's directory (config/, data/, logs/, run/).
func (e *Elastic) Dir() string { return e.dir }

// Start starts the node, keeping the data of an earlier start, and returns
// once it responds on its HTTP port.
func (e *Elastic) Start() {
	e.t.Helper()
	if err := e.run("start"); err != nil {
		e.t.Fatalf("start Elasticsearch node on 127.0.0.1:%d: %v", e.port, err)
	}
}

// Stop stops the node gracefully (SIGTERM, then SIGKILL after the
// script's timeout).
func (e *Elastic) Stop() {
	e.t.Helper()
	if err := e.run("stop"); err != nil {
		e.t.Fatalf("stop Elasticsearch node on 127.0.0.1:%d: %v", e.port, err)
	}
}

// Kill sends SIGKILL to the server process recorded in DIR/run/server.pid
// and waits until it is gone. A later Start or the test's cleanup ends the
// script's stdin feeder, which exits by itself within 2 s of the server.
func (e *Elastic) Kill() {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join(e.dir, "run", "server.pid"))
	if err != nil {
		e.t.Fatalf("kill Elasticsearch node: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		e.t.Fatalf("kill Elasticsearch node: invalid pid file: %v", err)
	}
	// Signal the PID only if it is this test's node, as the script does.
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || !strings.Contains(string(cmdline), "-Des.path.conf="+filepath.Join(e.dir, "config")) {
		e.t.Fatalf("kill Elasticsearch node: pid %d is not the node of %s", pid, e.dir)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		e.t.Fatalf("kill Elasticsearch node pid %d: %v", pid, err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
	e.t.Fatalf("Elasticsearch node pid %d still runs 30s after SIGKILL", pid)
}

// Running reports whether the node responds to GET /_cluster/health.
func (e *Elastic) Running() bool {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(e.URL() + "/_cluster/health")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (e *Elastic) run(command string) error {
	args := []string{command, "--dir", e.dir}
	if command == "start" {
		args = append(args, "--port", strconv.Itoa(e.port), "--heap", "512m")
	}
	cmd := exec.Command(e.script, args...)
	cmd.Env = append(os.Environ(), "CANHGAC_ES_WAIT=240")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", e.script, command, err, out)
	}
	return nil
}

// elasticScript returns the path of scripts/services/elasticsearch, found
// from this source file so tests of any package can call it.
func elasticScript() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", "services", "elasticsearch")
}

// freeElasticPort returns a port p such that p (HTTP) and p+100 (the
// node's transport port) are both free on 127.0.0.1 at the time of the
// call.
func freeElasticPort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port > 65435 {
			continue
		}
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+100))
		if err != nil {
			continue
		}
		l2.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free port p with p+100 also free after 20 tries")
}
