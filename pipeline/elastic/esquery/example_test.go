package esquery_test

import (
	"encoding/json"
	"fmt"

	"github.com/canhgac/canhgac/pipeline/elastic/esquery"
)

func ExampleCompileString() {
	query, err := esquery.CompileString("user.name:root and source.ip:10.0.0.0/8 and not winlog.event_id:4624")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := json.Marshal(map[string]any{"query": query})
	fmt.Println(string(body))
	// Output:
	// {"query":{"bool":{"filter":[{"term":{"user.name":"root"}},{"term":{"source.ip":"10.0.0.0/8"}},{"bool":{"must_not":[{"term":{"winlog.event_id":"4624"}}]}}]}}}
}
