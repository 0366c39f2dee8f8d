package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// TestMain removes the binary that binary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds cmd/canhgac once per test run, for tests and benchmarks
// that must run it as a separate process (kill -9, signals, real sockets).
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "canhgac-bin")
		if err != nil {
			buildErr = err
			return
		}
		binDir = dir
		binPath = filepath.Join(dir, "canhgac")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// server is a `canhgac run` process started by a test.
type server struct {
	cmd    *exec.Cmd
	url    string
	stderr *lockedBuffer
	done   chan error
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var consoleLine = regexp.MustCompile(`(?:Web console|Giao diện web): (http://\S+)`)

// startServer runs `canhgac run` with args and waits until its console
// responds.
func startServer(t *testing.T, env []string, args ...string) *server {
	t.Helper()
	return startConsoleCommand(t, env, "run", args...)
}

// startConsoleCommand runs `canhgac COMMAND ARGS...` for a command that
// serves the console (run or console) and waits until it responds.
func startConsoleCommand(t *testing.T, env []string, command string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{command}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := consoleLine.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { s.done <- cmd.Wait() }()
	select {
	case s.url = <-urls:
	case err := <-s.done:
		t.Fatalf("canhgac run exited before serving: %v\n%s", err, s.stderr.String())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("canhgac run printed no console address within 60 s\n%s", s.stderr.String())
	}
	waitUntil(t, 30*time.Second, "console health", func() bool {
		resp, err := http.Get(s.url + "/api/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// stop sends SIGINT and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("canhgac run exited with %v after SIGINT\n%s", err, s.stderr.String())
		}
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		t.Fatalf("canhgac run did not stop within 60 s of SIGINT\n%s", s.stderr.String())
	}
}

// kill ends the process with SIGKILL, as a crash would.
func (s *server) kill(t *testing.T) {
	t.Helper()
	s.cmd.Process.Kill()
	<-s.done
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
