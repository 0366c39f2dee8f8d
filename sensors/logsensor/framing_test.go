package logsensor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// octetFrame encodes one message with RFC 6587 octet counting.
func octetFrame(msg []byte) []byte {
	return append([]byte(fmt.Sprintf("%d ", len(msg))), msg...)
}

// readAll decodes a stream and returns the messages and the final error.
func readAll(r io.Reader, max int) ([][]byte, Framing, error) {
	d := NewFrameReader(r, max)
	var msgs [][]byte
	for {
		m, err := d.Next()
		if err != nil {
			return msgs, d.Framing(), err
		}
		msgs = append(msgs, append([]byte(nil), m...))
	}
}

func TestFrameReader(t *testing.T) {
	line := realLines(t, opensshLog)[1]
	long := bytes.Repeat([]byte("x"), 100)
	tests := []struct {
		name    string
		input   string
		max     int
		want    []string
		framing Framing
		err     error
	}{
		{"octet two frames", "5 hello6 world!", 64, []string{"hello", "world!"}, FramingOctetCounted, io.EOF},
		{"octet newline inside", "11 hello\nworld", 64, []string{"hello\nworld"}, FramingOctetCounted, io.EOF},
		{"octet real line", string(octetFrame(line)) + string(octetFrame(line)), 1024, []string{string(line), string(line)}, FramingOctetCounted, io.EOF},
		{"octet exactly max", string(octetFrame(long)), 100, []string{string(long)}, FramingOctetCounted, io.EOF},
		{"octet over max", string(octetFrame(long)), 99, nil, FramingOctetCounted, ErrMessageTooLarge},
		{"octet too many digits", "1234567890 x", 1 << 20, nil, FramingOctetCounted, ErrMessageTooLarge},
		{"octet letter in length", "12x hello", 64, nil, FramingOctetCounted, ErrInvalidFrame},
		{"octet zero length later", "1 a0 ", 64, []string{"a"}, FramingOctetCounted, ErrInvalidFrame},
		{"octet missing space", "5hello", 64, nil, FramingOctetCounted, ErrInvalidFrame},
		{"octet cut in body", "10 hello", 64, nil, FramingOctetCounted, io.ErrUnexpectedEOF},
		{"octet cut in length", "5 hello12", 64, []string{"hello"}, FramingOctetCounted, io.ErrUnexpectedEOF},
		{"lf lines", "<34>a\n<34>b\r\n\n<34>c", 64, []string{"<34>a", "<34>b", "<34>c"}, FramingLF, io.EOF},
		{"lf real line", string(line) + "\n", 1024, []string{string(line)}, FramingLF, io.EOF},
		{"lf exactly max", string(long) + "\n", 100, []string{string(long)}, FramingLF, io.EOF},
		{"lf over max", string(long) + "x\n", 100, nil, FramingLF, ErrMessageTooLarge},
		{"lf far over max", strings.Repeat("y", 5000) + "\n", 100, nil, FramingLF, ErrMessageTooLarge},
		{"lf starting with zero", "0 is not a length\n", 64, []string{"0 is not a length"}, FramingLF, io.EOF},
		{"empty stream", "", 64, nil, FramingUnknown, io.EOF},
	}
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"one byte per read", iotest.OneByteReader},
		{"half reads", iotest.HalfReader},
	}
	for _, tt := range tests {
		for _, rd := range readers {
			t.Run(tt.name+"/"+rd.name, func(t *testing.T) {
				msgs, framing, err := readAll(rd.wrap(strings.NewReader(tt.input)), tt.max)
				if !errors.Is(err, tt.err) {
					t.Fatalf("error = %v, want %v", err, tt.err)
				}
				if framing != tt.framing {
					t.Errorf("framing = %v, want %v", framing, tt.framing)
				}
				if len(msgs) != len(tt.want) {
					t.Fatalf("got %d messages %q, want %d", len(msgs), msgs, len(tt.want))
				}
				for i := range msgs {
					if string(msgs[i]) != tt.want[i] {
						t.Errorf("message %d = %q, want %q", i, msgs[i], tt.want[i])
					}
				}
			})
		}
	}
}

func TestFrameBuffered(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  bool // after the first Next
	}{
		{"octet complete next", "1 a1 b", true},
		{"octet partial next", "1 a5 bc", false},
		{"octet partial length", "1 a12", false},
		{"octet invalid next", "1 ax", true},
		{"lf complete next", "a\nb\n", true},
		{"lf partial next", "a\nbc", false},
		{"nothing left", "1 a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewFrameReader(strings.NewReader(tt.input), 64)
			if _, err := d.Next(); err != nil {
				t.Fatal(err)
			}
			if got := d.FrameBuffered(); got != tt.want {
				t.Errorf("FrameBuffered() = %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzOctetFraming(f *testing.F) {
	lines := realLines(f, opensshLog)
	for _, l := range lines[:20] {
		f.Add(octetFrame(l))
		f.Add(append(append([]byte(nil), l...), '\n'))
	}
	f.Add(append(octetFrame(lines[0]), octetFrame(lines[1])[:10]...))
	f.Add([]byte("99999999999 x"))
	f.Add([]byte("3 abc0 "))
	const max = 256
	f.Fuzz(func(t *testing.T, input []byte) {
		whole, framing, errWhole := readAll(bytes.NewReader(input), max)
		bytewise, _, errBytes := readAll(iotest.OneByteReader(bytes.NewReader(input)), max)
		if !errors.Is(errWhole, errBytes) && errWhole.Error() != errBytes.Error() {
			t.Fatalf("read sizes change the error: %v vs %v", errWhole, errBytes)
		}
		if len(whole) != len(bytewise) {
			t.Fatalf("read sizes change the messages: %d vs %d", len(whole), len(bytewise))
		}
		var reencoded []byte
		for i, m := range whole {
			if !bytes.Equal(m, bytewise[i]) {
				t.Fatalf("message %d differs by read size: %q vs %q", i, m, bytewise[i])
			}
			if len(m) == 0 || len(m) > max {
				t.Fatalf("message %d has length %d, want 1..%d", i, len(m), max)
			}
			if framing == FramingLF && bytes.IndexByte(m, '\n') >= 0 {
				t.Fatalf("LF-framed message %d contains a newline: %q", i, m)
			}
			reencoded = append(reencoded, octetFrame(m)...)
		}
		// A stream that decodes cleanly in octet counting is exactly the
		// concatenation of its frames.
		if framing == FramingOctetCounted && errWhole == io.EOF && !bytes.Equal(reencoded, input) {
			t.Fatalf("re-encoded frames %q differ from input %q", reencoded, input)
		}
	})
}
