package packet

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// pcapDir is the shared capture corpus, relative to this package.
const pcapDir = "../../../shared/data/pcap"

// captureFiles walks pcapDir for every .pcap, .pcapng and .cap file.
func captureFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(pcapDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch filepath.Ext(path) {
		case ".pcap", ".pcapng", ".cap":
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", pcapDir, err)
	}
	if len(files) == 0 {
		t.Fatalf("no capture files under %s", pcapDir)
	}
	sort.Strings(files)
	return files
}

// requireTshark returns the tshark path. A missing tshark fails the test,
// because the comparison is the point of it; CANHGAC_SKIP_TSHARK=1 turns
// the failure into a skip on machines that cannot install it.
func requireTshark(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("tshark")
	if err == nil {
		return path
	}
	if os.Getenv("CANHGAC_SKIP_TSHARK") == "1" {
		t.Skip("tshark not installed and CANHGAC_SKIP_TSHARK=1")
	}
	t.Fatalf("tshark not found in PATH (%v): install it (Debian: apt-get install tshark) or set CANHGAC_SKIP_TSHARK=1 to skip the comparison", err)
	return ""
}

// tsharkRows runs tshark with a display filter and returns one row of
// fields per matching frame. Fields with several occurrences are joined
// with commas (tshark's default aggregator).
func tsharkRows(t *testing.T, tshark, file, filter string, fields ...string) [][]string {
	t.Helper()
	return tsharkRowsArgs(t, tshark, file, nil, filter, fields...)
}

// tsharkRowsArgs is tsharkRows with extra tshark options.
func tsharkRowsArgs(t *testing.T, tshark, file string, extra []string, filter string, fields ...string) [][]string {
	t.Helper()
	args := append([]string{"-n", "-r", file}, extra...)
	if filter != "" {
		args = append(args, "-Y", filter)
	}
	args = append(args, "-T", "fields", "-E", "separator=/t")
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(tshark, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line == "" {
			continue
		}
		rows = append(rows, strings.Split(line, "\t"))
	}
	return rows
}

func TestSummaryMatchesTshark(t *testing.T) {
	tshark := requireTshark(t)
	for _, file := range captureFiles(t) {
		name, _ := filepath.Rel(pcapDir, file)
		t.Run(name, func(t *testing.T) {
			s, err := SummarizeFile(file, Options{})
			if err != nil {
				t.Fatalf("SummarizeFile: %v", err)
			}

			frames := tsharkRows(t, tshark, file, "", "frame.number", "frame.len")
			var wireBytes uint64
			for _, r := range frames {
				n, _ := strconv.ParseUint(r[1], 10, 64)
				wireBytes += n
			}
			if s.Packets != uint64(len(frames)) {
				t.Errorf("packets = %d, tshark counts %d", s.Packets, len(frames))
			}
			if s.Bytes != wireBytes {
				t.Errorf("bytes = %d, tshark frame.len sum %d", s.Bytes, wireBytes)
			}
			if s.DecodeErrors != 0 {
				t.Errorf("decode_errors = %d on a capture tshark reads without error", s.DecodeErrors)
			}

			compareDNS(t, s, tsharkRows(t, tshark, file, "dns.flags.response==0", "frame.number", "dns.qry.name", "dns.qry.type"))
			compareTLS(t, s, tsharkRows(t, tshark, file, "tls.handshake.type==1",
				"frame.number", "tls.handshake.extensions_server_name", "tls.handshake.ja3",
				"tls.handshake.ciphersuite", "tls.handshake.extension.type", "tls.handshake.sig_hash_alg",
				"tls.handshake.extensions.supported_version", "tls.handshake.extensions_alpn_str", "tls.handshake.version"))
			compareHTTP(t, s, tsharkRows(t, tshark, file, "http.request",
				"http.request.method", "http.host", "http.request.uri", "http.user_agent"))
			compareSSH(t, s, tsharkRows(t, tshark, file, "ssh.protocol", "ssh.protocol"))
		})
	}
}

func compareDNS(t *testing.T, s *Summary, rows [][]string) {
	t.Helper()
	var want, got []string
	for _, r := range rows {
		name, _, _ := strings.Cut(r[1], ",")
		typ, _, _ := strings.Cut(r[2], ",")
		want = append(want, r[0]+" "+name+" "+typ)
	}
	for _, q := range s.DNSQueries {
		got = append(got, strconv.FormatUint(q.Packet, 10)+" "+q.Name+" "+dnsTypeNumber(q.Type))
	}
	if !slices.Equal(got, want) {
		t.Errorf("DNS queries (frame name type) differ from tshark:\n got %d: %q\nwant %d: %q", len(got), got, len(want), want)
	}
}

