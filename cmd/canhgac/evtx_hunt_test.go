package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

// evtxFixture is the reviewed detection table of hunt with the shared
// SigmaHQ rules over the shared EVTX files: file, rule id, rule title and
// count, one row each, sorted. CANHGAC_UPDATE_FIXTURES=1 rewrites it; a
// rewritten table must be reviewed by hand before it is committed.
const evtxFixture = "testdata/evtx_detections.tsv"

func TestHuntEVTXDetectionTable(t *testing.T) {
	if testing.Short() {
		t.Skip("hunts every shared EVTX file with every shared rule")
	}
	root := sharedData + "/evtx/"
	counts := map[string]int{}
	for _, doc := range huntJSON(t, []string{sharedData + "/sigma/rules"}, root) {
		path := docString(doc, "log", "file", "path")
		file := path[strings.Index(path, "/evtx/")+len("/evtx/"):]
		key := file + "\t" + docString(doc, "rule", "id") + "\t" + docString(doc, "rule", "name")
		counts[key]++
	}
	var rows []string
	for key, n := range counts {
		rows = append(rows, fmt.Sprintf("%s\t%d", key, n))
	}
	sort.Strings(rows)
	got := strings.Join(rows, "\n") + "\n"

	if os.Getenv("CANHGAC_UPDATE_FIXTURES") == "1" {
		if err := os.WriteFile(evtxFixture, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: review it before committing", evtxFixture)
		return
	}
	want, err := os.ReadFile(evtxFixture)
	if err != nil {
		t.Fatalf("%v (CANHGAC_UPDATE_FIXTURES=1 writes it)", err)
	}
	if got != string(want) {
		t.Errorf("detection table changed; diff it against %s and review:\n%s", evtxFixture, got)
	}

	// Files whose names state the technique, and a rule for that technique
	// that must fire on them.
	techniques := []struct{ file, rule string }{
		{"credential_access/CA_hashdump_4663_4656_lsass_access.evtx", "LSASS Access From Non System Account"},
		{"credential_access/CA_DCSync_4662.evtx", "DcSync"},
		{"defense_evasion/DE_1102_security_log_cleared.evtx", "Security Eventlog Cleared"},
		{"command_and_control/DE_RDP_Tunneling_4624.evtx", "RDP Login from Localhost"},
		{"defense_evasion/DE_Fake_ComputerAccount_4720.evtx", "'$' Character"},
		{"persistence/Network_Service_Guest_added_to_admins_4732.evtx", "Local Administrator Group"},
		{"lateral_movement/LM_4624_mimikatz_sekurlsa_pth_source_machine.evtx", "Pass the Hash"},
		{"privilege_escalation/System_7045_namedpipe_privesc.evtx", "Getsystem"},
		{"deepbluecli/smb-password-guessing-security.evtx", "SMB Authentication"},
	}
	for _, tc := range techniques {
		found := false
		for key := range counts {
			if strings.Contains(key, tc.file) && strings.Contains(key, tc.rule) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no detection by a rule named like %q", tc.file, tc.rule)
		}
	}
}
