package sigma

import (
	"reflect"
	"testing"

	"github.com/canhgac/canhgac/ecs"
)

func TestAttack(t *testing.T) {
	cases := []struct {
		tags       []string
		tactics    []ecs.Tactic
		techniques []string
	}{
		{nil, nil, nil},
		{[]string{"attack.credential_access", "attack.t1110", "attack.t1110.001"},
			[]ecs.Tactic{{ID: "TA0006", Name: "Credential Access"}}, []string{"T1110", "T1110.001"}},
		{[]string{"attack.execution", "attack.defense-evasion", "attack.T1059.001", "attack.t1059.001"},
			[]ecs.Tactic{{ID: "TA0002", Name: "Execution"}, {ID: "TA0005", Name: "Defense Evasion"}}, []string{"T1059.001"}},
		{[]string{"attack.g0007", "attack.s0002", "cve.2021-44228", "detection.threat-hunting", "tlp.white", "attack.t11", "attack.t1110.1"}, nil, nil},
		{[]string{"attack.command_and_control", "attack.impact", "attack.exfiltration"},
			[]ecs.Tactic{{ID: "TA0011", Name: "Command and Control"}, {ID: "TA0040", Name: "Impact"}, {ID: "TA0010", Name: "Exfiltration"}}, nil},
	}
	for _, c := range cases {
		tactics, techniques := Attack(c.tags)
		if !reflect.DeepEqual(tactics, c.tactics) || !reflect.DeepEqual(techniques, c.techniques) {
			t.Errorf("Attack(%q) = %v, %v; want %v, %v", c.tags, tactics, techniques, c.tactics, c.techniques)
		}
	}
}

// TestAttackSharedRules checks that every attack.* tag of the shared SigmaHQ
// rules is understood: a tactic, a technique, or a group/software id.
func TestAttackSharedRules(t *testing.T) {
	rs, _, err := LoadAll(nil, []string{"../../../shared/data/sigma/rules"}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var tactics, techniques int
	for _, r := range rs.Rules() {
		ta, te := Attack(r.Tags)
		tactics += len(ta)
		techniques += len(te)
		for _, tag := range r.Tags {
			if len(tag) > 7 && tag[:7] == "attack." {
				one, two := Attack([]string{tag})
				rest := tag[7:]
				if len(one) == 0 && len(two) == 0 && !groupOrSoftware(rest) {
					t.Errorf("rule %s: tag %q is neither a tactic, a technique, a group nor software", r.ID, tag)
				}
			}
		}
	}
	if tactics == 0 || techniques == 0 {
		t.Fatalf("found %d tactics and %d techniques in the shared rules", tactics, techniques)
	}
	t.Logf("shared rules name %d tactics and %d techniques", tactics, techniques)
}

func groupOrSoftware(s string) bool {
	if len(s) < 2 || (s[0] != 'g' && s[0] != 's') {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
