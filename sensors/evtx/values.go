package evtx

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ValueType is the type byte of a Binary XML value. Types with the 0x80
// bit set are arrays of the base type.
type ValueType byte

// The value types of Binary XML.
const (
	TypeNull       ValueType = 0x00
	TypeString     ValueType = 0x01
	TypeANSIString ValueType = 0x02
	TypeInt8       ValueType = 0x03
	TypeUint8      ValueType = 0x04
	TypeInt16      ValueType = 0x05
	TypeUint16     ValueType = 0x06
	TypeInt32      ValueType = 0x07
	TypeUint32     ValueType = 0x08
	TypeInt64      ValueType = 0x09
	TypeUint64     ValueType = 0x0a
	TypeReal32     ValueType = 0x0b
	TypeReal64     ValueType = 0x0c
	TypeBool       ValueType = 0x0d
	TypeBinary     ValueType = 0x0e
	TypeGUID       ValueType = 0x0f
	TypeSizeT      ValueType = 0x10
	TypeFileTime   ValueType = 0x11
	TypeSystemTime ValueType = 0x12
	TypeSID        ValueType = 0x13
	TypeHex32      ValueType = 0x14
	TypeHex64      ValueType = 0x15
	TypeEvtHandle  ValueType = 0x20
	TypeBinXML     ValueType = 0x21
	TypeEvtXML     ValueType = 0x23
	TypeArray      ValueType = 0x80
)

const typeString = byte(TypeString)

// timeLayout renders FILETIME and SYSTEMTIME values as evtx_dump does:
// RFC 3339 in UTC with microseconds.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// Value is one decoded Binary XML value. It is kept small (40 bytes)
// because a record holds one per element text and attribute.
type Value struct {
	// Type is the value type.
	Type ValueType
	// Text is the value as text, in the form evtx_dump gives it: decimal
	// integers, 0x-prefixed lower-case hex for hex32/hex64/size_t, GUIDs in
	// upper case without braces, times as RFC 3339 UTC with microseconds,
	// binary as upper-case hex. Array items are joined with ", ".
	Text string
	// raw is the number of integer, boolean and FILETIME values, and the
	// float64 bits of real values.
	raw uint64
	ext *valueExt
}

// valueExt holds the parts of rarer values.
type valueExt struct {
	items []Value
	xml   []*Element
	time  time.Time
}

// String returns v.Text.
func (v Value) String() string { return v.Text }

// Native returns the value as evtx_dump writes it in JSON, normalized as
// ecs.NormalizeValue does: int64 (float64 above the int64 range), float64,
// bool, string, []string or []any for arrays, nil for null and Binary XML.
func (v Value) Native() any {
	switch v.Type {
	case TypeNull, TypeBinXML:
		return nil
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64:
		return int64(v.raw)
	case TypeUint8, TypeUint16, TypeUint32, TypeUint64:
		if v.raw <= math.MaxInt64 {
			return int64(v.raw)
		}
		return float64(v.raw)
	case TypeReal32, TypeReal64:
		return math.Float64frombits(v.raw)
	case TypeBool:
		return v.raw != 0
	}

	if v.Type&TypeArray != 0 && v.ext != nil {
		texts := make([]string, len(v.ext.items))
		natives := make([]any, len(v.ext.items))
		allStrings := true
		for i, item := range v.ext.items {
			texts[i] = item.Text
			natives[i] = item.Native()
			if _, ok := natives[i].(string); !ok {
				allStrings = false
			}
		}
		if allStrings {
			return texts
		}
		return natives
	}

	return v.Text
}

// Time returns the time of a FILETIME or SYSTEMTIME value.
func (v Value) Time() (time.Time, bool) {
	switch v.Type {
	case TypeFileTime:
		return filetime(v.raw), true
	case TypeSystemTime:
		return v.ext.time, true
	}

	return time.Time{}, false
}

// XML returns the elements of a Binary XML value, nil for other types.
func (v Value) XML() []*Element {
	if v.Type != TypeBinXML || v.ext == nil {
		return nil
	}

	return v.ext.xml
}

// Items returns the items of an array value, nil for other types.
func (v Value) Items() []Value {
	if v.Type&TypeArray == 0 || v.ext == nil {
		return nil
	}

	return v.ext.items
}

