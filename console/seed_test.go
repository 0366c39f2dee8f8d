package console_test

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
)

// opensshLog is loghub's OpenSSH sample: real sshd lines from one host.
const opensshLog = "../../shared/data/logs/linux/loghub/OpenSSH/OpenSSH_2k.log"

var (
	sshdLine      = regexp.MustCompile(`^(\w{3} +\d+ \d\d:\d\d:\d\d) (\S+) sshd\[(\d+)\]: (.*)$`)
	sshdFailed    = regexp.MustCompile(`^Failed password for (?:invalid user )?(\S+) from (\S+) port (\d+)`)
	sshdInvalid   = regexp.MustCompile(`^Invalid user (\S*) from (\S+)`)
	sshdAccepted  = regexp.MustCompile(`^Accepted \S+ for (\S+) from (\S+) port (\d+)`)
	sshdPAMFailed = regexp.MustCompile(`authentication failure;.* rhost=(\S+)(?: user=(\S+))?`)
)

// loadSSHEvents reads the first n lines of the loghub OpenSSH sample into
// system.auth events. The sample has no year, so event times are moved
// forward as a whole (gaps kept) to end at last, letting "now-1h" ranges
// find them. The field extraction covers the line shapes of the sample's
// first lines; it is test seed data, not the product's sshd parser.
func loadSSHEvents(t testing.TB, n int, last time.Time) []*ecs.Event {
	t.Helper()
	f, err := os.Open(opensshLog)
	if err != nil {
		t.Fatalf("open seed log: %v", err)
	}
	defer f.Close()
	var events []*ecs.Event
	var offset int64
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(events) < n {
		line := sc.Text()
		lineOffset := offset
		offset += int64(len(line)) + 1
		m := sshdLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		ts, err := time.Parse("2006 Jan _2 15:04:05", "2025 "+m[1])
		if err != nil {
			t.Fatalf("seed line %q: %v", line, err)
		}
		pid, _ := strconv.ParseInt(m[3], 10, 64)
		msg := m[4]
		fields := ecs.Fields{
			"event.dataset":     "system.auth",
			"event.module":      "system",
			"event.kind":        "event",
			"event.category":    []string{"authentication"},
			"event.original":    line,
			"message":           msg,
			"host.name":         m[2],
			"process.name":      "sshd",
			"process.pid":       pid,
			"log.file.path":     opensshLog,
			"log.offset":        lineOffset,
			"observer.geo.name": "dc1",
			"observer.name":     "sensor-dc1-a",
		}
		switch {
		case sshdFailed.MatchString(msg):
			s := sshdFailed.FindStringSubmatch(msg)
			port, _ := strconv.ParseInt(s[3], 10, 64)
			fields["user.name"], fields["source.ip"], fields["source.port"] = s[1], s[2], port
			fields["event.action"], fields["event.outcome"] = "ssh_login", "failure"
		case sshdInvalid.MatchString(msg):
			s := sshdInvalid.FindStringSubmatch(msg)
			fields.SetString("user.name", s[1])
			fields["source.ip"] = s[2]
			fields["event.action"], fields["event.outcome"] = "invalid_user", "failure"
		case sshdAccepted.MatchString(msg):
			s := sshdAccepted.FindStringSubmatch(msg)
			fields["user.name"], fields["source.ip"] = s[1], s[2]
			fields["event.action"], fields["event.outcome"] = "ssh_login", "success"
		case sshdPAMFailed.MatchString(msg):
			s := sshdPAMFailed.FindStringSubmatch(msg)
			fields["source.ip"] = s[1]
			fields.SetString("user.name", s[2])
			fields["event.outcome"] = "failure"
		}
		events = append(events, &ecs.Event{
			ID:        ecs.PositionID(opensshLog, uint64(lineOffset)),
			Timestamp: ts,
			SourceID:  opensshLog,
			Seq:       uint64(len(events) + 1),
			Fields:    fields,
		})
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read seed log: %v", err)
	}
	shift := last.Sub(events[len(events)-1].Timestamp)
	for _, ev := range events {
		ev.Timestamp = ev.Timestamp.Add(shift).UTC()
	}
	return events
}

// bruteForceDetection is the detection a brute-force rule raises for the
// failed root passwords from one source address among events.
func bruteForceDetection(t testing.TB, events []*ecs.Event, sourceIP string) pipeline.Detection {
	t.Helper()
	d := pipeline.Detection{
		RuleID:   "5f1c1a2e-canhgac-ssh-bruteforce",
		RuleName: "SSH brute force from one source",
		Level:    "high",
		Tags:     []string{"attack.credential_access", "attack.t1110.001"},
		GroupKey: "5f1c1a2e-canhgac-ssh-bruteforce|" + sourceIP,
		Fields:   ecs.Fields{"source.ip": sourceIP, "user.name": "root", "host.name": "LabSZ"},
		Region:   "dc1",
	}
	for _, ev := range events {
		if ip, _ := ev.Fields.String("source.ip"); ip == sourceIP && ev.Fields["event.outcome"] == "failure" {
			if d.Time.IsZero() {
				d.Time = ev.Timestamp
			}
			d.EventIDs = append(d.EventIDs, ev.ID)
		}
	}
	if len(d.EventIDs) == 0 {
		t.Fatalf("no failed logins from %s in the seed events", sourceIP)
	}
	return d
}

// seedEnd is the event time the seed events are moved to end at.
func seedEnd() time.Time { return time.Now().UTC().Add(-2 * time.Minute).Truncate(time.Second) }

func describe(ev *ecs.Event) string {
	return fmt.Sprintf("%s %v", ev.ID, ev.Fields["message"])
}
