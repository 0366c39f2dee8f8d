package filesource

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/canhgac/canhgac/sensors/logparse"
)

// readJSONDocument reads a file of whole JSON values: objects one after
// another, or arrays of objects. Each object becomes one record, parsed by
// the JSON-lines parser after compacting it to one line, so it gets the same
// fields as the same object on a line of its own. Record numbers count the
// objects from 1 and positions are the byte offsets where they start.
func readJSONDocument(ctx context.Context, path string, modTime time.Time, br *bufio.Reader, opts Options, b *batcher) error {
	dec, err := logparse.NewDecoder(logparse.FormatJSON, logparse.Options{Location: opts.Location, Reference: modTime})
	if err != nil {
		return err
	}
	emit := func(seq uint64) func(logparse.Record) {
		return func(rec logparse.Record) {
			if rec.Err != nil {
				b.deadLetter(RecordDeadLetter(rec, path))
				return
			}
			b.addErr(RecordEvent(rec, path, seq))
		}
	}
	jd := json.NewDecoder(br)
	var seq uint64
	var line bytes.Buffer
	// handle parses one object found at offset.
	handle := func(raw json.RawMessage, offset int64) {
		seq++
		line.Reset()
		if err := json.Compact(&line, raw); err != nil {
			line.Write(raw)
		}
		dec.Decode(logparse.Line{Data: line.Bytes(), Offset: offset, SourceID: path, Path: path}, emit(seq))
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		offset := jd.InputOffset()
		var raw json.RawMessage
		if err := jd.Decode(&raw); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("%s: invalid JSON after byte %d: %w", path, offset, err)
		}
		trimmed := bytes.TrimSpace(raw)
		if len(trimmed) > 0 && trimmed[0] == '[' {
			var items []json.RawMessage
			if err := json.Unmarshal(trimmed, &items); err != nil {
				return fmt.Errorf("%s: invalid JSON array at byte %d: %w", path, offset, err)
			}
			for _, item := range items {
				handle(item, offset)
			}
		} else {
			handle(raw, offset)
		}
		if b.err != nil {
			return b.err
		}
	}
	return b.err
}
