package sigma

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

const procCreationRule = `title: whoami
id: w-1
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\whoami.exe'
        ParentImage|endswith: '\cmd.exe'
    condition: selection
level: medium
`

func winEvent(channel string, eventID int64, data map[string]string) *ecs.Event {
	f := ecs.Fields{
		"event.dataset":   "windows." + strings.ToLower(channel),
		"winlog.channel":  channel,
		"winlog.event_id": eventID,
		"host.name":       "ws1",
	}
	for k, v := range data {
		f["winlog.event_data."+k] = v
	}
	return &ecs.Event{Timestamp: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC), Fields: f}
}

func TestWindowsRoutingAndFields(t *testing.T) {
	rs := mustLoad(t, procCreationRule, LoadOptions{})
	sysmonData := map[string]string{"Image": `C:\Windows\System32\whoami.exe`, "ParentImage": `C:\Windows\System32\cmd.exe`}
	securityData := map[string]string{"NewProcessName": `C:\Windows\System32\whoami.exe`, "ParentProcessName": `C:\Windows\System32\cmd.exe`}
	tests := []struct {
		name string
		ev   *ecs.Event
		want bool
	}{
		{"sysmon event 1", winEvent("Microsoft-Windows-Sysmon/Operational", 1, sysmonData), true},
		{"sysmon event 3 not routed", winEvent("Microsoft-Windows-Sysmon/Operational", 3, sysmonData), false},
		{"security 4688 field names", winEvent("Security", 4688, securityData), true},
		{"security 4689 not routed", winEvent("Security", 4689, securityData), false},
		{"application channel not routed", winEvent("Application", 1, sysmonData), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(rs, EngineOptions{}, tc.ev)
			if (len(got) == 1) != tc.want {
				t.Fatalf("detections = %d, want match %v", len(got), tc.want)
			}
			if !tc.want {
				return
			}
			d := got[0]
			if d.RuleID != "w-1" || d.Level != "medium" || d.Fields["host.name"] != "ws1" {
				t.Errorf("detection = %+v", d)
			}
			// Rule id, then source.ip, user.name, host.name, winlog.computer_name.
			if d.GroupKey != "w-1|||ws1|" {
				t.Errorf("GroupKey = %q, want w-1|||ws1|", d.GroupKey)
			}
			if len(d.Why) != 2 || !strings.Contains(d.Why[0], `selection: Image|endswith: "\\whoami.exe"`) {
				t.Errorf("Why = %q", d.Why)
			}
		})
	}
}

func TestDatasetFromChannel(t *testing.T) {
	rs := mustLoad(t, procCreationRule, LoadOptions{})
	ev := winEvent("Microsoft-Windows-Sysmon/Operational", 1, map[string]string{"Image": `c:\x\whoami.exe`, "ParentImage": `c:\x\cmd.exe`})
	delete(ev.Fields, "event.dataset")
	if got := run(rs, EngineOptions{}, ev); len(got) != 1 {
		t.Errorf("event without event.dataset: %d detections, want 1 (routed by winlog.channel)", len(got))
	}
}

