package esquery

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/internal/itest"
	"github.com/canhgac/canhgac/pipeline/kql"
	"github.com/canhgac/canhgac/pipeline/kql/kqltest"
	"github.com/canhgac/canhgac/sensors/logparse"
	"github.com/canhgac/canhgac/sensors/packet"
)

const sharedData = "../../../../shared/data"

// longWord is one word of 300 characters, longer than the 255 characters
// up to which the whitespace analyzer keeps a word whole.
var longWord = strings.Repeat("ab", 150)

// longValue is a keyword value of 9000 characters, longer than the 8191
// that the mapping indexes.
var longValue = strings.Repeat("x", 9000)

// elasticEdgeEvents are events whose values Elasticsearch cannot treat as
// kql.Match does. TestConformanceElasticEdges lists the differences.
func elasticEdgeEvents() []*ecs.Event {
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	fields := []ecs.Fields{
		{"event.created": "1969-07-20T20:17:40Z"},
		{"message": "hash " + longWord},
		{"winlog.event_data.Count": int64(5)},
		{"winlog.event_data.Count": "many"},
		{"event.severity": "high"},
		{"event.original": `C:\Windows\System32\lsass.exe`},
		{"dns.answers": []any{map[string]any{"data": "192.0.2.1"}}},
		{"user.name": "", "winlog.event_data.Count": int64(12), "winlog.event_data.Note": "OR"},
		{"process.command_line": longValue},
	}
	events := make([]*ecs.Event, len(fields))
	for i, f := range fields {
		events[i] = &ecs.Event{ID: ecs.ContentID("es-edge", []byte{byte(i)}), Timestamp: base.Add(time.Duration(i) * time.Second),
			SourceID: "es-edge", Fields: f}
	}
	return events
}

// edgeDifferences are the queries whose Elasticsearch result differs from
// kql.Match, with the reason. Each runs over kqltest.EdgeEvents and
// elasticEdgeEvents. The test fails when such a query returns kql.Match's
// events after all, so the list stays true.
var edgeDifferences = map[string]string{
	"user.name:1001.0":                  "keyword fields index the number 1001 as the text 1001, and kql.Match compares numbers numerically",
	"1001":                              "free text finds the copy of the number 1001 in the keyword field user.name, and kql.Match's free text skips numbers",
	"event.created < 1970-01-01":        "date_nanos cannot hold times before 1970, so such a time is not indexed",
	"dns.answers.data:*":                "Elasticsearch indexes objects inside lists, and kql.Match does not look inside them",
	"message:" + longWord:               "the whitespace analyzer splits words longer than 255 characters",
	"winlog.event_data.Count:many":      "the first value made the dynamic field double, so a later string is not indexed",
	"event.severity:high":               "event.severity is mapped as double, so a string is not indexed",
	"message > m":                       "a range on a text field compares words, and kql.Match compares the whole text",
	"*.original:Lsass":                  "field name patterns search text fields with the standard analyzer, which keeps lsass.exe as one word",
	"user.*:100*":                       "the keyword field user.name holds the number 1001 as text, which a wildcard matches, and kql.Match matches no number with a wildcard",
	"process.command_line:" + longValue: "keyword values longer than 8191 characters are kept in _source but not indexed",
	"labels.flag < true":                "Elasticsearch orders false before true in a range on a boolean field, and kql.Match puts no boolean in a range",
	"winlog.event_data.Count < x":       "the first value made the dynamic field double, so a later string is not indexed",
	"winlog.event_data.Count > 6":       "the first value made the dynamic field double, so the later string many is not indexed, which kql.Match compares byte-wise",
}

// parsedQueries run over the events of the product's parsers in addition
// to kqltest.Queries.
var parsedQueries = []string{
	"event.action:ssh_login and event.outcome:failure",
	"event.dataset:network_traffic.*",
	"dns.question.name:*google*",
	"dns.question.type:A and not dns.response_code:NOERROR",
	"network.transport:udp",
	"http.request.method:GET and http.response.status_code >= 200",
	"url.original:*jpg",
	"google",
	"*.google.com",
	"destination.port:53",
	"destination.port < 1024 and not destination.port:(80 or 53)",
	"source.ip:172.16.0.0/12",
	"related.ip:*",
	"user.name:root",
	"process.name:sshd",
	"log.offset > 1000",
	`message:"authentication failure"`,
	"message:ruser",
	"event.original:*preauth*",
	"@timestamp >= 2010-07-16",
	"process.pid >= 20000",
	"source.* >= 50000",
	"*.port < 100",
	"*.ip:*",
	"destination.*:53",
}

