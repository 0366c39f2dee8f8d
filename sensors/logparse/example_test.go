package logparse_test

import (
	"fmt"
	"time"

	"github.com/canhgac/canhgac/sensors/logparse"
)

// A file tailer feeds lines with their offsets, flushes at end of input and
// never checkpoints past Pending.
func ExampleDecoder() {
	d, err := logparse.NewDecoder(logparse.FormatAuto, logparse.Options{
		Location:  time.UTC,
		Reference: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), // the file's modification time
	})
	if err != nil {
		panic(err)
	}
	emit := func(r logparse.Record) {
		if r.Err != nil {
			fmt.Println("dead letter:", r.Err)
			return
		}
		fmt.Println(r.Offset, r.Timestamp.Format(time.RFC3339), r.Fields["event.action"], r.Fields["event.outcome"], r.Fields["source.ip"])
	}
	lines := []string{
		"Feb 21 21:54:44 web1 sshd[3402]: Failed password for root from 192.0.2.7 port 50000 ssh2",
		`type=SYSCALL msg=audit(1709251300.000:7): success=yes pid=10 comm="ls" exe="/bin/ls"`,
		`{"@timestamp":"2024-02-21T21:54:45Z","event":{"action":"x"`,
	}
	var offset int64
	for _, l := range lines {
		d.Decode(logparse.Line{Data: []byte(l), Offset: offset, SourceID: "/var/log/mixed", Path: "/var/log/mixed"}, emit)
		offset += int64(len(l)) + 1
	}
	if held, ok := d.Pending(); ok {
		fmt.Println("checkpoint must stay at or before", held)
	}
	d.Flush(emit)
	// Output:
	// 0 2024-02-21T21:54:44Z ssh_login failure 192.0.2.7
	// dead letter: json_invalid: decode: invalid JSON: unterminated object at byte 58
	// checkpoint must stay at or before 89
	// 89 2024-03-01T00:01:40Z syscall success <nil>
}

// A syslog listener parses each received message on its own.
func ExampleParseSyslogMessage() {
	msg := []byte("<38>1 2024-05-01T12:00:00Z bastion sshd 811 - - Invalid user admin from 198.51.100.4 port 40022")
	fields, ts, _ := logparse.ParseSyslogMessage(msg, time.Now(), time.UTC)
	fmt.Println(ts.Format(time.RFC3339), fields["host.hostname"], fields["event.action"], fields["user.name"], fields["source.ip"], fields["log.syslog.severity.code"])
	// Output:
	// 2024-05-01T12:00:00Z bastion invalid_user admin 198.51.100.4 6
}
