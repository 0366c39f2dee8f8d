package rules

import (
	"bufio"
	"context"
	"encoding/csv"
	"log/slog"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/detections/sigma"
	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/internal/cputime"
	"github.com/canhgac/canhgac/sensors/logparse"
	"github.com/canhgac/canhgac/sensors/packet"
)

const (
	linuxLogs = "../../../shared/data/logs/linux"
	pcaps     = "../../../shared/data/pcap"
)

// Rule ids of the pack.
const (
	idBruteForce   = "1b2433f2-d9fb-4885-b2f5-15efb9d61a31"
	idSuccessAfter = "e07482b6-5506-4aff-a046-c1add6cc3fcb"
	idSudo         = "58893983-822c-4e31-a8ca-4516d3aa9279"
	idPortScan     = "1a8ff33c-014f-4dea-9106-1b4233dac401"
	idDNSIOC       = "c6d76468-1374-469b-a8c4-bc6419c2e7cf"
	idHTTPIOC      = "4f0b8a52-6c1e-4d7a-9b3e-2a5d8c71e9f4"
	idAuthFailure  = "074ae770-0a84-4363-8ad6-188fcd381bbd"
	idLoginSuccess = "3de3e7d8-5f64-4bf7-9df5-651b0a90f453"
	idFailureBurst = "b1d92cff-bd9d-487f-9e8f-faf522c0a299"
	idFlowDestPort = "c53b92e6-ae6a-4f43-9480-8019daf6eb90"
	packRuleCount  = 10
	bruteThreshold = 10
	bruteWindow    = 5 * time.Minute
)

var quiet = slog.New(slog.DiscardHandler)

func loadPack(t testing.TB, extra sigma.Placeholders) *sigma.Ruleset {
	t.Helper()
	rs, rep, err := Load(extra, sigma.LoadOptions{Logger: quiet})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for _, r := range rep.Rejected {
		t.Fatalf("rejected %s: %s", r.Path, r.Reason)
	}
	return rs
}

func TestPackLoads(t *testing.T) {
	rs := loadPack(t, nil)
	if n := len(rs.Rules()); n != packRuleCount {
		t.Errorf("loaded %d rules, want %d", n, packRuleCount)
	}
	for _, r := range rs.Rules() {
		if r.Author != "canhgac" {
			t.Errorf("%s: author %q, want canhgac", r.ID, r.Author)
		}
		hasAttack := false
		for _, tag := range r.Tags {
			if strings.HasPrefix(tag, "attack.t") {
				hasAttack = true
			}
		}
		if !hasAttack {
			t.Errorf("%s: no attack.t* technique tag", r.ID)
		}
	}
	for _, id := range []string{idAuthFailure, idLoginSuccess, idFailureBurst, idFlowDestPort} {
		r, ok := rs.Rule(id)
		if !ok {
			t.Fatalf("rule %s missing", id)
		}
		if r.Generates() {
			t.Errorf("helper rule %s (%s) generates alerts, want none", id, r.Title)
		}
	}
}

