package esquery

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline/kql"
	"github.com/canhgac/canhgac/pipeline/kql/kqltest"
)

// TestRandomQueriesElastic compares Elasticsearch with kql.Match on
// queries generated from the values of real events (the fixtures, and
// what the log and packet parsers make of sshd, auditd, DNS, HTTP, TLS and
// SSH input), so that they select some events. The generator leaves out
// the known differences (edgeDifferences): the edge events, ranges on
// text and boolean fields, and field name patterns that reach text
// fields. The seed is fixed, so a failure repeats.
func TestRandomQueriesElastic(t *testing.T) {
	es := newTestClient(t)
	var events []*ecs.Event
	events = append(events, kqltest.SSHEvents(t, sharedData, 400)...)
	events = append(events, kqltest.AccessEvents(t, sharedData, 300)...)
	events = append(events, kqltest.WindowsEvents(t, sharedData, 200)...)
	events = append(events, kqltest.DNSEvents(t, sharedData, 40)...)
	events = append(events, parseLogFile(t, "logs/linux/fail2ban/sshd.log", 300)...)
	events = append(events, parseLogFile(t, "logs/auditd/go-libaudit/audit-rhel7.log", 300)...)
	for _, p := range []string{
		"pcap/chrissanders-packets/arppoison.pcapng", "pcap/zeek-traces/ssh_sshguess.pcap",
		"pcap/suricata-verify/tls-json-output-ids/input.pcap", "pcap/zeek-traces/tls_chrome-1250-tls-x25519-kyber.pcap",
		"pcap/evtx-attack-samples/cmds_over_dns_txt_queries_and_reponses.pcap",
	} {
		events = append(events, readCapture(t, p)...)
	}
	index := es.createIndex(t, "random")
	es.bulkIndex(t, index, events)

	g := newQueryGenerator(events, rand.New(rand.NewPCG(20261204, 1)))
	queries := map[string]bool{}
	for len(queries) < 600 {
		q := g.query(2)
		if _, err := kql.Parse(q); err != nil {
			t.Fatalf("generated query %q does not parse: %v", q, err)
		}
		queries[q] = true
	}
	list := make([]string, 0, len(queries))
	for q := range queries {
		list = append(list, q)
	}
	slices.Sort(list)
	if n := runSuite(t, es, index, events, list, nil); n < len(list)/4 {
		t.Errorf("only %d of %d generated queries select a proper subset", n, len(list))
	}
}

// queryGenerator builds KQL text from the fields and values of events.
type queryGenerator struct {
	rnd *rand.Rand
	// values are the scalar values of each field, as text.
	values map[string][]string
	fields []string
	words  []string
}

func newQueryGenerator(events []*ecs.Event, rnd *rand.Rand) *queryGenerator {
	g := &queryGenerator{rnd: rnd, values: map[string][]string{}}
	seen := map[string]map[string]bool{}
	add := func(field, v string) {
		if seen[field] == nil {
			seen[field] = map[string]bool{}
		}
		if !seen[field][v] {
			seen[field][v] = true
			g.values[field] = append(g.values[field], v)
		}
	}
	for _, e := range events {
		add("@timestamp", e.Timestamp.Format(time.RFC3339Nano))
		add("event.id", e.ID)
		for name, v := range e.Fields {
			forEachScalar(v, func(s string) {
				if kql.TypeOf(name) == kql.Text {
					g.words = append(g.words, kql.Tokenize(s)...)
				}
				add(name, s)
			})
		}
	}
	for f := range g.values {
		g.fields = append(g.fields, f)
	}
	slices.Sort(g.fields)
	slices.Sort(g.words)
	g.words = slices.Compact(g.words)
	return g
}

func forEachScalar(v any, fn func(string)) {
	switch v := v.(type) {
	case string:
		fn(v)
	case int64:
		fn(strconv.FormatInt(v, 10))
	case float64:
		fn(strconv.FormatFloat(v, 'g', -1, 64))
	case bool:
		fn(strconv.FormatBool(v))
	case []string:
		for _, s := range v {
			fn(s)
		}
	case []any:
		for _, x := range v {
			switch x.(type) {
			case string, int64, float64, bool:
				forEachScalar(x, fn)
			}
		}
	}
}

func (g *queryGenerator) pick(list []string) string { return list[g.rnd.IntN(len(list))] }

// query returns a term, or and/or/not of terms up to depth levels deep.
func (g *queryGenerator) query(depth int) string {
	if depth == 0 || g.rnd.IntN(3) > 0 {
		return g.term()
	}
	switch g.rnd.IntN(3) {
	case 0:
		return "(" + g.query(depth-1) + " and " + g.query(depth-1) + ")"
	case 1:
		return "(" + g.query(depth-1) + " or " + g.query(depth-1) + ")"
	}
	return "not " + g.query(depth-1)
}

func (g *queryGenerator) term() string {
	field := g.pick(g.fields)
	value := g.pick(g.values[field])
	typ := kql.TypeOf(field)
	switch g.rnd.IntN(8) {
	case 0:
		return escapeField(field) + ":*"
	case 1:
		if typ == kql.Text || value == "true" || value == "false" {
			break
		}
		ops := []string{"<", "<=", ">", ">="}
		return escapeField(field) + " " + g.pick(ops) + " " + kql.Value{Text: value, Quoted: true}.String()
	case 2:
		if typ == kql.IP || typ == kql.Date {
			break
		}
		return escapeField(field) + ":" + g.wildcard(value)
	case 3:
		// Free text: a word of a text field or a whole keyword value.
		if g.rnd.IntN(2) == 0 {
			return kql.Value{Text: g.pick(g.words)}.String()
		}
		if typ == kql.Keyword && !isNumberText(value) {
			return kql.Value{Text: value, Quoted: true}.String()
		}
	case 4:
		// A field name pattern that keeps away from the text fields.
		if i := strings.LastIndexByte(field, '.'); i > 0 && typ == kql.Keyword && !strings.HasPrefix(field, "event.") {
			return escapeField(field[:i]) + ".*:" + kql.Value{Text: value, Quoted: true}.String()
		}
	case 5:
		if typ == kql.Text {
			words := kql.Tokenize(value)
			if len(words) >= 2 {
				i := g.rnd.IntN(len(words) - 1)
				return escapeField(field) + `:"` + words[i] + " " + words[i+1] + `"`
			}
		}
	}
	if typ == kql.Text {
		return escapeField(field) + ":" + kql.Value{Text: g.pick(g.words)}.String()
	}
	return escapeField(field) + ":" + kql.Value{Text: value, Quoted: true}.String()
}

// wildcard returns a pattern from a prefix, a suffix or an inner piece of
// the first 100 characters of value, below the length that Compile
// rejects.
func (g *queryGenerator) wildcard(value string) string {
	r := []rune(value)
	if len(r) > 100 {
		r = r[:100]
	}
	if len(r) < 2 {
		return kql.Value{Text: value}.String() + "*"
	}
	cut := 1 + g.rnd.IntN(len(r)-1)
	switch g.rnd.IntN(3) {
	case 0:
		return kql.Value{Parts: []string{string(r[:cut]), ""}}.String()
	case 1:
		return kql.Value{Parts: []string{"", string(r[cut:])}}.String()
	}
	return kql.Value{Parts: []string{"", string(r[cut/2 : cut]), ""}}.String()
}

func isNumberText(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// escapeField writes a field name as KQL reads it back.
func escapeField(f string) string {
	return strings.TrimSuffix((&kql.Exists{Field: f}).String(), ":*")
}
