package logparse

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fail2ban's test files annotate log lines with "# failJSON: {...}": whether
// the next line must produce a failure ("match"), for which host and at which
// local time. fail2ban's test suite sets TZ=Europe/Zurich and fixes its clock
// at 1124013600 (Sun Aug 14 12:00:00 CEST 2005). The annotations date lines
// without a year of January to August in 2005 and of September to December in
// 2004. This package's year rule gives the same with that reference time,
// because every September to December line lies more than the allowed slack
// after 14 August; the test passes the same zone and reference.
//
// Which annotations are evaluated:
//   - Authentication filters (sshd, pam-generic, vsftpd, selinux-ssh,
//     apache-auth, nginx-http-auth): annotations valid in fail2ban's default
//     ("normal") mode, compared with isAuthFailure. Annotations of the ddos,
//     extra, fallback and aggressive modes are counted and reported but not
//     required: they flag port scans, TLS garbage and protocol errors, which
//     this package classifies as network events, not authentication.
//   - Other filters (apache-noscript, apache-shellshock, nginx-botsearch)
//     look for probing, not authentication. For them every match:true line
//     must parse as a web event with the annotated client and time; the
//     match itself is a detection rule's job.
//
// fail2banExceptions lists the evaluated annotations where this package
// deliberately differs from fail2ban, with the reason; the test fails when
// one of them stops differing, so the list stays true.
var fail2banExceptions = map[string]string{
	// tcp_wrappers refuses the connection before any authentication: a
	// network denial here.
	"linux/fail2ban/sshd.log:49": "tcp_wrappers refusal is a network denial",
	// fail2ban ignores failed public keys of existing users because clients
	// offer several keys in turn (gh-1263); each is still a failed
	// authentication here.
	"linux/fail2ban/sshd.log:157": "failed publickey of a valid user",
	"linux/fail2ban/sshd.log:159": "failed publickey of a valid user",
	"linux/fail2ban/sshd.log:169": "failed publickey of a valid user",
	"linux/fail2ban/sshd.log:171": "failed publickey of a valid user",
	// sshd logs one exhausted connection twice ("maximum authentication
	// attempts exceeded" and "Disconnecting ...: Too many authentication
	// failures"); fail2ban counts the first only, both are failures here.
	"linux/fail2ban/sshd.log:232": "second line of the same too-many-failures event",
	// fail2ban defers a PAM failure until the connection ends without a
	// success (multi-line state, gh-2070); every PAM failure is a failure here.
	"linux/fail2ban/sshd.log:222": "PAM failure reported at once, not deferred",
	"linux/fail2ban/sshd.log:236": "PAM failure reported at once, not deferred",
	"linux/fail2ban/sshd.log:238": "PAM failure reported at once, not deferred",
	"linux/fail2ban/sshd.log:248": "PAM failure reported at once, not deferred",
	"linux/fail2ban/sshd.log:258": "PAM failure reported at once, not deferred",
	"linux/fail2ban/sshd.log:260": "PAM failure reported at once, not deferred",
	// fail2ban turns a later success into a failure when other user names
	// were tried first on the same connection; a success stays a success.
	"linux/fail2ban/sshd.log:252": "accepted login after failures stays a success",
	"linux/fail2ban/sshd.log:262": "accepted login after failures stays a success",
	// Linux-PAM before 0.99.2 put the module in the tag; pam-generic no
	// longer matches it, but the line is a PAM authentication failure.
	"linux/fail2ban/pam-generic.log:12": "old Linux-PAM tag form still recognised",
	// apache-auth also bans TLS SNI/Host mismatches (mod_ssl AH02031-AH02033):
	// misdirected requests, not authentication.
	"web/fail2ban/apache-auth.log:129": "SNI mismatch is not authentication",
	"web/fail2ban/apache-auth.log:132": "SNI mismatch is not authentication",
	"web/fail2ban/apache-auth.log:135": "SNI mismatch is not authentication",
	// A journal line that nests a second "host nginx:" prefix before the
	// nginx timestamp; the journal reader strips the first prefix already.
	"web/fail2ban/nginx-http-auth.log:25": "doubly prefixed journal line",
}

type failAnnotation struct {
	Time       *string `json:"time"`
	Match      bool    `json:"match"`
	Host       *string `json:"host"`
	Constraint string  `json:"constraint"`
	Desc       string  `json:"desc"`
}

type fail2banFile struct {
	path string
	auth bool // authentication filter: evaluate the match itself
}

var fail2banFiles = []fail2banFile{
	{"linux/fail2ban/sshd.log", true},
	{"linux/fail2ban/pam-generic.log", true},
	{"linux/fail2ban/vsftpd.log", true},
	{"auditd/fail2ban/selinux-ssh.log", true},
	{"web/fail2ban/apache-auth.log", true},
	{"web/fail2ban/nginx-http-auth.log", true},
	{"web/fail2ban/apache-noscript.log", false},
	{"web/fail2ban/apache-shellshock.log", false},
	{"web/fail2ban/nginx-botsearch.log", false},
}