// TestConformanceElastic runs the shared suite on a real Elasticsearch
// node: it creates an index with Mapping, indexes the fixture events as
// Document returns them, and expects Compile's queries to return the same
// events as kql.Match.
func TestConformanceElastic(t *testing.T) {
	es := newTestClient(t)
	events := kqltest.Events(t, sharedData)
	if len(events) < 800 {
		t.Fatalf("only %d fixture events; is %s present?", len(events), sharedData)
	}
	index := es.createIndex(t, "fixtures")
	es.bulkIndex(t, index, events)
	if n := runSuite(t, es, index, events, kqltest.Queries, nil); n < len(kqltest.Queries)/2 {
		t.Errorf("only %d of %d queries select a proper subset; the fixtures do not exercise the queries", n, len(kqltest.Queries))
	}
}

// edgeQueries run over the edge events and must agree with kql.Match.
var edgeQueries = []string{
	`user.name:""`, `user.*:""`, `""`, "user.name:*", "not user.name:*", "winlog.event_data.Count:5", "winlog.event_data.Count < 13",
	`winlog.event_data.Note:\OR`, `winlog.*:\OR`, `winlog.*:O*`,
	"*.name:Admin", "user.name > 1000",
	// The longest wildcard values that Compile accepts must run.
	"process.command_line:*" + strings.Repeat("a", 254) + "*",
	"process.command_line:" + strings.Repeat("*b", 128),
	"winlog.*:" + strings.Repeat("*c", 128),
	"message:" + strings.Repeat("*d", 128),
	strings.Repeat("*e", 128),
}

// TestConformanceElasticEdges runs edge queries that must agree with
// kql.Match, and checks that the known differences still occur.
func TestConformanceElasticEdges(t *testing.T) {
	es := newTestClient(t)
	events := append(kqltest.EdgeEvents(), elasticEdgeEvents()...)
	index := es.createIndex(t, "edges")
	es.bulkIndex(t, index, events)
	queries := slices.Clone(edgeQueries)
	for q := range edgeDifferences {
		queries = append(queries, q)
	}
	slices.Sort(queries)
	runSuite(t, es, index, events, queries, edgeDifferences)
}

// textFallbackDifferences are the queries whose result differs when
// documents lack Document's words, so that text fields are searched with
// the standard analyzer.
var textFallbackDifferences = map[string]string{
	"lsass":            "the standard analyzer keeps lsass.exe as one word",
	"173.234.31.186":   "the standard analyzer keeps an address as one word, and kql.Tokenize splits it into numbers",
	"message:pam_unix": "the standard analyzer keeps pam_unix as one word, and kql.Tokenize splits it at the underscore",
	"message:invalid user": "the standard analyzer reads user.vivozap.com.br in a host name as one word, " +
		"so its word user is not found",
}

// TestTextFallbackWithoutWords indexes events as ecs.Event.Document writes
// them, without the words of the text fields: text queries then use the
// standard analyzer, which agrees with kql.Match on plain words only.
func TestTextFallbackWithoutWords(t *testing.T) {
	es := newTestClient(t)
	events := append(kqltest.SSHEvents(t, sharedData, 300), kqltest.WindowsEvents(t, sharedData, 100)...)
	index := es.createIndex(t, "fallback")
	es.bulkIndexDocuments(t, index, events, (*ecs.Event).Document)
	queries := []string{
		"message:failed", "message:Failed", `message:"failed password"`, `message:"password failed"`,
		"message:fail*", "message:*", "LabSZ", "root", `"break-in attempt"`,
		"event.original:sshd", "not message:password",
	}
	for q := range textFallbackDifferences {
		queries = append(queries, q)
	}
	runSuite(t, es, index, events, queries, textFallbackDifferences)
}

