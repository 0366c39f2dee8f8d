package sigma

import (
	"testing"

	"github.com/canhgac/canhgac/ecs"
)

func TestDetectionConformance(t *testing.T) {
	tests := []struct {
		name      string
		detection string
		fields    ecs.Fields
		want      bool
	}{
		// Plain values and case.
		{"equal ignores case", "sel:\n    f: Foo\ncondition: sel", ecs.Fields{"f": "FOO"}, true},
		{"equal whole value", "sel:\n    f: Foo\ncondition: sel", ecs.Fields{"f": "Foobar"}, false},
		{"cased mismatch", "sel:\n    f|cased: Foo\ncondition: sel", ecs.Fields{"f": "FOO"}, false},
		{"cased match", "sel:\n    f|cased: Foo\ncondition: sel", ecs.Fields{"f": "Foo"}, true},
		{"cased contains", "sel:\n    f|contains|cased: oO\ncondition: sel", ecs.Fields{"f": "foo"}, false},
		{"non-ASCII ignores case", "sel:\n    f: 'ĐÀ NẴNG'\ncondition: sel", ecs.Fields{"f": "đà nẵng"}, true},
		{"missing field", "sel:\n    f: a\ncondition: sel", ecs.Fields{}, false},
		// contains, startswith, endswith.
		{"contains", "sel:\n    f|contains: MID\ncondition: sel", ecs.Fields{"f": "a mid b"}, true},
		{"contains miss", "sel:\n    f|contains: mid\ncondition: sel", ecs.Fields{"f": "a m-d b"}, false},
		{"startswith", "sel:\n    f|startswith: 'C:\\Win'\ncondition: sel", ecs.Fields{"f": `c:\windows\x.exe`}, true},
		{"startswith miss", "sel:\n    f|startswith: 'Win'\ncondition: sel", ecs.Fields{"f": `c:\windows`}, false},
		{"endswith", "sel:\n    f|endswith: '\\cmd.exe'\ncondition: sel", ecs.Fields{"f": `C:\Windows\System32\CMD.EXE`}, true},
		{"endswith miss", "sel:\n    f|endswith: '\\cmd.exe'\ncondition: sel", ecs.Fields{"f": `C:\x\notcmd.exe`}, false},
		// Wildcards and escaping.
		{"star", "sel:\n    f: 'a*c'\ncondition: sel", ecs.Fields{"f": "aXYZc"}, true},
		{"star anchored", "sel:\n    f: 'a*c'\ncondition: sel", ecs.Fields{"f": "aXYZcd"}, false},
		{"question mark", "sel:\n    f: 'a?c'\ncondition: sel", ecs.Fields{"f": "abc"}, true},
		{"question mark one char", "sel:\n    f: 'a?c'\ncondition: sel", ecs.Fields{"f": "abbc"}, false},
		{"question mark multibyte", "sel:\n    f: 'a?c'\ncondition: sel", ecs.Fields{"f": "ađc"}, true},
		{"escaped star literal", "sel:\n    f: 'a\\*c'\ncondition: sel", ecs.Fields{"f": "a*c"}, true},
		{"escaped star not wildcard", "sel:\n    f: 'a\\*c'\ncondition: sel", ecs.Fields{"f": "abc"}, false},
		{"escaped question literal", "sel:\n    f: 'a\\?'\ncondition: sel", ecs.Fields{"f": "a?"}, true},
		{"escaped question not wildcard", "sel:\n    f: 'a\\?'\ncondition: sel", ecs.Fields{"f": "ab"}, false},
		{"escaped backslash then star", "sel:\n    f: 'a\\\\*'\ncondition: sel", ecs.Fields{"f": `a\xyz`}, true},
		{"escaped backslash is one", "sel:\n    f: 'a\\\\*'\ncondition: sel", ecs.Fields{"f": `axyz`}, false},
		{"plain backslash kept", "sel:\n    f: 'C:\\Windows\\'\ncondition: sel", ecs.Fields{"f": `c:\windows\`}, true},
		{"contains with wildcard", "sel:\n    f|contains: 'a*c'\ncondition: sel", ecs.Fields{"f": "xxabbbcxx"}, true},
		{"endswith with wildcard", "sel:\n    f|endswith: 'a?c'\ncondition: sel", ecs.Fields{"f": "xxabc"}, true},
		{"startswith with wildcard miss", "sel:\n    f|startswith: 'a?c'\ncondition: sel", ecs.Fields{"f": "xabc"}, false},
		// Lists and maps.
		{"list is or", "sel:\n    f:\n        - a\n        - b\ncondition: sel", ecs.Fields{"f": "B"}, true},
		{"list none", "sel:\n    f:\n        - a\n        - b\ncondition: sel", ecs.Fields{"f": "c"}, false},
		{"all with list", "sel:\n    f|contains|all:\n        - a\n        - b\ncondition: sel", ecs.Fields{"f": "xaxb"}, true},
		{"all with list partial", "sel:\n    f|contains|all:\n        - a\n        - b\ncondition: sel", ecs.Fields{"f": "xa"}, false},
		{"map is and", "sel:\n    f: a\n    g: b\ncondition: sel", ecs.Fields{"f": "a", "g": "c"}, false},
		{"map and all", "sel:\n    f: a\n    g: b\ncondition: sel", ecs.Fields{"f": "a", "g": "b"}, true},
		{"list of maps is or", "sel:\n    - f: a\n    - g: b\ncondition: sel", ecs.Fields{"g": "b"}, true},
		{"list of maps none", "sel:\n    - f: a\n    - g: b\ncondition: sel", ecs.Fields{"f": "b"}, false},
		{"field list any element", "sel:\n    f: b\ncondition: sel", ecs.Fields{"f": []string{"a", "b"}}, true},
		{"field any list element", "sel:\n    f: 2\ncondition: sel", ecs.Fields{"f": []any{int64(1), int64(2)}}, true},
		// null and empty.
		{"null matches missing", "sel:\n    f: null\ncondition: sel", ecs.Fields{}, true},
		{"null matches null", "sel:\n    f: null\ncondition: sel", ecs.Fields{"f": nil}, true},
		{"null rejects empty string", "sel:\n    f: null\ncondition: sel", ecs.Fields{"f": ""}, false},
		{"empty matches empty", "sel:\n    f: ''\ncondition: sel", ecs.Fields{"f": ""}, true},
		{"empty rejects missing", "sel:\n    f: ''\ncondition: sel", ecs.Fields{}, false},
		{"empty rejects value", "sel:\n    f: ''\ncondition: sel", ecs.Fields{"f": "x"}, false},
		{"not null", "sel:\n    f: null\ncondition: not sel", ecs.Fields{"f": "x"}, true},
		// exists.
		{"exists true", "sel:\n    f|exists: true\ncondition: sel", ecs.Fields{"f": ""}, true},
		{"exists true missing", "sel:\n    f|exists: true\ncondition: sel", ecs.Fields{}, false},
		{"exists false missing", "sel:\n    f|exists: false\ncondition: sel", ecs.Fields{}, true},
		{"exists false present", "sel:\n    f|exists: false\ncondition: sel", ecs.Fields{"f": "x"}, false},
		{"exists false null", "sel:\n    f|exists: false\ncondition: sel", ecs.Fields{"f": nil}, true},
		// Numbers.
		{"number equals int", "sel:\n    EventID: 4688\ncondition: sel", ecs.Fields{"EventID": int64(4688)}, true},
		{"number equals string", "sel:\n    EventID: 4688\ncondition: sel", ecs.Fields{"EventID": "4688"}, true},
		{"number differs", "sel:\n    EventID: 4688\ncondition: sel", ecs.Fields{"EventID": int64(4689)}, false},
		{"number equals float", "sel:\n    f: 1.5\ncondition: sel", ecs.Fields{"f": 1.5}, true},
		{"string number equals int", "sel:\n    f: '10'\ncondition: sel", ecs.Fields{"f": int64(10)}, true},
		{"string number is text", "sel:\n    f: '010'\ncondition: sel", ecs.Fields{"f": int64(10)}, false},
		{"number contains as text", "sel:\n    f|contains: 68\ncondition: sel", ecs.Fields{"f": int64(4688)}, true},
		{"boolean", "sel:\n    f: true\ncondition: sel", ecs.Fields{"f": true}, true},
		{"boolean string", "sel:\n    f: false\ncondition: sel", ecs.Fields{"f": "False"}, true},
		{"gt", "sel:\n    f|gt: 10\ncondition: sel", ecs.Fields{"f": int64(11)}, true},
		{"gt equal", "sel:\n    f|gt: 10\ncondition: sel", ecs.Fields{"f": int64(10)}, false},
		{"gte equal", "sel:\n    f|gte: 10\ncondition: sel", ecs.Fields{"f": "10"}, true},
		{"lt", "sel:\n    f|lt: 10\ncondition: sel", ecs.Fields{"f": 9.5}, true},
		{"lte", "sel:\n    f|lte: 10\ncondition: sel", ecs.Fields{"f": int64(11)}, false},
		{"gt not a number", "sel:\n    f|gt: 10\ncondition: sel", ecs.Fields{"f": "abc"}, false},
		// Regular expressions.
		{"re", "sel:\n    f|re: '^a.*z$'\ncondition: sel", ecs.Fields{"f": "abz"}, true},
		{"re unanchored", "sel:\n    f|re: 'b.d'\ncondition: sel", ecs.Fields{"f": "abcde"}, true},
		{"re is case-sensitive", "sel:\n    f|re: 'ABC'\ncondition: sel", ecs.Fields{"f": "abc"}, false},
		{"re i", "sel:\n    f|re|i: 'ABC'\ncondition: sel", ecs.Fields{"f": "abc"}, true},
		{"re m", "sel:\n    f|re|m: '^b$'\ncondition: sel", ecs.Fields{"f": "a\nb\nc"}, true},
		{"re without m", "sel:\n    f|re: '^b$'\ncondition: sel", ecs.Fields{"f": "a\nb\nc"}, false},
		{"re s", "sel:\n    f|re|s: 'a.b'\ncondition: sel", ecs.Fields{"f": "a\nb"}, true},
		{"re without s", "sel:\n    f|re: 'a.b'\ncondition: sel", ecs.Fields{"f": "a\nb"}, false},
		// CIDR.
		{"cidr v4", "sel:\n    ip|cidr: 10.0.0.0/8\ncondition: sel", ecs.Fields{"ip": "10.1.2.3"}, true},
		{"cidr v4 miss", "sel:\n    ip|cidr: 10.0.0.0/8\ncondition: sel", ecs.Fields{"ip": "11.1.2.3"}, false},
		{"cidr v4 list", "sel:\n    ip|cidr:\n        - 192.168.0.0/16\n        - 172.16.0.0/12\ncondition: sel", ecs.Fields{"ip": "172.20.0.1"}, true},
		{"cidr v6", "sel:\n    ip|cidr: 'fd00::/8'\ncondition: sel", ecs.Fields{"ip": "fd12::1"}, true},
		{"cidr v6 miss", "sel:\n    ip|cidr: 'fd00::/8'\ncondition: sel", ecs.Fields{"ip": "fe80::1"}, false},
		{"cidr v4 mapped", "sel:\n    ip|cidr: 10.0.0.0/8\ncondition: sel", ecs.Fields{"ip": "::ffff:10.0.0.1"}, true},
		{"cidr not an address", "sel:\n    ip|cidr: 10.0.0.0/8\ncondition: sel", ecs.Fields{"ip": "host"}, false},
		// windash.
		{"windash dash", "sel:\n    f|windash|contains: ' -enc '\ncondition: sel", ecs.Fields{"f": "powershell -enc AAA"}, true},
		{"windash slash", "sel:\n    f|windash|contains: ' -enc '\ncondition: sel", ecs.Fields{"f": "powershell /enc AAA"}, true},
		{"windash en dash", "sel:\n    f|windash|contains: ' -enc '\ncondition: sel", ecs.Fields{"f": "powershell \u2013enc AAA"}, true},
		{"windash em dash", "sel:\n    f|windash|contains: ' -enc '\ncondition: sel", ecs.Fields{"f": "powershell \u2014enc AAA"}, true},
		{"windash horizontal bar", "sel:\n    f|windash|contains: ' -enc '\ncondition: sel", ecs.Fields{"f": "powershell \u2015enc AAA"}, true},
		{"windash other char", "sel:\n    f|windash|contains: ' -enc '\ncondition: sel", ecs.Fields{"f": "powershell +enc AAA"}, false},
		{"windash inner dash kept", "sel:\n    f|windash: 'a-b'\ncondition: sel", ecs.Fields{"f": "a/b"}, false},
		{"windash two options", "sel:\n    f|windash|contains|all:\n        - '-a'\n        - '-b'\ncondition: sel", ecs.Fields{"f": "x /a \u2014b"}, true},
		// base64, base64offset and UTF-16.
		{"base64", "sel:\n    f|base64: hello\ncondition: sel", ecs.Fields{"f": "aGVsbG8="}, true},
		{"base64 is cased", "sel:\n    f|base64: hello\ncondition: sel", ecs.Fields{"f": "AGVSBG8="}, false},
		{"base64 contains", "sel:\n    f|base64|contains: hello\ncondition: sel", ecs.Fields{"f": "x aGVsbG8= y"}, true},
		{"base64offset offset 0", "sel:\n    f|base64offset|contains: 'http://'\ncondition: sel", ecs.Fields{"f": "aHR0cDovL2V4YW1wbGUuY29t"}, true},
		{"base64offset offset 1", "sel:\n    f|base64offset|contains: 'http://'\ncondition: sel", ecs.Fields{"f": "eGh0dHA6Ly9leGFtcGxlLmNvbQ=="}, true},
		{"base64offset offset 2", "sel:\n    f|base64offset|contains: 'http://'\ncondition: sel", ecs.Fields{"f": "eHlodHRwOi8vZXhhbXBsZS5jb20="}, true},
		{"base64offset miss", "sel:\n    f|base64offset|contains: 'http://'\ncondition: sel", ecs.Fields{"f": "ZnRwOi8vZXhhbXBsZS5jb20="}, false},
		{"utf16le base64offset", "sel:\n    f|utf16le|base64offset|contains: cmd\ncondition: sel", ecs.Fields{"f": "xxjAG0AZAxx"}, true},
		{"wide base64", "sel:\n    f|wide|base64: ping\ncondition: sel", ecs.Fields{"f": "cABpAG4AZwA="}, true},
		{"utf16be base64", "sel:\n    f|utf16be|base64: ping\ncondition: sel", ecs.Fields{"f": "AHAAaQBuAGc="}, true},
		{"utf16 base64 with BOM", "sel:\n    f|utf16|base64: ping\ncondition: sel", ecs.Fields{"f": "//5wAGkAbgBnAA=="}, true},
		// fieldref and neq.
		{"fieldref equal", "sel:\n    f|fieldref: g\ncondition: sel", ecs.Fields{"f": "Admin", "g": "admin"}, true},
		{"fieldref differ", "sel:\n    f|fieldref: g\ncondition: sel", ecs.Fields{"f": "a", "g": "b"}, false},
		{"fieldref missing", "sel:\n    f|fieldref: g\ncondition: sel", ecs.Fields{"f": "a"}, false},
		{"fieldref contains", "sel:\n    f|fieldref|contains: g\ncondition: sel", ecs.Fields{"f": "xadminx", "g": "admin"}, true},
		{"neq", "sel:\n    f|neq: a\ncondition: sel", ecs.Fields{"f": "b"}, true},
		{"neq equal", "sel:\n    f|neq: a\ncondition: sel", ecs.Fields{"f": "A"}, false},
		{"neq missing", "sel:\n    f|neq: a\ncondition: sel", ecs.Fields{}, false},
		// Keywords.
		{"keyword message", "keywords:\n    - 'Failed password'\ncondition: keywords", ecs.Fields{"message": "sshd: failed password for root"}, true},
		{"keyword original", "keywords:\n    - 'rm -rf'\ncondition: keywords", ecs.Fields{"event.original": "x rm -rf /"}, true},
		{"keyword other field", "keywords:\n    - 'secret'\ncondition: keywords", ecs.Fields{"user.name": "secret"}, false},
		{"keyword windows event data", "keywords:\n    - 'mimikatz'\ncondition: keywords", ecs.Fields{"winlog.channel": "Security", "winlog.event_data.CommandLine": "C:\\mimikatz.exe"}, true},
		{"keyword wildcard", "keywords:\n    - 'rm *history'\ncondition: keywords", ecs.Fields{"message": "rm ~/.bash_history"}, true},
		{"keyword single value", "keywords: 'evil'\ncondition: keywords", ecs.Fields{"message": "EVIL"}, true},
		{"keyword all", "keywords:\n    '|all':\n        - a1\n        - b2\ncondition: keywords", ecs.Fields{"message": "a1 b2"}, true},
		{"keyword all partial", "keywords:\n    '|all':\n        - a1\n        - b2\ncondition: keywords", ecs.Fields{"message": "a1"}, false},
		// Conditions.
		{"and", "a:\n    f: 1\nb:\n    g: 1\ncondition: a and b", ecs.Fields{"f": "1", "g": "1"}, true},
		{"or", "a:\n    f: 1\nb:\n    g: 1\ncondition: a or b", ecs.Fields{"g": "1"}, true},
		{"not binds tighter than and", "a:\n    f: 1\nb:\n    g: 1\ncondition: not a and b", ecs.Fields{"g": "1"}, true},
		{"and binds tighter than or", "a:\n    f: 1\nb:\n    g: 1\nc:\n    h: 1\ncondition: a or b and c", ecs.Fields{"f": "1"}, true},
		{"and binds tighter than or miss", "a:\n    f: 1\nb:\n    g: 1\nc:\n    h: 1\ncondition: (a or b) and c", ecs.Fields{"f": "1"}, false},
		{"not of parenthesis", "a:\n    f: 1\nb:\n    g: 1\ncondition: not (a or b)", ecs.Fields{"h": "1"}, true},
		{"double not", "a:\n    f: 1\ncondition: not not a", ecs.Fields{"f": "1"}, true},
		{"1 of pattern", "sel_a:\n    f: 1\nsel_b:\n    g: 1\ncondition: 1 of sel_*", ecs.Fields{"g": "1"}, true},
		{"all of pattern", "sel_a:\n    f: 1\nsel_b:\n    g: 1\ncondition: all of sel_*", ecs.Fields{"g": "1"}, false},
		{"all of pattern match", "sel_a:\n    f: 1\nsel_b:\n    g: 1\ncondition: all of sel_*", ecs.Fields{"f": "1", "g": "1"}, true},
		{"1 of them", "a:\n    f: 1\nb:\n    g: 1\ncondition: 1 of them", ecs.Fields{"f": "1"}, true},
		{"all of them", "a:\n    f: 1\nb:\n    g: 1\ncondition: all of them", ecs.Fields{"f": "1"}, false},
		{"them skips underscore", "a:\n    f: 1\n_b:\n    g: 1\ncondition: all of them", ecs.Fields{"f": "1"}, true},
		{"not 1 of filters", "sel:\n    f: 1\nfilter_a:\n    g: 1\nfilter_b:\n    h: 1\ncondition: sel and not 1 of filter_*", ecs.Fields{"f": "1", "h": "1"}, false},
		{"condition list", "a:\n    f: 1\nb:\n    g: 1\ncondition:\n    - a\n    - b", ecs.Fields{"g": "1"}, true},
		{"keywords upper case operators", "a:\n    f: 1\nb:\n    g: 1\ncondition: a AND NOT b", ecs.Fields{"f": "1"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := mustLoad(t, ruleYAML("r1", tc.detection), LoadOptions{})
			got := len(run(rs, EngineOptions{}, event(tc.fields))) == 1
			if got != tc.want {
				t.Errorf("match = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestExpandPlaceholders(t *testing.T) {
	ph := Placeholders{"admins": {"root", "ops*"}, "domains": {"evil.example", "bad.test"}}
	tests := []struct {
		name      string
		detection string
		fields    ecs.Fields
		want      bool
	}{
		{"exact value", "sel:\n    user|expand: '%admins%'\ncondition: sel", ecs.Fields{"user": "root"}, true},
		{"wildcard value", "sel:\n    user|expand: '%admins%'\ncondition: sel", ecs.Fields{"user": "ops-7"}, true},
		{"not in list", "sel:\n    user|expand: '%admins%'\ncondition: sel", ecs.Fields{"user": "mallory"}, false},
		{"endswith with prefix text", "sel:\n    q|expand|endswith: '.%domains%'\ncondition: sel", ecs.Fields{"q": "c2.bad.test"}, true},
		{"endswith needs the dot", "sel:\n    q|expand|endswith: '.%domains%'\ncondition: sel", ecs.Fields{"q": "notbad.test"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := mustLoad(t, ruleYAML("r1", tc.detection), LoadOptions{Placeholders: ph})
			got := len(run(rs, EngineOptions{}, event(tc.fields))) == 1
			if got != tc.want {
				t.Errorf("match = %v, want %v", got, tc.want)
			}
		})
	}
}