func stringValue(s string) Value {
	return Value{Type: TypeString, Text: s}
}

func intValue(t ValueType, n int64) Value {
	return Value{Type: t, Text: strconv.FormatInt(n, 10), raw: uint64(n)}
}

func uintValue(t ValueType, n uint64) Value {
	return Value{Type: t, Text: strconv.FormatUint(n, 10), raw: n}
}

// fixedSize returns the size of a fixed-size value type, or 0.
func fixedSize(t ValueType) uint32 {
	switch t {
	case TypeInt8, TypeUint8:
		return 1
	case TypeInt16, TypeUint16:
		return 2
	case TypeInt32, TypeUint32, TypeReal32, TypeBool, TypeHex32:
		return 4
	case TypeInt64, TypeUint64, TypeReal64, TypeFileTime, TypeHex64:
		return 8
	case TypeGUID, TypeSystemTime:
		return 16
	}

	return 0
}

// decodeValue decodes a substitution value of size bytes at a chunk
// offset.
func (c *chunk) decodeValue(typ byte, off, size uint32, nesting int) (Value, error) {
	t := ValueType(typ)
	b := c.data[off : off+size]
	if t&TypeArray != 0 {
		return decodeArray(t, b)
	}

	switch t {
	case TypeNull:
		return Value{}, nil
	case TypeBinXML:
		p := &parser{c: c, pos: off, end: off + size, nesting: nesting}
		parts, err := p.content(false)
		if err != nil {
			return Value{}, fmt.Errorf("binary XML value: %w", err)
		}
		elems, err := c.slab.resolveParts(parts, nil, 0)
		if err != nil {
			return Value{}, fmt.Errorf("binary XML value: %w", err)
		}
		return Value{Type: t, ext: &valueExt{xml: elems}}, nil
	}

	return decodeScalar(t, b)
}

// decodeScalar decodes one value that is not an array or Binary XML.
func decodeScalar(t ValueType, b []byte) (Value, error) {
	if n := fixedSize(t); n != 0 && uint32(len(b)) < n {
		return Value{}, fmt.Errorf("value of type 0x%02x needs %d bytes, has %d", byte(t), n, len(b))
	}

	le := binary.LittleEndian
	switch t {
	case TypeNull:
		return Value{}, nil
	case TypeString:
		return stringValue(decodeUTF16(b)), nil
	case TypeANSIString:
		return stringValue(decodeANSI(b)), nil
	case TypeInt8:
		return intValue(t, int64(int8(b[0]))), nil
	case TypeUint8:
		return uintValue(t, uint64(b[0])), nil
	case TypeInt16:
		return intValue(t, int64(int16(le.Uint16(b)))), nil
	case TypeUint16:
		return uintValue(t, uint64(le.Uint16(b))), nil
	case TypeInt32:
		return intValue(t, int64(int32(le.Uint32(b)))), nil
	case TypeUint32:
		return uintValue(t, uint64(le.Uint32(b))), nil
	case TypeInt64:
		return intValue(t, int64(le.Uint64(b))), nil
	case TypeUint64:
		return uintValue(t, le.Uint64(b)), nil
	case TypeReal32:
		f := float64(math.Float32frombits(le.Uint32(b)))
		return Value{Type: t, Text: strconv.FormatFloat(f, 'g', -1, 32), raw: math.Float64bits(f)}, nil
	case TypeReal64:
		f := math.Float64frombits(le.Uint64(b))
		return Value{Type: t, Text: strconv.FormatFloat(f, 'g', -1, 64), raw: math.Float64bits(f)}, nil
	case TypeBool:
		n := le.Uint32(b)
		return Value{Type: t, Text: strconv.FormatBool(n != 0), raw: uint64(n)}, nil
	case TypeBinary, TypeEvtHandle, TypeEvtXML:
		s := strings.ToUpper(fmt.Sprintf("%x", b))
		return Value{Type: t, Text: s}, nil
	case TypeGUID:
		s := formatGUID(b)
		return Value{Type: t, Text: s}, nil
	case TypeSizeT:
		var n uint64
		switch len(b) {
		case 4:
			n = uint64(le.Uint32(b))
		case 8:
			n = le.Uint64(b)
		default:
			return Value{}, fmt.Errorf("size_t value of %d bytes, expected 4 or 8", len(b))
		}
		s := "0x" + strconv.FormatUint(n, 16)
		return Value{Type: t, Text: s}, nil
	case TypeFileTime:
		n := le.Uint64(b)
		return Value{Type: t, Text: filetime(n).Format(timeLayout), raw: n}, nil
	case TypeSystemTime:
		tm := time.Date(int(le.Uint16(b)), time.Month(le.Uint16(b[2:])), int(le.Uint16(b[6:])),
			int(le.Uint16(b[8:])), int(le.Uint16(b[10:])), int(le.Uint16(b[12:])),
			int(le.Uint16(b[14:]))*int(time.Millisecond), time.UTC)
		return Value{Type: t, Text: tm.Format(timeLayout), ext: &valueExt{time: tm}}, nil
	case TypeSID:
		s, err := formatSID(b)
		if err != nil {
			return Value{}, err
		}
		return Value{Type: t, Text: s}, nil
	case TypeHex32:
		s := "0x" + strconv.FormatUint(uint64(le.Uint32(b)), 16)
		return Value{Type: t, Text: s}, nil
	case TypeHex64:
		s := "0x" + strconv.FormatUint(le.Uint64(b), 16)
		return Value{Type: t, Text: s}, nil
	}

	return Value{}, fmt.Errorf("unknown value type 0x%02x", byte(t))
}

