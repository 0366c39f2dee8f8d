package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canhgac/canhgac/i18n"
)

// runCLI runs the binary's entry point in process.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = execute(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCatalogIsComplete(t *testing.T) {
	for _, p := range i18n.Validate() {
		t.Error(p)
	}
}

func TestHelpInBothLanguages(t *testing.T) {
	t.Setenv("CANHGAC_LANG", "")
	for _, cmd := range commands() {
		args := append(strings.Fields(cmd.name), "--help")
		code, out, _ := runCLI(t, args...)
		if code != 0 {
			t.Errorf("%s --help: exit %d", cmd.name, code)
		}
		if !strings.Contains(out, "Cách dùng") {
			t.Errorf("%s --help is not Vietnamese by default:\n%s", cmd.name, out)
		}
		code, out, _ = runCLI(t, append(args, "--lang", "en")...)
		if code != 0 || !strings.Contains(out, "Usage") {
			t.Errorf("%s --help --lang en: exit %d, output:\n%s", cmd.name, code, out)
		}
		if strings.Contains(out, "cli.") {
			t.Errorf("%s --help shows a raw catalog key:\n%s", cmd.name, out)
		}
	}
}

func TestOverviewListsCommands(t *testing.T) {
	code, out, _ := runCLI(t, "--lang=en")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, cmd := range commands() {
		if !strings.Contains(out, cmd.name) {
			t.Errorf("overview lacks %q", cmd.name)
		}
	}
}

func TestEnvironmentPicksEnglish(t *testing.T) {
	t.Setenv("CANHGAC_LANG", "en")
	_, out, _ := runCLI(t, "hunt", "--help")
	if !strings.Contains(out, "Usage") {
		t.Errorf("CANHGAC_LANG=en did not pick English:\n%s", out)
	}
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"nosuch"}, "nosuch"},
		{[]string{"--lang", "fr", "hunt"}, "fr"},
		{[]string{"hunt", "--format", "xml", "x"}, "xml"},
		{[]string{"hunt"}, "PATH"},
		{[]string{"alerts", "close", "abc"}, "--reason"},
		{[]string{"hunt", "--bogus"}, "bogus"},
	}
	for _, c := range cases {
		code, _, errOut := runCLI(t, append(c.args, "--lang=en")...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2", c.args, code)
		}
		if !strings.Contains(errOut, c.want) {
			t.Errorf("%v: stderr does not name %q:\n%s", c.args, c.want, errOut)
		}
	}
}

func TestFlagsAfterArguments(t *testing.T) {
	code, _, errOut := runCLI(t, "hunt", "/nonexistent/file.log", "--format", "json", "--lang", "en")
	if code != 1 || !strings.Contains(errOut, "/nonexistent/file.log") {
		t.Errorf("exit %d, stderr %q; want exit 1 naming the file", code, errOut)
	}
}

func TestMissingInputIsVietnamese(t *testing.T) {
	t.Setenv("CANHGAC_LANG", "")
	_, _, errOut := runCLI(t, "hunt", "/nonexistent/file.log")
	if !strings.Contains(errOut, "không đọc được") {
		t.Errorf("stderr is not Vietnamese: %q", errOut)
	}
}

func TestRulesTestExplainsMatches(t *testing.T) {
	code, out, errOut := runCLI(t, "rules", "test", "--format", "json", "--lang", "en",
		"../../detections/rules/pack/linux/sudo_unexpected_user.yml", sharedData+"/logs/linux/elastic-beats/auth_test.log")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	docs := decodeLines(t, []byte(out))
	if len(docs) == 0 {
		t.Fatal("no match for the sudo rule in the elastic-beats auth log")
	}
	for _, doc := range docs {
		why, _ := doc["why"].([]any)
		if len(why) == 0 || !strings.Contains(fmt.Sprint(why), "sudo_command") {
			t.Errorf("match without the selection that matched: %v", why)
		}
	}
}

func TestHuntReadsEVTXAndItsJSONTwin(t *testing.T) {
	dir := sharedData + "/sigma/regression_data/rules/windows/process_creation/proc_creation_win_wmic_recon_process"
	code, out, errOut := runCLI(t, "hunt", "--format", "json", "--lang", "en",
		"--rules", sharedData+"/sigma/rules/windows/process_creation/proc_creation_win_wmic_recon_process.yml", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "left out 1 files") {
		t.Errorf("stderr does not report info.yml as left out: %s", errOut)
	}
	docs := decodeLines(t, []byte(out))
	if n := len(docs); n != 2 {
		t.Errorf("%d detections from the folder, want 2 (the .evtx and its .json twin)", n)
	}
	// The rule's ATT&CK tags come out as ECS threat fields, and its
	// false-positive notes and status with the rule.
	for _, doc := range docs {
		threat := fmt.Sprint(doc["threat"])
		rule := fmt.Sprint(doc["rule"])
		if !strings.Contains(threat, "TA0002") || !strings.Contains(threat, "T1047") ||
			!strings.Contains(rule, "falsepositives") || !strings.Contains(rule, "status:") {
			t.Errorf("detection lacks ATT&CK or rule metadata: threat=%s rule=%s", threat, rule)
		}
	}
}

func TestHuntRejectsBinaryFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "blob")
	os.WriteFile(path, bytes.Repeat([]byte{0x7f, 'E', 'L', 'F', 0, 0, 0, 0}, 512), 0o755)
	code, _, errOut := runCLI(t, "hunt", "--lang", "en", path)
	if code != 1 || !strings.Contains(errOut, "NUL bytes") {
		t.Errorf("binary file: exit %d, stderr %q; want exit 1 naming the NUL bytes", code, errOut)
	}
}
