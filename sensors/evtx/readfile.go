package evtx

import (
	"context"
	"fmt"
	"os"

	"github.com/canhgac/canhgac/ecs"
)

// ReadFile reads the EVTX file at path and calls emit with one ecs.Event
// per record, in file order. Event IDs are ecs.PositionID(path, record
// id), SourceID is path, and log.file.path is set. Bad chunks and records
// are skipped and counted in the returned Stats. It stops with ctx.Err()
// when ctx is done, and with emit's error when emit fails.
func ReadFile(ctx context.Context, path string, emit func(*ecs.Event) error) (Stats, error) {
	fh, err := os.Open(path)
	if err != nil {
		return Stats{}, fmt.Errorf("open %s: %w", path, err)
	}
	defer fh.Close()

	info, err := fh.Stat()
	if err != nil {
		return Stats{}, fmt.Errorf("stat %s: %w", path, err)
	}

	f, err := Open(fh, info.Size())
	if err != nil {
		return Stats{}, fmt.Errorf("read %s: %w", path, err)
	}

	var seq uint64
	st, err := f.Records(func(rec Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec.Fields["log.file.path"] = path
		seq++
		ev := &ecs.Event{
			ID:        ecs.PositionID(path, rec.ID),
			Timestamp: rec.Timestamp,
			SourceID:  path,
			Seq:       seq,
			Fields:    rec.Fields,
		}
		return emit(ev)
	})
	if err != nil {
		return st, fmt.Errorf("read %s: %w", path, err)
	}

	return st, nil
}
