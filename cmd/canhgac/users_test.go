package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestUsersCommands(t *testing.T) {
	data := t.TempDir()
	t.Setenv("CANHGAC_LANG", "en")
	t.Setenv("CANHGAC_USER_PASSWORD", "")

	code, out, errOut := runCLI(t, "users", "add", "--data", data, "--role", "analyst", "phantich1")
	if code != 0 {
		t.Fatalf("users add: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Password (shown once") {
		t.Errorf("users add without CANHGAC_USER_PASSWORD printed no password:\n%s", out)
	}

	t.Setenv("CANHGAC_USER_PASSWORD", "known-password-1")
	if code, out, errOut := runCLI(t, "users", "add", "--data", data, "--role", "auditor", "kiemtoan1"); code != 0 ||
		strings.Contains(out, "known-password-1") {
		t.Fatalf("users add with CANHGAC_USER_PASSWORD: exit %d, stdout %q, stderr %s", code, out, errOut)
	}

	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"existing name", []string{"users", "add", "--data", data, "phantich1"}, 1, `account "phantich1" already exists`},
		{"unknown role", []string{"users", "add", "--data", data, "--role", "boss", "x"}, 2, `invalid role "boss"`},
		{"no name", []string{"users", "add", "--data", data}, 2, "missing account name"},
		{"invalid name", []string{"users", "add", "--data", data, "Ông.A"}, 1, "invalid user name"},
		{"password of unknown account", []string{"users", "password", "--data", data, "nobody"}, 1, `account "nobody" not found`},
	}
	for _, c := range cases {
		code, _, errOut := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d and %q", c.name, code, errOut, c.code, c.want)
		}
	}

	t.Setenv("CANHGAC_USER_PASSWORD", "short")
	if code, _, errOut := runCLI(t, "users", "password", "--data", data, "kiemtoan1"); code != 1 || !strings.Contains(errOut, "too short") {
		t.Errorf("short password: exit %d, stderr %q", code, errOut)
	}

	code, out, errOut = runCLI(t, "users", "list", "--data", data, "--format", "json")
	if code != 0 {
		t.Fatalf("users list: exit %d: %s", code, errOut)
	}
	var roles []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var u struct{ Name, Role string }
		if err := json.Unmarshal([]byte(line), &u); err != nil {
			t.Fatalf("users list line %q: %v", line, err)
		}
		roles = append(roles, u.Name+"="+u.Role)
	}
	if got, want := strings.Join(roles, ","), "kiemtoan1=auditor,phantich1=analyst"; got != want {
		t.Errorf("users list = %s, want %s", got, want)
	}

	code, _, errOut = runCLI(t, "users", "add", "--lang", "vi", "--data", data, "phantich1")
	if code != 1 || !strings.Contains(errOut, "đã tồn tại") {
		t.Errorf("Vietnamese error: exit %d, stderr %q", code, errOut)
	}
}
