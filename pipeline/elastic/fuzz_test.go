package elastic

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/internal/jsonenc"
	"github.com/canhgac/canhgac/pipeline/elastic/esquery"
)

// FuzzAppendString checks that the encoder writes valid JSON that decodes
// to the input (with invalid UTF-8 replaced, as encoding/json does).
func FuzzAppendString(f *testing.F) {
	for _, path := range []string{"linux/loghub/OpenSSH/OpenSSH_2k.log", "web/elastic-examples/apache_access_combined.log"} {
		file, err := os.Open(dataDir + path)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(file)
		for i := 0; i < 20 && sc.Scan(); i++ {
			f.Add(sc.Text())
		}
		file.Close()
	}
	f.Add("tab\there \"quoted\" \\ \x00 \x1f \u2028 \xff\xfe end")
	f.Fuzz(func(t *testing.T, s string) {
		var buf bytes.Buffer
		ev := &ecs.Event{ID: "x", Fields: ecs.Fields{"message": s, "tags": []string{s}, s: int64(1)}}
		if err := new(esquery.Encoder).Append(&buf, ev); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(buf.Bytes()) {
			t.Fatalf("invalid JSON for %q: %s", s, buf.Bytes())
		}
		buf.Reset()
		jsonenc.AppendString(&buf, s)
		var back string
		if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
			t.Fatalf("decode %s: %v", buf.Bytes(), err)
		}
		if want := strings.ToValidUTF8(s, "\uFFFD"); back != want && utf8.ValidString(s) {
			t.Fatalf("round trip of %q gave %q", s, back)
		}
		std, _ := json.Marshal(s)
		var viaStd string
		json.Unmarshal(std, &viaStd)
		if back != viaStd {
			t.Fatalf("encoder gives %q, encoding/json %q", back, viaStd)
		}
	})
}

// FuzzParseBulk checks that any response body yields an error or one
// result per document, never a panic.
func FuzzParseBulk(f *testing.F) {
	for _, name := range []string{"testdata/bulk_mixed.json", "testdata/bulk_429_breaker.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, 5)
	}
	f.Add([]byte(`{"errors":false}`), 3)
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		if n < 0 || n > 10000 {
			return
		}
		results, err := parseBulk(body, n)
		if err != nil {
			return
		}
		if len(results) != n {
			t.Fatalf("%d results for %d documents", len(results), n)
		}
		parseError(body)
	})
}