func TestUserConfigFiles(t *testing.T) {
	dir := t.TempDir()
	logsources := filepath.Join(dir, "logsources.yaml")
	fieldmap := filepath.Join(dir, "fieldmap.yaml")
	placeholders := filepath.Join(dir, "placeholders.yaml")
	writeFile(t, logsources, "logsources:\n  - logsource: {product: acme, service: vpn}\n    routes:\n      - dataset: acme.vpn_log\n        where:\n          event.action: [login]\n")
	writeFile(t, fieldmap, "mappings:\n  - logsource: {product: acme}\n    fields:\n      user: [user.name]\n      client: source.ip\n")
	writeFile(t, placeholders, "placeholders:\n  vpn_admins:\n    file: admins.txt\n")
	writeFile(t, filepath.Join(dir, "admins.txt"), "# VPN administrators\nalice\n\nbob\n")
	ph, err := LoadPlaceholderFile(placeholders)
	if err != nil {
		t.Fatalf("LoadPlaceholderFile: %v", err)
	}
	if strings.Join(ph["vpn_admins"], ",") != "alice,bob" {
		t.Fatalf("vpn_admins = %v, want alice and bob", ph["vpn_admins"])
	}
	rule := "title: vpn admin\nid: v-1\nlogsource:\n    product: acme\n    service: vpn\ndetection:\n    sel:\n        user|expand: '%vpn_admins%'\n        client|cidr: 10.0.0.0/8\n    condition: sel\nlevel: low\n"
	rs, rep, err := LoadBytes("vpn.yml", []byte(rule), LoadOptions{LogsourceFiles: []string{logsources}, FieldMappingFiles: []string{fieldmap}, Placeholders: ph})
	if err != nil {
		t.Fatalf("LoadBytes: %v", err)
	}
	if len(rep.Rejected) != 0 || len(rep.Notes) != 0 {
		t.Fatalf("rejected %v, notes %v", rep.Rejected, rep.Notes)
	}
	ev := func(action, user string) *ecs.Event {
		return &ecs.Event{Fields: ecs.Fields{"event.dataset": "acme.vpn_log", "event.action": action, "user.name": user, "source.ip": "10.1.1.1"}}
	}
	tests := []struct {
		name string
		ev   *ecs.Event
		want int
	}{
		{"admin login", ev("login", "bob"), 1},
		{"other user", ev("login", "carol"), 0},
		{"other action not routed", ev("logout", "bob"), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(rs, EngineOptions{}, tc.ev); len(got) != tc.want {
				t.Errorf("detections = %d, want %d", len(got), tc.want)
			}
		})
	}
	t.Run("invalid config", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.yaml")
		writeFile(t, bad, "logsources:\n  - logsource: {}\n    routes: []\n")
		_, _, err := LoadBytes("vpn.yml", []byte(rule), LoadOptions{LogsourceFiles: []string{bad}})
		if err == nil || !strings.Contains(err.Error(), "bad.yaml") {
			t.Errorf("error = %v, want one naming bad.yaml", err)
		}
	})
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestRequiredEventIDs(t *testing.T) {
	tests := []struct {
		name      string
		detection string
		want      []int64 // nil: not constrained
	}{
		{"single id", "sel:\n    EventID: 4624\n    LogonType: 3\ncondition: sel", []int64{4624}},
		{"id list", "sel:\n    EventID:\n        - 4624\n        - 4625\ncondition: sel", []int64{4624, 4625}},
		{"string id", "sel:\n    EventID: '4688'\ncondition: sel", []int64{4688}},
		{"and narrows", "a:\n    EventID: [1, 2]\nb:\n    EventID: [2, 3]\ncondition: a and b", []int64{2}},
		{"or widens", "a:\n    EventID: 1\nb:\n    EventID: 2\ncondition: a or b", []int64{1, 2}},
		{"or with free side", "a:\n    EventID: 1\nb:\n    User: x\ncondition: a or b", nil},
		{"and with free side", "a:\n    EventID: 1\nb:\n    User: x\ncondition: a and b", []int64{1}},
		{"not frees", "a:\n    EventID: 1\ncondition: not a", nil},
		{"filter keeps", "a:\n    EventID: 1\nf:\n    EventID: 2\ncondition: a and not f", []int64{1}},
		{"1 of", "s_a:\n    EventID: 1\ns_b:\n    EventID: 5\ncondition: 1 of s_*", []int64{1, 5}},
		{"all of", "s_a:\n    EventID: 1\ns_b:\n    User: x\ncondition: all of s_*", []int64{1}},
		{"list of maps", "sel:\n    - EventID: 1\n    - EventID: 7\ncondition: sel", []int64{1, 7}},
		{"list of maps free", "sel:\n    - EventID: 1\n    - User: x\ncondition: sel", nil},
		{"modifier frees", "sel:\n    EventID|gt: 4000\ncondition: sel", nil},
		{"wildcard frees", "sel:\n    EventID: '46*'\ncondition: sel", nil},
		{"condition list", "a:\n    EventID: 1\nb:\n    EventID: 2\ncondition:\n    - a\n    - b", []int64{1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := "title: t\nid: e-1\nlogsource:\n    product: windows\n    service: security\ndetection:\n" + indent(tc.detection, "    ") + "\nlevel: low\n"
			rs := mustLoad(t, text, LoadOptions{})
			r := rs.Rules()[0]
			ids := requiredEventIDs(r.detection, rs.slots)
			if tc.want == nil {
				if ids != nil {
					t.Errorf("ids = %v, want unconstrained", sortedIDs(ids))
				}
				return
			}
			if got := sortedIDs(ids); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("ids = %v, want %v", got, tc.want)
			}
			if len(r.routes) != 1 || fmt.Sprint(r.routes[0].eventIDs) != fmt.Sprint(tc.want) {
				t.Errorf("routes = %+v, want one route for %v", r.routes, tc.want)
			}
		})
	}
}

func TestEventIDRoutingMatches(t *testing.T) {
	text := "title: t\nid: e-1\nlogsource:\n    product: windows\n    service: security\ndetection:\n    sel:\n        EventID: 4624\n        LogonType: 3\n    condition: sel\nlevel: low\n"
	rs := mustLoad(t, text, LoadOptions{})
	tests := []struct {
		name    string
		eventID any
		want    int
	}{
		{"int id", int64(4624), 1},
		{"string id", "4624", 1},
		{"other id", int64(4625), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := winEvent("Security", 0, map[string]string{"LogonType": "3"})
			ev.Fields["winlog.event_id"] = tc.eventID
			if got := run(rs, EngineOptions{}, ev); len(got) != tc.want {
				t.Errorf("detections = %d, want %d", len(got), tc.want)
			}
		})
	}
}
