package logparse

import (
	"testing"
	"time"
)

func TestSyslogHeaders(t *testing.T) {
	ref := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		line  string
		time  string
		check map[string]any
	}{
		{name: "BSD file line", line: "Feb 21 21:54:44 localhost sshd[3402]: Accepted publickey for vagrant from 10.0.2.2 port 63673 ssh2",
			time: "2024-02-21T21:54:44Z", check: map[string]any{"host.hostname": "localhost", "process.name": "sshd", "process.pid": int64(3402), "event.action": ActionSSHLogin}},
		{name: "December read in January", line: "Dec 31 23:59:59 h cron[1]: x", time: "2023-12-31T23:59:59Z"},
		{name: "single-digit day", line: "Feb 7 16:01:07 linux-m899 sshd[5106]: x", time: "2024-02-07T16:01:07Z"},
		{name: "no host", line: "Nov 23 21:50:19 sshd[8148]: Disconnecting: Too many authentication failures for root [preauth]",
			time: "2023-11-23T21:50:19Z", check: map[string]any{"process.name": "sshd", "process.pid": int64(8148), "host.hostname": nil, "user.name": "root"}},
		{name: "bracketed tag", line: "Jun 25 23:53:34 [sshd] User root from 1.2.3.4 not allowed because not listed in AllowUsers",
			check: map[string]any{"process.name": "sshd", "source.ip": "1.2.3.4", "event.action": ActionUserNotAllowed}},
		{name: "tag with path", line: "Jan  1 00:00:00 h /usr/sbin/sshd[7]: Failed password for root from 192.0.2.1 port 22 ssh2",
			check: map[string]any{"process.name": "sshd", "event.outcome": "failure"}},
		{name: "sshd-session", line: "Jul  3 14:59:17 host sshd-session[1571]: Failed password for root from 192.0.2.1 port 56502 ssh2",
			check: map[string]any{"process.name": "sshd-session", "event.dataset": "system.auth", "source.port": int64(56502)}},
		{name: "rsyslog ISO with zone", line: "2015-04-16T18:02:50.321974+00:00 host sshd[2716]: Connection closed by 192.0.2.112 [preauth]",
			time: "2015-04-16T18:02:50.321974Z", check: map[string]any{"host.hostname": "host", "event.action": ActionSSHConnClosed}},
		{name: "ISO without zone", line: "2025-03-04T01:06:36.645577 ip-1 vsftpd[1658]: [u] FAIL LOGIN: Client \"192.0.2.222\"",
			time: "2025-03-04T01:06:36.645577Z", check: map[string]any{"event.action": ActionFTPLogin, "event.outcome": "failure", "user.name": "u"}},
		{name: "RFC 3164 with PRI", line: "<38>Feb  5 17:32:18 10.0.0.99 sshd[1]: Invalid user x from 192.0.2.3",
			check: map[string]any{"log.syslog.priority": int64(38), "log.syslog.facility.code": int64(4), "log.syslog.severity.code": int64(6), "host.hostname": "10.0.0.99"}},
		{name: "RFC 5424 with SD and BOM", line: "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 99 ID47 [exampleSDID@32473 iut=\"3\" eventID=\"1011\"][x@1 a=\"]\\\"\"] \ufeffAn application event",
			time: "2003-10-11T22:14:15.003Z", check: map[string]any{"message": "An application event", "log.syslog.msgid": "ID47", "process.name": "evntslog", "process.pid": int64(99),
				"log.syslog.structured_data": "[exampleSDID@32473 iut=\"3\" eventID=\"1011\"][x@1 a=\"]\\\"\"]", "log.syslog.facility.code": int64(20)}},
		{name: "RFC 5424 nil values", line: "<34>1 - - - - - - msg", check: map[string]any{"message": "msg", "host.hostname": nil}},
		{name: "unparsed line", line: "this is not a log line", check: map[string]any{"event.dataset": "system.syslog", "message": "this is not a log line"}},
		{name: "message repeated", line: "Dec 10 09:32:20 LabSZ sshd[24680]: message repeated 5 times: [ Failed password for root from 5.36.59.76 port 42393 ssh2]",
			check: map[string]any{"system.auth.repeated": int64(5), "source.ip": "5.36.59.76", "user.name": "root", "event.outcome": "failure"}},
		{name: "injected user name", line: "Nov 11 08:04:52 r sshd[2737]: Failed password for invalid user test from 10.10.1.2 port 55555 ssh2 from 127.0.0.1 port 58946 ssh2",
			check: map[string]any{"source.ip": "127.0.0.1", "user.name": "test from 10.10.1.2 port 55555 ssh2", "system.auth.ssh.invalid_user": true}},
		{name: "injected auth info", line: "Nov 11 08:04:52 r sshd[2737]: Failed password for invalid user test from 127.0.0.1 port 58946 ssh2: from 10.10.1.2 port 55555 ssh2",
			check: map[string]any{"source.ip": "127.0.0.1", "user.name": "test"}},
		{name: "PAM sudo", line: "Feb  1 10:00:00 h sudo: pam_unix(sudo:auth): authentication failure; logname=bob uid=1000 euid=0 tty=/dev/pts/0 ruser=bob rhost=  user=bob",
			check: map[string]any{"event.action": ActionPAMAuthFailure, "user.name": "bob", "system.auth.pam.service": "sudo", "source.ip": nil}},
		{name: "sudo incorrect password", line: "Feb  1 10:00:00 h sudo:   alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id",
			check: map[string]any{"event.action": ActionSudoCommand, "event.outcome": "failure", "user.name": "alice", "user.effective.name": "root", "process.command_line": "/usr/bin/id"}},
		{name: "su", line: "Feb  1 10:00:00 h su[12]: FAILED su for root by alice",
			check: map[string]any{"event.action": ActionSu, "event.outcome": "failure", "user.name": "alice", "user.effective.name": "root"}},
		{name: "session opened", line: "Dec 10 06:55:48 LabSZ sshd[24202]: pam_unix(sshd:session): session opened for user fztu by (uid=0)",
			check: map[string]any{"event.action": ActionSessionOpened, "user.name": "fztu"}},
		{name: "IPv6 received disconnect", line: "Jan  2 01:18:41 host sshd[11808]: Received disconnect from 2001:db8::1 port 7736:11: bye [preauth]",
			check: map[string]any{"source.ip": "2001:db8::1", "source.port": int64(7736), "system.auth.ssh.disconnect_code": int64(11)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := NewDecoder(FormatAuto, Options{Location: time.UTC, Reference: ref})
			var recs []Record
			d.Decode(Line{Data: []byte(tc.line)}, func(r Record) { recs = append(recs, r) })
			if len(recs) != 1 || recs[0].Err != nil {
				t.Fatalf("records %v", recs)
			}
			rec := recs[0]
			if tc.time != "" {
				want, _ := time.Parse(time.RFC3339Nano, tc.time)
				if !rec.Timestamp.Equal(want) {
					t.Errorf("time %v, want %v", rec.Timestamp, want)
				}
			}
			for k, want := range tc.check {
				got, ok := rec.Fields[k]
				if want == nil {
					if ok {
						t.Errorf("%s = %#v, want absent", k, got)
					}
					continue
				}
				if got != want {
					t.Errorf("%s = %#v, want %#v", k, got, want)
				}
			}
			if rec.Fields["event.original"] != tc.line {
				t.Errorf("event.original = %q", rec.Fields["event.original"])
			}
		})
	}
}

