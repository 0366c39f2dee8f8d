package jsonenc

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestAppendStringDecodesLikeEncodingJSON checks that each string decodes
// to what encoding/json's encoding decodes to. pipeline/elastic fuzzes the
// same function.
func TestAppendStringDecodesLikeEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ back`, "tab\tnew\nline\r", "\x00\x1f", "bad \xff utf8", "line\u2028sep\u2029", "đăng nhập thất bại"} {
		var buf bytes.Buffer
		AppendString(&buf, s)
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		// encoding/json escapes <, > and & for HTML; this encoder does not.
		var got, ref string
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("AppendString(%q) = %s is not JSON: %v", s, buf.Bytes(), err)
		}
		if err := json.Unmarshal(want, &ref); err != nil {
			t.Fatal(err)
		}
		if got != ref {
			t.Errorf("AppendString(%q) decodes to %q, encoding/json's to %q", s, got, ref)
		}
	}
}
