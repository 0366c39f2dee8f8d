package kqltest

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// The fixtures turn lines of the shared real data into events shaped as
// the parsers emit them (sshd, Apache access log, Windows JSON, Zeek DNS).
// They are small test-only converters, not the product's parsers. Each
// function takes dataDir, the path of the shared data folder (the one that
// holds logs/ and pcap/) relative to the calling test's package folder.

func readLines(t testing.TB, path string, max int) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open test data: %v", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && len(lines) < max {
		if line := sc.Text(); line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

var (
	sshLine    = regexp.MustCompile(`^(\w{3} +\d+ [\d:]+) (\S+) (\w+)\[(\d+)\]: (.*)$`)
	sshUserIP  = regexp.MustCompile(`(?:Failed password for (?:invalid user )?|Invalid user |Accepted password for )(\S+) from (\S+) port (\d+)|Invalid user (\S+) from (\S+)`)
	accessLine = regexp.MustCompile(`^(\S+) \S+ (\S+) \[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d+) (\d+|-) "([^"]*)" "([^"]*)"`)
)

// SSHEvents returns up to max sshd events from the loghub OpenSSH log
// (dataset system.auth, with user.name, source.ip and source.port where
// the line names them).
func SSHEvents(t testing.TB, dataDir string, max int) []*ecs.Event {
	src := "file:/var/log/auth.log"
	var out []*ecs.Event
	for i, line := range readLines(t, filepath.Join(dataDir, "logs/linux/loghub/OpenSSH/OpenSSH_2k.log"), max) {
		m := sshLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		ts, err := time.Parse("2006 Jan _2 15:04:05", "2025 "+m[1])
		if err != nil {
			t.Fatalf("sshd time %q: %v", m[1], err)
		}
		pid, _ := strconv.ParseInt(m[4], 10, 64)
		f := ecs.Fields{
			"event.dataset": "system.auth", "event.module": "system", "event.kind": "event",
			"event.category": []string{"authentication"}, "host.name": m[2], "process.name": m[3],
			"process.pid": pid, "message": m[5], "event.original": line,
			"log.file.path": "/var/log/auth.log", "log.offset": int64(i * 120),
			"observer.geo.name": "dc1",
		}
		if u := sshUserIP.FindStringSubmatch(m[5]); u != nil {
			user, ip := u[1], u[2]
			if user == "" {
				user, ip = u[4], u[5]
			}
			f["user.name"] = user
			f["source.ip"] = ip
			if u[3] != "" {
				port, _ := strconv.ParseInt(u[3], 10, 64)
				f["source.port"] = port
			}
			if strings.HasPrefix(m[5], "Accepted") {
				f["event.outcome"] = "success"
				f["event.action"] = "ssh_login"
			} else {
				f["event.outcome"] = "failure"
				f["event.action"] = "ssh_login"
			}
		}
		out = append(out, &ecs.Event{ID: ecs.PositionID(src, uint64(i)), Timestamp: ts.UTC(), SourceID: src, Seq: uint64(i + 1), Fields: f})
	}
	return out
}

// AccessEvents returns up to max Apache access log events (dataset
// web.access, numeric http.response.status_code).
func AccessEvents(t testing.TB, dataDir string, max int) []*ecs.Event {
	src := "file:/var/log/apache2/access.log"
	var out []*ecs.Event
	for i, line := range readLines(t, filepath.Join(dataDir, "logs/web/elastic-examples/apache_access_combined.log"), max) {
		m := accessLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		ts, err := time.Parse("02/Jan/2006:15:04:05 -0700", m[3])
		if err != nil {
			t.Fatalf("access time %q: %v", m[3], err)
		}
		status, _ := strconv.ParseInt(m[6], 10, 64)
		f := ecs.Fields{
			"event.dataset": "web.access", "event.module": "web", "event.kind": "event",
			"event.category": []string{"web"}, "service.type": "apache", "host.name": "www1",
			"source.ip": m[1], "http.request.method": m[4], "url.original": m[5],
			"http.response.status_code": status, "user_agent.original": m[9],
			"event.original": line, "observer.geo.name": "dc2",
		}
		if m[2] != "-" {
			f["user.name"] = m[2]
		}
		if m[7] != "-" {
			n, _ := strconv.ParseInt(m[7], 10, 64)
			f["http.response.body.bytes"] = n
		}
		if status >= 400 {
			f["event.outcome"] = "failure"
		} else {
			f["event.outcome"] = "success"
		}
		out = append(out, &ecs.Event{ID: ecs.PositionID(src, uint64(i)), Timestamp: ts.UTC(), SourceID: src, Seq: uint64(i + 1), Fields: f})
	}
	return out
}

