package logsensor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for ListenerConfig fields left zero.
const (
	// DefaultSyslogAddress is a loopback address on an unprivileged port, so
	// the sensor needs no root to listen. Senders on other hosts need an
	// address of a reachable interface in the configuration.
	DefaultSyslogAddress = "127.0.0.1:5514"
	// DefaultMaxMessageBytes is the largest accepted message. It covers
	// long JSON payloads; the limit bounds the buffer of each connection.
	DefaultMaxMessageBytes = 64 << 10
	DefaultMaxConnections  = 256
	DefaultIdleTimeout     = 5 * time.Minute
	DefaultMessageBatch    = 512
	DefaultUDPQueue        = 8192
	DefaultRetryInterval   = time.Second
	// DefaultSeqReserveBlock is how many sequence numbers a listener
	// reserves with one checkpoint write. A checkpoint write costs one or
	// two fsync calls, so reserving per batch would bound throughput by the
	// disk's sync latency.
	DefaultSeqReserveBlock = 4096
)

// maxUDPPayload is the largest UDP payload over IPv4 or IPv6 without
// jumbograms; a read buffer of this size never truncates a datagram.
const maxUDPPayload = 65535

// Message is one syslog message as received, before parsing.
type Message struct {
	// Data is the message without framing. It stays valid after Deliver
	// returns.
	Data []byte
	// Peer is the sender's address and port.
	Peer netip.AddrPort
	// Received is when the listener read the message.
	Received time.Time
	// ListenerID names the listener; sequence numbers count per listener.
	ListenerID string
	// Seq numbers the listener's messages from 1 upwards. A number is
	// never reused, also across restarts. After a clean stop the numbers
	// continue without a gap. After an unclean stop they continue after the
	// last reserved block, so the gap is an upper bound of what was lost.
	Seq uint64
	// Truncated is set on a UDP message that was longer than
	// MaxMessageBytes and was cut to it.
	Truncated bool
}

// MessageDeliverFunc receives a batch of messages. The listener waits until
// it returns: TCP connections are not read meanwhile. On an error the
// listener delivers the same batch again after RetryInterval, with the same
// sequence numbers, until it succeeds or the listener stops.
type MessageDeliverFunc func(ctx context.Context, msgs []Message) error

// ListenerConfig configures a syslog Listener. Network, Checkpoints and
// Deliver are required.
type ListenerConfig struct {
	// ID names the listener in messages, metrics and checkpoints; it
	// defaults to "syslog-<network>:<address>". Keep it stable across
	// restarts, because the sequence numbers continue per ID.
	ID string
	// Network is "udp" or "tcp".
	Network string
	// Address is host:port to listen on; default DefaultSyslogAddress.
	Address string
	// Checkpoints stores the sequence numbers.
	Checkpoints *CheckpointStore
	// Deliver receives the messages.
	Deliver MessageDeliverFunc
	// MaxMessageBytes is the largest message; default
	// DefaultMaxMessageBytes. A longer TCP message closes its connection; a
	// longer UDP message is delivered cut and marked Truncated.
	MaxMessageBytes int
	// MaxConnections bounds open TCP connections; further ones are closed
	// at once. Default DefaultMaxConnections.
	MaxConnections int
	// IdleTimeout closes a TCP connection that sent nothing for this long;
	// default DefaultIdleTimeout.
	IdleTimeout time.Duration
	// BatchSize bounds the messages per Deliver call; default
	// DefaultMessageBatch.
	BatchSize int
	// QueueSize bounds the UDP messages waiting for Deliver; a datagram that
	// finds the queue full is dropped and counted. Default DefaultUDPQueue.
	QueueSize int
	// RetryInterval is the wait between Deliver attempts for the same
	// batch; default DefaultRetryInterval.
	RetryInterval time.Duration
	// SeqReserveBlock is how many sequence numbers one checkpoint write
	// reserves; default DefaultSeqReserveBlock.
	SeqReserveBlock int
	// Now returns the receive time; default time.Now.
	Now func() time.Time
	// Logger receives starts, stops and errors; default slog.Default().
	Logger *slog.Logger
}

