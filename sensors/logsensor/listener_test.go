package logsensor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// failAfter bounds every wait for the network in these tests; it is a
// guard against a hang, not a timing assertion.
const failAfter = 10 * time.Second

// inbox is a consumer of syslog messages.
type inbox struct {
	mu      sync.Mutex
	msgs    []Message
	changed chan struct{}
	// gate, when set, is received from before each delivery returns.
	gate chan struct{}
	// failures makes the next deliveries fail.
	failures int
	calls    int
}

func newInbox() *inbox { return &inbox{changed: make(chan struct{}, 1)} }

func (in *inbox) deliver(ctx context.Context, msgs []Message) error {
	in.mu.Lock()
	in.calls++
	gate := in.gate
	fail := in.failures > 0
	if fail {
		in.failures--
	}
	in.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if fail {
		return errors.New("store unavailable")
	}
	in.mu.Lock()
	in.msgs = append(in.msgs, msgs...)
	in.mu.Unlock()
	select {
	case in.changed <- struct{}{}:
	default:
	}
	return nil
}

// waitFor waits until at least n messages arrived and returns them.
func (in *inbox) waitFor(t *testing.T, n int) []Message {
	t.Helper()
	deadline := time.After(failAfter)
	for {
		in.mu.Lock()
		got := append([]Message(nil), in.msgs...)
		in.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-in.changed:
		case <-deadline:
			t.Fatalf("received %d messages, want %d", len(got), n)
		}
	}
}

type runningListener struct {
	*Listener
	cancel context.CancelFunc
	done   chan struct{} // closed when Serve returned
	err    error         // Serve's result, set before done is closed
}

// stop cancels Serve and returns its result.
func (r *runningListener) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
		return r.err
	case <-time.After(failAfter):
		t.Fatal("Serve did not return after cancel")
		return nil
	}
}

