package elastic

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
)

// maxMatchKeys bounds the match keys an alert document keeps to recognize
// a replayed detection.
//
// NOTE: a detection replayed after more than maxMatchKeys later matches
// of the same alert is counted again.
const maxMatchKeys = 1000

// maxFoldAttempts bounds the retries of one group after concurrent
// changes (another writer or an analyst changed the same alert).
const maxFoldAttempts = 50

// ErrNotFound is wrapped by errors for an unknown alert or event id.
var ErrNotFound = errors.New("not found")

// errConflict means a document changed between read and write; the fold
// starts again from the read.
var errConflict = errors.New("document changed concurrently")

// historyEntry is one status change of an alert.
type historyEntry struct {
	At     string `json:"at"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason,omitempty"`
	Actor  string `json:"actor"`
}

// alertDoc is the stored form of an alert.
type alertDoc struct {
	ID        string   `json:"id"`
	GroupKey  string   `json:"group_key"`
	Status    string   `json:"status"`
	Reason    string   `json:"reason,omitempty"`
	Assignee  string   `json:"assignee,omitempty"`
	Region    string   `json:"region,omitempty"`
	FirstSeen string   `json:"first_seen"`
	LastSeen  string   `json:"last_seen"`
	UpdatedAt string   `json:"updated_at"`
	Count     int64    `json:"count"`
	EventIDs  []string `json:"event_ids"`
	Tags      []string `json:"tags"`
	Rule      struct {
		ID             string   `json:"id"`
		Name           string   `json:"name"`
		Level          string   `json:"level"`
		FalsePositives []string `json:"falsepositives,omitempty"`
		Status         string   `json:"status,omitempty"`
	} `json:"rule"`
	Threat struct {
		Tactic struct {
			ID   []string `json:"id,omitempty"`
			Name []string `json:"name,omitempty"`
		} `json:"tactic"`
		Technique struct {
			ID []string `json:"id,omitempty"`
		} `json:"technique"`
	} `json:"threat"`
	History   []historyEntry `json:"history"`
	Fields    map[string]any `json:"fields,omitempty"`
	MatchKeys []string       `json:"match_keys"`
}

// version identifies one state of a document for optimistic concurrency.
type version struct {
	seqNo, primaryTerm int64
}

// query returns the if_seq_no/if_primary_term parameters.
func (v version) query() string {
	return "?if_seq_no=" + strconv.FormatInt(v.seqNo, 10) + "&if_primary_term=" + strconv.FormatInt(v.primaryTerm, 10)
}

// groupDoc points from a group key to the alert that counts its
// detections now.
type groupDoc struct {
	GroupKey string `json:"group_key"`
	AlertID  string `json:"alert_id"`
}

func formatTime(t time.Time) string { return t.UTC().Format(ecs.TimeFormat) }

