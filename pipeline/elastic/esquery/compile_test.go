package esquery

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/i18n"
	"github.com/canhgac/canhgac/pipeline/kql"
)

// The text queries of message repeat one shape; textDSL builds it from the
// query on the words and the query for documents without words.
func textDSL(field, exact, standard string) string {
	words := WordsField(field)
	return `{"bool":{"minimum_should_match":1,"should":[` +
		`{"bool":{"filter":[{"exists":{"field":"` + words + `"}},` + strings.ReplaceAll(exact, "WORDS", words) + `]}},` +
		`{"bool":{"filter":[` + standard + `],"must_not":[{"exists":{"field":"` + words + `"}}]}}]}}`
}

func TestCompileGolden(t *testing.T) {
	tests := []struct {
		query string
		want  string
	}{
		{"", `{"match_all":{}}`},
		{"*", `{"match_all":{}}`},
		// Keyword fields: exact, case-sensitive, wildcards with '?' literal.
		{"user.name:root", `{"term":{"user.name":"root"}}`},
		{`user.name:"John Smith"`, `{"term":{"user.name":"John Smith"}}`},
		{"user.name:adm*", `{"wildcard":{"user.name":{"value":"adm*"}}}`},
		{`process.command_line:C\:\\Win*`, `{"wildcard":{"process.command_line":{"value":"C:\\\\Win*"}}}`},
		{"url.original:*?id=*", `{"wildcard":{"url.original":{"value":"*\\?id=*"}}}`},
		{`url.original:a\*b*`, `{"wildcard":{"url.original":{"value":"a\\*b*"}}}`},
		{"http.request.method > G", `{"range":{"http.request.method":{"gt":"G"}}}`},
		{"user.name:*", `{"exists":{"field":"user.name"}}`},
		// Boolean operators.
		{"user.name:root and host.name:web1", `{"bool":{"filter":[{"term":{"user.name":"root"}},{"term":{"host.name":"web1"}}]}}`},
		{"user.name:(root or admin)", `{"bool":{"minimum_should_match":1,"should":[{"term":{"user.name":"root"}},{"term":{"user.name":"admin"}}]}}`},
		{"not user.name:root", `{"bool":{"must_not":[{"term":{"user.name":"root"}}]}}`},
		// Numbers: double fields, values that are no number match nothing.
		{"winlog.event_id:4624", `{"term":{"winlog.event_id":"4624"}}`},
		{"event.severity:0x1p4", `{"term":{"event.severity":"16"}}`},
		{"source.port >= 1024", `{"range":{"source.port":{"gte":"1024"}}}`},
		{"http.response.status_code > abc", `{"match_none":{}}`},
		{"http.response.status_code:4*", `{"match_none":{}}`},
		{"event.severity:NaN", `{"match_none":{}}`},
		{"event.severity <= NaN", `{"exists":{"field":"event.severity"}}`},
		{"event.severity < inf", `{"exists":{"field":"event.severity"}}`},
		{"event.severity > inf", `{"match_none":{}}`},
		{"event.severity >= -inf", `{"exists":{"field":"event.severity"}}`},
		// IP fields: CIDR terms; IPv6 ranges leave out IPv4-mapped addresses.
		{"source.ip:10.0.0.0/8", `{"term":{"source.ip":"10.0.0.0/8"}}`},
		{"source.ip:10.1.2.3", `{"term":{"source.ip":"10.1.2.3"}}`},
		{"source.ip:::ffff:10.1.2.3", `{"term":{"source.ip":"10.1.2.3"}}`},
		{"source.ip:2001:db8::/32", `{"term":{"source.ip":"2001:db8::/32"}}`},
		{"source.ip:::/0", `{"bool":{"minimum_should_match":1,"should":[` +
			`{"range":{"source.ip":{"gte":"::","lte":"::fffe:ffff:ffff"}}},` +
			`{"range":{"source.ip":{"gte":"::1:0:0:0","lte":"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}}}]}}`},
		{"source.ip > 100.0.0.0", `{"range":{"source.ip":{"gte":"100.0.0.1","lte":"255.255.255.255"}}}`},
		{"source.ip < 0.0.0.0", `{"match_none":{}}`},
		{"source.ip >= 2001:db8::", `{"range":{"source.ip":{"gte":"2001:db8::","lte":"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}}}`},
		{"source.ip < ::2", `{"range":{"source.ip":{"gte":"::","lte":"::1"}}}`},
		// Date fields: instants in UTC with nanoseconds, bounds outside
		// date_nanos resolved at compile time.
		{"@timestamp:2025-03-01T12:01:00+07:00", `{"term":{"@timestamp":"2025-03-01T05:01:00Z"}}`},
		{"@timestamp >= 2025-12-10", `{"range":{"@timestamp":{"gte":"2025-12-10T00:00:00Z"}}}`},
		{`event.created < "2025-03-02T10:00:00.123456789Z"`, `{"range":{"event.created":{"lt":"2025-03-02T10:00:00.123456789Z"}}}`},
		{"@timestamp < 1900-01-01", `{"match_none":{}}`},
		{"@timestamp > 1900-01-01", `{"exists":{"field":"@timestamp"}}`},
		{"@timestamp:1900-01-01", `{"match_none":{}}`},
		{"@timestamp < 2300-01-01", `{"exists":{"field":"@timestamp"}}`},
		// Text fields: kql.Tokenize's words, or the standard analyzer.
		{"message:Failed", textDSL("message", `{"terms":{"WORDS":["failed"]}}`, `{"match":{"message":"Failed"}}`)},
		{"message:invalid user invalid", textDSL("message", `{"terms":{"WORDS":["invalid","user"]}}`,
			`{"match":{"message":"invalid user invalid"}}`)},
		{`message:"failed password"`, textDSL("message",
			`{"match_phrase":{"WORDS":{"analyzer":"whitespace","query":"failed password"}}}`,
			`{"match_phrase":{"message":"failed password"}}`)},
		{`message:"Failed"`, textDSL("message", `{"terms":{"WORDS":["failed"]}}`, `{"match":{"message":"Failed"}}`)},
		{"message:P*SS*d", textDSL("message", `{"wildcard":{"WORDS":{"value":"p*ss*d"}}}`, `{"wildcard":{"message":{"value":"p*ss*d"}}}`)},
		// A part with a character that no word holds matches nothing.
		{"message:P*ss?d", `{"match_none":{}}`},
		{"message:lsass.ex*", `{"match_none":{}}`},
		{"lsass.ex*", `{"wildcard":{"canhgac.kql.free_text":{"value":"lsass.ex*"}}}`},
		{`message:"!!!"`, `{"match_none":{}}`},
		{"message:*", `{"exists":{"field":"message"}}`},
		{"message > m", `{"range":{"message":{"gt":"m"}}}`},
		// Free text: text words plus the copies of keyword strings.
		{"LabSZ", `{"bool":{"minimum_should_match":1,"should":[` +
			textDSL("message", `{"terms":{"WORDS":["labsz"]}}`, `{"match":{"message":"LabSZ"}}`) + `,` +
			textDSL("event.original", `{"terms":{"WORDS":["labsz"]}}`, `{"match":{"event.original":"LabSZ"}}`) + `,` +
			`{"term":{"canhgac.kql.free_text":"LabSZ"}}]}}`},
		{"web*", `{"bool":{"minimum_should_match":1,"should":[` +
			textDSL("message", `{"wildcard":{"WORDS":{"value":"web*"}}}`, `{"wildcard":{"message":{"value":"web*"}}}`) + `,` +
			textDSL("event.original", `{"wildcard":{"WORDS":{"value":"web*"}}}`, `{"wildcard":{"event.original":{"value":"web*"}}}`) + `,` +
			`{"wildcard":{"canhgac.kql.free_text":{"value":"web*"}}}]}}`},
		{`"!!!"`, `{"term":{"canhgac.kql.free_text":"!!!"}}`},
		// Fields the mapping does not declare: lenient forms.
		{"winlog.event_data.LogonType:3", `{"match":{"winlog.event_data.LogonType":{"lenient":true,"query":"3"}}}`},
		{"winlog.event_data.ProcessName:*lsass.exe", `{"query_string":{"default_operator":"OR",` +
			`"default_field":"winlog.event_data.ProcessName","lenient":true,"query":"*lsass.exe"}}`},
		{"winlog.event_data.Count > 5", `{"query_string":{"default_operator":"OR",` +
			`"default_field":"winlog.event_data.Count","lenient":true,"query":"\u003e5"}}`},
		// Field name patterns.
		{"*.name:scranton", `{"query_string":{"default_operator":"OR","default_field":"*.name","lenient":true,"query":"scranton"}}`},
		{`winlog.*:"a b"`, `{"query_string":{"default_operator":"OR","default_field":"winlog.*","lenient":true,"query":"\"a b\""}}`},
		{`user.*:a\ b\:c/d`, `{"query_string":{"default_operator":"OR","default_field":"user.*","lenient":true,"query":"a\\ b\\:c\\/d"}}`},
		{`user.*:\OR`, `{"query_string":{"default_operator":"OR","default_field":"user.*","lenient":true,"query":"\\OR"}}`},
		{`user.*:a*?`, `{"query_string":{"default_operator":"OR","default_field":"user.*","lenient":true,"query":"a*\\?"}}`},
		{"source.* >= 10", `{"query_string":{"default_operator":"OR","default_field":"source.*","lenient":true,"query":"\u003e=10"}}`},
		{"winlog.*:*", `{"exists":{"field":"winlog.*"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			dsl, err := CompileString(tt.query)
			if err != nil {
				t.Fatalf("CompileString: %v", err)
			}
			got := jsonText(dsl)
			if got != canonicalJSON(t, tt.want) {
				t.Errorf("DSL\n got %s\nwant %s", got, canonicalJSON(t, tt.want))
			}
		})
	}
}

// canonicalJSON re-encodes JSON text with sorted keys, as json.Marshal
// writes maps.
func canonicalJSON(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("invalid JSON in test table: %v: %s", err, s)
	}
	return jsonText(v)
}

func TestCompileStringParseError(t *testing.T) {
	_, err := CompileString("user.name:(root")
	var kerr *kql.Error
	if !errors.As(err, &kerr) {
		t.Fatalf("error %v (%T), want *kql.Error", err, err)
	}
	if kerr.Key != "kql.error.unclosed_paren" {
		t.Errorf("Key = %q, want kql.error.unclosed_paren", kerr.Key)
	}
	if msg := kerr.Message(i18n.VI); !strings.Contains(msg, "dấu ngoặc đơn chưa được đóng") {
		t.Errorf("Vietnamese message = %q", msg)
	}
}

func TestCompileLongWildcard(t *testing.T) {
	long := strings.Repeat("ab", 129)
	tests := []struct {
		query   string
		wantErr bool
	}{
		{"process.command_line:*" + long[:254] + "*", false},
		{"process.command_line:*" + long[:255] + "*", true},
		{"process.command_line:" + strings.Repeat("*a", 128), false},
		{"process.command_line:" + strings.Repeat("*a", 129), true},
		{"process.command_line:*" + long + "*", true},
		{"winlog.event_data.CommandLine:" + long + "*", true},
		{"*.command_line:*" + long, true},
		{long + "*", true},
		{"process.command_line:" + long, false},
	}
	for _, tt := range tests {
		t.Run(tt.query[:30], func(t *testing.T) {
			_, err := CompileString(tt.query)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("CompileString: %v", err)
				}
				return
			}
			var qerr *Error
			if !errors.As(err, &qerr) {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if qerr.Key != "esquery.error.wildcard_too_long" {
				t.Errorf("Key = %q, want esquery.error.wildcard_too_long", qerr.Key)
			}
			if msg := qerr.Message(i18n.VI); !strings.Contains(msg, " byte") || !strings.Contains(msg, "…") {
				t.Errorf("Vietnamese message = %q, want the size and the shortened value", msg)
			}
		})
	}
}

func TestCompileNilNode(t *testing.T) {
	if _, err := Compile(nil); err == nil {
		t.Fatal("Compile(nil) returned no error")
	}
}

// TestMappingDeclaresCompiledTypes checks that every declared field kind
// that Compile relies on has that type in Mapping.
func TestMappingDeclaresCompiledTypes(t *testing.T) {
	props := Mapping()["properties"].(map[string]any)
	for field, kind := range declaredKinds {
		m := lookupProperty(props, field)
		if m == nil {
			t.Errorf("field %s is not in Mapping", field)
			continue
		}
		if got, want := m["type"], kindTypes[kind]; got != want {
			t.Errorf("field %s has type %v in Mapping, Compile expects %s", field, got, want)
		}
	}
	if m := lookupProperty(props, "@timestamp"); m["ignore_malformed"] != nil {
		t.Errorf("@timestamp has ignore_malformed, which data streams reject: %v", m)
	}
	for _, f := range kql.TextFields {
		if m := lookupProperty(props, WordsField(f)); m == nil || m["analyzer"] != "whitespace" {
			t.Errorf("words field of %s = %v, want text with the whitespace analyzer", f, m)
		}
	}
}

var kindTypes = map[fieldKind]string{
	kindKeyword: "keyword", kindText: "text", kindDate: "date_nanos", kindNumber: "double",
}

func lookupProperty(props map[string]any, field string) map[string]any {
	parts := strings.Split(field, ".")
	for i, p := range parts {
		m, ok := props[p].(map[string]any)
		if !ok {
			return nil
		}
		if i == len(parts)-1 {
			return m
		}
		props, ok = m["properties"].(map[string]any)
		if !ok {
			return nil
		}
	}
	return nil
}

func TestDocumentWords(t *testing.T) {
	tests := []struct {
		name   string
		fields ecs.Fields
		want   string
	}{
		{"string", ecs.Fields{"message": "Failed password for lsass.exe"},
			`{"message":"failed password for lsass exe"}`},
		{"list", ecs.Fields{"event.original": []string{"A-b", "!!!", "c"}},
			`{"event.original":["a b","c"]}`},
		{"any list", ecs.Fields{"message": []any{"Đăng nhập", int64(5)}},
			`{"message":["đăng nhập"]}`},
		{"no words", ecs.Fields{"message": "!!!"}, ``},
		{"number", ecs.Fields{"message": int64(5)}, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &ecs.Event{ID: "x", SourceID: "s", Fields: tt.fields}
			doc := Document(e)
			c := doc["canhgac"].(map[string]any)
			if c["source_id"] != "s" {
				t.Errorf("canhgac.source_id = %v, want s", c["source_id"])
			}
			kqlObj, ok := c["kql"].(map[string]any)
			if tt.want == "" {
				if ok {
					t.Errorf("canhgac.kql = %v, want none", kqlObj)
				}
				return
			}
			if !ok {
				t.Fatalf("canhgac.kql is missing in %v", doc)
			}
			if got := jsonText(kqlObj["words"]); got != canonicalJSON(t, tt.want) {
				t.Errorf("words = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDocumentScalarCanhgac(t *testing.T) {
	e := &ecs.Event{Fields: ecs.Fields{"canhgac": "x", "message": "a b"}}
	doc := Document(e)
	if doc["canhgac"] != "x" {
		t.Errorf("canhgac = %v, want the event's scalar x", doc["canhgac"])
	}
}