func startListener(t *testing.T, cfg ListenerConfig) *runningListener {
	t.Helper()
	if cfg.Address == "" {
		cfg.Address = "127.0.0.1:0"
	}
	if cfg.ID == "" {
		cfg.ID = "test-" + cfg.Network
	}
	if cfg.Checkpoints == nil {
		cfg.Checkpoints = openStore(t)
	}
	l, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningListener{Listener: l, cancel: cancel, done: make(chan struct{})}
	go func() {
		r.err = l.Serve(ctx)
		close(r.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

func dial(t *testing.T, l *Listener) net.Conn {
	t.Helper()
	c, err := net.Dial(l.Addr().Network(), l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// checkSeqs verifies that messages are numbered first, first+1, … in order.
func checkSeqs(t *testing.T, msgs []Message, first uint64, listenerID string) {
	t.Helper()
	for i, m := range msgs {
		if m.Seq != first+uint64(i) || m.ListenerID != listenerID {
			t.Fatalf("message %d has seq %d listener %q, want %d and %q", i, m.Seq, m.ListenerID, first+uint64(i), listenerID)
		}
	}
}

func syslogPayloads(t *testing.T, n int) [][]byte {
	t.Helper()
	lines := realLines(t, opensshLog)[:n]
	out := make([][]byte, len(lines))
	for i, l := range lines {
		out[i] = append([]byte("<38>"), l...)
	}
	return out
}

func TestSyslogUDP(t *testing.T) {
	payloads := syslogPayloads(t, 200)
	in := newInbox()
	l := startListener(t, ListenerConfig{Network: "udp", Deliver: in.deliver})
	c := dial(t, l.Listener)
	for _, p := range payloads {
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	got := in.waitFor(t, len(payloads))
	checkSeqs(t, got, 1, "test-udp")
	sent := map[string]bool{}
	for _, p := range payloads {
		sent[string(p)] = true
	}
	for _, m := range got {
		if !sent[string(m.Data)] {
			t.Errorf("received %q, which was not sent", m.Data)
		}
		if m.Peer.Addr().String() != "127.0.0.1" || m.Peer.Port() == 0 {
			t.Errorf("peer = %v, want 127.0.0.1 with a port", m.Peer)
		}
		if m.Received.IsZero() {
			t.Error("receive time not set")
		}
	}
	if err := l.stop(t); err != nil {
		t.Errorf("Serve returned %v, want nil", err)
	}
}

func TestSyslogTCPFramings(t *testing.T) {
	payloads := syslogPayloads(t, 500)
	tests := []struct {
		name   string
		encode func([]byte) []byte
	}{
		{"lf", func(m []byte) []byte { return append(append([]byte(nil), m...), '\n') }},
		{"crlf", func(m []byte) []byte { return append(append([]byte(nil), m...), '\r', '\n') }},
		{"octet counted", octetFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInbox()
			l := startListener(t, ListenerConfig{Network: "tcp", Deliver: in.deliver, BatchSize: 64})
			c := dial(t, l.Listener)
			var stream []byte
			for _, p := range payloads {
				stream = append(stream, tt.encode(p)...)
			}
			// Odd write sizes split frames across reads.
			for len(stream) > 0 {
				n := min(777, len(stream))
				if _, err := c.Write(stream[:n]); err != nil {
					t.Fatal(err)
				}
				stream = stream[n:]
			}
			got := in.waitFor(t, len(payloads))
			checkSeqs(t, got, 1, "test-tcp")
			for i, m := range got {
				if !bytes.Equal(m.Data, payloads[i]) {
					t.Fatalf("message %d = %q, want %q", i, m.Data, payloads[i])
				}
				if m.Peer.Addr().String() != "127.0.0.1" {
					t.Errorf("peer = %v, want 127.0.0.1", m.Peer)
				}
			}
		})
	}
}

func TestSyslogTCPMultipleConnections(t *testing.T) {
	payloads := syslogPayloads(t, 200)
	in := newInbox()
	l := startListener(t, ListenerConfig{Network: "tcp", Deliver: in.deliver, BatchSize: 16})
	const conns = 4
	var wg sync.WaitGroup
	for k := range conns {
		c := dial(t, l.Listener)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, p := range payloads {
				// Each connection tags its messages; even ones use octet counting.
				msg := append([]byte(fmt.Sprintf("conn%d ", k)), p...)
				frame := append(msg, '\n')
				if k%2 == 0 {
					frame = octetFrame(msg)
				}
				if _, err := c.Write(frame); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got := in.waitFor(t, conns*len(payloads))
	if len(got) != conns*len(payloads) {
		t.Fatalf("received %d messages, want %d", len(got), conns*len(payloads))
	}
	checkSeqs(t, got, 1, "test-tcp")
	// Per connection, messages keep their order.
	next := make([]int, conns)
	for _, m := range got {
		var k int
		if _, err := fmt.Sscanf(string(m.Data), "conn%d ", &k); err != nil {
			t.Fatalf("message %q lacks its connection tag", m.Data)
		}
		want := fmt.Sprintf("conn%d %s", k, payloads[next[k]])
		if string(m.Data) != want {
			t.Fatalf("connection %d message %d = %q, want %q", k, next[k], m.Data, want)
		}
		next[k]++
	}
}

// waitClosed waits until the server closes c.
func waitClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(failAfter))
	if _, err := io.ReadAll(c); err != nil && !errors.Is(err, net.ErrClosed) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatal("server did not close the connection")
		}
	}
}

func TestSyslogTCPBadInput(t *testing.T) {
	payload := syslogPayloads(t, 1)[0]
	tests := []struct {
		name     string
		stream   []byte
		oversize uint64
		invalid  uint64
	}{
		{"octet oversize", append(octetFrame(payload), octetFrame(bytes.Repeat([]byte("x"), 300))...), 1, 0},
		{"lf oversize", append(append(append([]byte(nil), payload...), '\n'), bytes.Repeat([]byte("x"), 300)...), 1, 0},
		{"invalid length", append(octetFrame(payload), "12x <38>hello"...), 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newInbox()
			l := startListener(t, ListenerConfig{Network: "tcp", Deliver: in.deliver, MaxMessageBytes: 256})
			c := dial(t, l.Listener)
			if _, err := c.Write(tt.stream); err != nil {
				t.Fatal(err)
			}
			waitClosed(t, c)
			got := in.waitFor(t, 1)
			if len(got) != 1 || !bytes.Equal(got[0].Data, payload) {
				t.Errorf("delivered %d messages, want only the valid one before the bad frame", len(got))
			}
			st := l.Stats()
			if st.DroppedOversize != tt.oversize || st.DroppedInvalidFrame != tt.invalid {
				t.Errorf("oversize %d invalid %d, want %d and %d", st.DroppedOversize, st.DroppedInvalidFrame, tt.oversize, tt.invalid)
			}
		})
	}
}

func TestSyslogConnectionLimit(t *testing.T) {
	in := newInbox()
	l := startListener(t, ListenerConfig{Network: "tcp", Deliver: in.deliver, MaxConnections: 1})
	first := dial(t, l.Listener)
	if _, err := first.Write([]byte("<38>first\n")); err != nil {
		t.Fatal(err)
	}
	in.waitFor(t, 1) // the first connection is being served
	second := dial(t, l.Listener)
	waitClosed(t, second)
	if st := l.Stats(); st.Rejected != 1 || st.Connections != 1 {
		t.Errorf("rejected %d open %d, want 1 and 1", st.Rejected, st.Connections)
	}
	if _, err := first.Write([]byte("<38>still served\n")); err != nil {
		t.Fatal(err)
	}
	if got := in.waitFor(t, 2); string(got[1].Data) != "<38>still served" {
		t.Errorf("second message = %q", got[1].Data)
	}
}

func TestSyslogIdleTimeout(t *testing.T) {
	in := newInbox()
	l := startListener(t, ListenerConfig{Network: "tcp", Deliver: in.deliver, IdleTimeout: 50 * time.Millisecond})
	c := dial(t, l.Listener)
	if _, err := c.Write([]byte("<38>then silence\n")); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, c)
	if got := in.waitFor(t, 1); string(got[0].Data) != "<38>then silence" {
		t.Errorf("message = %q", got[0].Data)
	}
}

func TestSyslogShutdown(t *testing.T) {
	for _, network := range []string{"tcp", "udp"} {
		t.Run(network, func(t *testing.T) {
			in := newInbox()
			l := startListener(t, ListenerConfig{Network: network, Deliver: in.deliver})
			c := dial(t, l.Listener)
			if _, err := c.Write([]byte("<38>before shutdown\n")); err != nil {
				t.Fatal(err)
			}
			in.waitFor(t, 1)
			if err := l.stop(t); err != nil {
				t.Fatalf("Serve returned %v, want nil", err)
			}
			if network == "tcp" {
				waitClosed(t, c)
				if _, err := net.Dial("tcp", l.Addr().String()); err == nil {
					t.Error("listener still accepts connections after shutdown")
				}
			}
		})
	}
}

func TestSyslogSequenceAcrossRestarts(t *testing.T) {
	cps := openStore(t)
	send := func(l *Listener, n int) {
		c := dial(t, l)
		for i := range n {
			fmt.Fprintf(c, "<38>message %d\n", i)
		}
	}

	in := newInbox()
	l1 := startListener(t, ListenerConfig{Network: "tcp", ID: "syslog-main", Checkpoints: cps, Deliver: in.deliver})
	send(l1.Listener, 10)
	got := in.waitFor(t, 10)
	checkSeqs(t, got, 1, "syslog-main")
	if err := l1.Commit(6); err != nil {
		t.Fatal(err)
	}
	if err := l1.Commit(42); err == nil {
		t.Error("commit of a never delivered sequence number succeeded")
	}
	l1.stop(t)

	// 7..10 were delivered but not committed; their numbers stay used.
	in2 := newInbox()
	l2 := startListener(t, ListenerConfig{Network: "tcp", ID: "syslog-main", Checkpoints: cps, Deliver: in2.deliver})
	if st := l2.Stats(); st.NextSeq != 11 || st.Committed != 6 {
		t.Fatalf("after restart next %d committed %d, want 11 and 6", st.NextSeq, st.Committed)
	}
	send(l2.Listener, 5)
	checkSeqs(t, in2.waitFor(t, 5), 11, "syslog-main")
}

func TestSyslogDeliverRetry(t *testing.T) {
	in := newInbox()
	in.failures = 2
	l := startListener(t, ListenerConfig{Network: "tcp", Deliver: in.deliver, RetryInterval: time.Millisecond})
	c := dial(t, l.Listener)
	if _, err := c.Write([]byte("<38>retried\n")); err != nil {
		t.Fatal(err)
	}
	got := in.waitFor(t, 1)
	checkSeqs(t, got, 1, "test-tcp")
	in.mu.Lock()
	calls := in.calls
	in.mu.Unlock()
	if calls != 3 {
		t.Errorf("deliver called %d times, want 3 (two failures, one success)", calls)
	}
}

// TestSyslogTCPBackpressure checks that a blocked consumer stops the
// listener from reading: the sender's writes stall once the kernel buffers
// are full, instead of the listener buffering without bound.
func TestSyslogTCPBackpressure(t *testing.T) {
	in := newInbox()
	in.gate = make(chan struct{})
	l := startListener(t, ListenerConfig{Network: "tcp", Deliver: in.deliver, BatchSize: 64})
	c := dial(t, l.Listener)
	payload := append(syslogPayloads(t, 1)[0], '\n')
	chunk := bytes.Repeat(payload, 1000)
	const total = 64 << 20 // far more than loopback socket buffers hold
	c.SetWriteDeadline(time.Now().Add(time.Second))
	written := 0
	var err error
	for written < total && err == nil {
		var n int
		n, err = c.Write(chunk)
		written += n
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("sender wrote %d bytes with err %v, want its writes to stall", written, err)
	}
	if got := l.Stats().Received; got > 64 {
		t.Errorf("listener decoded %d messages while the consumer was blocked, want at most one batch of 64", got)
	}
	close(in.gate)
	want := written / len(payload)
	if got := in.waitFor(t, want); len(got) < want {
		t.Errorf("after unblocking, %d messages arrived, want %d", len(got), want)
	}
}

func counterValue(t *testing.T, c interface{ Write(*dto.Metric) error }) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func gaugeValue(t *testing.T, g interface{ Write(*dto.Metric) error }) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetGauge().GetValue()
}

