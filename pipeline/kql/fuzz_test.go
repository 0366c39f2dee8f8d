package kql

import "testing"

// FuzzParse checks that Parse never panics and that the canonical form of
// every parsed query parses back to the same canonical form.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"user.name:root and not source.ip:10.0.0.0/8",
		`message:"Failed password for invalid user" and host.name:LabSZ`,
		"event.dataset:system.auth and event.outcome:failure",
		"winlog.event_id:4624 and winlog.event_data.LogonType:(3 or 10)",
		"winlog.event_data.*:*lsass*",
		"http.response.status_code >= 400 and url.original:*wp-login*",
		"dns.question.name:*.example.com or destination.ip:2001:db8::/32",
		`@timestamp >= "2015-05-17T10:05:00Z" and @timestamp < 2015-05-18`,
		`process.command_line:C\:\\Windows\\System32\\*`,
		"NOT (user.name:adm* OR user.name:root) AND source.port > 1024",
		`\u0041 and \and`,
		"failed password",
		"a:(x and (y or not z))",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, query string) {
		n, err := Parse(query)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse(%q) returned %T, want *Error", query, err)
			}
			return
		}
		canonical := n.String()
		again, err := Parse(canonical)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", canonical, query, err)
		}
		if again.String() != canonical {
			t.Fatalf("canonical form of %q changed from %q to %q", query, canonical, again.String())
		}
	})
}