func TestFail2banAnnotations(t *testing.T) {
	files, err := filepath.Glob(dataDir + "logs/*/fail2ban/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(fail2banFiles) {
		t.Errorf("found %d fail2ban files, the test covers %d: add the new ones to fail2banFiles", len(files), len(fail2banFiles))
	}
	loc := zurich(t)
	ref := time.Unix(1124013600, 0)
	var evaluated, agreed, excepted, otherModes, otherModesAgreed, parsedChecked int
	for _, ff := range fail2banFiles {
		lines := readLines(t, dataDir+"logs/"+ff.path)
		recs := decodeAll(t, FormatAuto, Options{Location: loc, Reference: ref}, lines, func(s string) bool {
			return strings.HasPrefix(s, "#")
		})
		normal := true
		for i, l := range lines {
			if opts, ok := strings.CutPrefix(l.text, "# filterOptions: "); ok {
				normal = hasNormalMode(t, opts)
				continue
			}
			js, ok := strings.CutPrefix(l.text, "# failJSON: ")
			if !ok {
				continue
			}
			var a failAnnotation
			if err := json.Unmarshal([]byte(js), &a); err != nil {
				t.Fatalf("%s:%d: annotation: %v", ff.path, l.no, err)
			}
			target := nextLogLine(lines, i)
			if target == nil {
				t.Fatalf("%s:%d: annotation without a log line", ff.path, l.no)
			}
			key := ff.path + ":" + strconv.Itoa(target.no)
			rec, ok := recs[target.offset]
			if !ok || rec.Err != nil {
				t.Errorf("%s: no record (err %v)", key, rec.Err)
				continue
			}
			if !ff.auth {
				if a.Match {
					parsedChecked++
					checkHostTime(t, key, rec, a, loc)
				}
				continue
			}
			got := isAuthFailure(rec.Fields)
			inNormal := normal && !strings.Contains(a.Constraint, "== 'aggressive'")
			if !inNormal {
				otherModes++
				if got == a.Match {
					otherModesAgreed++
				}
				continue
			}
			evaluated++
			reason, isException := fail2banExceptions[key]
			if isException {
				excepted++
				if got == a.Match {
					t.Errorf("%s: listed as exception (%s) but now agrees with fail2ban: remove it from the list", key, reason)
				}
				continue
			}
			if got != a.Match {
				t.Errorf("%s: auth failure = %v, fail2ban match = %v (%s)\n  line: %s\n  action=%v outcome=%v source=%v",
					key, got, a.Match, a.Desc, target.text, rec.Fields["event.action"], rec.Fields["event.outcome"], rec.Fields["source.ip"])
				continue
			}
			agreed++
			if a.Match {
				checkHostTime(t, key, rec, a, loc)
			}
		}
	}
	t.Logf("normal-mode annotations: %d evaluated, %d agree, %d documented exceptions", evaluated, agreed, excepted)
	t.Logf("other-mode annotations (not required): %d, %d agree", otherModes, otherModesAgreed)
	t.Logf("non-authentication filters: %d match lines parsed with host and time", parsedChecked)
}

// hasNormalMode reports whether a "# filterOptions:" list includes the
// default mode (an entry without "mode", or mode normal or auth).
func hasNormalMode(t *testing.T, js string) bool {
	var opts []map[string]any
	if strings.HasPrefix(js, "{") {
		opts = append(opts, nil)
		if err := json.Unmarshal([]byte(js), &opts[0]); err != nil {
			t.Fatalf("filterOptions %s: %v", js, err)
		}
	} else if err := json.Unmarshal([]byte(js), &opts); err != nil {
		t.Fatalf("filterOptions %s: %v", js, err)
	}
	for _, o := range opts {
		m, ok := o["mode"].(string)
		if !ok || m == "normal" || m == "auth" {
			return true
		}
	}
	return false
}

func nextLogLine(lines []fileLine, i int) *fileLine {
	for j := i + 1; j < len(lines); j++ {
		if !strings.HasPrefix(lines[j].text, "#") {
			return &lines[j]
		}
	}
	return nil
}

func checkHostTime(t *testing.T, key string, rec Record, a failAnnotation, loc *time.Location) {
	t.Helper()
	if a.Host != nil {
		host := *a.Host
		ip, _ := rec.Fields["source.ip"].(string)
		addr, _ := rec.Fields["source.address"].(string)
		if host != ip && host != addr {
			t.Errorf("%s: host %q, got source.ip %q source.address %q", key, host, ip, addr)
		}
	}
	if a.Time != nil {
		got := rec.Timestamp.In(loc).Format("2006-01-02T15:04:05")
		if got != *a.Time {
			t.Errorf("%s: time %s, got %s", key, *a.Time, got)
		}
	}
}
