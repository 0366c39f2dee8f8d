package kql

import (
	"errors"
	"strings"
	"testing"

	"github.com/canhgac/canhgac/i18n"
)

func TestParseCanonical(t *testing.T) {
	tests := []struct {
		query string
		want  string
	}{
		{"", "*"},
		{"   ", "*"},
		{"*", "*"},
		{"user.name:root", "user.name:root"},
		{"user.name : root", "user.name:root"},
		{`message:"failed password"`, `message:"failed password"`},
		{"message:failed password", `message:failed\ password`},
		{"user.name:adm*", "user.name:adm*"},
		{"user.name:*min", "user.name:*min"},
		{`user.name:adm\*`, `user.name:adm\*`},
		{"winlog.event_data.*:lsass.exe", "winlog.event_data.*:lsass.exe"},
		{"user.name:*", "user.name:*"},
		{"source.ip:10.0.0.0/8", "source.ip:10.0.0.0/8"},
		{"source.ip:2001:db8::/32", `source.ip:2001\:db8\:\:/32`},
		{`source.ip:"2001:db8::1"`, `source.ip:"2001:db8::1"`},
		{"http.response.status_code >= 400", "http.response.status_code >= 400"},
		{"a<1", "a < 1"},
		{"a<=1", "a <= 1"},
		{"a>1", "a > 1"},
		{"@timestamp >= 2024-05-01T00:00:00Z", `@timestamp >= 2024-05-01T00\:00\:00Z`},
		{"@timestamp < 2024-05-02", "@timestamp < 2024-05-02"},
		{"a:1 and b:2 or c:3", "(a:1 and b:2) or c:3"},
		{"a:1 or b:2 and c:3", "a:1 or (b:2 and c:3)"},
		{"a:1 AND (b:2 OR c:3)", "a:1 and (b:2 or c:3)"},
		{"not a:1 and b:2", "not a:1 and b:2"},
		{"NOT (a:1 or b:2)", "not (a:1 or b:2)"},
		{"not not a:1", "not not a:1"},
		{"a:(x or y)", "a:x or a:y"},
		{"a:(x or y and z)", "a:x or (a:y and a:z)"},
		{"a:(not x)", "not a:x"},
		{"a:(x y)", `a:x\ y`},
		{"failed", "failed"},
		{"failed password", `failed\ password`},
		{`"failed password"`, `"failed password"`},
		{"oregon:1", "oregon:1"},
		{"a:android", "a:android"},
		{`a:\and`, `a:\u0061nd`},
		{`a:"x\"y"`, `a:"x\"y"`},
		{`a:x\:y`, `a:x\:y`},
		{`a:\u0041`, `a:A`},
		{"(a:1)", "a:1"},
		{"((a:1 or b:2)) and c:3", "(a:1 or b:2) and c:3"},
		{"user.name:tên\\ người", `user.name:tên\ người`},
		{"a:1 or b:2 or c:3", "a:1 or b:2 or c:3"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			n, err := Parse(tt.query)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.query, err)
			}
			if got := n.String(); got != tt.want {
				t.Fatalf("Parse(%q).String() = %q, want %q", tt.query, got, tt.want)
			}
			again, err := Parse(n.String())
			if err != nil {
				t.Fatalf("reparse %q: %v", n.String(), err)
			}
			if again.String() != n.String() {
				t.Fatalf("reparse changed %q to %q", n.String(), again.String())
			}
		})
	}
}

func TestParseValueShapes(t *testing.T) {
	n := MustParse(`user.name:adm*n*`).(*Is)
	if got := n.Value.Parts; len(got) != 3 || got[0] != "adm" || got[1] != "n" || got[2] != "" {
		t.Fatalf("parts = %q", got)
	}
	q := MustParse(`message:"a*b"`).(*Is)
	if q.Value.Wildcard() || !q.Value.Quoted || q.Value.Text != "a*b" {
		t.Fatalf("quoted value = %+v", q.Value)
	}
	e := MustParse(`host.name:*`)
	if _, ok := e.(*Exists); !ok {
		t.Fatalf("host.name:* parsed to %T", e)
	}
	r := MustParse(`event.severity >= 3`).(*Range)
	if r.Field != "event.severity" || r.Op != GreaterOrEqual || r.Value.Text != "3" {
		t.Fatalf("range = %+v", r)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		query  string
		key    string
		column int
	}{
		{`message:"unclosed`, "kql.error.unclosed_quote", 9},
		{"(a:1 or b:2", "kql.error.unclosed_paren", 1},
		{"a:1)", "kql.error.unmatched_paren", 4},
		{"a:", "kql.error.missing_value", 2},
		{"a: and b:1", "kql.error.missing_value", 2},
		{"a:1 and", "kql.error.missing_term", 5},
		{"a:1 or", "kql.error.missing_term", 5},
		{"not", "kql.error.missing_term", 1},
		{"and a:1", "kql.error.missing_term", 1},
		{"user.name:root host.name:web1", "kql.error.ambiguous_colon", 25},
		{"root host.name:web1", "kql.error.missing_operator", 1},
		{`a:x\q`, "kql.error.invalid_escape", 4},
		{`a:\u12`, "kql.error.invalid_escape", 3},
		{"a:{b:1}", "kql.error.nested", 3},
		{"source.ip:10.0.0.300", "kql.error.invalid_ip", 11},
		{"source.ip:10.0.*", "kql.error.ip_wildcard", 11},
		{"source.ip > abc", "kql.error.invalid_ip", 13},
		{"@timestamp >= yesterday", "kql.error.invalid_date", 15},
		{"a > 1*", "kql.error.range_wildcard", 5},
		{`"user.name":root`, "kql.error.field_quoted", 1},
		{":root", "kql.error.missing_field", 1},
		{"a:()", "kql.error.missing_value", 4},
		{"()", "kql.error.unexpected_char", 2},
		{"a >", "kql.error.missing_value", 3},
		{"a:(x or y", "kql.error.unclosed_paren", 3},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			_, err := Parse(tt.query)
			var kerr *Error
			if !errors.As(err, &kerr) {
				t.Fatalf("Parse(%q) error = %v, want *Error", tt.query, err)
			}
			if kerr.Key != tt.key {
				t.Errorf("key = %s, want %s (%v)", kerr.Key, tt.key, err)
			}
			if kerr.Column != tt.column {
				t.Errorf("column = %d, want %d (%v)", kerr.Column, tt.column, err)
			}
			if kerr.Hint == "" {
				t.Errorf("no hint in %v", err)
			}
			for _, lang := range []i18n.Lang{i18n.VI, i18n.EN} {
				msg := kerr.Message(lang)
				if strings.Contains(msg, "kql.") || strings.Contains(msg, "%!") {
					t.Errorf("message in %s not from the catalog or badly formatted: %s", lang, msg)
				}
			}
		})
	}
}