// parseLog reads a syslog file with the project's log parser, skipping
// fail2ban's "# failJSON" annotation lines.
func parseLog(t testing.TB, path string, ref time.Time) []*ecs.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec, err := logparse.NewDecoder(logparse.FormatSyslog, logparse.Options{Location: time.UTC, Reference: ref})
	if err != nil {
		t.Fatal(err)
	}
	var evs []*ecs.Event
	var offset int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Bytes()
		start := offset
		offset += int64(len(line)) + 1
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		dec.Decode(logparse.Line{Data: append([]byte(nil), line...), Offset: start, SourceID: path, Path: path}, func(r logparse.Record) {
			if r.Err != nil || r.Fields == nil {
				return
			}
			evs = append(evs, &ecs.Event{ID: ecs.PositionID(path, uint64(r.Offset)), Timestamp: r.Timestamp, Fields: r.Fields})
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return evs
}

func runPack(rs *sigma.Ruleset, opts sigma.EngineOptions, evs []*ecs.Event) []sigma.Detection {
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	e := sigma.NewEngine(rs, opts)
	var out []sigma.Detection
	emit := func(d sigma.Detection) { out = append(out, d) }
	for _, ev := range evs {
		e.Process(ev, emit)
	}
	e.Flush(emit)
	return out
}

func byRule(ds []sigma.Detection, id string) []sigma.Detection {
	var out []sigma.Detection
	for _, d := range ds {
		if d.RuleID == id {
			out = append(out, d)
		}
	}
	return out
}

var failureActions = map[string]bool{"ssh_login": true, "invalid_user": true, "pam_auth_failure": true, "max_auth_attempts": true}

// referenceBruteForce recomputes the brute-force correlation naively: per
// source, count failures in the window ending at each failure and fire,
// then start over, when the count reaches the threshold.
func referenceBruteForce(evs []*ecs.Event) []string {
	perIP := map[string][]time.Time{}
	var fired []string
	for _, ev := range evs {
		f := ev.Fields
		name, _ := f["process.name"].(string)
		action, _ := f["event.action"].(string)
		ip, _ := f["source.ip"].(string)
		if f["event.dataset"] != "system.auth" || f["event.outcome"] != "failure" || !strings.HasPrefix(name, "sshd") || !failureActions[action] {
			continue
		}
		times := append(perIP[ip], ev.Timestamp)
		n := 0
		for _, ts := range times {
			if ev.Timestamp.Sub(ts) <= bruteWindow {
				n++
			}
		}
		if n >= bruteThreshold {
			fired = append(fired, ip+"@"+ev.Timestamp.Format(time.RFC3339))
			times = nil
		}
		perIP[ip] = times
	}
	return fired
}

func TestSSHBruteForceLoghub(t *testing.T) {
	rs := loadPack(t, nil)
	evs := parseLog(t, linuxLogs+"/loghub/OpenSSH/OpenSSH_2k.log", time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))
	got := byRule(runPack(rs, sigma.EngineOptions{}, evs), idBruteForce)
	var gotKeys []string
	for _, d := range got {
		ip, _ := d.Fields["source.ip"].(string)
		gotKeys = append(gotKeys, ip+"@"+d.Time.Format(time.RFC3339))
		if len(d.Events) == 0 || d.Count < bruteThreshold {
			t.Errorf("detection %s: %d events, count %d", d.GroupKey, len(d.Events), d.Count)
		}
	}
	want := referenceBruteForce(evs)
	if strings.Join(gotKeys, " ") != strings.Join(want, " ") {
		t.Errorf("brute-force detections differ from the reference:\n got %v\nwant %v", gotKeys, want)
	}
	// Independent ground truth: loghub's structured parse. Every source
	// with ten "Failed password" lines within five minutes must be found.
	heavy := heavyFailedPasswordSources(t, linuxLogs+"/loghub/OpenSSH/OpenSSH_2k.log_structured.csv")
	found := map[string]bool{}
	for _, d := range got {
		ip, _ := d.Fields["source.ip"].(string)
		found[ip] = true
	}
	if len(heavy) == 0 {
		t.Fatal("ground truth has no brute-force source")
	}
	for _, ip := range heavy {
		if !found[ip] {
			t.Errorf("source %s has %d+ failed passwords within 5 minutes in the ground truth but no detection", ip, bruteThreshold)
		}
	}
	t.Logf("%d events, %d brute-force detections, ground-truth sources %v", len(evs), len(got), heavy)
}

var failedPasswordIP = regexp.MustCompile(`^Failed password for (?:invalid user )?\S+ from (\S+) port`)

