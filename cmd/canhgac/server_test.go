package main

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// TestServerWithCLI starts `canhgac run`, sends it syslog over UDP and TCP
// (both framings) and a log file, and then works through the responder
// commands against it: login, alerts list, show, ack, close and search.
func TestServerWithCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	t.Setenv("HOME", dir)
	t.Setenv("CANHGAC_LANG", "en")
	logPath := withNewline(t, sharedData+"/logs/linux/loghub/OpenSSH/OpenSSH_2k.log", dir)
	udp, tcp := freeAddr(t), freeAddr(t)
	srv := startServer(t, []string{"CANHGAC_ADMIN_PASSWORD=cli-test-password-1"},
		"--data", dir+"/data", "--no-system-logs", "--file", logPath,
		"--syslog-udp", udp, "--syslog-tcp", tcp, "--listen", freeAddr(t))

	msg := func(i int) string {
		return fmt.Sprintf("<38>Dec  4 10:00:%02d gw01 sshd[4242]: Failed password for root from 203.0.113.7 port %d ssh2", i, 40000+i)
	}
	uc, err := net.Dial("udp", udp)
	if err != nil {
		t.Fatal(err)
	}
	uc.Write([]byte(msg(1)))
	uc.Close()
	tc, err := net.Dial("tcp", tcp)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(tc, "%s\n", msg(2))
	tc.Close()
	tc, err = net.Dial("tcp", tcp)
	if err != nil {
		t.Fatal(err)
	}
	framed := msg(3)
	fmt.Fprintf(tc, "%d %s", len(framed), framed)
	tc.Close()

	t.Setenv("CANHGAC_PASSWORD", "cli-test-password-1")
	if code, out, errOut := runCLI(t, "login", "--server", srv.url); code != 0 {
		t.Fatalf("login: exit %d\n%s%s", code, out, errOut)
	}

	var syslogEvents []map[string]any
	waitUntil(t, 30*time.Second, "three syslog events searchable", func() bool {
		code, out, _ := runCLI(t, "search", "source.ip:203.0.113.7", "--from", "now-3650d", "--to", "now+3650d", "--format", "json")
		if code != 0 {
			return false
		}
		syslogEvents = decodeLines(t, []byte(out))
		return len(syslogEvents) == 3
	})
	for _, ev := range syslogEvents {
		if docString(ev, "event", "action") != "ssh_login" || docString(ev, "user", "name") != "root" {
			t.Errorf("syslog event not parsed as an SSH login failure: %v", ev)
		}
	}

	var alerts []map[string]any
	waitUntil(t, 60*time.Second, "brute-force alerts from the log file", func() bool {
		code, out, _ := runCLI(t, "alerts", "list", "--format", "json", "--limit", "500")
		if code != 0 {
			return false
		}
		alerts = decodeLines(t, []byte(out))
		return len(alerts) > 0
	})
	id, _ := alerts[0]["id"].(string)
	code, out, errOut := runCLI(t, "alerts", "show", id, "--format", "json")
	if code != 0 {
		t.Fatalf("alerts show: exit %d: %s", code, errOut)
	}
	var shown struct {
		Alert  alertView        `json:"alert"`
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatalf("alerts show output: %v\n%s", err, out)
	}
	if shown.Alert.ID != id || len(shown.Events) == 0 {
		t.Errorf("alerts show %s: alert %s with %d events", id, shown.Alert.ID, len(shown.Events))
	}
	if code, _, errOut := runCLI(t, "alerts", "ack", id); code != 0 {
		t.Fatalf("alerts ack: exit %d: %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, "alerts", "close", id, "--reason", "test: scanner of the red team"); code != 0 {
		t.Fatalf("alerts close: exit %d: %s", code, errOut)
	}
	_, out, _ = runCLI(t, "alerts", "list", "--status", "closed", "--format", "csv")
	if !strings.Contains(out, id) {
		t.Errorf("closed alert %s not listed as closed:\n%s", id, out)
	}
	code, _, errOut = runCLI(t, "search", "source.ip:", "--lang", "vi")
	if code == 0 || !strings.Contains(errOut, "lỗi") {
		t.Errorf("invalid KQL: exit %d, stderr %q; want a Vietnamese error", code, errOut)
	}

	// An account added while the server runs signs in at once, with its
	// role's rights: an auditor reads alerts but cannot triage them.
	t.Setenv("CANHGAC_USER_PASSWORD", "auditor-password-1")
	if code, out, errOut := runCLI(t, "users", "add", "--data", dir+"/data", "--role", "auditor", "kiemtoan1"); code != 0 ||
		strings.Contains(out, "auditor-password-1") {
		t.Fatalf("users add: exit %d, stdout %q (must not echo the password), stderr %s", code, out, errOut)
	}
	t.Setenv("CANHGAC_PASSWORD", "auditor-password-1")
	if code, out, errOut := runCLI(t, "login", "--server", srv.url, "--user", "kiemtoan1"); code != 0 {
		t.Fatalf("login as the new auditor: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, "alerts", "list", "--format", "json"); code != 0 {
		t.Errorf("alerts list as auditor: exit %d: %s", code, errOut)
	}
	if code, _, _ := runCLI(t, "alerts", "ack", id); code == 0 {
		t.Errorf("an auditor acknowledged alert %s", id)
	}
	srv.stop(t)
}
