package sigma

import (
	"strings"
	"testing"
)

func filterDoc(logsource, rules, body string) string {
	return "title: filter admins\nid: flt-1\nlogsource:\n" + indent(logsource, "    ") + "\nfilter:\n" + indent(rules+"\n"+body, "    ") + "\n"
}

const adminFilterBody = "selection:\n    User|startswith: 'adm_'\ncondition: not selection"

func TestFilters(t *testing.T) {
	winProc := "product: windows\ncategory: process_creation"
	data := func(user string) map[string]string {
		return map[string]string{"Image": `C:\Windows\System32\whoami.exe`, "ParentImage": `C:\Windows\System32\cmd.exe`, "User": user}
	}
	tests := []struct {
		name   string
		filter string
		user   string
		want   int
	}{
		{"no filter", "", "adm_ops", 1},
		{"filtered user", filterDoc(winProc, "rules: [w-1]", adminFilterBody), "adm_ops", 0},
		{"other user kept", filterDoc(winProc, "rules: [w-1]", adminFilterBody), "bob", 1},
		{"rules any", filterDoc(winProc, "rules: any", adminFilterBody), "adm_ops", 0},
		{"rules empty list", filterDoc(winProc, "rules: []", adminFilterBody), "adm_ops", 0},
		{"single rule reference", filterDoc(winProc, "rules: w-1", adminFilterBody), "adm_ops", 0},
		{"broader logsource applies", filterDoc("product: windows", "rules: [w-1]", adminFilterBody), "adm_ops", 0},
		{"other logsource ignored", filterDoc("product: linux", "rules: [w-1]", adminFilterBody), "adm_ops", 1},
		{"other rule ignored", filterDoc(winProc, "rules: [x-9]", adminFilterBody), "adm_ops", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := procCreationRule
			if tc.filter != "" {
				text += "---\n" + tc.filter
			}
			rs := mustLoad(t, text, LoadOptions{})
			got := run(rs, EngineOptions{}, winEvent("Microsoft-Windows-Sysmon/Operational", 1, data(tc.user)))
			if len(got) != tc.want {
				t.Errorf("detections = %d, want %d", len(got), tc.want)
			}
		})
	}
}

func TestFilterLoadReport(t *testing.T) {
	text := procCreationRule + "---\n" + filterDoc("product: windows", "rules: [w-1, nope]", adminFilterBody)
	rs, rep, err := LoadBytes("f.yml", []byte(text), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Loaded != 2 || len(rs.Rules()) != 1 || len(rs.Filters()) != 1 {
		t.Errorf("Loaded = %d, rules = %d, filters = %d, want 2, 1, 1", rep.Loaded, len(rs.Rules()), len(rs.Filters()))
	}
	if !rs.Filters()[0].IsFilter() {
		t.Error("IsFilter = false for the filter document")
	}
	if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0].Reason, `rule "nope"`) {
		t.Errorf("notes = %+v, want one about rule nope", rep.Notes)
	}
}

func TestFilterRejections(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		wantKey string
	}{
		{"no rules", filterDoc("product: windows", "", adminFilterBody), "sigma.err.filter_rules"},
		{"condition list", filterDoc("product: windows", "rules: any", "selection:\n    User: a\ncondition:\n    - selection"), "sigma.err.filter_condition"},
		{"no logsource", "title: f\nfilter:\n    rules: any\n    selection:\n        User: a\n    condition: selection\n", "sigma.err.missing"},
		{"bad modifier", filterDoc("product: windows", "rules: any", "selection:\n    User|nope: a\ncondition: selection"), "sigma.err.in_field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, rep, err := LoadBytes("f.yml", []byte(tc.text), LoadOptions{Logger: quietLogger})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Rejected) != 1 || rep.Rejected[0].Err.Key != tc.wantKey {
				t.Fatalf("rejections = %+v, want one %s", rep.Rejected, tc.wantKey)
			}
			if len(rs.Filters()) != 0 {
				t.Error("rejected filter is loaded")
			}
		})
	}
}
