package crosscheck

import (
	"context"
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

// TestWinlogbeatFieldsFromEVTX checks the ECS fields added to real Sysmon
// and Security process creation events.
func TestWinlogbeatFieldsFromEVTX(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		eventID int64
		want    ecs.Fields
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
		},
		{
			name:    "security 4688",
			path:    "../../../shared/data/evtx/evtx-attack-samples/lateral_movement/LM_WMI_4624_4688_TargetHost.evtx",
			eventID: 4688,
			want: ecs.Fields{
				"event.code": "4688",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := firstEvent(t, tt.path, tt.eventID)
			got := winlogbeatFields(ev.Fields)
			for field, want := range tt.want {
				if got[field] != want {
					t.Errorf("%s = %#v, want %#v", field, got[field], want)
				}
			}
			if _, ok := got["process.pid"].(int64); !ok {
				t.Errorf("process.pid = %#v, want an int64 read from the event data", got["process.pid"])
			}
			if tt.eventID != 4688 {
				return
			}
			// Security 4688 names the new process NewProcessName and gives
			// process ids in 0x hex.
			name, _ := ev.Fields.String("winlog.event_data.NewProcessName")
			if got["process.executable"] != name || name == "" {
				t.Errorf("process.executable = %#v, want NewProcessName %q", got["process.executable"], name)
			}
			hexPID, _ := ev.Fields.String("winlog.event_data.NewProcessId")
			if !strings.HasPrefix(hexPID, "0x") {
				t.Errorf("NewProcessId = %q, want 0x hex as Windows writes it", hexPID)
			}
		})
	}
}

// TestWinlogbeatFieldsSkipsOtherDatasets checks that only Windows events
// get ECS copies.
func TestWinlogbeatFieldsSkipsOtherDatasets(t *testing.T) {
	f := ecs.Fields{"event.dataset": "system.auth", "winlog.event_data.Image": `C:\x.exe`}
	if got := winlogbeatFields(f); got != nil {
		t.Errorf("winlogbeatFields(system.auth event) = %v, want nil", got)
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

// FuzzWinlogbeatFields feeds event data values to the ECS copies and checks
// that process names are base names of the executables.
func FuzzWinlogbeatFields(f *testing.F) {
	f.Add(`C:\Windows\System32\wbem\WMIC.exe`, "4212", `VAGRANT\vagrant`, int64(1))
	f.Add(`C:\Windows\hh.exe`, "0x1a2c", "SYSTEM", int64(4688))
	f.Add(`\\?\C:\Windows\explorer.exe`, "-", "", int64(7))
	f.Add("/", "0x", `\`, int64(0))
	f.Fuzz(func(t *testing.T, image, pid, user string, eventID int64) {
		for _, dataset := range []string{"windows.microsoft-windows-sysmon/operational", "windows.security"} {
			fields := ecs.Fields{
				"event.dataset":                     dataset,
				"winlog.event_id":                   eventID,
				"winlog.event_data.Image":           image,
				"winlog.event_data.NewProcessName":  image,
				"winlog.event_data.ProcessId":       pid,
				"winlog.event_data.NewProcessId":    pid,
				"winlog.event_data.User":            user,
				"winlog.event_data.SubjectUserName": user,
			}
			got := winlogbeatFields(fields)
			exe, hasExe := got["process.executable"].(string)
			name, hasName := got["process.name"].(string)
			if hasName && (!hasExe || !strings.HasSuffix(exe, name) || strings.ContainsAny(name, `\/`)) {
				t.Errorf("%s: process.name %q is not the base name of process.executable %q", dataset, name, exe)
			}
			if pidValue, ok := got["process.pid"]; ok {
				if n, isInt := pidValue.(int64); !isInt || n < 0 {
					t.Errorf("%s: process.pid = %#v, want a non-negative int64", dataset, pidValue)
				}
			}
		}
	})
}