func parseTime(s string) time.Time {
	t, err := ecs.ParseTime(s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// groupScope returns what one group pointer stands for: a group key within
// a region. Regions share the alerts index of a cluster, and the same rule
// matching the same host name in two regions raises an alert in each.
func (s *Store) groupScope(region, groupKey string) string {
	if region == "" {
		region = s.opts.Region
	}
	return region + "\x00" + groupKey
}

// groupDocID returns the id of a group's pointer document.
func groupDocID(groupKey string) string {
	sum := sha256.Sum256([]byte(groupKey))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// matchKey identifies one detection: the rule and its first event, or its
// event time when it has no events.
func matchKey(d *pipeline.Detection) string {
	key := d.Time.UTC().Format(time.RFC3339Nano)
	if len(d.EventIDs) > 0 {
		key = d.EventIDs[0]
	}
	return d.RuleID + "\x00" + key
}

// getDoc reads one document in real time. found is false for a missing
// document or index.
func (s *Store) getDoc(ctx context.Context, index, id string, into any) (v version, found bool, err error) {
	path := "/" + index + "/_doc/" + url.PathEscape(id)
	status, body, err := s.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return v, false, err
	}
	if status == http.StatusNotFound {
		return v, false, nil
	}
	if status != http.StatusOK {
		return v, false, s.statusError("GET "+path, status, body)
	}
	var r struct {
		SeqNo       int64           `json:"_seq_no"`
		PrimaryTerm int64           `json:"_primary_term"`
		Found       bool            `json:"found"`
		Source      json.RawMessage `json:"_source"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return v, false, fmt.Errorf("decode %s: %w", path, err)
	}
	if !r.Found {
		return v, false, nil
	}
	if err := json.Unmarshal(r.Source, into); err != nil {
		return v, false, fmt.Errorf("decode source of %s: %w", path, err)
	}
	return version{r.SeqNo, r.PrimaryTerm}, true, nil
}

// putDoc writes a document: with create it must not exist, with a
// version it must still be at that version, otherwise it is overwritten.
// A version conflict returns errConflict.
func (s *Store) putDoc(ctx context.Context, index, id string, doc any, create bool, v *version) error {
	path := "/" + index + "/_doc/" + url.PathEscape(id)
	switch {
	case create:
		path = "/" + index + "/_create/" + url.PathEscape(id)
	case v != nil:
		path += v.query()
	}
	status, body, err := s.doJSON(ctx, http.MethodPut, path, doc)
	if err != nil {
		return err
	}
	switch status {
	case http.StatusOK, http.StatusCreated:
		return nil
	case http.StatusConflict:
		return errConflict
	}
	return s.statusError("PUT "+path, status, body)
}

// foldDetections counts detections into alerts, one group key at a time
// in the order the groups first appear.
func (s *Store) foldDetections(ctx context.Context, ds []pipeline.Detection) error {
	if len(ds) == 0 {
		return nil
	}
	var order []string
	groups := map[string][]*pipeline.Detection{}
	for i := range ds {
		d := &ds[i]
		if d.RuleID == "" || d.GroupKey == "" {
			return fmt.Errorf("detection of rule %q has no rule id or group key", d.RuleName)
		}
		if d.Time.IsZero() {
			return fmt.Errorf("detection of rule %s has no event time", d.RuleID)
		}
		scope := s.groupScope(d.Region, d.GroupKey)
		if _, ok := groups[scope]; !ok {
			order = append(order, scope)
		}
		groups[scope] = append(groups[scope], d)
	}
	for _, scope := range order {
		if err := s.foldGroup(ctx, scope, groups[scope]); err != nil {
			return err
		}
	}
	return nil
}

// foldGroup counts the detections of one group, starting again when a
// concurrent change wins.
func (s *Store) foldGroup(ctx context.Context, scope string, ds []*pipeline.Detection) error {
	for attempt := 1; ; attempt++ {
		err := s.tryFold(ctx, scope, ds)
		if !errors.Is(err, errConflict) {
			return err
		}
		if attempt == maxFoldAttempts {
			return fmt.Errorf("fold detections of group %s: alert changed concurrently %d times", ds[0].GroupKey, attempt)
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("fold detections of group %s: %w", ds[0].GroupKey, err)
		}
	}
}

// tryFold reads the group's pointer and alert, and either updates the
// alert (open or acknowledged) or opens a new one. The pointer is claimed
// before the new alert is created, so two writers never open two alerts
// for one group; a pointer to an alert that does not exist (a writer
// stopped between the two steps) is completed by the next fold.
func (s *Store) tryFold(ctx context.Context, scope string, ds []*pipeline.Detection) error {
	key := ds[0].GroupKey
	var ptr groupDoc
	ptrVersion, hasPtr, err := s.getDoc(ctx, GroupsIndex, groupDocID(scope), &ptr)
	if err != nil {
		return err
	}
	var cur alertDoc
	var curVersion version
	hasAlert := false
	if hasPtr {
		curVersion, hasAlert, err = s.getDoc(ctx, AlertsIndex, ptr.AlertID, &cur)
		if err != nil {
			return err
		}
	}
	pending := ds
	if hasAlert {
		pending = unseen(&cur, ds)
	}
	if len(pending) == 0 {
		return nil // every detection is a replay
	}
	now := s.now()
	if hasAlert && cur.Status != ecs.StatusClosed.String() {
		for _, d := range pending {
			addDetection(&cur, d)
		}
		cur.UpdatedAt = formatTime(now)
		return s.putDoc(ctx, AlertsIndex, cur.ID, &cur, false, &curVersion)
	}
	if hasPtr && !hasAlert {
		// The pointer was claimed but the alert never written.
		a := newAlert(ptr.AlertID, key, pending, now, s.opts.Region)
		return s.putDoc(ctx, AlertsIndex, a.ID, a, true, nil)
	}
	id, err := s.newAlertID(ctx, key, pending[0].Time)
	if err != nil {
		return err
	}
	claim := groupDoc{GroupKey: key, AlertID: id}
	if hasPtr {
		err = s.putDoc(ctx, GroupsIndex, groupDocID(scope), &claim, false, &ptrVersion)
	} else {
		err = s.putDoc(ctx, GroupsIndex, groupDocID(scope), &claim, true, nil)
	}
	if err != nil {
		return err
	}
	return s.putDoc(ctx, AlertsIndex, id, newAlert(id, key, pending, now, s.opts.Region), true, nil)
}

// newAlertID returns ecs.AlertID of the group and time. When an alert
// already has that id (a closed alert that opened at the same event
// time), the group key is suffixed with "#2", "#3", ... as the embedded
// store does, so the id stays deterministic for the same history.
func (s *Store) newAlertID(ctx context.Context, key string, first time.Time) (string, error) {
	k := key
	for n := 2; ; n++ {
		id := ecs.AlertID(k, first)
		var existing alertDoc
		_, found, err := s.getDoc(ctx, AlertsIndex, id, &existing)
		if err != nil {
			return "", err
		}
		if !found {
			return id, nil
		}
		k = key + "#" + strconv.Itoa(n)
	}
}

// unseen returns the detections whose match key the alert has not counted.
func unseen(a *alertDoc, ds []*pipeline.Detection) []*pipeline.Detection {
	var out []*pipeline.Detection
	for _, d := range ds {
		if !slices.Contains(a.MatchKeys, matchKey(d)) {
			out = append(out, d)
		}
	}
	return out
}

// newAlert opens an alert for detections of one group. Its region is that
// of the first detection, or the store's when the detection has none.
func newAlert(id, key string, ds []*pipeline.Detection, now time.Time, region string) *alertDoc {
	first := ds[0]
	if first.Region != "" {
		region = first.Region
	}
	a := &alertDoc{
		ID:        id,
		GroupKey:  key,
		Status:    ecs.StatusOpen.String(),
		Region:    region,
		FirstSeen: formatTime(first.Time),
		LastSeen:  formatTime(first.Time),
		EventIDs:  []string{},
		Tags:      slices.Clone(first.Tags),
		History:   []historyEntry{},
		MatchKeys: []string{},
	}
	if a.Tags == nil {
		a.Tags = []string{}
	}
	a.Rule.ID, a.Rule.Name, a.Rule.Level = first.RuleID, first.RuleName, first.Level
	a.Rule.FalsePositives, a.Rule.Status = first.FalsePositives, first.RuleStatus
	for _, t := range first.Tactics {
		a.Threat.Tactic.ID = append(a.Threat.Tactic.ID, t.ID)
		a.Threat.Tactic.Name = append(a.Threat.Tactic.Name, t.Name)
	}
	a.Threat.Technique.ID = first.Techniques
	if len(first.Fields) > 0 {
		a.Fields = map[string]any(first.Fields)
	}
	for _, d := range ds {
		addDetection(a, d)
	}
	a.UpdatedAt = formatTime(now)
	return a
}

// addDetection counts one detection into the alert.
func addDetection(a *alertDoc, d *pipeline.Detection) {
	a.Count++
	if t := parseTime(a.FirstSeen); d.Time.Before(t) {
		a.FirstSeen = formatTime(d.Time)
	}
	if t := parseTime(a.LastSeen); d.Time.After(t) {
		a.LastSeen = formatTime(d.Time)
	}
	for _, id := range d.EventIDs {
		if len(a.EventIDs) >= ecs.MaxAlertEvents {
			break
		}
		if !slices.Contains(a.EventIDs, id) {
			a.EventIDs = append(a.EventIDs, id)
		}
	}
	a.MatchKeys = append(a.MatchKeys, matchKey(d))
	if len(a.MatchKeys) > maxMatchKeys {
		a.MatchKeys = a.MatchKeys[len(a.MatchKeys)-maxMatchKeys:]
	}
}

// toAlert converts the stored form.
func (a *alertDoc) toAlert() ecs.Alert {
	out := ecs.Alert{
		ID:        a.ID,
		GroupKey:  a.GroupKey,
		RuleID:    a.Rule.ID,
		RuleName:  a.Rule.Name,
		Level:     a.Rule.Level,
		Reason:    a.Reason,
		Region:    a.Region,
		FirstSeen: parseTime(a.FirstSeen),
		LastSeen:  parseTime(a.LastSeen),
		UpdatedAt: parseTime(a.UpdatedAt),
		Count:     int(a.Count),
		EventIDs:  a.EventIDs,
		Tags:      a.Tags,

		Techniques:     a.Threat.Technique.ID,
		FalsePositives: a.Rule.FalsePositives,
		RuleStatus:     a.Rule.Status,
	}
	for i, id := range a.Threat.Tactic.ID {
		t := ecs.Tactic{ID: id}
		if i < len(a.Threat.Tactic.Name) {
			t.Name = a.Threat.Tactic.Name[i]
		}
		out.Tactics = append(out.Tactics, t)
	}
	if st, err := ecs.ParseAlertStatus(a.Status); err == nil {
		out.Status = st
	}
	if out.EventIDs == nil {
		out.EventIDs = []string{}
	}
	if len(a.Fields) > 0 {
		out.Fields = ecs.Fields{}
		for k, v := range a.Fields {
			out.Fields[k] = ecs.NormalizeValue(v)
		}
	}
	return out
}
