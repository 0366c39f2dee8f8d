package elastic

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/canhgac/canhgac/pipeline/elastic/esquery"
)

// Names of the templates and lifecycle policies that Setup installs.
const (
	componentMappings   = "canhgac-ecs-mappings"
	componentSystem     = "canhgac-logs-settings"
	componentAudit      = "canhgac-audit-settings"
	templateLogs        = "canhgac-logs"
	templateAudit       = "canhgac-logs-audit"
	templateDeadLetters = "canhgac-deadletter"
	policySystem        = "canhgac-logs"
	policyAudit         = "canhgac-audit"
)

// Template priorities: Elasticsearch rejects two templates of the same
// priority whose patterns overlap, and the highest priority wins.
const (
	priorityLogs        = 200
	priorityAudit       = 210
	priorityDeadLetters = 220
)

// Setup creates or updates the lifecycle policies (when the cluster has
// ILM), the component and index templates of the event and dead-letter
// data streams, and the alert indices. Running it again changes nothing
// but updated settings; New calls it.
func (s *Store) Setup(ctx context.Context) error {
	if err := s.setup(ctx); err != nil {
		return &Error{Key: "elastic.setup", Args: []any{s.url}, Err: err}
	}
	return nil
}

func (s *Store) setup(ctx context.Context) error {
	ilm, err := s.installPolicies(ctx)
	if err != nil {
		return err
	}
	s.hasILM.Store(ilm)
	if !ilm {
		s.log.Info("cluster has no ILM: the store's retention job rolls over and deletes backing indices",
			"url", s.url, "system_retention_days", s.opts.SystemRetentionDays, "audit_retention_days", s.opts.AuditRetentionDays)
	}
	components := map[string]map[string]any{
		componentMappings: {"template": map[string]any{"mappings": streamMapping()}},
		componentSystem:   {"template": map[string]any{"settings": s.indexSettings(policySystem)}},
		componentAudit:    {"template": map[string]any{"settings": s.indexSettings(policyAudit)}},
	}
	for _, name := range []string{componentMappings, componentSystem, componentAudit} {
		if err := s.put(ctx, "/_component_template/"+name, components[name]); err != nil {
			return err
		}
	}
	templates := []struct {
		name string
		body map[string]any
	}{
		{templateLogs, map[string]any{
			"index_patterns": []string{"logs-*-*"},
			"data_stream":    map[string]any{},
			"priority":       priorityLogs,
			"composed_of":    []string{componentMappings, componentSystem},
			"_meta":          map[string]any{"managed_by": "canhgac", "description": "ECS events of every dataset and region"},
		}},
		{templateAudit, map[string]any{
			"index_patterns": s.auditPatterns(),
			"data_stream":    map[string]any{},
			"priority":       priorityAudit,
			"composed_of":    []string{componentMappings, componentAudit},
			"_meta":          map[string]any{"managed_by": "canhgac", "description": "audit data, kept longer"},
		}},
		{templateDeadLetters, map[string]any{
			"index_patterns": []string{deadLetterStreams},
			"data_stream":    map[string]any{},
			"priority":       priorityDeadLetters,
			"composed_of":    []string{componentSystem},
			"template":       map[string]any{"mappings": deadLetterMapping()},
			"_meta":          map[string]any{"managed_by": "canhgac", "description": "inputs that could not be parsed or indexed, kept whole with the reason"},
		}},
	}
	for _, t := range templates {
		if err := s.put(ctx, "/_index_template/"+t.name, t.body); err != nil {
			return err
		}
	}
	if err := s.ensureIndex(ctx, AlertsIndex, alertMapping()); err != nil {
		return err
	}
	return s.ensureIndex(ctx, GroupsIndex, groupMapping())
}

// indexSettings returns the settings of backing indices. They name the
// lifecycle policy only when the cluster has ILM, because a cluster
// without it rejects the setting as unknown.
func (s *Store) indexSettings(policy string) map[string]any {
	settings := map[string]any{
		"number_of_shards":   s.opts.Shards,
		"number_of_replicas": s.opts.Replicas,
	}
	if s.hasILM.Load() {
		settings["index.lifecycle.name"] = policy
	}
	return settings
}

// installPolicies puts the lifecycle policies and reports whether the
// cluster has ILM. A cluster without it responds to /_ilm with 400 (no
// handler), 404 or 405.
func (s *Store) installPolicies(ctx context.Context) (bool, error) {
	policies := []struct {
		name string
		days int
	}{{policySystem, s.opts.SystemRetentionDays}, {policyAudit, s.opts.AuditRetentionDays}}
	for _, p := range policies {
		body := map[string]any{"policy": map[string]any{
			"_meta": map[string]any{"managed_by": "canhgac"},
			"phases": map[string]any{
				"hot": map[string]any{"actions": map[string]any{"rollover": map[string]any{
					"max_age":                s.opts.RolloverMaxAge.String(),
					"max_primary_shard_size": strconv.FormatInt(s.opts.RolloverMaxPrimaryMB, 10) + "mb",
				}}},
				"delete": map[string]any{
					"min_age": strconv.Itoa(p.days) + "d",
					"actions": map[string]any{"delete": map[string]any{}},
				},
			},
		}}
		status, resp, err := s.doJSON(ctx, http.MethodPut, "/_ilm/policy/"+p.name, body)
		if err != nil {
			return false, err
		}
		switch {
		case status == http.StatusOK:
		case status == http.StatusBadRequest || status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
			if e := parseError(resp); e != nil && e.Type != "error" && status == http.StatusBadRequest {
				// A 400 with a structured error is a rejected policy, not a
				// missing API.
				return false, s.statusError("PUT /_ilm/policy/"+p.name, status, resp)
			}
			return false, nil
		default:
			return false, s.statusError("PUT /_ilm/policy/"+p.name, status, resp)
		}
	}
	return true, nil
}

