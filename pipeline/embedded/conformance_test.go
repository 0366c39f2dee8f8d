package embedded

import (
	"context"
	"slices"
	"testing"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline/kql"
)

// conformanceQueries run through kql.Match and the store; both must
// return the same events.
var conformanceQueries = []string{
	"",
	"*",
	"event.dataset:system.auth",
	"event.dataset:system.*",
	"event.dataset:(web.access or network_traffic.dns)",
	"host.name:LabSZ and event.outcome:failure",
	"host.name:web1",
	"host.name:*",
	"not host.name:*",
	"user.name:root",
	"user.name:adm*",
	"user.name:1001",
	"user.name:Admin",
	"user.name:admin",
	"user.name:* and not event.dataset:system.auth",
	"source.ip:173.234.31.186",
	"source.ip:10.0.0.0/8",
	"source.ip:173.234.0.0/16 or source.ip:183.62.140.253",
	"source.ip:2001:db8::/32",
	"source.ip:::/0",
	"source.ip:0.0.0.0/0",
	"source.ip:fe80::1",
	"source.ip:*",
	"destination.ip:10.1.2.3",
	"destination.ip:10.0.0.4",
	"source.ip > 100.0.0.0",
	"source.ip <= 2001:db8::10",
	"client.ip:192.168.0.0/16",
	"related.ip:10.0.1.4",
	"message:failed",
	"message:Failed",
	`message:"failed password"`,
	`message:"password failed"`,
	"message:invalid user",
	"message:fail*",
	"message:*ssword",
	"message:p*ss*d",
	`message:"admin*"`,
	`message:admin\*`,
	"message:đăng",
	"message:*",
	"not message:*",
	"event.original:GET",
	`event.original:"kibana-search.png"`,
	"failed",
	"LabSZ",
	"root",
	"www1",
	"ssh*",
	`"break-in attempt"`,
	"newyork.dmevals.local",
	"lsass",
	"web*",
	"winlog.event_id:4689",
	"winlog.event_id >= 4600 and winlog.event_id < 4700",
	"winlog.event_id:(10 or 4658)",
	"winlog.event_data.ProcessName:*rundll32.exe",
	`winlog.event_data.ProcessName:C\:\\Windows\\System32\\rundll32.exe`,
	"winlog.event_data.*:wardog",
	"winlog.*:*lsass*",
	"*.name:scranton",
	"event.code:4689",
	"http.response.status_code >= 400",
	"http.response.status_code:200 and http.request.method:GET",
	"http.response.status_code > abc",
	"http.request.method > G",
	"url.original:*kibana*",
	"source.port > 50000",
	"event.duration < 1000000",
	"event.severity >= 5",
	"event.severity:7.5",
	"event.severity:3",
	"labels.flag:true",
	"labels.flag:false",
	"tags:prod",
	"tags:*et*",
	"empty.list:*",
	"nil.value:*",
	"dns.answers:*",
	"dns.resolved_ip:*",
	"dns.flags.recursion_available:true",
	"event.category:authentication",
	"@timestamp >= 2025-12-10T07:00:00Z",
	"@timestamp < 2015-05-18",
	"@timestamp:2025-03-01T12:01:00Z",
	"event.created < 2025-03-02",
	"event.created:*",
	"event.id:*",
	"canhgac.source_id:edge",
	"canhgac.source_id:file*",
	"event.sequence > 100 and event.sequence <= 110",
	"not (event.dataset:system.auth or event.dataset:web.access)",
	"not not user.name:root",
	"(user.name:root or user.name:admin) and not source.ip:183.62.140.253",
	"process.command_line:*whoami*",
	"process.command_line:C\\:\\\\Windows*",
	"no.such.field:x",
	"not no.such.field:x",
	`message:"!!!"`,
	"event.original:*",
}

func TestConformanceWithMatch(t *testing.T) {
	events := allFixtureEvents(t)
	if len(events) < 800 {
		t.Fatalf("only %d fixture events; is ../../../shared/data present?", len(events))
	}
	s := openTestStore(t)
	ctx := context.Background()
	for i := 0; i < len(events); i += 250 {
		end := min(i+250, len(events))
		if err := s.WriteBatch(ctx, &Batch{Events: events[i:end]}); err != nil {
			t.Fatalf("WriteBatch: %v", err)
		}
	}
	nonEmpty := 0
	for _, q := range conformanceQueries {
		t.Run(q, func(t *testing.T) {
			node, err := kql.Parse(q)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var want []string
			for _, e := range events {
				if kql.Match(node, e) {
					want = append(want, e.ID)
				}
			}
			res, err := s.Search(ctx, SearchRequest{Query: node, Limit: len(events) + 1})
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			got := make([]string, len(res.Events))
			for i, e := range res.Events {
				got[i] = e.ID
			}
			slices.Sort(want)
			slices.Sort(got)
			if res.Total != len(want) {
				t.Errorf("Total = %d, Match finds %d", res.Total, len(want))
			}
			if !slices.Equal(got, want) {
				t.Errorf("store returns %d events, Match %d; only in store: %v; only in Match: %v",
					len(got), len(want), diff(got, want), diff(want, got))
			}
			if len(want) > 0 && len(want) < len(events) {
				nonEmpty++
			}
		})
	}
	if nonEmpty < len(conformanceQueries)/2 {
		t.Errorf("only %d of %d queries select a proper subset; the fixtures do not exercise the queries", nonEmpty, len(conformanceQueries))
	}
}

func diff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
			if len(out) == 5 {
				break
			}
		}
	}
	return out
}

// TestRoundTripEvents checks that stored events come back with the same
// fields.
func TestRoundTripEvents(t *testing.T) {
	events := allFixtureEvents(t)
	s := openTestStore(t)
	ctx := context.Background()
	if err := s.WriteBatch(ctx, &Batch{Events: events}); err != nil {
		t.Fatalf("WriteBatch: %v", err)
	}
	byID := map[string]*ecs.Event{}
	for _, e := range events {
		byID[e.ID] = e
	}
	res, err := s.Search(ctx, SearchRequest{Limit: len(events)})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	for _, got := range res.Events {
		want := byID[got.ID]
		if !got.Timestamp.Equal(want.Timestamp) || got.SourceID != want.SourceID || got.Seq != want.Seq {
			t.Errorf("event %s: header %v %s %d, want %v %s %d", got.ID, got.Timestamp, got.SourceID, got.Seq, want.Timestamp, want.SourceID, want.Seq)
		}
		for k, v := range want.Fields {
			if v == nil {
				continue
			}
			g, ok := got.Fields[k]
			if !ok {
				t.Errorf("event %s lost field %s", got.ID, k)
				continue
			}
			if ecsString(g) != ecsString(v) {
				t.Errorf("event %s field %s = %#v, want %#v", got.ID, k, g, v)
			}
		}
	}
}

func ecsString(v any) string {
	b, _ := (&ecs.Event{Fields: ecs.Fields{"v": v}, Timestamp: testEpoch}).MarshalJSON()
	return string(b)
}
