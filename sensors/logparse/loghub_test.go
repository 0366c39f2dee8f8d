package logparse

import (
	"encoding/csv"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"
)

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer fh.Close()
	rows, err := csv.NewReader(fh).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return rows[1:]
}

// TestLoghubOpenSSH compares every line of loghub's OpenSSH sample with
// loghub's own structured parse. loghub's "Component" column is the syslog
// host name (LabSZ), so it is compared with host.hostname.
func TestLoghubOpenSSH(t *testing.T) {
	dir := dataDir + "logs/linux/loghub/OpenSSH/"
	lines := readLines(t, dir+"OpenSSH_2k.log")
	rows := readCSV(t, dir+"OpenSSH_2k.log_structured.csv")
	if len(rows) != len(lines) {
		t.Fatalf("%d CSV rows for %d lines", len(rows), len(lines))
	}
	recs := decodeAll(t, FormatAuto, Options{Location: time.UTC, Reference: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)}, lines, nil)
	matched := 0
	for i, row := range rows {
		rec := recs[lines[i].offset]
		if rec.Err != nil {
			t.Errorf("line %d: %v", i+1, rec.Err)
			continue
		}
		f := rec.Fields
		month, day, clock, component, pid, content := row[1], row[2], row[3], row[4], row[5], row[6]
		ts := rec.Timestamp
		ok := true
		check := func(name, want, got string) {
			if want != got {
				ok = false
				t.Errorf("line %d: %s = %q, loghub %q", i+1, name, got, want)
			}
		}
		check("month", month, ts.Format("Jan"))
		check("day", day, strconv.Itoa(ts.Day()))
		check("time", clock, ts.Format("15:04:05"))
		check("host.hostname", component, str(f["host.hostname"]))
		check("process.pid", pid, str(f["process.pid"]))
		check("message", content, str(f["message"]))
		check("process.name", "sshd", str(f["process.name"]))
		if f["event.dataset"] != "system.auth" {
			ok = false
			t.Errorf("line %d: dataset %v", i+1, f["event.dataset"])
		}
		if ok {
			matched++
		}
	}
	t.Logf("OpenSSH: %d of %d lines match loghub's parse", matched, len(rows))
}

// TestLoghubApache compares every line of loghub's Apache error log sample
// with loghub's structured parse. loghub keeps "[client ADDR] " in Content;
// this package moves the address to source.ip, so Content must equal the
// message with that prefix restored.
func TestLoghubApache(t *testing.T) {
	dir := dataDir + "logs/web/loghub/Apache/"
	lines := readLines(t, dir+"Apache_2k.log")
	rows := readCSV(t, dir+"Apache_2k.log_structured.csv")
	if len(rows) != len(lines) {
		t.Fatalf("%d CSV rows for %d lines", len(rows), len(lines))
	}
	recs := decodeAll(t, FormatApacheError, Options{Location: time.UTC}, lines, nil)
	matched := 0
	for i, row := range rows {
		rec := recs[lines[i].offset]
		if rec.Err != nil {
			t.Errorf("line %d: %v", i+1, rec.Err)
			continue
		}
		f := rec.Fields
		want, level, content := row[1], row[2], row[3]
		ok := true
		if got := rec.Timestamp.Format("Mon Jan 02 15:04:05 2006"); got != want {
			ok = false
			t.Errorf("line %d: time %q, loghub %q", i+1, got, want)
		}
		if got := str(f["log.level"]); got != level {
			ok = false
			t.Errorf("line %d: log.level %q, loghub %q", i+1, got, level)
		}
		msg := str(f["message"])
		if addr, has := f["source.address"]; has {
			msg = "[client " + str(addr) + "] " + msg
		} else if ip, has := f["source.ip"]; has {
			msg = "[client " + str(ip) + "] " + msg
		}
		if msg != content {
			ok = false
			t.Errorf("line %d: message %q, loghub %q", i+1, msg, content)
		}
		if ok {
			matched++
		}
	}
	t.Logf("Apache: %d of %d lines match loghub's parse", matched, len(rows))
}

// TestOpenSSHFailedPasswordCounts counts failed passwords per source address
// twice: from the records (user name and address parsed by this package) and
// with an independent regular expression over the raw file. A line
// "message repeated N times: [ Failed password ...]" is one record carrying
// system.auth.repeated = N; both counts are compared per line and weighted.
func TestOpenSSHFailedPasswordCounts(t *testing.T) {
	dir := dataDir + "logs/linux/loghub/OpenSSH/"
	lines := readLines(t, dir+"OpenSSH_2k.log")
	recs := decodeAll(t, FormatAuto, Options{Location: time.UTC, Reference: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)}, lines, nil)
	re := regexp.MustCompile(`sshd\[\d+\]: (?:message repeated (\d+) times: \[ )?Failed password for (?:invalid user )?.*? from (\S+) port \d+`)
	wantLines, wantWeighted := map[string]int{}, map[string]int{}
	for _, l := range lines {
		m := re.FindStringSubmatch(l.text)
		if m == nil {
			continue
		}
		n := 1
		if m[1] != "" {
			n, _ = strconv.Atoi(m[1])
		}
		wantLines[m[2]]++
		wantWeighted[m[2]] += n
	}
	gotLines, gotWeighted := map[string]int{}, map[string]int{}
	for _, rec := range recs {
		f := rec.Fields
		if f["event.action"] != ActionSSHLogin || f["event.outcome"] != "failure" || f["system.auth.ssh.method"] != "password" {
			continue
		}
		ip := str(f["source.ip"])
		n := 1
		if r, ok := f["system.auth.repeated"].(int64); ok {
			n = int(r)
		}
		gotLines[ip]++
		gotWeighted[ip] += n
	}
	if len(wantLines) == 0 {
		t.Fatal("regular expression found no failed passwords")
	}
	total := 0
	for ip, n := range wantLines {
		total += n
		if gotLines[ip] != n {
			t.Errorf("%s: %d failed-password lines, grep %d", ip, gotLines[ip], n)
		}
		if gotWeighted[ip] != wantWeighted[ip] {
			t.Errorf("%s: %d failed passwords with repeats, grep %d", ip, gotWeighted[ip], wantWeighted[ip])
		}
	}
	if len(gotLines) != len(wantLines) {
		t.Errorf("%d source addresses, grep %d", len(gotLines), len(wantLines))
	}
	t.Logf("failed passwords: %d lines from %d addresses agree with the regular expression", total, len(wantLines))
}

func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return ""
}