// ListenerStats counts what a listener did since it started.
type ListenerStats struct {
	Received            uint64 // messages read, before any drop
	Delivered           uint64 // messages accepted by Deliver
	DroppedQueueFull    uint64 // UDP messages dropped on a full queue
	DroppedOversize     uint64 // TCP messages over MaxMessageBytes
	DroppedInvalidFrame uint64 // TCP framing errors and frames cut off by a closed connection
	DroppedShutdown     uint64 // messages read but not delivered when the listener stopped
	Truncated           uint64 // UDP messages cut to MaxMessageBytes
	Rejected            uint64 // TCP connections over MaxConnections
	Connections         int64  // open TCP connections
	NextSeq             uint64 // sequence number of the next message
	Committed           uint64 // highest committed sequence number
}

// Listener receives syslog messages on one UDP or TCP socket.
type Listener struct {
	cfg     ListenerConfig
	id      string
	log     *slog.Logger
	metrics listenerMetrics
	limiter *logLimiter

	tcp *net.TCPListener
	udp *net.UDPConn

	deliverMu sync.Mutex // serialises sequence assignment and delivery

	stateMu   sync.Mutex // guards nextSeq, reserved and committed
	nextSeq   uint64
	reserved  uint64 // numbers below it are reserved in the checkpoint
	committed uint64

	closeOnce sync.Once

	received, delivered, queueFull, oversize, invalidFrame, shutdown, truncated, rejected atomic.Uint64
	connections                                                                           atomic.Int64
}

// Listen binds the socket and loads the listener's sequence state. Serve
// starts receiving.
func Listen(cfg ListenerConfig) (*Listener, error) {
	if cfg.Network != "tcp" && cfg.Network != "udp" {
		return nil, newError(nil, "logsensor.syslog.network", cfg.Network)
	}
	if cfg.Checkpoints == nil || cfg.Deliver == nil {
		return nil, errors.New("logsensor: syslog listener needs a checkpoint store and a deliver function")
	}
	setListenerDefaults(&cfg)
	l := &Listener{
		cfg:     cfg,
		id:      cfg.ID,
		log:     cfg.Logger.With("listener", cfg.ID),
		metrics: newListenerMetrics(cfg.ID),
		limiter: newLogLimiter(cfg.Now, 10*time.Second),
	}
	cp, ok, err := cfg.Checkpoints.LoadListener(cfg.ID)
	if err != nil {
		return nil, err
	}
	l.nextSeq = 1
	if ok {
		l.nextSeq, l.committed = max(cp.NextSeq, 1), cp.Committed
		if cp.NextSeq > cp.Committed+1 {
			l.log.Warn("syslog messages were delivered but not committed before the last stop; unless the store has them, they are lost, because syslog senders do not resend",
				"first_seq", cp.Committed+1, "last_seq", cp.NextSeq-1)
		}
		if cp.Reserved > l.nextSeq {
			l.log.Warn("syslog listener did not stop cleanly; skipping its last reserved block of sequence numbers, so the gap is an upper bound of what was lost",
				"first_seq", l.nextSeq, "last_seq", cp.Reserved-1)
			l.nextSeq = cp.Reserved
		}
	}
	l.reserved = l.nextSeq
	if err := l.bind(); err != nil {
		return nil, err
	}
	return l, nil
}

func setListenerDefaults(cfg *ListenerConfig) {
	if cfg.Address == "" {
		cfg.Address = DefaultSyslogAddress
	}
	if cfg.ID == "" {
		cfg.ID = "syslog-" + cfg.Network + ":" + cfg.Address
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	cfg.MaxMessageBytes = min(cfg.MaxMessageBytes, maxUDPPayload)
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultMessageBatch
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultUDPQueue
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = DefaultRetryInterval
	}
	if cfg.SeqReserveBlock <= 0 {
		cfg.SeqReserveBlock = DefaultSeqReserveBlock
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
}

func (l *Listener) bind() error {
	var err error
	if l.cfg.Network == "tcp" {
		var addr *net.TCPAddr
		if addr, err = net.ResolveTCPAddr("tcp", l.cfg.Address); err == nil {
			l.tcp, err = net.ListenTCP("tcp", addr)
		}
	} else {
		var addr *net.UDPAddr
		if addr, err = net.ResolveUDPAddr("udp", l.cfg.Address); err == nil {
			l.udp, err = net.ListenUDP("udp", addr)
		}
	}
	if err != nil {
		return newError(err, "logsensor.syslog.listen", l.cfg.Network, l.cfg.Address, err)
	}
	return nil
}

// ID returns the listener id.
func (l *Listener) ID() string { return l.id }

// Addr returns the bound address, useful with port 0.
func (l *Listener) Addr() net.Addr {
	if l.tcp != nil {
		return l.tcp.Addr()
	}
	return l.udp.LocalAddr()
}

// Close closes the socket. Serve closes it itself when ctx is done; Close is
// for a Listener whose Serve never ran.
func (l *Listener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		if l.tcp != nil {
			err = l.tcp.Close()
		} else {
			err = l.udp.Close()
		}
	})
	return err
}

