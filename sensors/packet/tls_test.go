package packet

import "testing"

// TestJA4SpecExample rebuilds the example of FoxIO's JA4 specification
// (README of github.com/FoxIO-LLC/ja4): 15 cipher suites, 16 extensions
// with SNI and ALPN "h2", TLS 1.3.
func TestJA4SpecExample(t *testing.T) {
	h := clientHello{
		version:    0x0303,
		versions:   []uint16{0x0a0a, 0x0304, 0x0303},
		ciphers:    []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		extensions: []uint16{0x1a1a, 0x0000, 0x0017, 0xff01, 0x000a, 0x000b, 0x0023, 0x0010, 0x0005, 0x000d, 0x0012, 0x0033, 0x002d, 0x002b, 0x001b, 0x0015, 0x4469},
		sigAlgs:    []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601},
		alpn:       []string{"h2", "http/1.1"},
	}
	fp, raw := h.ja4()
	if want := "t13d1516h2_8daaf6152771_e5627efa2ab1"; fp != want {
		t.Errorf("JA4 = %s, want %s", fp, want)
	}
	if want := "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"; raw != want {
		t.Errorf("JA4_r = %s\nwant %s", raw, want)
	}
}

func TestJA4ALPN(t *testing.T) {
	tests := []struct {
		alpn []string
		want string
	}{
		{nil, "00"},
		{[]string{"h2"}, "h2"},
		{[]string{"http/1.1"}, "h1"},
		{[]string{"h3"}, "h3"},
		{[]string{"x"}, "xx"},
		{[]string{"\xab\xcd"}, "ad"},
	}
	for _, tc := range tests {
		if got := ja4ALPN(tc.alpn); got != tc.want {
			t.Errorf("ja4ALPN(%q) = %q, want %q", tc.alpn, got, tc.want)
		}
	}
}

func TestClientHelloErrors(t *testing.T) {
	tests := []struct {
		name string
		body []byte
	}{
		{"empty", nil},
		{"random cut", make([]byte, 20)},
		{"cipher list longer than body", append(make([]byte, 35), 0xff, 0xff)},
	}
	for _, tc := range tests {
		if _, err := parseClientHello(tc.body); err == nil {
			t.Errorf("%s: parseClientHello accepted a broken hello", tc.name)
		}
	}
}
