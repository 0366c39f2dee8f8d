package esquery

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/canhgac/canhgac/pipeline/kql"
	"github.com/canhgac/canhgac/pipeline/kql/kqltest"
)

// FuzzCompile checks that every query that kql.Parse accepts compiles
// without panic to DSL that encodes as JSON, or to an *Error for a query
// that Elasticsearch cannot run.
func FuzzCompile(f *testing.F) {
	for _, q := range kqltest.Queries {
		f.Add(q)
	}
	for _, q := range []string{
		"source.ip:::/0", "source.ip < ::2", "event.severity <= NaN", "@timestamp > 1900-01-01",
		`user.*:\OR`, `winlog.*:"a b"`, "message:P*ss?d", `"!!!"`, "winlog.event_data.Count > 5",
	} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, query string) {
		n, err := kql.Parse(query)
		if err != nil {
			return
		}
		dsl, err := Compile(n)
		var qerr *Error
		if errors.As(err, &qerr) {
			return
		}
		if err != nil {
			t.Fatalf("Compile(%q): %v", query, err)
		}
		if len(dsl) != 1 {
			t.Fatalf("Compile(%q) = %v, want an object with one query type", query, dsl)
		}
		if _, err := json.Marshal(dsl); err != nil {
			t.Fatalf("encode DSL of %q: %v", query, err)
		}
	})
}

// FuzzJoinedWords checks that Document's word splitting equals
// kql.Tokenize, which kql.Match and the embedded store use.
func FuzzJoinedWords(f *testing.F) {
	for _, s := range []string{
		"Failed password for invalid user admin from 173.234.31.186 port 38926 ssh2",
		"Đăng nhập thất bại cho người dùng admin", `C:\Windows\System32\lsass.exe`, "漢字abc ΣΑΣ İstanbul",
		"\xff\xfeab\xc3", "a\u0301b", "x\ue000y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := joinedWords(s), strings.Join(kql.Tokenize(s), " "); got != want {
			t.Fatalf("joinedWords(%q) = %q, kql.Tokenize gives %q", s, got, want)
		}
	})
}