// Stats returns the listener's counters.
func (l *Listener) Stats() ListenerStats {
	l.stateMu.Lock()
	next, committed := l.nextSeq, l.committed
	l.stateMu.Unlock()
	return ListenerStats{
		Received:            l.received.Load(),
		Delivered:           l.delivered.Load(),
		DroppedQueueFull:    l.queueFull.Load(),
		DroppedOversize:     l.oversize.Load(),
		DroppedInvalidFrame: l.invalidFrame.Load(),
		DroppedShutdown:     l.shutdown.Load(),
		Truncated:           l.truncated.Load(),
		Rejected:            l.rejected.Load(),
		Connections:         l.connections.Load(),
		NextSeq:             next,
		Committed:           committed,
	}
}

// Commit records that the consumer's store contains every message up to
// and including seq. The committed number is persisted. After a restart,
// the numbers between it and the next free number are the messages that
// may be lost.
func (l *Listener) Commit(seq uint64) error {
	l.stateMu.Lock()
	defer l.stateMu.Unlock()
	if seq >= l.nextSeq {
		return fmt.Errorf("commit sequence %d of listener %s: only numbers below %d were delivered", seq, l.id, l.nextSeq)
	}
	if seq <= l.committed {
		return nil
	}
	cp := ListenerCheckpoint{ListenerID: l.id, NextSeq: l.nextSeq, Reserved: l.reserved, Committed: seq}
	if err := l.cfg.Checkpoints.SaveListener(cp); err != nil {
		return fmt.Errorf("commit sequence %d of listener %s: %w", seq, l.id, err)
	}
	l.committed = seq
	return nil
}

// Serve receives messages until ctx is done, then closes the socket and
// every connection, waits for the running Deliver call and returns nil.
// Messages read but not yet delivered at that point are counted as dropped
// with reason shutdown. Serve returns an error only when accepting fails
// for another reason.
func (l *Listener) Serve(ctx context.Context) error {
	l.log.Info("syslog listener started", "network", l.cfg.Network, "address", l.Addr().String())
	defer l.log.Info("syslog listener stopped", "network", l.cfg.Network, "address", l.Addr().String())
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()
	defer l.Close()
	var err error
	if l.tcp != nil {
		err = l.serveTCP(ctx)
	} else {
		l.serveUDP(ctx)
	}
	return errors.Join(err, l.releaseReserved())
}

// releaseReserved writes the exact next sequence number at a clean stop,
// so the next start continues without a gap.
func (l *Listener) releaseReserved() error {
	l.stateMu.Lock()
	defer l.stateMu.Unlock()
	cp := ListenerCheckpoint{ListenerID: l.id, NextSeq: l.nextSeq, Reserved: l.nextSeq, Committed: l.committed}
	if err := l.cfg.Checkpoints.SaveListener(cp); err != nil {
		return fmt.Errorf("save sequence state of listener %s at stop: %w", l.id, err)
	}
	l.reserved = l.nextSeq
	return nil
}

