package sigma

import (
	"bufio"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/sensors/logparse"
)

const webAttackLog = "../../../shared/data/logs/web/evtx-attack-samples/web_attack_and_isp_webshell_localhost_access_log.txt"

// parseAccessLog reads an access log with the project's log parser.
func parseAccessLog(t *testing.T, path string) []*ecs.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec, err := logparse.NewDecoder(logparse.FormatAccess, logparse.Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	var evs []*ecs.Event
	var offset int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := append([]byte(nil), sc.Bytes()...)
		dec.Decode(logparse.Line{Data: line, Offset: offset, SourceID: path}, func(r logparse.Record) {
			if r.Err == nil {
				evs = append(evs, &ecs.Event{Timestamp: r.Timestamp, Fields: r.Fields})
			}
		})
		offset += int64(len(line)) + 1
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestWebserverRulesOnAttackLog runs the SigmaHQ webserver rules over a
// Tomcat access log recorded during a web attack and webshell upload.
func TestWebserverRulesOnAttackLog(t *testing.T) {
	rs, _, err := LoadFiles([]string{sharedRules}, LoadOptions{Logger: quietLogger})
	if err != nil {
		t.Fatal(err)
	}
	evs := parseAccessLog(t, webAttackLog)
	if len(evs) < 2000 {
		t.Fatalf("parsed %d events, want the whole log", len(evs))
	}
	got := run(rs, EngineOptions{}, evs...)
	byTitle := map[string]int{}
	for _, d := range got {
		byTitle[d.Title]++
	}
	titles := make([]string, 0, len(byTitle))
	for title := range byTitle {
		titles = append(titles, title)
	}
	sort.Strings(titles)
	for _, title := range titles {
		t.Logf("%4d %s", byTitle[title], title)
	}
	if len(got) == 0 {
		t.Errorf("no webserver rule matched %d attack requests", len(evs))
	}
	// The path traversal rule reads cs-uri-query, which maps to url.query:
	// traversals in the query string count, those in the path do not.
	want := 0
	for _, ev := range evs {
		q, _ := ev.Fields["url.query"].(string)
		q = strings.ToLower(q)
		if strings.Contains(q, "../../../etc/") || strings.Contains(q, "../../../../windows/") {
			want++
		}
	}
	if n := byTitle["Path Traversal Exploitation Attempts"]; n != want || want == 0 {
		t.Errorf("path traversal detections = %d, want %d (requests with a traversal in the query)", n, want)
	}
}
