package kql

import (
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

func TestMatch(t *testing.T) {
	ssh := &ecs.Event{
		ID:        "ev1",
		Timestamp: time.Date(2025, 12, 10, 6, 55, 46, 0, time.UTC),
		SourceID:  "file:/var/log/auth.log",
		Seq:       7,
		Fields: ecs.Fields{
			"event.dataset":  "system.auth",
			"host.name":      "LabSZ",
			"user.name":      "webmaster",
			"source.ip":      "173.234.31.186",
			"source.port":    int64(38926),
			"message":        "Failed password for invalid user webmaster from 173.234.31.186 port 38926 ssh2",
			"event.category": []string{"authentication"},
			"related.ip":     []string{"173.234.31.186", "2001:db8::1"},
			"event.created":  "2025-12-10T06:55:47Z",
			"labels.ok":      false,
			"event.risk":     2.5,
		},
	}
	tests := []struct {
		query string
		want  bool
	}{
		{"", true},
		{"user.name:webmaster", true},
		{"user.name:Webmaster", false},
		{"user.name:web*", true},
		{"user.name:*MASTER", false},
		{`user.name:"webmaster"`, true},
		{"message:FAILED", true},
		{"message:failed root", true},
		{"message:root", false},
		{`message:"invalid user webmaster"`, true},
		{`message:"user invalid"`, false},
		{"message:pass*", true},
		{"message:Pass*", true},
		{"source.ip:173.234.0.0/16", true},
		{"source.ip:10.0.0.0/8", false},
		{"related.ip:2001:db8::/32", true},
		{"source.ip:::ffff:173.234.31.186", true},
		{"source.ip > 173.234.31.185", true},
		{"source.ip > 2001:db8::", false},
		{"source.port >= 38926", true},
		{"source.port > 38926", false},
		{"source.port:38926", true},
		{"source.port:38926.0", true},
		{"event.risk < 3", true},
		{"labels.ok:false", true},
		{"labels.ok:true", false},
		{"event.category:authentication", true},
		{"event.created > 2025-12-10", true},
		{"@timestamp < 2025-12-10T06:55:47Z", true},
		{"@timestamp:2025-12-10T06:55:46Z", true},
		{"event.id:ev1", true},
		{"event.sequence:7", true},
		{"canhgac.source_id:file*", true},
		{"host.*:LabSZ", true},
		{"*.ip:173.234.31.186", true},
		{"user.name:*", true},
		{"process.name:*", false},
		{"webmaster", true},
		{"Failed", true},
		{"LabSZ", true},
		{"labsz", false},
		{"38926", true}, // a word of message, not the numeric source.port
		{"173.234.31.186", true},
		{"system.*", true},
		{"user.name:root or host.name:LabSZ", true},
		{"user.name:root and host.name:LabSZ", false},
		{"not user.name:root", true},
		{"user.name:(root or webmaster)", true},
		{"user.name:(root and webmaster)", false},
		{"not (user.name:root or host.name:x) and message:ssh2", true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			n, err := Parse(tt.query)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := Match(n, ssh); got != tt.want {
				t.Errorf("Match(%s) = %v, want %v", n, got, tt.want)
			}
		})
	}
}

func TestTokenize(t *testing.T) {
	got := Tokenize("Đăng nhập: FAILED for user_1@host-2 (ssh2)")
	want := []string{"đăng", "nhập", "failed", "for", "user", "1", "host", "2", "ssh2"}
	if len(got) != len(want) {
		t.Fatalf("Tokenize = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("word %d = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		parts []string
		s     string
		want  bool
	}{
		{[]string{"adm", ""}, "admin", true},
		{[]string{"", "min"}, "admin", true},
		{[]string{"a", "a"}, "a", false},
		{[]string{"a", "a"}, "aa", true},
		{[]string{"", "d", "i", ""}, "admin", true},
		{[]string{"", "i", "d", ""}, "admin", false},
	}
	for _, tt := range tests {
		if got := Glob(tt.parts, tt.s); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tt.parts, tt.s, got, tt.want)
		}
	}
}