func TestSyslogUDPQueueFull(t *testing.T) {
	in := newInbox()
	in.gate = make(chan struct{})
	// The metric is global per listener id, so compare its increase.
	before := counterValue(t, syslogDropped.WithLabelValues("udp-queue-test", DropQueueFull))
	l := startListener(t, ListenerConfig{Network: "udp", ID: "udp-queue-test", Deliver: in.deliver, QueueSize: 4})
	c := dial(t, l.Listener)
	payloads := syslogPayloads(t, 100)
	for _, p := range payloads {
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	// 100 short datagrams fit the default loopback socket buffer, so the
	// reader gets all of them; the loop waits for that, it times nothing.
	deadline := time.Now().Add(failAfter)
	for l.Stats().Received < 100 {
		if time.Now().After(deadline) {
			t.Fatalf("reader got %d of 100 datagrams", l.Stats().Received)
		}
		time.Sleep(time.Millisecond)
	}
	close(in.gate)
	st := l.Stats()
	for st.Delivered+st.DroppedQueueFull < st.Received && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		st = l.Stats()
	}
	if st.DroppedQueueFull == 0 {
		t.Fatalf("no datagram dropped with a blocked consumer and a queue of 4: %+v", st)
	}
	if st.Delivered+st.DroppedQueueFull != st.Received {
		t.Errorf("delivered %d + dropped %d != received %d", st.Delivered, st.DroppedQueueFull, st.Received)
	}
	if got := counterValue(t, l.metrics.queueFull) - before; got != float64(st.DroppedQueueFull) {
		t.Errorf("metric canhgac_logsensor_syslog_dropped_total{reason=queue_full} = %v, want %d", got, st.DroppedQueueFull)
	}
}