// put sends a PUT whose response must be 200 OK.
func (s *Store) put(ctx context.Context, path string, body any) error {
	status, resp, err := s.doJSON(ctx, http.MethodPut, path, body)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return s.statusError("PUT "+path, status, resp)
	}
	return nil
}

// ensureIndex creates an index with a mapping, or adds new fields of the
// mapping to an existing one.
func (s *Store) ensureIndex(ctx context.Context, name string, mapping map[string]any) error {
	body := map[string]any{
		"settings": map[string]any{"number_of_shards": s.opts.Shards, "number_of_replicas": s.opts.Replicas},
		"mappings": mapping,
	}
	status, resp, err := s.doJSON(ctx, http.MethodPut, "/"+name, body)
	if err != nil {
		return err
	}
	if status == http.StatusOK {
		return nil
	}
	if e := parseError(resp); e == nil || e.Type != "resource_already_exists_exception" {
		return s.statusError("PUT /"+name, status, resp)
	}
	if err := s.put(ctx, "/"+name+"/_mapping", mapping); err != nil {
		return err
	}
	return s.put(ctx, "/"+name+"/_settings", map[string]any{"index": map[string]any{"number_of_replicas": s.opts.Replicas}})
}

// keyword is the mapping of an exact-match string field.
var keyword = map[string]any{"type": "keyword"}

// storedOnly keeps a string in _source without indexing it, so values of
// any length are accepted.
var storedOnly = map[string]any{"type": "keyword", "index": false, "doc_values": false}

// streamMapping returns esquery's event mapping as data streams accept
// it: their @timestamp field may not set ignore_malformed (Elasticsearch
// 8.17 rejects the template), so an event with an invalid time fails and
// goes to the dead-letter stream instead of being stored without one.
func streamMapping() map[string]any {
	m := esquery.Mapping()
	if props, ok := m["properties"].(map[string]any); ok {
		if ts, ok := props["@timestamp"].(map[string]any); ok {
			delete(ts, "ignore_malformed")
		}
	}
	return m
}

// deadLetterMapping maps the dead-letter documents: the raw input is kept
// in _source only, the reason is searchable.
func deadLetterMapping() map[string]any {
	return map[string]any{
		"dynamic": false,
		"properties": map[string]any{
			"@timestamp": map[string]any{"type": "date_nanos"},
			"canhgac": map[string]any{"properties": map[string]any{
				"source_id":  keyword,
				"raw_base64": storedOnly,
				"stage":      keyword,
			}},
			"log":   map[string]any{"properties": map[string]any{"offset": map[string]any{"type": "long"}}},
			"event": map[string]any{"properties": map[string]any{"original": storedOnly, "id": keyword, "dataset": keyword}},
			"error": map[string]any{"properties": map[string]any{
				"message": map[string]any{"type": "text"},
				"type":    keyword,
			}},
			"observer": map[string]any{"properties": map[string]any{"geo": map[string]any{"properties": map[string]any{"name": keyword}}}},
		},
	}
}

// alertMapping maps alert documents.
func alertMapping() map[string]any {
	date := map[string]any{"type": "date_nanos"}
	return map[string]any{
		"dynamic": false,
		"properties": map[string]any{
			"id":         keyword,
			"group_key":  keyword,
			"status":     keyword,
			"reason":     map[string]any{"type": "text"},
			"assignee":   keyword,
			"region":     keyword,
			"first_seen": date,
			"last_seen":  date,
			"updated_at": date,
			"count":      map[string]any{"type": "long"},
			"event_ids":  keyword,
			"tags":       keyword,
			"rule": map[string]any{"properties": map[string]any{
				"id":             keyword,
				"name":           keyword,
				"level":          keyword,
				"falsepositives": keyword,
				"status":         keyword,
			}},
			"threat": map[string]any{"properties": map[string]any{
				"tactic":    map[string]any{"properties": map[string]any{"id": keyword, "name": keyword}},
				"technique": map[string]any{"properties": map[string]any{"id": keyword}},
			}},
			"history": map[string]any{"properties": map[string]any{
				"at":     date,
				"from":   keyword,
				"to":     keyword,
				"reason": map[string]any{"type": "text"},
				"actor":  keyword,
			}},
			"fields":     map[string]any{"type": "object", "enabled": false},
			"match_keys": storedOnly,
		},
	}
}

// groupMapping maps the group pointer documents.
func groupMapping() map[string]any {
	return map[string]any{
		"dynamic": false,
		"properties": map[string]any{
			"group_key": keyword,
			"alert_id":  keyword,
		},
	}
}

// String returns a short description for logs.
func (s *Store) String() string {
	return fmt.Sprintf("elasticsearch store %s (region %s)", s.url, s.opts.Region)
}
