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
	"time"
)

func (l *Listener) serveTCP(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		conn, err := l.tcp.AcceptTCP()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Running out of file descriptors is the usual cause; wait and
			// retry instead of stopping the listener.
			if ok, suppressed := l.limiter.allow("accept"); ok {
				l.log.Error("accepting syslog connection failed; retrying", "err", err, "suppressed", suppressed)
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		if l.connections.Load() >= int64(l.cfg.MaxConnections) {
			l.rejected.Add(1)
			l.metrics.rejected.Inc()
			if ok, suppressed := l.limiter.allow("limit"); ok {
				l.log.Warn("syslog connection limit reached; closing new connection",
					"peer", conn.RemoteAddr().String(), "limit", l.cfg.MaxConnections, "suppressed", suppressed)
			}
			conn.Close()
			continue
		}
		l.connections.Add(1)
		l.metrics.connections.Inc()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer l.metrics.connections.Dec()
			defer l.connections.Add(-1)
			l.serveConn(ctx, conn)
		}()
	}
}

// idleReader sets a read deadline before every read, so a connection that
// sends nothing for the idle timeout fails its read.
type idleReader struct {
	conn    *net.TCPConn
	timeout time.Duration
}

func (r idleReader) Read(p []byte) (int, error) {
	if err := r.conn.SetReadDeadline(time.Now().Add(r.timeout)); err != nil {
		return 0, err
	}
	return r.conn.Read(p)
}

// serveConn reads one connection. It delivers a batch when it is full or
// when no complete frame is left in the buffer, so it never waits for the
// network while holding decoded messages, and it does not read while
// Deliver runs.
func (l *Listener) serveConn(ctx context.Context, conn *net.TCPConn) {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	peer := tcpPeer(conn)
	log := l.log.With("peer", peer.String())
	log.Debug("syslog connection opened")
	frames := NewFrameReader(idleReader{conn: conn, timeout: l.cfg.IdleTimeout}, l.cfg.MaxMessageBytes)
	batch := &messageBatch{}
	for {
		data, err := frames.Next()
		if err == nil {
			batch.add(data, peer, l.cfg.Now(), false)
			if len(batch.msgs) < l.cfg.BatchSize && frames.FrameBuffered() {
				continue
			}
		}
		if n := len(batch.msgs); n > 0 {
			l.received.Add(uint64(n))
			l.metrics.received.Add(float64(n))
			if derr := l.deliver(ctx, batch.take()); derr != nil {
				return
			}
		}
		if err != nil {
			l.connError(ctx, log, peer, frames.Framing(), err)
			return
		}
	}
}

// connError logs why a connection ends and counts what it lost.
func (l *Listener) connError(ctx context.Context, log *slog.Logger, peer netip.AddrPort, framing Framing, err error) {
	var netErr net.Error
	switch {
	case ctx.Err() != nil:
		// Shutdown; the socket was closed under the reader.
	case errors.Is(err, io.EOF):
		log.Debug("syslog connection closed by peer")
	case errors.Is(err, io.ErrUnexpectedEOF):
		l.invalidFrame.Add(1)
		l.metrics.invalidFrame.Inc()
		log.Warn("syslog connection closed in the middle of an octet-counted frame; the frame is lost")
	case errors.Is(err, ErrMessageTooLarge):
		l.oversize.Add(1)
		l.metrics.oversize.Inc()
		if ok, suppressed := l.limiter.allow("oversize"); ok {
			log.Warn("syslog message over the size limit; connection closed. Raise the maximum message size or make the sender send shorter messages",
				"limit", l.cfg.MaxMessageBytes, "framing", framing.String(), "err", err, "suppressed", suppressed)
		}
	case errors.Is(err, ErrInvalidFrame):
		l.invalidFrame.Add(1)
		l.metrics.invalidFrame.Inc()
		if ok, suppressed := l.limiter.allow("frame"); ok {
			log.Warn("invalid syslog frame; connection closed. The sender must use octet counting (\"<length> <message>\") or one message per line (RFC 6587)",
				"framing", framing.String(), "err", err, "suppressed", suppressed)
		}
	case errors.As(err, &netErr) && netErr.Timeout():
		log.Info("syslog connection idle; closing", "idle_timeout", l.cfg.IdleTimeout.String())
	case isClosed(err):
		log.Debug("syslog connection closed")
	default:
		log.Warn("reading syslog connection failed", "err", fmt.Errorf("read from %s: %w", peer, err))
	}
}

func tcpPeer(conn *net.TCPConn) netip.AddrPort {
	if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}