// WindowsEvents returns up to max Windows events from an OTRF JSON file
// (Winlogbeat field shape, int64 winlog.event_id).
func WindowsEvents(t testing.TB, dataDir string, max int) []*ecs.Event {
	src := "file:lsass.json"
	var out []*ecs.Event
	for i, line := range readLines(t, filepath.Join(dataDir, "logs/windows_json/otrf/psh_lsass_memory_dump_comsvcs_2020-10-18T19500924.json"), max) {
		var raw map[string]any
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("windows line %d: %v", i, err)
		}
		ts, err := ecs.ParseTime(strings.Replace(raw["TimeCreated"].(string), " ", "T", 1))
		if err != nil {
			t.Fatalf("windows time: %v", err)
		}
		channel, _ := raw["Channel"].(string)
		f := ecs.Fields{
			"event.dataset": "windows." + strings.ToLower(channel), "event.module": "windows", "event.kind": "event",
			"winlog.channel": channel, "host.name": raw["Hostname"], "winlog.computer_name": raw["Hostname"],
			"observer.geo.name": "dc1", "event.original": line,
		}
		if id, ok := ecs.NormalizeValue(raw["EventID"]).(int64); ok {
			f["winlog.event_id"] = id
			f["event.code"] = strconv.FormatInt(id, 10)
		}
		if msg, ok := raw["Message"].(string); ok {
			f["message"] = msg
		}
		if p, ok := raw["SourceName"].(string); ok {
			f["winlog.provider_name"] = p
		}
		for k, v := range raw {
			switch k {
			case "Message", "EventID", "Channel", "Hostname", "TimeCreated", "SourceName", "EventTime", "EventReceivedTime":
				continue
			}
			f["winlog.event_data."+k] = ecs.NormalizeValue(v)
		}
		if u, ok := raw["TargetUserName"].(string); ok {
			f["user.name"] = u
		} else if u, ok := raw["SubjectUserName"].(string); ok {
			f["user.name"] = u
		}
		out = append(out, &ecs.Event{ID: ecs.PositionID(src, uint64(i)), Timestamp: ts, SourceID: src, Seq: uint64(i + 1), Fields: f})
	}
	return out
}

// DNSEvents returns up to max DNS events from a Zeek dns.log (dataset
// network_traffic.dns, with lists of addresses and of objects).
func DNSEvents(t testing.TB, dataDir string, max int) []*ecs.Event {
	src := "pcap:scranton"
	var out []*ecs.Event
	for i, line := range readLines(t, filepath.Join(dataDir, "logs/zeek/otrf-apt29-day1/SCRANTON_dns.log"), max) {
		var raw map[string]any
		if err := json.Unmarshal([]byte(line), &raw); err != nil {
			t.Fatalf("dns line %d: %v", i, err)
		}
		sec := raw["ts"].(float64)
		ts := time.Unix(0, int64(sec*1e9)).UTC()
		f := ecs.Fields{
			"event.dataset": "network_traffic.dns", "event.module": "network_traffic", "event.kind": "event",
			"event.category": []string{"network"}, "event.type": []string{"connection", "protocol"},
			"source.ip": raw["id_orig_h"], "destination.ip": raw["id_resp_h"],
			"source.port": int64(raw["id_orig_p"].(float64)), "destination.port": int64(raw["id_resp_p"].(float64)),
			"network.transport": raw["proto"], "dns.question.name": raw["query"],
			"observer.name": "scranton", "observer.geo.name": "dc2",
			"related.ip": []string{raw["id_orig_h"].(string), raw["id_resp_h"].(string)},
		}
		if q, ok := raw["qtype_name"].(string); ok {
			f["dns.question.type"] = q
		}
		if rc, ok := raw["rcode_name"].(string); ok {
			f["dns.response_code"] = rc
		}
		if rtt, ok := raw["rtt"].(float64); ok {
			f["event.duration"] = rtt * 1e9
		}
		if ans, ok := raw["answers"].([]any); ok {
			var data []string
			var objs []any
			for _, a := range ans {
				data = append(data, a.(string))
				objs = append(objs, map[string]any{"data": a})
			}
			f["dns.resolved_ip"] = data
			f["dns.answers"] = objs
		}
		f["dns.flags.recursion_available"] = raw["RA"]
		out = append(out, &ecs.Event{ID: ecs.PositionID(src, uint64(i)), Timestamp: ts, SourceID: src, Seq: uint64(i + 1), Fields: f})
	}
	return out
}

// EdgeEvents returns hand-made events with values that stress a backend's
// translation: lists, numbers in keyword fields, invalid and IPv6
// addresses, IPv4-mapped addresses, booleans, empty lists and nulls.
func EdgeEvents() []*ecs.Event {
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	mk := func(i int, f ecs.Fields) *ecs.Event {
		return &ecs.Event{ID: ecs.ContentID("edge", []byte{byte(i)}), Timestamp: base.Add(time.Duration(i) * time.Minute), SourceID: "edge", Fields: f}
	}
	return []*ecs.Event{
		mk(0, ecs.Fields{"host.name": []string{"web1", "web2"}, "user.name": "Admin", "message": "Đăng nhập thất bại cho người dùng admin"}),
		mk(1, ecs.Fields{"user.name": int64(1001), "source.ip": "2001:db8::10", "destination.ip": "::ffff:10.1.2.3", "tags": []string{"beta", "prod"}}),
		mk(2, ecs.Fields{"source.ip": "not-an-ip", "event.created": "2025-03-01T11:00:00Z", "labels.flag": true, "event.severity": 7.5}),
		mk(3, ecs.Fields{"source.ip": "fe80::1", "event.severity": int64(3), "client.ip": "192.168.5.9", "message": "admin* literal star and a*b"}),
		mk(4, ecs.Fields{"event.dataset": "system.syslog", "process.command_line": `C:\Windows\System32\cmd.exe /c whoami`, "labels.flag": false, "empty.list": []string{}, "nil.value": nil}),
	}
}

// Events returns every fixture event: those of the first 400 sshd, 300
// access log, 200 Windows and 40 DNS lines, and the edge events.
func Events(t testing.TB, dataDir string) []*ecs.Event {
	var events []*ecs.Event
	events = append(events, SSHEvents(t, dataDir, 400)...)
	events = append(events, AccessEvents(t, dataDir, 300)...)
	events = append(events, WindowsEvents(t, dataDir, 200)...)
	events = append(events, DNSEvents(t, dataDir, 40)...)
	events = append(events, EdgeEvents()...)
	return events
}
