package logsensor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Framing is the method that delimits syslog messages on a TCP stream
// (RFC 6587).
type Framing int

// Framings. A FrameReader starts with FramingUnknown and picks one from the
// first byte of the stream: a digit 1-9 starts an octet count, anything
// else means LF-delimited (non-transparent) framing.
const (
	FramingUnknown Framing = iota
	FramingLF
	FramingOctetCounted
)

var framingNames = [...]string{"unknown", "lf", "octet-counted"}

// String returns the framing's name as logged.
func (f Framing) String() string {
	if int(f) < len(framingNames) {
		return framingNames[f]
	}
	return fmt.Sprintf("Framing(%d)", int(f))
}

// maxLengthDigits bounds the MSG-LEN field; nine digits already exceed any
// sensible MaxMessageBytes.
const maxLengthDigits = 9

// ErrMessageTooLarge is wrapped by the error a FrameReader returns for a
// message longer than its limit.
var ErrMessageTooLarge = errors.New("syslog message too large")

// ErrInvalidFrame is wrapped by the error a FrameReader returns for an
// octet-counting header that is not "<digits> ".
var ErrInvalidFrame = errors.New("invalid syslog frame")

// FrameReader splits a TCP syslog stream into messages. It is not safe for
// concurrent use.
type FrameReader struct {
	r       *bufio.Reader
	max     int
	framing Framing
}

// NewFrameReader returns a FrameReader that rejects messages longer than
// maxMessageBytes. It buffers at most maxMessageBytes plus a few header
// bytes.
func NewFrameReader(r io.Reader, maxMessageBytes int) *FrameReader {
	if maxMessageBytes <= 0 {
		maxMessageBytes = DefaultMaxMessageBytes
	}
	// The LF terminator and the octet-count header must fit with the
	// message, so a message of exactly the limit is accepted.
	return &FrameReader{r: bufio.NewReaderSize(r, maxMessageBytes+maxLengthDigits+2), max: maxMessageBytes}
}

// Framing returns the framing detected on the stream, or FramingUnknown
// before the first byte arrived.
func (d *FrameReader) Framing() Framing { return d.framing }

// Next returns the next message without its framing. The slice is valid
// until the next call. At the end of the stream it returns io.EOF, or
// io.ErrUnexpectedEOF when an octet-counted frame was cut off. An
// LF-delimited last message without LF is returned as a message. An error
// wrapping ErrMessageTooLarge or ErrInvalidFrame means the stream cannot be
// resynchronised and should be closed.
func (d *FrameReader) Next() ([]byte, error) {
	if d.framing == FramingUnknown {
		first, err := d.r.Peek(1)
		if err != nil {
			return nil, err
		}
		d.framing = FramingLF
		if first[0] >= '1' && first[0] <= '9' {
			d.framing = FramingOctetCounted
		}
	}
	if d.framing == FramingOctetCounted {
		return d.nextOctetCounted()
	}
	return d.nextLF()
}

func (d *FrameReader) nextLF() ([]byte, error) {
	for {
		line, err := d.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%w: line longer than %d bytes", ErrMessageTooLarge, d.max)
		}
		if err != nil && (err != io.EOF || len(line) == 0) {
			return nil, err
		}
		line = bytes.TrimSuffix(line, []byte{'\n'})
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(line) > d.max {
			return nil, fmt.Errorf("%w: line of %d bytes, limit %d", ErrMessageTooLarge, len(line), d.max)
		}
		if len(line) > 0 {
			return line, nil
		}
		if err == io.EOF {
			return nil, io.EOF
		}
		// An empty line carries no message; skip it.
	}
}

func (d *FrameReader) nextOctetCounted() ([]byte, error) {
	length := 0
	for digits := 0; ; digits++ {
		c, err := d.r.ReadByte()
		if err == io.EOF && digits > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, err
		}
		if c == ' ' && digits > 0 {
			break
		}
		if c < '0' || c > '9' || (digits == 0 && c == '0') {
			return nil, fmt.Errorf("%w: byte %q at position %d of the octet count, expected a digit or a space", ErrInvalidFrame, c, digits)
		}
		if digits == maxLengthDigits {
			return nil, fmt.Errorf("%w: octet count longer than %d digits", ErrMessageTooLarge, maxLengthDigits)
		}
		length = length*10 + int(c-'0')
	}
	if length > d.max {
		return nil, fmt.Errorf("%w: frame of %d bytes, limit %d", ErrMessageTooLarge, length, d.max)
	}
	msg, err := d.r.Peek(length)
	if err == io.EOF || (err == nil && len(msg) < length) {
		return nil, io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, err
	}
	if _, err := d.r.Discard(length); err != nil {
		return nil, err
	}
	return msg, nil
}

// FrameBuffered reports whether Next can return without reading from the
// underlying reader: a complete frame, or a framing error, is buffered. A
// consumer delivers its batch when this is false, before Next blocks.
func (d *FrameReader) FrameBuffered() bool {
	n := d.r.Buffered()
	if n == 0 {
		return false
	}
	buf, _ := d.r.Peek(n)
	if d.framing == FramingLF || (d.framing == FramingUnknown && (buf[0] < '1' || buf[0] > '9')) {
		return bytes.IndexByte(buf, '\n') >= 0
	}
	length := 0
	for i, c := range buf {
		switch {
		case c == ' ' && i > 0:
			return length > d.max || n-i-1 >= length
		case c < '0' || c > '9' || i >= maxLengthDigits:
			return true
		}
		length = length*10 + int(c-'0')
	}
	return false
}
