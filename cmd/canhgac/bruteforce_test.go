package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/canhgac/canhgac/sensors/logparse"
)

const sharedData = "../../../shared/data"

// huntJSON runs hunt in process and returns its JSON detections.
func huntJSON(t *testing.T, rulePaths []string, files ...string) []map[string]any {
	t.Helper()
	var out, errOut bytes.Buffer
	c := &cli{lang: "en", stdout: &out, stderr: &errOut, format: "json"}
	rs, err := loadRules(c, rulePaths, "", len(rulePaths) > 0)
	if err != nil {
		t.Fatalf("load rules: %v", err)
	}
	if err := hunt(context.Background(), c, rs, logparse.FormatAuto, files); err != nil {
		t.Fatalf("hunt: %v\n%s", err, errOut.String())
	}
	return decodeLines(t, out.Bytes())
}

func docString(doc map[string]any, path ...string) string {
	var cur any = doc
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[p]
	}
	s, _ := cur.(string)
	return s
}

// sshFailure matches the failed SSH authentications the brute-force rule
// counts, written independently of the parser: failed passwords, keys and
// "none" attempts, invalid users and PAM authentication failures of sshd.
var sshFailure = regexp.MustCompile(`^(\w{3} +\d+ [\d:]{8}) \S+ sshd\[\d+\]: (?:` +
	`Failed (?:password|publickey|none) for (?:invalid user )?.* from (\S+) port|` +
	`Invalid user .* from (\S+)\s*$|` +
	`pam_unix\(sshd:auth\): authentication failure;.* rhost=(\S+))`)

// TestBruteForceRuleOnOpenSSHLog checks the bundled brute-force rule on the
// real OpenSSH log: it fires for every source with 10 or more failures
// within 5 minutes, and for no other source.
func TestBruteForceRuleOnOpenSSHLog(t *testing.T) {
	path := sharedData + "/logs/linux/loghub/OpenSSH/OpenSSH_2k.log"
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	times := map[string][]time.Time{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := sshFailure.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ip := m[2] + m[3] + m[4]
		ts, err := time.Parse("Jan _2 15:04:05", m[1])
		if err != nil {
			t.Fatalf("time %q: %v", m[1], err)
		}
		times[ip] = append(times[ip], ts)
	}
	const threshold, window = 10, 5 * time.Minute
	var want []string
	for ip, ts := range times {
		sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
		for i := range ts {
			first := sort.Search(len(ts), func(k int) bool { return ts[k].After(ts[i].Add(-window)) })
			if i-first+1 >= threshold {
				want = append(want, ip)
				break
			}
		}
	}
	sort.Strings(want)
	if len(want) == 0 {
		t.Fatal("no source crosses the threshold in the log; the test data changed")
	}

	fired := map[string]bool{}
	for _, doc := range huntJSON(t, nil, path) {
		if docString(doc, "rule", "id") == "1b2433f2-d9fb-4885-b2f5-15efb9d61a31" {
			fired[docString(doc, "source", "ip")] = true
		}
	}
	var got []string
	for ip := range fired {
		got = append(got, ip)
	}
	sort.Strings(got)
	if strconv.Quote(fmtList(got)) != strconv.Quote(fmtList(want)) {
		t.Errorf("brute force fired for %v, want %v", got, want)
	}
}

func fmtList(s []string) string {
	var b bytes.Buffer
	for i, v := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(v)
	}
	return b.String()
}

// decodeLines decodes JSON lines.
func decodeLines(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var docs []map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	for dec.More() {
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("not JSON lines: %v", err)
		}
		docs = append(docs, doc)
	}
	return docs
}
