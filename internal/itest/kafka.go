package itest

import (
	"fmt"
	"net"
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

// Kafka is a dedicated single-node broker for one test, started with
// scripts/services/kafka in a temporary directory on a free port. Fault
// tests stop, restart and kill it, so it is never shared with other tests.
type Kafka struct {
	t      testing.TB
	script string
	dir    string
	port   int
}

// NewKafka starts a dedicated broker and stops it when the test ends. It
// runs when CANHGAC_INTEGRATION=1 or CANHGAC_KAFKA_BROKERS is set (the
// machine can run Kafka), and skips with a message otherwise. A broker
// that does not start fails the test.
func NewKafka(t testing.TB) *Kafka {
	t.Helper()
	if !Required() && os.Getenv("CANHGAC_KAFKA_BROKERS") == "" {
		t.Skip("dedicated Kafka broker not started: set CANHGAC_INTEGRATION=1 or CANHGAC_KAFKA_BROKERS " +
			"(Java 17+ and Maven are needed, see scripts/services/README.md)")
	}
	port, err := freePortPair()
	if err != nil {
		t.Fatalf("find a free port pair for a Kafka broker: %v", err)
	}
	k := &Kafka{t: t, script: kafkaScript(), dir: t.TempDir(), port: port}
	t.Cleanup(func() {
		if err := k.run("stop"); err != nil {
			t.Errorf("stop Kafka broker in %s: %v", k.dir, err)
		}
	})
	k.Start()
	return k
}

// Brokers returns the broker's bootstrap address.
func (k *Kafka) Brokers() []string { return []string{"127.0.0.1:" + strconv.Itoa(k.port)} }

// Dir returns the broker's directory (data, kafka.log, kafka.pid).
func (k *Kafka) Dir() string { return k.dir }

// Start starts the broker, keeping the data of an earlier start, and
// returns once it accepts connections.
func (k *Kafka) Start() {
	k.t.Helper()
	if err := k.run("start"); err != nil {
		k.t.Fatalf("start Kafka broker on 127.0.0.1:%d: %v", k.port, err)
	}
}

// Stop stops the broker gracefully (SIGTERM, then SIGKILL after the
// script's timeout).
func (k *Kafka) Stop() {
	k.t.Helper()
	if err := k.run("stop"); err != nil {
		k.t.Fatalf("stop Kafka broker on 127.0.0.1:%d: %v", k.port, err)
	}
}

// Kill sends SIGKILL to the broker process recorded in DIR/kafka.pid and
// waits until it is gone.
func (k *Kafka) Kill() {
	k.t.Helper()
	data, err := os.ReadFile(filepath.Join(k.dir, "kafka.pid"))
	if err != nil {
		k.t.Fatalf("kill Kafka broker: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		k.t.Fatalf("kill Kafka broker: invalid pid file: %v", err)
	}
	// Signal the PID only if it is this test's broker, as the script does.
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil || !strings.Contains(string(cmdline), filepath.Join(k.dir, "server.properties")) {
		k.t.Fatalf("kill Kafka broker: pid %d is not the broker of %s", pid, k.dir)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		k.t.Fatalf("kill Kafka broker pid %d: %v", pid, err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
	k.t.Fatalf("Kafka broker pid %d still runs 30s after SIGKILL", pid)
}

func (k *Kafka) run(command string) error {
	args := []string{command, "--dir", k.dir}
	if command == "start" {
		args = append(args, "--port", strconv.Itoa(k.port), "--heap", "256m")
	}
	cmd := exec.Command(k.script, args...)
	cmd.Env = append(os.Environ(), "KAFKA_START_TIMEOUT=180")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", k.script, command, err, out)
	}
	return nil
}

// kafkaScript returns the path of scripts/services/kafka, found from this
// source file so tests of any package can call it.
func kafkaScript() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "scripts", "services", "kafka")
}

// freePortPair returns a port p such that p and p+1 (the controller
// listener) are both free on 127.0.0.1 at the time of the call.
func freePortPair() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if port >= 65534 {
			continue
		}
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+1))
		if err != nil {
			continue
		}
		l2.Close()
		return port, nil
	}
	return 0, fmt.Errorf("no free pair of adjacent ports after 20 tries")
}