// decodeArray decodes an array value: NUL-separated strings for string
// types, consecutive fixed-size items otherwise.
func decodeArray(t ValueType, b []byte) (Value, error) {
	base := t &^ TypeArray
	var items []Value
	switch base {
	case TypeString:
		start := 0
		for i := 0; i+1 < len(b); i += 2 {
			if b[i] == 0 && b[i+1] == 0 {
				items = append(items, stringValue(decodeUTF16(b[start:i])))
				start = i + 2
			}
		}
		if start+1 < len(b) {
			items = append(items, stringValue(decodeUTF16(b[start:])))
		}
	case TypeANSIString:
		for _, s := range strings.Split(strings.TrimRight(string(b), "\x00"), "\x00") {
			items = append(items, stringValue(decodeANSI([]byte(s))))
		}
	default:
		n := fixedSize(base)
		if base == TypeSizeT {
			n = 8
		}
		if n == 0 {
			return Value{}, fmt.Errorf("array of value type 0x%02x is not supported", byte(base))
		}
		if uint32(len(b))%n != 0 {
			return Value{}, fmt.Errorf("array of type 0x%02x: %d bytes is not a multiple of %d", byte(base), len(b), n)
		}
		for i := uint32(0); i < uint32(len(b)); i += n {
			v, err := decodeScalar(base, b[i:i+n])
			if err != nil {
				return Value{}, err
			}
			items = append(items, v)
		}
	}

	texts := make([]string, len(items))
	for i, v := range items {
		texts[i] = v.Text
	}

	v := Value{Type: t, Text: strings.Join(texts, ", "), ext: &valueExt{items: items}}
	return v, nil
}

// decodeANSI decodes a single-byte string: UTF-8 when it is valid,
// Latin-1 otherwise. Trailing NULs are dropped.
func decodeANSI(b []byte) string {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}

	if utf8.Valid(b) {
		return string(b)
	}

	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}

	return string(r)
}

// formatGUID renders a GUID in upper case without braces.
func formatGUID(b []byte) string {
	le := binary.LittleEndian
	return fmt.Sprintf("%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X",
		le.Uint32(b), le.Uint16(b[4:]), le.Uint16(b[6:]), b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
}

// formatSID renders a security identifier as S-R-A-S1-S2-...
func formatSID(b []byte) (string, error) {
	if len(b) < 8 {
		return "", fmt.Errorf("SID of %d bytes, at least 8 expected", len(b))
	}

	n := int(b[1])
	if len(b) < 8+4*n {
		return "", fmt.Errorf("SID with %d sub-authorities needs %d bytes, has %d", n, 8+4*n, len(b))
	}

	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}

	var s strings.Builder
	s.WriteString("S-")
	s.WriteString(strconv.Itoa(int(b[0])))
	s.WriteByte('-')
	s.WriteString(strconv.FormatUint(auth, 10))
	for i := 0; i < n; i++ {
		s.WriteByte('-')
		s.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10))
	}

	return s.String(), nil
}