// TestConformanceParsedEvents runs the suite over events that the
// product's parsers make from real logs and captures: sshd and PAM lines
// through logparse, DNS and HTTP packets through the packet sensor.
func TestConformanceParsedEvents(t *testing.T) {
	es := newTestClient(t)
	var events []*ecs.Event
	events = append(events, parseLogFile(t, "logs/linux/loghub/OpenSSH/OpenSSH_2k.log", 300)...)
	events = append(events, parseLogFile(t, "logs/linux/elastic-beats/auth_test.log", 200)...)
	events = append(events, parseLogFile(t, "logs/web/elastic-examples/apache_access_combined.log", 200)...)
	for _, p := range []string{"pcap/chrissanders-packets/arppoison.pcapng", "pcap/zeek-traces/http_get.pcap",
		"pcap/suricata-verify/dns-tcp-www-google-com/dns.pcap"} {
		events = append(events, readCapture(t, p)...)
	}
	if len(events) < 500 {
		t.Fatalf("only %d parsed events", len(events))
	}
	index := es.createIndex(t, "parsed")
	es.bulkIndex(t, index, events)
	queries := append(slices.Clone(kqltest.Queries), parsedQueries...)
	if n := runSuite(t, es, index, events, queries, nil); n < len(queries)/3 {
		t.Errorf("only %d of %d queries select a proper subset; the events do not exercise the queries", n, len(queries))
	}
}

// runSuite runs each query through Compile on the index and through
// kql.Match on the events, and expects the same events unless known lists
// the query with the reason for a difference. It returns how many queries
// select a proper, non-empty subset of the events.
func runSuite(t *testing.T, es *testClient, index string, events []*ecs.Event, queries []string, known map[string]string) int {
	t.Helper()
	selective := 0
	for _, q := range queries {
		t.Run(q, func(t *testing.T) {
			node, err := kql.Parse(q)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			dsl, err := Compile(node)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			var want []string
			for _, e := range events {
				if kql.Match(node, e) {
					want = append(want, e.ID)
				}
			}
			got := es.search(t, index, dsl, len(events)+1)
			slices.Sort(want)
			slices.Sort(got)
			reason, isKnown := known[q]
			equal := slices.Equal(got, want)
			switch {
			case !equal && !isKnown:
				t.Errorf("Elasticsearch returns %d events, Match %d; only in Elasticsearch: %v; only in Match: %v; query DSL: %s",
					len(got), len(want), firstMissing(got, want), firstMissing(want, got), jsonText(dsl))
			case !equal:
				t.Logf("known difference (%s): Elasticsearch returns %d events, Match %d", reason, len(got), len(want))
			case isKnown:
				t.Errorf("listed as a known difference (%s), but Elasticsearch returns Match's %d events: remove it from the list", reason, len(want))
			}
			if len(want) > 0 && len(want) < len(events) {
				selective++
			}
		})
	}
	return selective
}

func firstMissing(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, found := slices.BinarySearch(b, x); !found {
			out = append(out, x)
			if len(out) == 5 {
				break
			}
		}
	}
	return out
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func parseLogFile(t *testing.T, rel string, max int) []*ecs.Event {
	t.Helper()
	path := filepath.Join(sharedData, rel)
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open test data: %v", err)
	}
	defer f.Close()

	d, err := logparse.NewDecoder(logparse.FormatAuto, logparse.Options{
		Location: time.UTC, Reference: time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatalf("NewDecoder: %v", err)
	}
	source := "file:" + rel

	var events []*ecs.Event
	emit := func(r logparse.Record) {
		if r.Err != nil {
			return
		}
		events = append(events, &ecs.Event{ID: ecs.PositionID(source, uint64(r.Offset)), Timestamp: r.Timestamp,
			SourceID: source, Seq: uint64(len(events) + 1), Fields: r.Fields})
	}

	r := bufio.NewReader(f)
	var offset int64
	for n := 0; n < max; n++ {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 {
			d.Decode(logparse.Line{Data: line, Offset: offset, SourceID: source, Path: path}, emit)
			offset += int64(len(line))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
	}
	d.Flush(emit)
	return events
}

func readCapture(t *testing.T, rel string) []*ecs.Event {
	t.Helper()
	var events []*ecs.Event
	s := &packet.Sensor{Emit: func(e *ecs.Event) error {
		events = append(events, e)
		return nil
	}}
	if _, err := s.ReadFile(context.Background(), filepath.Join(sharedData, rel)); err != nil {
		t.Fatalf("read capture: %v", err)
	}
	return events
}

// testClient is the part of an Elasticsearch client the suite uses: create
// an index, bulk index, search.
type testClient struct {
	es *elasticsearch.Client
}

func newTestClient(t *testing.T) *testClient {
	t.Helper()
	url := itest.ElasticURL(t)
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{url}})
	if err != nil {
		t.Fatalf("Elasticsearch client for %s: %v", url, err)
	}
	return &testClient{es: es}
}