func heavyFailedPasswordSources(t *testing.T, path string) []string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	perIP := map[string][]time.Time{}
	for _, row := range rows[1:] {
		// LineId,Date,Day,Time,Component,Pid,Content,EventId,EventTemplate
		m := failedPasswordIP.FindStringSubmatch(row[6])
		if m == nil {
			continue
		}
		ts, err := time.Parse("Jan 2 15:04:05", row[1]+" "+row[2]+" "+row[3])
		if err != nil {
			t.Fatal(err)
		}
		perIP[m[1]] = append(perIP[m[1]], ts)
	}
	var out []string
	for ip, times := range perIP {
		for i := range times {
			if i+bruteThreshold-1 < len(times) && times[i+bruteThreshold-1].Sub(times[i]) <= bruteWindow {
				out = append(out, ip)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// attackWithSuccess returns the first n loghub lines of one brute-forcing source
// followed by one constructed "Accepted password" line from the same source
// a minute after the last of them, written to a temporary file.
func attackWithSuccess(t *testing.T, ip string, n int) string {
	data, err := os.ReadFile(linuxLogs + "/loghub/OpenSSH/OpenSSH_2k.log")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, ip) && len(lines) < n {
			lines = append(lines, l)
		}
	}
	last, err := time.Parse(time.Stamp, lines[len(lines)-1][:15])
	if err != nil {
		t.Fatal(err)
	}
	success := last.Add(time.Minute).Format(time.Stamp) + " LabSZ sshd[30001]: Accepted password for fztu from " + ip + " port 50000 ssh2"
	lines = append(lines, success)
	path := t.TempDir() + "/auth.log"
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSSHSuccessAfterFailures(t *testing.T) {
	rs := loadPack(t, nil)
	ref := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		path   string
		source string // "" for no detection
	}{
		{"loghub failures then success", attackWithSuccess(t, "183.62.140.253", 15), "183.62.140.253"},
		{"loghub one failure then success", attackWithSuccess(t, "183.62.140.253", 2), ""},
		// 192.0.2.114 fails twice before its accepted login: below the burst.
		{"fail2ban two failures then success", linuxLogs + "/fail2ban/sshd.log", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs := parseLog(t, tc.path, ref)
			all := runPack(rs, sigma.EngineOptions{Lateness: -1}, evs)
			got := byRule(all, idSuccessAfter)
			if n := len(byRule(all, idLoginSuccess)) + len(byRule(all, idAuthFailure)) + len(byRule(all, idFailureBurst)); n != 0 {
				t.Errorf("helper rules emitted %d detections", n)
			}
			if tc.source == "" {
				if len(got) != 0 {
					t.Errorf("%d detections, want none: %v", len(got), got[0].GroupKey)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%d detections over %d events, want 1", len(got), len(evs))
			}
			d := got[0]
			if d.Fields["source.ip"] != tc.source {
				t.Errorf("source.ip = %v, want %s", d.Fields["source.ip"], tc.source)
			}
			last := d.Events[len(d.Events)-1]
			if last.Fields["event.outcome"] != "success" || last.Fields["event.action"] != "ssh_login" {
				t.Errorf("last event is %v/%v, want a successful ssh_login", last.Fields["event.action"], last.Fields["event.outcome"])
			}
			failures := 0
			for _, ev := range d.Events {
				if ev.Fields["event.outcome"] == "failure" {
					failures++
				}
			}
			if failures < 5 {
				t.Errorf("%d failures before the success, want at least 5", failures)
			}
		})
	}
}

func TestSudoOutsideAllowedUsers(t *testing.T) {
	evs := parseLog(t, linuxLogs+"/elastic-beats/auth_test.log", time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))
	tests := []struct {
		name    string
		allowed []string
		want    []string
	}{
		{"default allows root only", nil, []string{"vagrant", "vagrant", "tsg"}},
		{"vagrant allowed", []string{"root", "vagrant"}, []string{"tsg"}},
		{"wildcard allows all", []string{"*"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var extra sigma.Placeholders
			if tc.allowed != nil {
				extra = sigma.Placeholders{"sudo_allowed_users": tc.allowed}
			}
			got := byRule(runPack(loadPack(t, extra), sigma.EngineOptions{}, evs), idSudo)
			var users []string
			for _, d := range got {
				u, _ := d.Fields["user.name"].(string)
				users = append(users, u)
			}
			if strings.Join(users, ",") != strings.Join(tc.want, ",") {
				t.Errorf("alerted users %v, want %v", users, tc.want)
			}
		})
	}
}

