package logsensor

import (
	"context"
	"net/netip"
	"time"
)

// datagram is a received UDP message waiting in the queue.
type datagram struct {
	data      []byte
	peer      netip.AddrPort
	received  time.Time
	truncated bool
}

// serveUDP reads datagrams into a bounded queue and delivers them in
// batches. UDP has no flow control, so while Deliver is slow the queue
// fills, and further datagrams are dropped and counted (reason queue_full).
// The kernel's socket buffer may drop more before they reach the queue;
// only the kernel counters (UDP RcvbufErrors) show those.
func (l *Listener) serveUDP(ctx context.Context) {
	queue := make(chan datagram, l.cfg.QueueSize)
	go l.readUDP(ctx, queue)
	batch := &messageBatch{}
	for d := range queue {
		batch.add(d.data, d.peer, d.received, d.truncated)
	fill:
		for len(batch.msgs) < l.cfg.BatchSize {
			select {
			case d, ok := <-queue:
				if !ok {
					break fill
				}
				batch.add(d.data, d.peer, d.received, d.truncated)
			default:
				break fill
			}
		}
		if err := l.deliver(ctx, batch.take()); err != nil {
			break
		}
	}
	// After shutdown nothing can be delivered; count what is still queued.
	n := 0
	for range queue {
		n++
	}
	l.dropShutdown(n)
}

// readUDP reads datagrams until the socket is closed, then closes queue.
func (l *Listener) readUDP(ctx context.Context, queue chan<- datagram) {
	defer close(queue)
	buf := make([]byte, maxUDPPayload+1)
	for {
		n, addr, err := l.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if ctx.Err() != nil || isClosed(err) {
				return
			}
			if ok, suppressed := l.limiter.allow("udp-read"); ok {
				l.log.Warn("reading syslog datagram failed", "err", err, "suppressed", suppressed)
			}
			continue
		}
		if n == 0 {
			continue
		}
		l.received.Add(1)
		l.metrics.received.Inc()
		truncated := n > l.cfg.MaxMessageBytes
		if truncated {
			n = l.cfg.MaxMessageBytes
			l.truncated.Add(1)
			l.metrics.truncated.Inc()
		}
		d := datagram{
			data:      append([]byte(nil), buf[:n]...),
			peer:      netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port()),
			received:  l.cfg.Now(),
			truncated: truncated,
		}
		select {
		case queue <- d:
		default:
			l.queueFull.Add(1)
			l.metrics.queueFull.Inc()
			if ok, suppressed := l.limiter.allow("queue-full"); ok {
				l.log.Warn("syslog UDP queue full because delivery is slow; dropping datagrams",
					"queue", l.cfg.QueueSize, "suppressed", suppressed)
			}
		}
	}
}
