package logsensor_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/sensors/logsensor"
)

// The consumer's loop: read lines, parse them, write the batch to the store,
// then commit. A crash between the store write and the commit makes the
// lines come again with the same sequence numbers, hence the same event ids.
func ExampleWatcher() {
	dir, err := os.MkdirTemp("", "logsensor-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	authLog := filepath.Join(dir, "auth.log")
	lines := "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186\n" +
		"Dec 10 06:55:48 LabSZ sshd[24200]: Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2\n"
	if err := os.WriteFile(authLog, []byte(lines), 0o640); err != nil {
		log.Fatal(err)
	}

	checkpoints, err := logsensor.OpenCheckpointStore(filepath.Join(dir, "checkpoints", "logsensor"))
	if err != nil {
		log.Fatal(err)
	}
	stored := map[string]*ecs.Event{} // replaces pipeline.Store in this example
	var w *logsensor.Watcher
	w, err = logsensor.NewWatcher(logsensor.WatcherConfig{
		Paths:       []string{authLog, filepath.Join(dir, "nginx", "*.log")},
		Checkpoints: checkpoints,
		Deliver: func(ctx context.Context, batch []logsensor.Line) error {
			for _, l := range batch {
				// A parser from sensors/logparse fills the ECS fields here.
				ev := &ecs.Event{
					ID:       ecs.PositionID(l.SourceID, l.Seq),
					SourceID: l.SourceID,
					Seq:      l.Seq,
					Fields: ecs.Fields{
						"event.original": string(l.Data),
						"log.file.path":  l.Path,
						"log.offset":     l.Offset,
					},
				}
				stored[ev.ID] = ev
			}
			return w.CommitLines(batch) // only after the store acknowledged
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	// Run(ctx) polls until ctx is done; one Poll is enough here.
	if err := w.Poll(context.Background()); err != nil {
		log.Fatal(err)
	}
	for _, st := range w.Status() {
		fmt.Println(filepath.Base(st.Path), st.State, "next seq", st.NextSeq, "committed", st.CommittedSeq)
	}
	fmt.Println(len(stored), "events stored")
	// Output:
	// auth.log reading next seq 3 committed 3
	// 2 events stored
}

// A syslog listener hands over messages with a per-listener sequence
// number; the consumer commits the last one it stored.
func ExampleListen() {
	checkpoints, err := logsensor.OpenCheckpointStore("/var/lib/canhgac/checkpoints/logsensor")
	if err != nil {
		log.Fatal(err)
	}
	var l *logsensor.Listener
	l, err = logsensor.Listen(logsensor.ListenerConfig{
		Network:     "tcp",
		Address:     logsensor.DefaultSyslogAddress,
		ID:          "syslog-tcp",
		Checkpoints: checkpoints,
		Deliver: func(ctx context.Context, msgs []logsensor.Message) error {
			for _, m := range msgs {
				_ = ecs.PositionID(m.ListenerID, m.Seq) // the event id
			}
			// ... parse, store.WriteBatch(ctx, events) ...
			return l.Commit(msgs[len(msgs)-1].Seq)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := l.Serve(ctx); err != nil {
		log.Fatal(err)
	}
}
