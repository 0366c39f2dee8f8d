package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/i18n"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/sensors/logparse"
	"github.com/canhgac/canhgac/sensors/logsensor"
	"github.com/canhgac/canhgac/sensors/packet"
)

// startSyslog opens the UDP and TCP syslog listeners that are configured.
// Binding happens here, before the console starts, so a port in use is
// reported at once.
func (p *platform) startSyslog(start func(string, func(context.Context) error)) error {
	checkpoints, err := logsensor.OpenCheckpointStore(filepath.Join(p.cfg.DataDir, "checkpoints"))
	if err != nil {
		return fail("cli.run.checkpoints", p.cfg.DataDir, err)
	}
	for _, l := range []struct{ network, addr string }{{"udp", p.cfg.Syslog.UDP}, {"tcp", p.cfg.Syslog.TCP}} {
		if l.addr == "" || l.addr == "off" {
			continue
		}
		var listener *logsensor.Listener
		listener, err = logsensor.Listen(logsensor.ListenerConfig{
			ID:          "syslog-" + l.network,
			Network:     l.network,
			Address:     l.addr,
			Checkpoints: checkpoints,
			Deliver: func(ctx context.Context, msgs []logsensor.Message) error {
				return p.sink.Submit(ctx, syslogBatch(listener, msgs))
			},
			Logger: p.log,
		})
		if err != nil {
			return err
		}
		fmt.Fprintln(p.c.stdout, i18n.T(p.c.lang, "cli.run.syslog", l.network, listener.Addr()))
		start("syslog-"+l.network, func(ctx context.Context) error {
			defer listener.Close()
			return listener.Serve(ctx)
		})
	}
	return nil
}

// syslogBatch parses received messages into one batch whose commit
// acknowledges the listener's sequence numbers.
func syslogBatch(l *logsensor.Listener, msgs []logsensor.Message) *pipeline.Batch {
	b := &pipeline.Batch{SourceID: l.ID()}
	var last uint64
	for _, m := range msgs {
		last = m.Seq
		fields, ts, ok := logparse.ParseSyslogMessage(m.Data, m.Received, nil)
		if !ok {
			b.DeadLetters = append(b.DeadLetters, pipeline.DeadLetter{
				Time: m.Received, SourceID: m.ListenerID, Offset: -1, Raw: m.Data, Reason: "empty syslog message",
			})
			continue
		}
		fields["log.source.address"] = m.Peer.String()
		if m.Truncated {
			fields["event.original_truncated"] = true
		}
		b.Events = append(b.Events, &ecs.Event{
			ID:        ecs.PositionID(m.ListenerID, m.Seq),
			Timestamp: ts,
			SourceID:  m.ListenerID,
			Seq:       m.Seq,
			Fields:    fields,
		})
	}
	b.Commit = func() { l.Commit(last) }
	return b
}

// startCapture captures packets from the configured interface. Events are
// submitted in batches of up to 256, and at least once a second. Packet
// events have no replayable position, so their batches carry no commit.
func (p *platform) startCapture(start func(string, func(context.Context) error)) error {
	iface := p.cfg.Capture
	fmt.Fprintln(p.c.stdout, i18n.T(p.c.lang, "cli.run.capture", iface))
	source := "iface:" + iface
	var mu sync.Mutex
	var batch []*ecs.Event
	flush := func(ctx context.Context) error {
		mu.Lock()
		events := batch
		batch = nil
		mu.Unlock()
		if len(events) == 0 {
			return nil
		}
		return p.sink.Submit(ctx, &pipeline.Batch{SourceID: source, Events: events})
	}
	start("capture:"+iface, func(ctx context.Context) error {
		go func() {
			ticker := time.NewTicker(time.Second)
			defer ticker.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-ticker.C:
					flush(ctx)
				}
			}
		}()
		s := &packet.Sensor{Logger: p.log, Emit: func(ev *ecs.Event) error {
			mu.Lock()
			batch = append(batch, ev)
			full := len(batch) >= 256
			mu.Unlock()
			if full {
				return flush(ctx)
			}
			return nil
		}}
		_, err := s.Capture(ctx, iface)
		if ferr := flush(ctx); err == nil {
			err = ferr
		}
		return err
	})
	return nil
}

// readPackets reads a capture file for hunt and filesource.
func readPackets(ctx context.Context, path string, r io.Reader, emit func(*ecs.Event)) error {
	s := &packet.Sensor{Emit: func(ev *ecs.Event) error {
		ev.Fields["log.file.path"] = path
		emit(ev)
		return nil
	}}
	_, err := s.Read(ctx, r, path)
	return err
}