// createIndex creates a fresh index with Mapping and deletes it when the
// test ends.
func (c *testClient) createIndex(t *testing.T, suffix string) string {
	t.Helper()
	name := fmt.Sprintf("canhgac-esquery-test-%s-%d", suffix, time.Now().UnixNano())
	body := jsonText(map[string]any{
		"settings": map[string]any{"number_of_shards": 1, "number_of_replicas": 0},
		"mappings": Mapping(),
	})
	res, err := c.es.Indices.Create(name, c.es.Indices.Create.WithBody(strings.NewReader(body)))
	if err != nil {
		t.Fatalf("create index %s: %v", name, err)
	}
	defer res.Body.Close()
	if res.IsError() {
		t.Fatalf("create index %s: %s", name, res.String())
	}
	t.Cleanup(func() {
		res, err := c.es.Indices.Delete([]string{name})
		if err != nil {
			t.Errorf("delete index %s: %v", name, err)
			return
		}
		res.Body.Close()
	})
	return name
}

// bulkIndex indexes the events as Document returns them.
func (c *testClient) bulkIndex(t *testing.T, index string, events []*ecs.Event) {
	t.Helper()
	c.bulkIndexDocuments(t, index, events, Document)
}

// bulkIndexDocuments indexes the events with _id = event id and returns
// after a refresh (refresh=wait_for), so searches find them. Any rejected
// document fails the test with its reason.
func (c *testClient) bulkIndexDocuments(t *testing.T, index string, events []*ecs.Event, document func(*ecs.Event) map[string]any) {
	t.Helper()
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	for _, e := range events {
		if err := enc.Encode(map[string]any{"index": map[string]any{"_id": e.ID}}); err != nil {
			t.Fatalf("encode bulk action: %v", err)
		}
		if err := enc.Encode(document(e)); err != nil {
			t.Fatalf("encode event %s: %v", e.ID, err)
		}
	}

	res, err := c.es.Bulk(&body, c.es.Bulk.WithIndex(index), c.es.Bulk.WithRefresh("wait_for"))
	if err != nil {
		t.Fatalf("bulk index into %s: %v", index, err)
	}
	defer res.Body.Close()
	if res.IsError() {
		t.Fatalf("bulk index into %s: %s", index, res.String())
	}

	var out struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			ID     string          `json:"_id"`
			Status int             `json:"status"`
			Error  json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("decode bulk response: %v", err)
	}
	if len(out.Items) != len(events) {
		t.Fatalf("bulk response has %d items for %d events", len(out.Items), len(events))
	}

	for _, item := range out.Items {
		for _, r := range item {
			if r.Status >= 300 {
				t.Errorf("event %s rejected with status %d: %s", r.ID, r.Status, r.Error)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// TestDocumentSourceRoundTrip checks that _source gives back the event
// without the words that Document adds.
func TestDocumentSourceRoundTrip(t *testing.T) {
	es := newTestClient(t)
	events := append(kqltest.SSHEvents(t, sharedData, 20), kqltest.EdgeEvents()...)
	events = append(events, &ecs.Event{ID: "no-source", Timestamp: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
		Fields: ecs.Fields{"message": "Accepted publickey for root"}})
	index := es.createIndex(t, "source")
	es.bulkIndex(t, index, events)
	sources := es.sources(t, index, len(events))
	for _, want := range events {
		raw, ok := sources[want.ID]
		if !ok {
			t.Errorf("event %s is not in the index", want.ID)
			continue
		}
		var got ecs.Event
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("decode _source of %s: %v", want.ID, err)
		}
		for name := range got.Fields {
			if strings.HasPrefix(name, "canhgac.") || name == "canhgac" {
				t.Errorf("event %s: _source has %s = %v", want.ID, name, got.Fields[name])
			}
		}
		if !got.Timestamp.Equal(want.Timestamp) || got.SourceID != want.SourceID || got.Seq != want.Seq {
			t.Errorf("event %s: header %v %q %d, want %v %q %d", want.ID, got.Timestamp, got.SourceID, got.Seq,
				want.Timestamp, want.SourceID, want.Seq)
		}
		for k, v := range want.Fields {
			if v == nil {
				continue
			}
			if g, w := jsonText(got.Fields[k]), jsonText(v); g != w {
				t.Errorf("event %s field %s = %s, want %s", want.ID, k, g, w)
			}
		}
	}
}

// TestMappingInDataStreamTemplate has the node validate Mapping inside a
// composable index template for data streams, which the store uses. The
// simulate API checks the template without creating anything.
func TestMappingInDataStreamTemplate(t *testing.T) {
	es := newTestClient(t)
	body := jsonText(map[string]any{
		"index_patterns": []any{"logs-esquery-simulate-*"},
		"data_stream":    map[string]any{},
		"template":       map[string]any{"settings": map[string]any{"number_of_replicas": 0}, "mappings": Mapping()},
	})
	res, err := es.es.Indices.SimulateTemplate(es.es.Indices.SimulateTemplate.WithBody(strings.NewReader(body)))
	if err != nil {
		t.Fatalf("simulate index template: %v", err)
	}
	defer res.Body.Close()
	if res.IsError() {
		t.Fatalf("simulate index template: %s", res.String())
	}
	var out struct {
		Template struct {
			Mappings struct {
				Properties map[string]struct {
					Type string `json:"type"`
				} `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("decode simulate response: %v", err)
	}
	if got := out.Template.Mappings.Properties["@timestamp"].Type; got != "date_nanos" {
		t.Errorf("@timestamp type = %q, want date_nanos", got)
	}
}

// sources returns the _source of every document of the index by id.
func (c *testClient) sources(t *testing.T, index string, size int) map[string]json.RawMessage {
	t.Helper()
	body := jsonText(map[string]any{"query": matchAll(), "size": size})
	res, err := c.es.Search(c.es.Search.WithIndex(index), c.es.Search.WithBody(strings.NewReader(body)))
	if err != nil {
		t.Fatalf("search %s: %v", index, err)
	}
	defer res.Body.Close()
	if res.IsError() {
		t.Fatalf("search %s: %s", index, res.String())
	}
	var out struct {
		Hits struct {
			Hits []struct {
				ID     string          `json:"_id"`
				Source json.RawMessage `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("decode search response: %v", err)
	}
	m := make(map[string]json.RawMessage, len(out.Hits.Hits))
	for _, h := range out.Hits.Hits {
		m[h.ID] = h.Source
	}
	return m
}

// search returns the ids of the documents that match the query.
func (c *testClient) search(t *testing.T, index string, query map[string]any, size int) []string {
	t.Helper()
	body := jsonText(map[string]any{"query": query, "size": size, "_source": false, "track_total_hits": true})
	res, err := c.es.Search(c.es.Search.WithIndex(index), c.es.Search.WithBody(strings.NewReader(body)))
	if err != nil {
		t.Fatalf("search %s: %v", index, err)
	}
	defer res.Body.Close()
	if res.IsError() {
		t.Fatalf("search %s: %s; query DSL: %s", index, res.String(), jsonText(query))
	}

	var out struct {
		Hits struct {
			Total struct {
				Value int `json:"value"`
			} `json:"total"`
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatalf("decode search response: %v", err)
	}
	if out.Hits.Total.Value != len(out.Hits.Hits) {
		t.Fatalf("total hits %d, but %d returned with size %d", out.Hits.Total.Value, len(out.Hits.Hits), size)
	}

	ids := make([]string, len(out.Hits.Hits))
	for i, h := range out.Hits.Hits {
		ids[i] = h.ID
	}
	return ids
}
