package crosscheck

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/sensors/evtx"
)

// firstEvent returns the first event of an .evtx file with the given
// Windows event id.
func firstEvent(t *testing.T, path string, eventID int64) *ecs.Event {
	t.Helper()
	var found *ecs.Event
	_, err := evtx.ReadFile(context.Background(), path, func(ev *ecs.Event) error {
		if id, _ := ev.Fields.Int("winlog.event_id"); id == eventID && found == nil {
			found = ev
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if found == nil {
		t.Fatalf("%s has no event %d", path, eventID)
	}
	return found
}

// TestWinlogbeatViewFromEVTX checks the Winlogbeat form of real Sysmon and
// Security process creation events: the ECS fields present and the moved
// event data gone.
func TestWinlogbeatViewFromEVTX(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		eventID int64
		want    ecs.Fields
		gone    []string // event data that Winlogbeat moves
		kept    []string // event data that Winlogbeat copies or leaves
	}{
		{
			name:    "sysmon 1",
			path:    regressionData + "/windows/process_creation/proc_creation_win_hh_chm_execution/68c8acb4-1b60-4890-8e82-3ddf7a6dba84.evtx",
			eventID: 1,
			want: ecs.Fields{
				"event.code":                    "1",
				"process.executable":            `C:\Windows\hh.exe`,
				"process.name":                  "hh.exe",
				"process.command_line":          `"C:\Windows\hh.exe" C:\Windows\IME\IMETC\HELP\IMTCTC14.CHM`,
				"process.pe.original_file_name": "HH.exe",
				"process.parent.executable":     `C:\Program Files\Everything\Everything.exe`,
				"process.parent.name":           "Everything.exe",
			},
			gone: []string{"Image", "CommandLine", "ParentImage", "OriginalFileName", "ProcessId", "User", "Hashes", "UtcTime"},
			kept: []string{"Description", "Product", "Company", "IntegrityLevel"},
		},
		{
			name:    "security 4688",
			path:    "../../../shared/data/evtx/evtx-attack-samples/lateral_movement/LM_WMI_4624_4688_TargetHost.evtx",
			eventID: 4688,
			want: ecs.Fields{
				"event.code": "4688",
			},
			gone: []string{"NewProcessName", "NewProcessId"},
			kept: []string{"ProcessId", "SubjectUserName"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := firstEvent(t, tt.path, tt.eventID)
			got := winlogbeatView(ev.Fields)
			for field, want := range tt.want {
				if got[field] != want {
					t.Errorf("%s = %#v, want %#v", field, got[field], want)
				}
			}
			if _, ok := got["process.pid"].(int64); !ok {
				t.Errorf("process.pid = %#v, want an int64 read from the event data", got["process.pid"])
			}
			for _, name := range tt.gone {
				if v, ok := got[eventDataPrefix+name]; ok {
					t.Errorf("%s%s = %#v is still present, want it moved", eventDataPrefix, name, v)
				}
			}
			for _, name := range tt.kept {
				if _, ok := got[eventDataPrefix+name]; !ok {
					t.Errorf("%s%s is missing, want it kept", eventDataPrefix, name)
				}
			}
			if _, ok := ev.Fields[eventDataPrefix+tt.gone[0]]; !ok {
				t.Errorf("winlogbeatView changed its input: %s%s is gone from the event", eventDataPrefix, tt.gone[0])
			}
			if tt.eventID != 4688 {
				return
			}
			// Security 4688 names the new process NewProcessName and gives
			// process ids in 0x hex.
			name, _ := ev.Fields.String(eventDataPrefix + "NewProcessName")
			if got["process.executable"] != name || name == "" {
				t.Errorf("process.executable = %#v, want NewProcessName %q", got["process.executable"], name)
			}
			hexPID, _ := ev.Fields.String(eventDataPrefix + "NewProcessId")
			if !strings.HasPrefix(hexPID, "0x") {
				t.Errorf("NewProcessId = %q, want 0x hex as Windows writes it", hexPID)
			}
		})
	}
}

// TestWinlogbeatViewSecurityLogon checks a real 4624 logon from a remote
// address: the source moves into source.*, and user.* names the account
// that logged on.
func TestWinlogbeatViewSecurityLogon(t *testing.T) {
	path := sharedEVTX + "/evtx-attack-samples/lateral_movement/LM_4624_mimikatz_sekurlsa_pth_source_machine.evtx"
	var logon *ecs.Event
	_, err := evtx.ReadFile(context.Background(), path, func(ev *ecs.Event) error {
		id, _ := ev.Fields.Int("winlog.event_id")
		ip, _ := ev.Fields.String(eventDataPrefix + "IpAddress")
		if _, err := netip.ParseAddr(ip); err == nil && id == 4624 && logon == nil {
			logon = ev
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if logon == nil {
		t.Fatalf("%s has no 4624 event with an IP address", path)
	}

	got := winlogbeatView(logon.Fields)
	sameAs := map[string]string{
		"source.ip":   "IpAddress",
		"user.name":   "TargetUserName",
		"user.domain": "TargetDomainName",
	}
	for field, from := range sameAs {
		want, _ := logon.Fields.String(eventDataPrefix + from)
		if got[field] != want {
			t.Errorf("%s = %#v, want %s %q", field, got[field], from, want)
		}
	}
	if _, ok := got[eventDataPrefix+"IpAddress"]; ok {
		t.Errorf("%sIpAddress is still present, want it moved to source.ip", eventDataPrefix)
	}
	if _, ok := got[eventDataPrefix+"TargetUserName"]; !ok {
		t.Errorf("%sTargetUserName is missing, want it kept", eventDataPrefix)
	}
}

// TestWinlogbeatViewKeepsOtherDatasets checks that only Windows events
// change.
func TestWinlogbeatViewKeepsOtherDatasets(t *testing.T) {
	f := ecs.Fields{"event.dataset": "system.auth", eventDataPrefix + "Image": `C:\x.exe`}
	got := winlogbeatView(f)
	if len(got) != len(f) || got[eventDataPrefix+"Image"] != `C:\x.exe` {
		t.Errorf("winlogbeatView(system.auth event) = %v, want the fields unchanged", got)
	}
}

// TestSysmonHashesAndUser checks the split of Hashes and User.
func TestSysmonHashesAndUser(t *testing.T) {
	tests := []struct {
		eventID int64
		hashes  string
		user    string
		want    ecs.Fields
		absent  []string
	}{
		{
			eventID: 1,
			hashes:  "SHA1=B6D237154F2E528F0B503B58B025862D66B02B73,MD5=00000000000000000000000000000000,IMPHASH=ABCDEF",
			user:    `VAGRANT\vagrant`,
			want: ecs.Fields{
				"process.hash.sha1":  "b6d237154f2e528f0b503b58b025862d66b02b73",
				"process.pe.imphash": "abcdef",
				"user.domain":        "VAGRANT",
				"user.name":          "vagrant",
			},
			absent: []string{"process.hash.md5", eventDataPrefix + "Hashes", eventDataPrefix + "User"},
		},
		{
			eventID: 7,
			hashes:  "SHA256=AB12",
			user:    "SYSTEM", // no domain part: Winlogbeat sets no user fields
			want:    ecs.Fields{"file.hash.sha256": "ab12"},
			absent:  []string{"process.hash.sha256", "user.name", eventDataPrefix + "User"},
		},
	}
	for _, tt := range tests {
		f := ecs.Fields{
			"event.dataset":            "windows.microsoft-windows-sysmon/operational",
			"winlog.event_id":          tt.eventID,
			eventDataPrefix + "Hashes": tt.hashes,
			eventDataPrefix + "User":   tt.user,
		}
		got := winlogbeatView(f)
		for field, want := range tt.want {
			if got[field] != want {
				t.Errorf("event %d: %s = %#v, want %#v", tt.eventID, field, got[field], want)
			}
		}
		for _, field := range tt.absent {
			if v, ok := got[field]; ok {
				t.Errorf("event %d: %s = %#v, want it absent", tt.eventID, field, v)
			}
		}
	}
}

func TestParsePID(t *testing.T) {
	tests := []struct {
		in     string
		want   int64
		wantOK bool
	}{
		{"4212", 4212, true},
		{"0x1a2c", 0x1a2c, true},
		{"0X10", 16, true},
		{" 7 ", 7, true},
		{"-1", 0, false},
		{"0x", 0, false},
		{"4294967296", 0, false}, // larger than a Windows process id (32 bits)
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := parsePID(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("parsePID(%q) = %d, %v, want %d, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

// FuzzWinlogbeatView feeds event data values to the Winlogbeat moves and
// checks that process names are base names of the executables and that
// process ids are valid.
func FuzzWinlogbeatView(f *testing.F) {
	f.Add(`C:\Windows\System32\wbem\WMIC.exe`, "4212", `VAGRANT\vagrant`, "SHA1=AB,IMPHASH=CD", int64(1))
	f.Add(`C:\Windows\hh.exe`, "0x1a2c", "SYSTEM", "", int64(4688))
	f.Add(`\\?\C:\Windows\explorer.exe`, "-", "", "MD5=0000", int64(7))
	f.Add("/", "0x", `\`, "=", int64(0))
	f.Fuzz(func(t *testing.T, image, pid, user, hashes string, eventID int64) {
		for _, dataset := range []string{"windows.microsoft-windows-sysmon/operational", "windows.security"} {
			fields := ecs.Fields{
				"event.dataset":                       dataset,
				"winlog.event_id":                     eventID,
				eventDataPrefix + "Image":             image,
				eventDataPrefix + "NewProcessName":    image,
				eventDataPrefix + "ProcessId":         pid,
				eventDataPrefix + "NewProcessId":      pid,
				eventDataPrefix + "User":              user,
				eventDataPrefix + "SubjectUserName":   user,
				eventDataPrefix + "Hashes":            hashes,
				eventDataPrefix + "ParentProcessName": image,
				eventDataPrefix + "IpAddress":         user,
				eventDataPrefix + "IpPort":            pid,
			}
			got := winlogbeatView(fields)
			exe, hasExe := got["process.executable"].(string)
			name, hasName := got["process.name"].(string)
			if hasName && (!hasExe || !strings.HasSuffix(exe, `\`+name) || strings.Contains(name, `\`)) {
				t.Errorf("%s: process.name %q is not the base name of process.executable %q", dataset, name, exe)
			}
			if pidValue, ok := got["process.pid"]; ok {
				if n, isInt := pidValue.(int64); !isInt || n < 0 {
					t.Errorf("%s: process.pid = %#v, want a non-negative int64", dataset, pidValue)
				}
			}
			if ip, ok := got["source.ip"].(string); ok {
				if _, err := netip.ParseAddr(ip); err != nil {
					t.Errorf("%s: source.ip = %q, want an IP address", dataset, ip)
				}
			}
			if len(fields) != 12 || fields[eventDataPrefix+"Image"] != image {
				t.Fatalf("%s: winlogbeatView changed its input", dataset)
			}
		}
	})
}
