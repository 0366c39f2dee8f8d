package sigma

import (
	"regexp"
	"slices"
	"strings"

	"github.com/canhgac/canhgac/ecs"
)

// attackTactics maps the tactic tags of the Sigma tag specification
// (attack.<tactic name in snake case>) to the ATT&CK Enterprise tactics.
// ATT&CK v19 split Defense Evasion into Stealth, which keeps the id
// TA0005, and Defense Impairment (TA0112); rules written before the split
// still carry attack.defense_evasion.
var attackTactics = map[string]ecs.Tactic{
	"reconnaissance":       {ID: "TA0043", Name: "Reconnaissance"},
	"resource_development": {ID: "TA0042", Name: "Resource Development"},
	"initial_access":       {ID: "TA0001", Name: "Initial Access"},
	"execution":            {ID: "TA0002", Name: "Execution"},
	"persistence":          {ID: "TA0003", Name: "Persistence"},
	"privilege_escalation": {ID: "TA0004", Name: "Privilege Escalation"},
	"defense_evasion":      {ID: "TA0005", Name: "Defense Evasion"},
	"stealth":              {ID: "TA0005", Name: "Stealth"},
	"defense_impairment":   {ID: "TA0112", Name: "Defense Impairment"},
	"credential_access":    {ID: "TA0006", Name: "Credential Access"},
	"discovery":            {ID: "TA0007", Name: "Discovery"},
	"lateral_movement":     {ID: "TA0008", Name: "Lateral Movement"},
	"collection":           {ID: "TA0009", Name: "Collection"},
	"command_and_control":  {ID: "TA0011", Name: "Command and Control"},
	"exfiltration":         {ID: "TA0010", Name: "Exfiltration"},
	"impact":               {ID: "TA0040", Name: "Impact"},
}

var techniqueTag = regexp.MustCompile(`^t\d{4}(\.\d{3})?$`)

// Attack returns the ATT&CK tactics and technique ids named by Sigma tags:
// attack.credential_access gives TA0006 Credential Access, and attack.t1110
// or attack.t1059.001 give T1110 and T1059.001. Tactics keep the order of
// the tags; duplicates and other tags (groups, software, cve.*, detection.*)
// are left out. Tags are matched case-insensitively, and the older
// hyphenated tactic form (attack.credential-access) is accepted.
func Attack(tags []string) (tactics []ecs.Tactic, techniques []string) {
	for _, tag := range tags {
		name, ok := strings.CutPrefix(strings.ToLower(tag), "attack.")
		if !ok {
			continue
		}
		if t, ok := attackTactics[strings.ReplaceAll(name, "-", "_")]; ok {
			if !slices.Contains(tactics, t) {
				tactics = append(tactics, t)
			}
			continue
		}
		if techniqueTag.MatchString(name) {
			id := strings.ToUpper(name)
			if !slices.Contains(techniques, id) {
				techniques = append(techniques, id)
			}
		}
	}
	return tactics, techniques
}