func TestListenErrors(t *testing.T) {
	busy := startListener(t, ListenerConfig{Network: "tcp", Deliver: newInbox().deliver})
	tests := []struct {
		name string
		cfg  ListenerConfig
		key  string
	}{
		{"bad network", ListenerConfig{Network: "sctp"}, "logsensor.syslog.network"},
		{"port in use", ListenerConfig{Network: "tcp", Address: busy.Addr().String()}, "logsensor.syslog.listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Checkpoints = openStore(t)
			tt.cfg.Deliver = newInbox().deliver
			_, err := Listen(tt.cfg)
			var uerr *Error
			if !errors.As(err, &uerr) || uerr.Key != tt.key {
				t.Fatalf("error = %v, want key %s", err, tt.key)
			}
		})
	}
}

func TestSyslogSequenceAfterCrash(t *testing.T) {
	cps := openStore(t)
	in := newInbox()
	cfg := ListenerConfig{Network: "udp", ID: "syslog-crash", Checkpoints: cps, Deliver: in.deliver, SeqReserveBlock: 100}
	l1 := startListener(t, cfg)
	c := dial(t, l1.Listener)
	for i := range 10 {
		fmt.Fprintf(c, "<38>message %d", i)
	}
	in.waitFor(t, 10)
	// What a crash right now would leave on disk: one reserved block.
	crashed, ok, err := cps.LoadListener("syslog-crash")
	if err != nil || !ok {
		t.Fatalf("load checkpoint: ok=%v err=%v", ok, err)
	}
	if crashed.Reserved != 101 {
		t.Fatalf("reserved = %d, want 101 (one block from 1)", crashed.Reserved)
	}
	l1.stop(t)
	clean, _, err := cps.LoadListener("syslog-crash")
	if err != nil || clean.NextSeq != 11 || clean.Reserved != 11 {
		t.Fatalf("after a clean stop next %d reserved %d err %v, want 11 and 11", clean.NextSeq, clean.Reserved, err)
	}

	if err := cps.SaveListener(crashed); err != nil {
		t.Fatal(err)
	}
	in2 := newInbox()
	cfg.Deliver = in2.deliver
	l2 := startListener(t, cfg)
	if st := l2.Stats(); st.NextSeq != 101 {
		t.Fatalf("after a crash the next seq is %d, want 101 (after the reserved block)", st.NextSeq)
	}
}
