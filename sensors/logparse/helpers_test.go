package logparse

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

const dataDir = "../../../shared/data/"

// fileLine is one line of a test file with its byte offset and line number.
type fileLine struct {
	no     int
	offset int64
	text   string
}

func readLines(t *testing.T, path string) []fileLine {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	var out []fileLine
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	var off int64
	no := 0
	for sc.Scan() {
		no++
		out = append(out, fileLine{no: no, offset: off, text: sc.Text()})
		off += int64(len(sc.Bytes())) + 1
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("scan %s: %v", path, err)
	}
	return out
}

// decodeAll feeds lines (skipping those for which skip returns true) to a
// new decoder and returns the records by offset after Flush.
func decodeAll(t *testing.T, format Format, opts Options, lines []fileLine, skip func(string) bool) map[int64]Record {
	t.Helper()
	d, err := NewDecoder(format, opts)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[int64]Record)
	emit := func(r Record) {
		if _, dup := out[r.Offset]; dup {
			t.Errorf("two records at offset %d", r.Offset)
		}
		out[r.Offset] = r
	}
	for _, l := range lines {
		if skip != nil && skip(l.text) {
			continue
		}
		d.Decode(Line{Data: []byte(l.text), Offset: l.offset, SourceID: "test"}, emit)
	}
	d.Flush(emit)
	if _, ok := d.Pending(); ok {
		t.Errorf("Pending after Flush")
	}
	return out
}

// isAuthFailure is this package's notion of an authentication failure that
// an intrusion-prevention system could act on: an authentication event that
// failed and names its source.
func isAuthFailure(f ecs.Fields) bool {
	cats, _ := f["event.category"].([]string)
	if !slices.Contains(cats, "authentication") || f["event.outcome"] != "failure" {
		return false
	}
	_, ip := f["source.ip"]
	_, addr := f["source.address"]
	return ip || addr
}

func zurich(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Zurich")
	if err != nil {
		t.Fatalf("load zone: %v", err)
	}
	return loc
}

func osReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

func errorsAs(err error, target any) bool { return errors.As(err, target) }
