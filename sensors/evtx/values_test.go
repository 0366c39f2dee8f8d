package evtx

import (
	"reflect"
	"testing"
	"time"
)

// TestDecodeValueTypes decodes one value of each type from its bytes.
func TestDecodeValueTypes(t *testing.T) {
	tests := []struct {
		name   string
		typ    ValueType
		data   []byte
		text   string
		native any
	}{
		{"null", TypeNull, nil, "", nil},
		{"UTF-16 string with NUL", TypeString, []byte{'a', 0, 0xe9, 0, 0, 0}, "aé", "aé"},
		{"UTF-16 surrogate pair", TypeString, []byte{0x3d, 0xd8, 0x00, 0xde}, "😀", "😀"},
		{"ANSI string", TypeANSIString, []byte("cmd.exe\x00"), "cmd.exe", "cmd.exe"},
		{"ANSI Latin-1", TypeANSIString, []byte{'c', 0xe9}, "cé", "cé"},
		{"int8", TypeInt8, []byte{0xff}, "-1", int64(-1)},
		{"uint8", TypeUint8, []byte{0xff}, "255", int64(255)},
		{"int16", TypeInt16, []byte{0xfe, 0xff}, "-2", int64(-2)},
		{"uint16", TypeUint16, []byte{0x34, 0x12}, "4660", int64(4660)},
		{"int32", TypeInt32, []byte{0xfd, 0xff, 0xff, 0xff}, "-3", int64(-3)},
		{"uint32", TypeUint32, []byte{0x78, 0x56, 0x34, 0x12}, "305419896", int64(305419896)},
		{"int64", TypeInt64, []byte{0xfc, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "-4", int64(-4)},
		{"uint64 above int64", TypeUint64, []byte{0, 0, 0, 0, 0, 0, 0, 0x80}, "9223372036854775808", float64(1 << 63)},
		{"real32", TypeReal32, []byte{0, 0, 0xc0, 0x3f}, "1.5", 1.5},
		{"real64", TypeReal64, []byte{0, 0, 0, 0, 0, 0, 0x04, 0x40}, "2.5", 2.5},
		{"bool true", TypeBool, []byte{1, 0, 0, 0}, "true", true},
		{"bool false", TypeBool, []byte{0, 0, 0, 0}, "false", false},
		{"binary", TypeBinary, []byte{0xde, 0xad, 0x0b}, "DEAD0B", "DEAD0B"},
		{
			"GUID", TypeGUID,
			[]byte{0x5f, 0x38, 0x70, 0x57, 0x2a, 0xc2, 0xe0, 0x43, 0xbf, 0x4c, 0x06, 0xf5, 0x69, 0x8f, 0xfb, 0xd9},
			"5770385F-C22A-43E0-BF4C-06F5698FFBD9", "5770385F-C22A-43E0-BF4C-06F5698FFBD9",
		},
		{"size_t 8", TypeSizeT, []byte{0xff, 0, 0, 0, 0, 0, 0, 0}, "0xff", "0xff"},
		{"size_t 4", TypeSizeT, []byte{0x10, 0, 0, 0}, "0x10", "0x10"},
		{
			"FILETIME", TypeFileTime,
			// 2019-03-19T00:02:04.3199440Z
			le64(131974273243199440),
			"2019-03-19T00:02:04.319944Z", "2019-03-19T00:02:04.319944Z",
		},
		{
			"SYSTEMTIME", TypeSystemTime,
			[]byte{0xe3, 0x07, 3, 0, 2, 0, 19, 0, 0, 0, 2, 0, 4, 0, 0x13, 0x01},
			"2019-03-19T00:02:04.275000Z", "2019-03-19T00:02:04.275000Z",
		},
		{"SID", TypeSID, []byte{1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0}, "S-1-5-18", "S-1-5-18"},
		{"hex32", TypeHex32, []byte{0xaa, 0xe2, 0x07, 0}, "0x7e2aa", "0x7e2aa"},
		{"hex64", TypeHex64, []byte{0, 0, 0, 0, 0, 0, 0, 0x80}, "0x8000000000000000", "0x8000000000000000"},
		{
			"string array", TypeArray | TypeString,
			[]byte{'s', 0, 'a', 0, 0, 0, 'x', 0, 0, 0},
			"sa, x", []string{"sa", "x"},
		},
		{"uint16 array", TypeArray | TypeUint16, []byte{1, 0, 2, 0}, "1, 2", []any{int64(1), int64(2)}},
		{"hex32 array", TypeArray | TypeHex32, []byte{1, 0, 0, 0, 0x10, 0, 0, 0}, "0x1, 0x10", []string{"0x1", "0x10"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &chunk{data: tt.data}
			v, err := c.decodeValue(byte(tt.typ), 0, uint32(len(tt.data)), 0)
			if err != nil {
				t.Fatal(err)
			}
			if v.Text != tt.text {
				t.Errorf("text %q, expected %q", v.Text, tt.text)
			}
			if got := v.Native(); !reflect.DeepEqual(got, tt.native) {
				t.Errorf("native %#v, expected %#v", got, tt.native)
			}
		})
	}
}

// TestDecodeValueErrors checks that short or unknown values are errors.
func TestDecodeValueErrors(t *testing.T) {
	tests := []struct {
		name string
		typ  ValueType
		data []byte
	}{
		{"short uint32", TypeUint32, []byte{1, 2}},
		{"short GUID", TypeGUID, make([]byte, 10)},
		{"SID shorter than its count", TypeSID, []byte{1, 3, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0}},
		{"size_t of 3 bytes", TypeSizeT, []byte{1, 2, 3}},
		{"uneven uint32 array", TypeArray | TypeUint32, []byte{1, 2, 3, 4, 5}},
		{"unknown type", ValueType(0x1f), []byte{1}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &chunk{data: tt.data}
			if _, err := c.decodeValue(byte(tt.typ), 0, uint32(len(tt.data)), 0); err == nil {
				t.Error("no error")
			}
		})
	}
}

// TestFileTimeValue checks the 100 ns precision of FILETIME values.
func TestFileTimeValue(t *testing.T) {
	c := &chunk{data: le64(131974273243199447)}
	v, err := c.decodeValue(byte(TypeFileTime), 0, 8, 0)
	if err != nil {
		t.Fatal(err)
	}

	got, ok := v.Time()
	want := time.Date(2019, 3, 19, 0, 2, 4, 319944700, time.UTC)
	if !ok || !got.Equal(want) {
		t.Errorf("time %v, expected %v", got, want)
	}
}

func le64(n uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(n >> (8 * i))
	}
	return b
}