// deliver numbers a batch, persists the next free sequence number and hands
// the batch to Deliver, retrying until it succeeds or ctx is done. Holding
// deliverMu while retrying stops every connection of the listener from
// reading, which is the backpressure.
func (l *Listener) deliver(ctx context.Context, batch []Message) error {
	l.deliverMu.Lock()
	defer l.deliverMu.Unlock()
	reserved := false
	for {
		var err error
		if !reserved {
			err = l.reserve(batch)
			reserved = err == nil
		}
		if reserved {
			err = l.cfg.Deliver(ctx, batch)
			if err == nil {
				l.delivered.Add(uint64(len(batch)))
				return nil
			}
		}
		if ctx.Err() != nil {
			l.dropShutdown(len(batch))
			return ctx.Err()
		}
		if ok, suppressed := l.limiter.allow("deliver"); ok {
			l.log.Error("delivering syslog messages failed; retrying", "messages", len(batch), "err", err, "suppressed", suppressed)
		}
		select {
		case <-ctx.Done():
			l.dropShutdown(len(batch))
			return ctx.Err()
		case <-time.After(l.cfg.RetryInterval):
		}
	}
}

// reserve assigns sequence numbers to batch. Before it uses a number that
// is not yet reserved in the checkpoint, it persists a new block, so no
// number is given out twice even after a crash.
func (l *Listener) reserve(batch []Message) error {
	l.stateMu.Lock()
	defer l.stateMu.Unlock()
	first := l.nextSeq
	next := first + uint64(len(batch))
	if next > l.reserved {
		reserved := first + uint64(max(len(batch), l.cfg.SeqReserveBlock))
		cp := ListenerCheckpoint{ListenerID: l.id, NextSeq: first, Reserved: reserved, Committed: l.committed}
		if err := l.cfg.Checkpoints.SaveListener(cp); err != nil {
			return fmt.Errorf("save sequence state of listener %s: %w", l.id, err)
		}
		l.reserved = reserved
	}
	l.nextSeq = next
	for i := range batch {
		batch[i].Seq = first + uint64(i)
		batch[i].ListenerID = l.id
	}
	return nil
}

func (l *Listener) dropShutdown(n int) {
	if n == 0 {
		return
	}
	l.shutdown.Add(uint64(n))
	l.metrics.shutdown.Add(float64(n))
	l.log.Warn("syslog messages read but not delivered before the listener stopped", "messages", n)
}

// messageBatch collects messages whose data lives in one backing array per
// batch, so a consumer may keep the slices.
type messageBatch struct {
	msgs  []Message
	arena []byte
	spans []int
}

func (b *messageBatch) add(data []byte, peer netip.AddrPort, received time.Time, truncated bool) {
	b.spans = append(b.spans, len(b.arena))
	b.arena = append(b.arena, data...)
	b.msgs = append(b.msgs, Message{Peer: peer, Received: received, Truncated: truncated})
}

// take returns the batch with Data set and starts a new one.
func (b *messageBatch) take() []Message {
	for i := range b.msgs {
		end := len(b.arena)
		if i+1 < len(b.spans) {
			end = b.spans[i+1]
		}
		b.msgs[i].Data = b.arena[b.spans[i]:end:end]
	}
	msgs := b.msgs
	b.msgs = make([]Message, 0, cap(msgs))
	b.arena = make([]byte, 0, cap(b.arena))
	b.spans = b.spans[:0]
	return msgs
}

// logLimiter allows one log line per key and interval and counts the
// lines it suppressed in between, so repeats are reported, not flooded.
type logLimiter struct {
	now        func() time.Time
	interval   time.Duration
	mu         sync.Mutex
	last       map[string]time.Time
	suppressed map[string]int
}

func newLogLimiter(now func() time.Time, interval time.Duration) *logLimiter {
	return &logLimiter{now: now, interval: interval, last: make(map[string]time.Time), suppressed: make(map[string]int)}
}

// allow reports whether a line for key may be logged now, and how many
// lines for key were suppressed since the last one logged.
func (r *logLimiter) allow(key string) (bool, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if last, ok := r.last[key]; ok && now.Sub(last) < r.interval {
		r.suppressed[key]++
		return false, 0
	}
	r.last[key] = now
	n := r.suppressed[key]
	delete(r.suppressed, key)
	return true, n
}

// isClosed reports whether err comes from a socket closed by shutdown.
func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed) || errors.Is(err, io.EOF)
}