func dnsTypeNumber(name string) string {
	for n, s := range dnsTypeNames {
		if s == name {
			return strconv.Itoa(int(n))
		}
	}
	return strings.TrimPrefix(name, "TYPE")
}

func compareTLS(t *testing.T, s *Summary, rows [][]string) {
	t.Helper()
	if len(s.TLSClientHellos) != len(rows) {
		t.Fatalf("TLS ClientHellos = %d, tshark counts %d: %v", len(s.TLSClientHellos), len(rows), rows)
	}
	for i, r := range rows {
		h := s.TLSClientHellos[i]
		if got := strconv.FormatUint(h.Packet, 10); got != r[0] {
			t.Errorf("ClientHello %d: packet %s, tshark frame %s", i, got, r[0])
		}
		if h.SNI != r[1] {
			t.Errorf("ClientHello %d: SNI %q, tshark %q", i, h.SNI, r[1])
		}
		if h.JA3 != r[2] {
			t.Errorf("ClientHello %d: JA3 %s, tshark %s", i, h.JA3, r[2])
		}
		if want := ja4FromTshark(r); h.JA4 != want {
			t.Errorf("ClientHello %d: JA4 %s, computed from tshark's fields %s", i, h.JA4, want)
		}
	}
}

// ja4FromTshark builds JA4 from tshark's dissection of the ClientHello:
// an independent parse of the same bytes, so only the JA4 rules are
// shared with the code under test.
func ja4FromTshark(r []string) string {
	hexes := func(s string) []string {
		var out []string
		for _, v := range strings.Split(s, ",") {
			if v == "" {
				continue
			}
			n, _ := strconv.ParseUint(strings.TrimPrefix(v, "0x"), 16, 16)
			if isGREASE(uint16(n)) {
				continue
			}
			out = append(out, strings.TrimPrefix(v, "0x"))
		}
		return out
	}
	ciphers := hexes(r[3])

	var exts []string
	for _, v := range strings.Split(r[4], ",") {
		n, _ := strconv.Atoi(v)
		if v == "" || isGREASE(uint16(n)) {
			continue
		}
		exts = append(exts, strconv.FormatUint(uint64(n)|0x10000, 16)[1:])
	}
	sigs := hexes(r[5])

	version := r[8]
	if vs := hexes(r[6]); len(vs) > 0 {
		slices.Sort(vs)
		version = vs[len(vs)-1]
	}
	versionCode := map[string]string{"0304": "13", "0303": "12", "0302": "11", "0301": "10", "0300": "s3"}[strings.TrimPrefix(version, "0x")]
	if versionCode == "" {
		versionCode = "00"
	}

	sni := "i"
	if slices.Contains(exts, "0000") {
		sni = "d"
	}
	alpn := "00"
	if first, _, _ := strings.Cut(r[7], ","); first != "" {
		alpn = first[:1] + first[len(first)-1:]
	}

	count := func(n int) string { return strconv.Itoa(100 + min(n, 99))[1:] }
	hash := func(s string) string {
		if s == "" {
			return "000000000000"
		}
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])[:12]
	}

	slices.Sort(ciphers)
	var rest []string
	for _, e := range exts {
		if e != "0000" && e != "0010" {
			rest = append(rest, e)
		}
	}
	slices.Sort(rest)
	c := strings.Join(rest, ",")
	if len(sigs) > 0 {
		c += "_" + strings.Join(sigs, ",")
	}
	return "t" + versionCode + sni + count(len(ciphers)) + count(len(exts)) + alpn + "_" + hash(strings.Join(ciphers, ",")) + "_" + hash(c)
}

func compareHTTP(t *testing.T, s *Summary, rows [][]string) {
	t.Helper()
	var want, got []string
	for _, r := range rows {
		want = append(want, strings.Join(r, " | "))
	}
	// tshark 4.0 dissects HTTP on its registered ports and, because its
	// "http over tcp" heuristic is enabled by default, on any other port.
	// The summary also looks at every port, so no request is excluded.
	for _, h := range s.HTTPRequests {
		got = append(got, strings.Join([]string{h.Method, h.Host, h.URI, h.UserAgent}, " | "))
	}
	// tshark prints a request at the frame that completes it, we at the
	// frame that starts it, so compare as sorted lists.
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("HTTP requests (method | host | uri | user agent) differ from tshark:\n got %d: %q\nwant %d: %q", len(got), got, len(want), want)
	}
}

func compareSSH(t *testing.T, s *Summary, rows [][]string) {
	t.Helper()
	var want, got []string
	for _, r := range rows {
		want = append(want, r[0])
	}
	for _, b := range s.SSHBanners {
		got = append(got, b.Banner)
	}
	sort.Strings(want)
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("SSH banners differ from tshark:\n got %q\nwant %q", got, want)
	}
}

func execOutput(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, stderr.String())
	}
	return out, nil
}