// readPcap runs the project's packet sensor over a capture.
func readPcap(t testing.TB, path string) []*ecs.Event {
	t.Helper()
	var evs []*ecs.Event
	s := &packet.Sensor{Logger: quiet, Emit: func(ev *ecs.Event) error {
		evs = append(evs, ev)
		return nil
	}}
	if _, err := s.ReadFile(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestPortScan(t *testing.T) {
	rs := loadPack(t, nil)
	tests := []struct {
		pcap   string
		source string // "" for no detection
	}{
		{"chrissanders-packets/synscan.pcapng", "172.16.0.8"},
		{"esnet-curated/masscan/tcp_0_1000_20190821.pcap", "172.31.15.102"},
		{"chrissanders-packets/tcp_handshake.pcapng", ""},
		{"chrissanders-packets/http_google.pcapng", ""},
	}
	for _, tc := range tests {
		t.Run(tc.pcap, func(t *testing.T) {
			evs := readPcap(t, pcaps+"/"+tc.pcap)
			// Flow events leave the sensor when the flow ends, so their
			// start times arrive out of order by up to the flow timeout.
			got := byRule(runPack(rs, sigma.EngineOptions{Lateness: 5 * time.Minute}, evs), idPortScan)
			if tc.source == "" {
				if len(got) != 0 {
					t.Errorf("%d port-scan detections, want none", len(got))
				}
				return
			}
			if len(got) == 0 {
				t.Fatalf("no port-scan detection over %d events", len(evs))
			}
			if ip := got[0].Fields["source.ip"]; ip != tc.source {
				t.Errorf("source.ip = %v, want %s", ip, tc.source)
			}
			if got[0].Count < 50 {
				t.Errorf("distinct ports = %d, want at least 50", got[0].Count)
			}
		})
	}
}

func TestDNSIOCDomain(t *testing.T) {
	rs := loadPack(t, nil)
	tests := []struct {
		pcap   string
		suffix string // "" for no detection
	}{
		{"evtx-attack-samples/cmds_over_dns_txt_queries_and_reponses.pcap", ".ostrykebs.pl"},
		{"chrissanders-packets/dns.pcap", ""},
	}
	for _, tc := range tests {
		t.Run(tc.pcap, func(t *testing.T) {
			got := byRule(runPack(rs, sigma.EngineOptions{}, readPcap(t, pcaps+"/"+tc.pcap)), idDNSIOC)
			if tc.suffix == "" {
				if len(got) != 0 {
					t.Errorf("%d IOC detections, want none", len(got))
				}
				return
			}
			if len(got) == 0 {
				t.Fatal("no IOC detection")
			}
			for _, d := range got {
				name, _ := d.Fields["dns.question.name"].(string)
				if !strings.HasSuffix(strings.ToLower(name), tc.suffix) {
					t.Errorf("detection for %q, want a name ending in %s", name, tc.suffix)
				}
			}
		})
	}
}

func TestHTTPIOCDomain(t *testing.T) {
	rs := loadPack(t, nil)
	tests := []struct {
		pcap   string
		domain string // "" for no detection
	}{
		{"chrissanders-packets/cryptowall4_c2.pcapng", "homealldaylong.com"},
		{"chrissanders-packets/ek_to_cryptowall4.pcapng", "topcentc.top"},
		{"chrissanders-packets/http_google.pcapng", ""},
	}
	for _, tc := range tests {
		t.Run(tc.pcap, func(t *testing.T) {
			got := byRule(runPack(rs, sigma.EngineOptions{}, readPcap(t, pcaps+"/"+tc.pcap)), idHTTPIOC)
			if tc.domain == "" {
				if len(got) != 0 {
					t.Errorf("%d IOC detections, want none", len(got))
				}
				return
			}
			found := false
			for _, d := range got {
				for _, ev := range d.Events {
					name, _ := ev.Fields["url.domain"].(string)
					if strings.HasSuffix(strings.ToLower(name), tc.domain) {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("no detection for a request to %s among %d", tc.domain, len(got))
			}
		})
	}
}

// BenchmarkPackAuth measures the bundled pack over the loghub OpenSSH log
// (sshd failures, invalid users, PAM failures), correlations included.
func BenchmarkPackAuth(b *testing.B) {
	rs := loadPack(b, nil)
	evs := parseLog(b, linuxLogs+"/loghub/OpenSSH/OpenSSH_2k.log", time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))
	span := evs[len(evs)-1].Timestamp.Sub(evs[0].Timestamp) + time.Hour
	e := sigma.NewEngine(rs, sigma.EngineOptions{Logger: quiet})
	emit := func(sigma.Detection) {}
	// Each pass over the log is shifted in time so event time keeps
	// moving forward, as in a live stream.
	shifted := make([]*ecs.Event, len(evs))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	for i := 0; i < b.N; i++ {
		k := i % len(evs)
		if k == 0 {
			b.StopTimer()
			offset := time.Duration(i/len(evs)) * span
			for j, ev := range evs {
				c := *ev
				c.Timestamp = ev.Timestamp.Add(offset)
				shifted[j] = &c
			}
			b.StartTimer()
		}
		e.Process(shifted[k], emit)
	}
	b.StopTimer()
	// The CPU time includes the copies made while the timer is stopped,
	// so events/cpu-s slightly understates the engine.
	cputime.Report(b, cpu, "events")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// TestReorderedInputSameDetections delivers the loghub events out of order
// (each event delayed by up to 30 s of event time) and expects the same
// detections as in order, the case of a live pipeline fed by several
// sensors.
func TestReorderedInputSameDetections(t *testing.T) {
	rs := loadPack(t, nil)
	evs := parseLog(t, linuxLogs+"/loghub/OpenSSH/OpenSSH_2k.log", time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC))
	opts := sigma.EngineOptions{Lateness: time.Minute}
	want := detectionKeys(runPack(rs, opts, evs))

	// Deterministic delays: the arrival time is the event time plus
	// (i*7919 mod 31) seconds.
	type arrival struct {
		at time.Time
		ev *ecs.Event
	}
	arrivals := make([]arrival, len(evs))
	for i, ev := range evs {
		arrivals[i] = arrival{ev.Timestamp.Add(time.Duration(i*7919%31) * time.Second), ev}
	}
	sort.SliceStable(arrivals, func(i, j int) bool { return arrivals[i].at.Before(arrivals[j].at) })
	shuffled := make([]*ecs.Event, len(arrivals))
	moved := 0
	for i, a := range arrivals {
		shuffled[i] = a.ev
		if a.ev != evs[i] {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("the delays did not reorder any event")
	}
	got := detectionKeys(runPack(rs, opts, shuffled))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("reordered input gave %d detections, in order %d:\n got %v\nwant %v", len(got), len(want), got, want)
	}
	if len(want) == 0 {
		t.Error("no detections to compare")
	}
}

func detectionKeys(ds []sigma.Detection) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.RuleID+" "+d.GroupKey+" "+d.Time.Format(time.RFC3339Nano))
	}
	sort.Strings(out)
	return out
}
