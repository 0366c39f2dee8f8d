package packet

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// eveRecord is the part of a Suricata EVE JSON line the comparison uses.
type eveRecord struct {
	EventType string `json:"event_type"`
	DNS       *struct {
		Type   string `json:"type"`
		RRName string `json:"rrname"`
		RRType string `json:"rrtype"`
		RData  string `json:"rdata"`
		RCode  string `json:"rcode"`
	} `json:"dns"`
	TLS *struct {
		SNI     string `json:"sni"`
		Version string `json:"version"`
	} `json:"tls"`
	HTTP *struct {
		Hostname  string `json:"hostname"`
		URL       string `json:"url"`
		Method    string `json:"http_method"`
		UserAgent string `json:"http_user_agent"`
	} `json:"http"`
}

func readEVE(t *testing.T, path string) []eveRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	var out []eveRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r eveRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: invalid EVE line: %v", path, err)
		}
		out = append(out, r)
	}
	return out
}

// captureIn returns the one capture file in a suricata-verify folder.
func captureIn(t *testing.T, dir string) string {
	t.Helper()
	matches, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if len(matches) != 1 {
		t.Fatalf("%s: want one .pcap, found %v", dir, matches)
	}
	return matches[0]
}

func TestSummaryMatchesSuricataEVE(t *testing.T) {
	eves, _ := filepath.Glob(filepath.Join(pcapDir, "suricata-verify", "*", "eve.json"))
	if len(eves) == 0 {
		t.Fatalf("no eve.json under %s/suricata-verify", pcapDir)
	}
	for _, eve := range eves {
		dir := filepath.Dir(eve)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			s, err := SummarizeFile(captureIn(t, dir), Options{})
			if err != nil {
				t.Fatalf("SummarizeFile: %v", err)
			}
			checked := 0
			for _, r := range readEVE(t, eve) {
				switch {
				case r.DNS != nil && r.DNS.Type == "query":
					checked++
					if !slices.ContainsFunc(s.DNSQueries, func(q DNSQuery) bool { return q.Name == r.DNS.RRName && q.Type == r.DNS.RRType }) {
						t.Errorf("Suricata DNS query %s %s not in summary %+v", r.DNS.RRName, r.DNS.RRType, s.DNSQueries)
					}
				case r.DNS != nil && r.DNS.Type == "answer":
					checked++
					found := slices.ContainsFunc(s.DNSQueries, func(q DNSQuery) bool {
						return q.ResponseCode == r.DNS.RCode && slices.ContainsFunc(q.Answers, func(a DNSAnswer) bool {
							return a.Name == r.DNS.RRName && a.Type == r.DNS.RRType && a.Data == r.DNS.RData
						})
					})
					if !found {
						t.Errorf("Suricata DNS answer %s %s %s (%s) not in summary", r.DNS.RRName, r.DNS.RRType, r.DNS.RData, r.DNS.RCode)
					}
				}
				if r.TLS != nil {
					checked++
					if !slices.ContainsFunc(s.TLSClientHellos, func(h TLSClientHello) bool { return h.SNI == r.TLS.SNI && h.Version == r.TLS.Version }) {
						t.Errorf("Suricata TLS sni=%q version=%q not in summary %+v", r.TLS.SNI, r.TLS.Version, s.TLSClientHellos)
					}
				}
				if r.HTTP != nil {
					checked++
					found := slices.ContainsFunc(s.HTTPRequests, func(h HTTPRequest) bool {
						return h.Host == r.HTTP.Hostname && h.URI == r.HTTP.URL && h.Method == r.HTTP.Method && h.UserAgent == r.HTTP.UserAgent
					})
					if !found {
						t.Errorf("Suricata HTTP %s %s%s UA %q not in summary %+v", r.HTTP.Method, r.HTTP.Hostname, r.HTTP.URL, r.HTTP.UserAgent, s.HTTPRequests)
					}
				}
			}
			if checked == 0 {
				t.Fatalf("%s has no DNS, TLS or HTTP record to compare", eve)
			}
		})
	}
}

// TestSSHBannersMatchSuricataChecks compares with the expectations of the
// suricata-verify test.yaml: proto and software version of both sides.
func TestSSHBannersMatchSuricataChecks(t *testing.T) {
	dir := filepath.Join(pcapDir, "suricata-verify", "ssh-banner-only")
	raw, err := os.ReadFile(filepath.Join(dir, "test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Checks []struct {
			Filter struct {
				Match map[string]string `yaml:"match"`
			} `yaml:"filter"`
		} `yaml:"checks"`
	}
	if err := yaml.Unmarshal(raw, &spec); err != nil {
		t.Fatalf("parse test.yaml: %v", err)
	}
	var want map[string]string
	for _, c := range spec.Checks {
		if c.Filter.Match["event_type"] == "ssh" {
			want = c.Filter.Match
		}
	}
	if want == nil {
		t.Fatal("test.yaml has no ssh check")
	}
	s, err := SummarizeFile(captureIn(t, dir), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range []string{"client", "server"} {
		expected := "SSH-" + want["ssh."+role+".proto_version"] + "-" + want["ssh."+role+".software_version"]
		found := slices.ContainsFunc(s.SSHBanners, func(b SSHBanner) bool {
			return b.Role == role && (b.Banner == expected || strings.HasPrefix(b.Banner, expected+" "))
		})
		if !found {
			t.Errorf("%s banner %q not in summary %+v", role, expected, s.SSHBanners)
		}
	}
}
