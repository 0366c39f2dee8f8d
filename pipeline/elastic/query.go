package elastic

import (
	"fmt"

	"github.com/canhgac/canhgac/pipeline/kql"
)

// TODO: replace with esquery.Compile and esquery.Mapping once that package
// is committed; until then only match-all, "and" and exact field values
// compile.
func compileQuery(n kql.Node) (map[string]any, error) {
	switch n := n.(type) {
	case nil, kql.MatchAll:
		return map[string]any{"match_all": map[string]any{}}, nil
	case *kql.And:
		var terms []any
		for _, t := range n.Terms {
			q, err := compileQuery(t)
			if err != nil {
				return nil, err
			}
			terms = append(terms, q)
		}
		return map[string]any{"bool": map[string]any{"filter": terms}}, nil
	case *kql.Is:
		if n.Field != "" && !n.Value.Wildcard() {
			return map[string]any{"term": map[string]any{n.Field: n.Value.Text}}, nil
		}
	}
	return nil, fmt.Errorf("query %s: not supported yet", n)
}

func eventMapping() map[string]any {
	return map[string]any{
		"dynamic_templates": []any{
			map[string]any{"ips": map[string]any{"match": "*ip", "match_mapping_type": "string", "mapping": map[string]any{"type": "ip"}}},
			map[string]any{"strings": map[string]any{"match_mapping_type": "string", "mapping": map[string]any{"type": "keyword", "ignore_above": 1024}}},
		},
		"properties": map[string]any{
			"@timestamp": map[string]any{"type": "date_nanos"},
			"message":    map[string]any{"type": "text"},
			"event": map[string]any{"properties": map[string]any{
				"original": map[string]any{"type": "text"},
				"ingested": map[string]any{"type": "date"},
				"created":  map[string]any{"type": "date"},
			}},
		},
	}
}
