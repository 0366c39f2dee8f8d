package logparse

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAuditdGrouping(t *testing.T) {
	lines := readLines(t, dataDir+"logs/auditd/go-libaudit/test3.log")
	recs := decodeAll(t, FormatAuto, Options{}, lines, nil)
	serials := map[int64]bool{}
	for _, l := range lines {
		r, err := parseAuditRecord(l.text)
		if err != nil {
			t.Fatalf("line %d: %v", l.no, err)
		}
		serials[int64(r.serial)] = true
	}
	if len(recs) != len(serials) {
		t.Errorf("%d events for %d serials", len(recs), len(serials))
	}
	for _, r := range recs {
		f := r.Fields
		if f["auditd.log.sequence"] == int64(194435) {
			types, _ := f["auditd.log.record_types"].([]string)
			if len(types) != 2 || f["process.title"] != "sshd: burn [priv]" || f["process.executable"] != "/usr/sbin/sshd" ||
				f["event.action"] != "syscall" || f["event.outcome"] != "success" || f["process.pid"] != int64(1281) {
				t.Errorf("194435: %v", f)
			}
		}
		if f["auditd.log.sequence"] == int64(1865) && f["process.command_line"] != "useradd -u 3005 -m trainer5" {
			t.Errorf("execve command line %v", f["process.command_line"])
		}
	}
}

func TestAuditdPendingAndEOE(t *testing.T) {
	d, _ := NewDecoder(FormatAuditd, Options{AuditdWindow: 3})
	var out []Record
	emit := func(r Record) { out = append(out, r) }
	d.Decode(Line{Offset: 100, Data: []byte(`type=SYSCALL msg=audit(1.000:7): arch=c000003e syscall=59 success=yes exit=0 pid=10 uid=0 auid=1000 comm="ls" exe="/bin/ls"`)}, emit)
	if off, ok := d.Pending(); !ok || off != 100 || len(out) != 0 {
		t.Fatalf("pending %d %v, %d records", off, ok, len(out))
	}
	d.Decode(Line{Offset: 200, Data: []byte(`type=EXECVE msg=audit(1.000:7): argc=2 a0="ls" a1=2D6C61`)}, emit)
	d.Decode(Line{Offset: 300, Data: []byte(`type=EOE msg=audit(1.000:7): `)}, emit)
	if _, ok := d.Pending(); ok || len(out) != 1 {
		t.Fatalf("after EOE: pending %v, %d records", ok, len(out))
	}
	f := out[0].Fields
	if out[0].Offset != 100 || f["process.command_line"] != "ls -la" || f["auditd.log.execve.a1"] != "-la" || f["user.audit.id"] != "1000" {
		t.Errorf("event %v", f)
	}
	// Without EOE the event leaves after the window of further lines.
	out = nil
	d.Decode(Line{Offset: 400, Data: []byte(`type=SYSCALL msg=audit(2.000:8): success=no pid=1`)}, emit)
	for i := 0; i < 3; i++ {
		serial := strconv.Itoa(20 + i)
		d.Decode(Line{Offset: int64(500 + i), Data: []byte(`type=SYSCALL msg=audit(3.000:` + serial + `): success=yes pid=2`)}, emit)
	}
	if len(out) != 1 || out[0].Err != nil || out[0].Fields["auditd.log.sequence"] != int64(8) || out[0].Fields["event.outcome"] != "failure" {
		t.Fatalf("window: %d records %v", len(out), out)
	}
	if off, ok := d.Pending(); !ok || off != 500 {
		t.Errorf("pending %d %v, want 500", off, ok)
	}
	d.Flush(emit)
	if len(out) != 4 {
		t.Errorf("flush: %d records", len(out))
	}
}

func TestAuditdFiles(t *testing.T) {
	for _, name := range []string{"elastic-beats/auditd_test.log", "otrf/sh_binary_padding_dd_2020-11-10081941.log"} {
		lines := readLines(t, dataDir+"logs/auditd/"+name)
		recs := decodeAll(t, FormatAuto, Options{}, lines, nil)
		for _, r := range recs {
			if r.Err != nil {
				t.Errorf("%s: %v", name, r.Err)
			}
		}
		t.Logf("%s: %d lines, %d events", name, len(lines), len(recs))
	}
}

func TestAuditdInSyslog(t *testing.T) {
	d, _ := NewDecoder(FormatAuto, Options{Location: time.UTC})
	var out []Record
	emit := func(r Record) { out = append(out, r) }
	first := `Jan  1 00:00:00 web1 audispd: type=SYSCALL msg=audit(1.000:9): success=no pid=3 comm="cat" exe="/bin/cat"`
	d.Decode(Line{Data: []byte(first)}, emit)
	d.Decode(Line{Data: []byte(`Jan  1 00:00:00 web1 audispd: type=PATH msg=audit(1.000:9): item=0 name="/etc/shadow"`), Offset: 120}, emit)
	d.Decode(Line{Data: []byte(`Jan  1 00:00:00 web1 audispd: type=EOE msg=audit(1.000:9): `), Offset: 200}, emit)
	if len(out) != 1 || out[0].Err != nil {
		t.Fatalf("records %v", out)
	}
	f := out[0].Fields
	if f["host.name"] != "web1" || f["auditd.log.path.name"] != "/etc/shadow" || f["event.outcome"] != "failure" {
		t.Errorf("fields %v", f)
	}
	if !strings.HasPrefix(string(out[0].Raw), first+"\n") {
		t.Errorf("raw %q", out[0].Raw)
	}
	rec := decodeOne(t, FormatAuditd, "Jan  1 00:00:00 h prog: hello")
	if pe, ok := rec.Err.(*ParseError); !ok || pe.Reason != ReasonFormatMismatch {
		t.Errorf("err %v", rec.Err)
	}
}
