package logsensor

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

var discardLogger = slog.New(slog.DiscardHandler)

// BenchmarkTailer measures lines per second from a large file built from
// real OpenSSH lines. The consumer only counts; "commit per batch" adds the
// checkpoint write (temp file, fsync, rename, directory fsync) that a
// consumer does after each stored batch.
func BenchmarkTailer(b *testing.B) {
	src := realLines(b, opensshLog)
	const lines = 200_000
	path := filepath.Join(b.TempDir(), "auth.log")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range lines {
		w.Write(src[i%len(src)])
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}

	for _, commit := range []bool{false, true} {
		name := "count only"
		if commit {
			name = "commit per batch"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(fi.Size())
			var total int
			for b.Loop() {
				cps, err := OpenCheckpointStore(filepath.Join(b.TempDir(), "cp"))
				if err != nil {
					b.Fatal(err)
				}
				var tl *Tailer
				tl, err = NewTailer(TailerConfig{Path: path, Checkpoints: cps, Logger: discardLogger, Deliver: func(_ context.Context, batch []Line) error {
					total += len(batch)
					if commit {
						return tl.Commit(batch[len(batch)-1].Checkpoint)
					}
					return nil
				}})
				if err != nil {
					b.Fatal(err)
				}
				if err := tl.Poll(context.Background()); err != nil {
					b.Fatal(err)
				}
				tl.Close()
			}
			if total != lines*b.N {
				b.Fatalf("read %d lines, want %d", total, lines*b.N)
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "lines/s")
		})
	}
}

// BenchmarkSyslogTCP measures messages per second through one loopback
// TCP connection into a consumer that only counts.
func BenchmarkSyslogTCP(b *testing.B) {
	payloads := realLines(b, opensshLog)
	framings := []struct {
		name   string
		encode func([]byte) []byte
	}{
		{"octet counted", octetFrame},
		{"lf", func(m []byte) []byte { return append(append([]byte(nil), m...), '\n') }},
	}
	for _, fr := range framings {
		b.Run(fr.name, func(b *testing.B) {
			var stream []byte
			for _, p := range payloads {
				stream = append(stream, fr.encode(append([]byte("<38>"), p...))...)
			}
			var received atomic.Int64
			target := make(chan struct{})
			var want atomic.Int64
			cps, err := OpenCheckpointStore(filepath.Join(b.TempDir(), "cp"))
			if err != nil {
				b.Fatal(err)
			}
			l, err := Listen(ListenerConfig{Network: "tcp", Address: "127.0.0.1:0", ID: "bench", Checkpoints: cps, Logger: discardLogger,
				Deliver: func(_ context.Context, msgs []Message) error {
					if received.Add(int64(len(msgs))) == want.Load() {
						close(target)
					}
					return nil
				}})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			served := make(chan error, 1)
			go func() { served <- l.Serve(ctx) }()
			defer func() {
				cancel()
				<-served
			}()
			want.Store(int64(b.N))
			conn, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			w := bufio.NewWriterSize(conn, 64<<10)
			b.SetBytes(int64(len(stream) / len(payloads)))
			b.ResetTimer()
			start := time.Now()
			// Whole-stream writes, then the remainder message by message.
			sent := 0
			for sent+len(payloads) <= b.N {
				w.Write(stream)
				sent += len(payloads)
			}
			for i := 0; sent < b.N; i++ {
				w.Write(fr.encode(append([]byte("<38>"), payloads[i]...)))
				sent++
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			select {
			case <-target:
			case <-time.After(time.Minute):
				b.Fatalf("received %d of %d messages", received.Load(), b.N)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}
