package crosscheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/canhgac/canhgac/ecs"
)

// esClient sends JSON requests to one Elasticsearch node.
type esClient struct {
	base string
	http *http.Client
}

func newESClient(base string) *esClient {
	return &esClient{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 60 * time.Second}}
}

// do sends body (JSON-encoded unless it is []byte) and decodes a 2xx
// response into out. Any other status is an error carrying the response.
func (c *esClient) do(method, path string, body any, contentType string, out any) error {
	var payload io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		payload = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		payload = bytes.NewReader(data)
	}

	req, err := http.NewRequest(method, c.base+path, payload)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if contentType == "" {
		contentType = "application/json"
	}
	req.Header.Set("Content-Type", contentType)

	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read response of %s %s: %w", method, path, err)
	}

	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, truncate(string(data), 600))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode response of %s %s: %w", method, path, err)
	}
	return nil
}

// caselessKeyword is a keyword with the .caseless multi-field that
// ecs_windows queries for executables: a keyword lower-cased by the
// built-in lowercase normalizer, so a wildcard query on it ignores case.
var caselessKeyword = map[string]any{
	"type": "keyword",
	"fields": map[string]any{
		"caseless": map[string]any{"type": "keyword", "normalizer": "lowercase"},
	},
}

// ipField is an ECS ip field, which the cidr modifier needs: the backend
// writes field:10.0.0.0\/8, a range only on the ip type.
var ipField = map[string]any{"type": "ip"}

// indexSettings creates a one-shard index without replicas, so a single
// test node reports it green. defaultFields is index.query.default_field,
// the fields that a query_string term without a field name searches.
//
// The Lucene backend writes a Sigma keyword search as such a term
// (*value*). With the default of all fields, ES 8.17 builds a wildcard
// automaton for every keyword field of the index, and on the Linux logs
// (hundreds of fields) that exhausted a 512 MB heap and killed the node.
// Beats' index templates set a list of default fields as well.
//
// The mapping has subobjects: false, so every dotted name is one leaf
// field and documents are indexed flat (see flatDocument). With object
// mappings one index cannot hold canhgac's auditd events, because one event
// may carry the value auditd.log.proctitle and another the value
// auditd.log.proctitle.proctitle, and ES then needs proctitle to be both a
// keyword and an object. Field names in queries resolve the same either way.
//
// Every string becomes a keyword, as in Winlogbeat's index template, which
// maps winlog.event_data.* to keyword. query_string then matches whole
// values and wildcards, case-sensitively, as the Lucene backend expects.
// ignore_above 8191 keeps a value of up to 8191 characters within Lucene's
// limit of 32766 bytes per term (UTF-8 takes at most 4 bytes per
// character). ECS templates use 1024 for most keywords, and the wildcard
// type, which this node lacks, for process.command_line.
func indexSettings(defaultFields []string) map[string]any {
	return map[string]any{
		"settings": map[string]any{
			"number_of_shards":          1,
			"number_of_replicas":        0,
			"index.query.default_field": defaultFields,
		},
		"mappings": map[string]any{
			"subobjects": false,
			"dynamic_templates": []any{
				map[string]any{"strings_as_keywords": map[string]any{
					"match_mapping_type": "string",
					"mapping":            map[string]any{"type": "keyword", "ignore_above": 8191},
				}},
			},
			"properties": map[string]any{
				"@timestamp":                map[string]any{"type": "date"},
				"event.code":                map[string]any{"type": "keyword"},
				"process.executable":        caselessKeyword,
				"process.name":              caselessKeyword,
				"process.pid":               map[string]any{"type": "long"},
				"process.parent.executable": caselessKeyword,
				"process.parent.name":       caselessKeyword,
				"process.parent.pid":        map[string]any{"type": "long"},
				"source.ip":                 ipField,
				"destination.ip":            ipField,
				"source.port":               map[string]any{"type": "long"},
				"destination.port":          map[string]any{"type": "long"},
			},
		},
	}
}

// flatDocument is an event document with dotted names at the top level,
// for the subobjects: false mapping of indexSettings.
func flatDocument(ev *ecs.Event) map[string]any {
	return map[string]any(ecs.Flatten(ev.Document()))
}

// bulkIndex indexes docs under their ids and refreshes the index.
func (c *esClient) bulkIndex(index string, ids []string, docs []map[string]any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for i, doc := range docs {
		if err := enc.Encode(map[string]any{"index": map[string]any{"_index": index, "_id": ids[i]}}); err != nil {
			return err
		}
		if err := enc.Encode(doc); err != nil {
			return fmt.Errorf("encode document %s: %w", ids[i], err)
		}
	}
	var resp struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			ID     string          `json:"_id"`
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if err := c.do(http.MethodPost, "/_bulk?refresh=true", buf.Bytes(), "application/x-ndjson", &resp); err != nil {
		return err
	}
	if resp.Errors {
		for _, item := range resp.Items {
			for _, r := range item {
				if r.Status/100 != 2 {
					return fmt.Errorf("bulk index: document %s: HTTP %d: %s", r.ID, r.Status, r.Error)
				}
			}
		}
		return fmt.Errorf("bulk index: response reports errors but no failed item")
	}
	if len(resp.Items) != len(docs) {
		return fmt.Errorf("bulk index: %d items in the response for %d documents", len(resp.Items), len(docs))
	}
	return nil
}

// searchIDs runs query on index and returns the ids of all hits.
func (c *esClient) searchIDs(index string, query json.RawMessage, limit int) ([]string, error) {
	body := map[string]any{
		"query":            query,
		"size":             limit,
		"_source":          false,
		"track_total_hits": true,
	}
	var resp struct {
		Hits struct {
			Total struct {
				Value int `json:"value"`
			} `json:"total"`
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := c.do(http.MethodPost, "/"+index+"/_search", body, "", &resp); err != nil {
		return nil, err
	}
	if resp.Hits.Total.Value > len(resp.Hits.Hits) {
		return nil, fmt.Errorf("search: %d hits, more than the %d returned", resp.Hits.Total.Value, len(resp.Hits.Hits))
	}
	ids := make([]string, 0, len(resp.Hits.Hits))
	for _, h := range resp.Hits.Hits {
		ids = append(ids, h.ID)
	}
	return ids, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
