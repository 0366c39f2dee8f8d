package packet

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/i18n"
)

// signalHandler is a slog handler that reports the message "live capture
// started", so the test learns that the socket is open without sleeping.
type signalHandler struct {
	slog.Handler
	started chan struct{}
}

func (h signalHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "live capture started" {
		close(h.started)
	}
	return nil
}

func (h signalHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h signalHandler) WithAttrs([]slog.Attr) slog.Handler { return h }

// TestCaptureLoopback captures UDP datagrams that the test sends to its own
// listener on 127.0.0.1 and expects their flow record.
func TestCaptureLoopback(t *testing.T) {
	listener, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	port := int64(listener.LocalAddr().(*net.UDPAddr).Port)

	flows := make(chan *ecs.Event, 64)
	started := make(chan struct{})
	s := &Sensor{
		// A 1 ms idle timeout writes a flow record as soon as the next
		// datagram of the flow arrives, so the test need not stop first.
		Options: Options{IdleTimeout: time.Millisecond},
		Emit: func(e *ecs.Event) error {
			if e.Fields["event.dataset"] == DatasetFlow && e.Fields["destination.port"] == port {
				select {
				case flows <- e:
				default:
				}
			}
			return nil
		},
		Logger: slog.New(signalHandler{Handler: slog.DiscardHandler, started: started}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	result := make(chan error, 1)
	go func() {
		_, err := s.Capture(ctx, "lo")
		result <- err
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("Capture did not start within 10 s")
	case err := <-result:
		if IsPermission(err) {
			t.Skipf("no root or CAP_NET_RAW, so no live capture here: %v", err)
		}
		t.Fatalf("Capture: %v", err)
	}

	conn, err := net.Dial("udp", listener.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case e := <-flows:
			if !strings.HasPrefix(e.SourceID, "iface:lo@") {
				t.Errorf("source id = %q, want iface:lo@START", e.SourceID)
			}
			if e.Fields["source.ip"] != "127.0.0.1" || e.Fields["network.transport"] != "udp" {
				t.Errorf("flow %v %v, want udp from 127.0.0.1", e.Fields["network.transport"], e.Fields["source.ip"])
			}
			cancel()
			if err := <-result; err != nil {
				t.Errorf("Capture after cancel: %v", err)
			}
			return
		case <-tick.C:
			if _, err := conn.Write([]byte("canhgac live capture test")); err != nil {
				t.Fatal(err)
			}
		case <-deadline:
			t.Fatal("no flow record for the test datagrams within 10 s")
		}
	}
}

func TestCaptureUnknownInterface(t *testing.T) {
	s := &Sensor{Emit: func(*ecs.Event) error { return nil }}
	_, err := s.Capture(context.Background(), "nosuchif0")
	var pe *Error
	if !errors.As(err, &pe) || pe.Key != "packet.capture.no_interface" {
		t.Fatalf("error = %v, want packet.capture.no_interface", err)
	}
	if !strings.Contains(err.Error(), "nosuchif0") {
		t.Errorf("error %q does not name the interface", err)
	}
}

// TestCapturePermissionError runs this test binary again without
// CAP_NET_RAW (setpriv drops it from the bounding set, which removes it
// even for root) and expects the permission error there.
func TestCapturePermissionError(t *testing.T) {
	if os.Getenv("CANHGAC_PACKET_NO_NET_RAW") == "1" {
		_, err := openLive("lo")
		if !IsPermission(err) {
			t.Fatalf("openLive without CAP_NET_RAW: %v, want the permission error", err)
		}
		for _, lang := range []i18n.Lang{i18n.EN, i18n.VI} {
			msg := err.(*Error).Message(lang)
			if !strings.Contains(msg, `"lo"`) || !strings.Contains(msg, "CAP_NET_RAW") || !strings.Contains(msg, "root") {
				t.Errorf("%s message %q must name the interface, root and CAP_NET_RAW", lang, msg)
			}
		}
		return
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) not installed, cannot drop CAP_NET_RAW")
	}
	cmd := exec.Command(setpriv, "--bounding-set", "-net_raw", "--inh-caps", "-net_raw",
		os.Args[0], "-test.run=^TestCapturePermissionError$", "-test.v")
	cmd.Env = append(os.Environ(), "CANHGAC_PACKET_NO_NET_RAW=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child without CAP_NET_RAW failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestCapturePermissionError") {
		t.Fatalf("child did not run the check:\n%s", out)
	}
}
