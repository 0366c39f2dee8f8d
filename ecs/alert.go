package ecs

import (
	"crypto/sha256"
	"fmt"
	"time"
)

// AlertStatus is the workflow state of an alert.
type AlertStatus int

// Alert workflow states. An alert opens as StatusOpen, an analyst may
// acknowledge it and finally closes it with a reason.
const (
	StatusOpen AlertStatus = iota
	StatusAcknowledged
	StatusClosed
)

var statusNames = [...]string{"open", "acknowledged", "closed"}

// String returns the state's name as stored and shown in the API.
func (s AlertStatus) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("AlertStatus(%d)", int(s))
}

// ParseAlertStatus returns the state named by s.
func ParseAlertStatus(s string) (AlertStatus, error) {
	for i, name := range statusNames {
		if name == s {
			return AlertStatus(i), nil
		}
	}
	return 0, fmt.Errorf("invalid alert status %q: expected open, acknowledged or closed", s)
}

// Alert is raised by a detection rule. Repeated matches with the same
// GroupKey while the alert is not closed raise Count instead of new alerts.
type Alert struct {
	// ID is derived from GroupKey and FirstSeen, so it is stable across
	// replays of the same events.
	ID string `json:"id"`
	// GroupKey is the rule id plus the values that identify "the same
	// thing happening again" (for example the source IP of a brute force).
	GroupKey string `json:"group_key"`
	// RuleID, RuleName and Level come from the rule.
	RuleID   string `json:"rule_id"`
	RuleName string `json:"rule_name"`
	Level    string `json:"level"`
	// Status is the workflow state; Reason is the text given when closing.
	Status AlertStatus `json:"-"`
	Reason string      `json:"reason,omitempty"`
	// Region is observer.geo.name of the first matching event.
	Region string `json:"region,omitempty"`
	// FirstSeen and LastSeen are event times of the first and last match.
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	// Count is the number of matches folded into this alert.
	Count int `json:"count"`
	// EventIDs lists the matching events, at most MaxAlertEvents of them.
	EventIDs []string `json:"event_ids"`
	// Tags are the rule's tags (ATT&CK tactics and techniques among them).
	Tags []string `json:"tags,omitempty"`
	// Tactics and Techniques are the ATT&CK tactics and technique ids
	// (T1110, T1059.001) named by the rule's tags.
	Tactics    []Tactic `json:"tactics,omitempty"`
	Techniques []string `json:"techniques,omitempty"`
	// FalsePositives are the rule author's notes on harmless causes of a
	// match, for the analyst who triages the alert.
	FalsePositives []string `json:"falsepositives,omitempty"`
	// RuleStatus is the rule's maturity (stable, test, experimental, ...).
	RuleStatus string `json:"rule_status,omitempty"`
	// Fields are the key fields of the matching event (source.ip,
	// user.name, host.name and the like), flat.
	Fields Fields `json:"fields,omitempty"`
	// UpdatedAt is the wall-clock time of the last change.
	UpdatedAt time.Time `json:"updated_at"`
}

// MaxAlertEvents bounds the event ids one alert keeps; Count still counts
// every match.
const MaxAlertEvents = 100

// AlertID returns the deterministic id of the alert for a group key and the
// event time of its first match.
func AlertID(groupKey string, firstSeen time.Time) string {
	h := sha256.New()
	h.Write([]byte(groupKey))
	h.Write([]byte{0})
	h.Write([]byte(firstSeen.UTC().Format(time.RFC3339Nano)))
	return encodeID(h.Sum(nil))
}

// Tactic is a MITRE ATT&CK tactic, as ECS threat.tactic.id and
// threat.tactic.name carry it.
type Tactic struct {
	// ID is the tactic's ATT&CK id, for example TA0006.
	ID string `json:"id"`
	// Name is the tactic's ATT&CK name, for example Credential Access.
	Name string `json:"name"`
}