func TestResolveYear(t *testing.T) {
	ref := time.Date(2024, 1, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		month time.Month
		day   int
		year  int
	}{
		{time.December, 31, 2023}, // read on 2 January: last year
		{time.January, 1, 2024},
		{time.January, 3, 2024},  // a day ahead: clock skew
		{time.January, 20, 2023}, // 18 days ahead: cannot be this year
		{time.February, 1, 2023},
		{time.June, 1, 2023},
	}
	for _, tc := range tests {
		got := resolveYear(tc.month, tc.day, 12, 0, 0, 0, time.UTC, ref)
		if got.Year() != tc.year {
			t.Errorf("%s %d: year %d, want %d", tc.month, tc.day, got.Year(), tc.year)
		}
	}
}

func TestParseSyslogMessage(t *testing.T) {
	recv := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	f, ts, ok := ParseSyslogMessage([]byte("<13>sshd: Invalid user x from 192.0.2.9\n"), recv, time.UTC)
	if !ok || f["source.ip"] != "192.0.2.9" || !ts.Equal(recv) || f["log.syslog.priority"] != int64(13) {
		t.Errorf("fields %v time %v", f, ts)
	}
	if _, _, ok := ParseSyslogMessage([]byte(" \n"), recv, nil); ok {
		t.Error("empty message parsed")
	}
}

func TestDecoderFileFields(t *testing.T) {
	d, _ := NewDecoder(FormatSyslog, Options{Location: time.UTC})
	var rec Record
	d.Decode(Line{Data: []byte("Jan  1 00:00:00 h prog: hello\r\n"), Offset: 42, Path: "/var/log/syslog"}, func(r Record) { rec = r })
	if rec.Fields["log.file.path"] != "/var/log/syslog" || rec.Fields["log.offset"] != int64(42) || rec.Offset != 42 || rec.Fields["message"] != "hello" {
		t.Errorf("fields %v", rec.Fields)
	}
	d.Decode(Line{Data: []byte("   ")}, func(r Record) { t.Errorf("record for a blank line: %v", r) })
	d2, _ := NewDecoder(FormatSyslog, Options{MaxLineBytes: 10})
	d2.Decode(Line{Data: []byte("Jan  1 00:00:00 h prog: hello")}, func(r Record) { rec = r })
	if pe, ok := rec.Err.(*ParseError); !ok || pe.Reason != ReasonLineTooLong {
		t.Errorf("err %v", rec.Err)
	}
}

func TestParseFormat(t *testing.T) {
	for _, name := range []string{"auto", "syslog", "access", "apache_error", "nginx_error", "auditd", "json"} {
		f, err := ParseFormat(name)
		if err != nil || f.String() != name {
			t.Errorf("%s: %v %v", name, f, err)
		}
	}
	_, err := ParseFormat("csv")
	var fe *FormatError
	if err == nil || !errorsAs(err, &fe) || fe.Value != "csv" {
		t.Errorf("err %v", err)
	}
}
