package crosscheck

import (
	"strconv"
	"strings"

	"github.com/canhgac/canhgac/ecs"
)

// pySigma's ecs_windows pipeline writes queries for events that Winlogbeat
// 8 shipped through its sysmon and security modules: those modules copy
// event data into ECS fields (Image into process.executable, CommandLine
// into process.command_line, ...). canhgac's EVTX reader keeps the
// Winlogbeat event data shape (winlog.event_data.<Name>) and its Sigma
// fieldmap reads those names. The index of this test holds both: the
// canhgac document plus the ECS fields that Winlogbeat's modules add. So a
// pySigma query meets the field names it was written for, and the engine
// meets the names it reads.
//
// The copies below follow the golden outputs of Winlogbeat's module tests
// for ECS 8.17 (elastic/beats, x-pack/winlogbeat/module/sysmon and
// security, test/testdata/ingest): for example Sysmon event 1 gets
// process.executable, process.name, process.pe.* and user.domain/user.name
// split from User, and Security 4688 gets process.pid from the hex
// NewProcessId and process.parent.executable from ParentProcessName.
//
// NOTE: Winlogbeat's sysmon module renames the event data it copies, so a
// Winlogbeat index has no winlog.event_data.Image or .Hashes. The index
// here keeps them because canhgac's own store does. A pySigma query that
// falls back to winlog.event_data.<Name> for a field Winlogbeat moves
// (Hashes goes to process.hash.*) therefore matches here and would not
// match in a Winlogbeat index.

// ecsCopy copies one event data value into an ECS field.
type ecsCopy struct {
	from string // event data name, without winlog.event_data.
	to   string // ECS field
	pid  bool   // the value is a process id: decimal (Sysmon) or 0x hex (Security)
}

// sysmonCopies are the copies of Winlogbeat's sysmon module for the event
// data that every Sysmon event id shares.
var sysmonCopies = []ecsCopy{
	{from: "Image", to: "process.executable"},
	{from: "SourceImage", to: "process.executable"},
	{from: "CommandLine", to: "process.command_line"},
	{from: "CurrentDirectory", to: "process.working_directory"},
	{from: "ProcessGuid", to: "process.entity_id"},
	{from: "SourceProcessGuid", to: "process.entity_id"},
	{from: "ProcessId", to: "process.pid", pid: true},
	{from: "SourceProcessId", to: "process.pid", pid: true},
	{from: "ParentImage", to: "process.parent.executable"},
	{from: "ParentCommandLine", to: "process.parent.command_line"},
	{from: "ParentProcessGuid", to: "process.parent.entity_id"},
	{from: "ParentProcessId", to: "process.parent.pid", pid: true},
	{from: "TargetFilename", to: "file.path"},
	{from: "TargetObject", to: "registry.path"},
	{from: "QueryName", to: "dns.question.name"},
	{from: "PipeName", to: "file.name"},
}

// sysmonPECopies are the PE header fields. Event 1 describes the new
// process (process.pe.*), event 7 the loaded image (file.pe.*).
var sysmonPECopies = []struct{ from, field string }{
	{"OriginalFileName", "original_file_name"},
	{"Description", "description"},
	{"Product", "product"},
	{"Company", "company"},
	{"FileVersion", "file_version"},
}

// security4688Copies are the copies of Winlogbeat's security module for
// process creation (event 4688), whose event data names differ from
// Sysmon's.
var security4688Copies = []ecsCopy{
	{from: "NewProcessName", to: "process.executable"},
	{from: "CommandLine", to: "process.command_line"},
	{from: "NewProcessId", to: "process.pid", pid: true},
	{from: "ParentProcessName", to: "process.parent.executable"},
	{from: "ProcessId", to: "process.parent.pid", pid: true},
}

// securitySubjectCopies give the acting user of a Security event, as the
// security module does for the events of this sample (4688, 4699, 4701).
var securitySubjectCopies = []ecsCopy{
	{from: "SubjectUserName", to: "user.name"},
	{from: "SubjectDomainName", to: "user.domain"},
	{from: "SubjectUserSid", to: "user.id"},
}

// winlogbeatFields returns the ECS fields that Winlogbeat's modules add to
// a Windows event with these fields, or nil for any other event.
func winlogbeatFields(f ecs.Fields) ecs.Fields {
	dataset, _ := f.String("event.dataset")
	if !strings.HasPrefix(dataset, "windows.") {
		return nil
	}
	out := ecs.Fields{}
	eventID, hasID := f.Int("winlog.event_id")
	if hasID {
		out["event.code"] = strconv.FormatInt(eventID, 10)
	}

	switch dataset {
	case "windows.microsoft-windows-sysmon/operational":
		applyCopies(out, f, sysmonCopies)
		pePrefix := ""
		switch eventID {
		case 1:
			pePrefix = "process.pe."
		case 7:
			pePrefix = "file.pe."
			copyString(out, f, "ImageLoaded", "file.path")
		}
		if pePrefix != "" {
			for _, c := range sysmonPECopies {
				copyString(out, f, c.from, pePrefix+c.field)
			}
		}
		if user, ok := f.String("winlog.event_data.User"); ok {
			domain, name := splitAccount(user)
			out["user.name"] = name
			if domain != "" {
				out["user.domain"] = domain
			}
		}
	case "windows.security":
		if eventID == 4688 {
			applyCopies(out, f, security4688Copies)
		}
		applyCopies(out, f, securitySubjectCopies)
	}

	addProcessName(out, "process.executable", "process.name")
	addProcessName(out, "process.parent.executable", "process.parent.name")
	return out
}

func applyCopies(out, f ecs.Fields, copies []ecsCopy) {
	for _, c := range copies {
		if _, done := out[c.to]; done {
			continue
		}
		v, ok := f.String("winlog.event_data." + c.from)
		if !ok || v == "" || v == "-" {
			continue
		}
		if !c.pid {
			out[c.to] = v
			continue
		}
		if pid, ok := parsePID(v); ok {
			out[c.to] = pid
		}
	}
}

func copyString(out, f ecs.Fields, from, to string) {
	if v, ok := f.String("winlog.event_data." + from); ok && v != "" && v != "-" {
		out[to] = v
	}
}

// parsePID reads a process id in Sysmon's decimal or Security's 0x hex form.
func parsePID(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	var n uint64
	var err error
	if hex, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		n, err = strconv.ParseUint(hex, 16, 32)
	} else {
		n, err = strconv.ParseUint(s, 10, 32)
	}
	if err != nil {
		return 0, false
	}
	return int64(n), true
}

// splitAccount splits "DOMAIN\user" into its domain and user name.
func splitAccount(account string) (domain, name string) {
	if i := strings.LastIndexByte(account, '\\'); i >= 0 {
		return account[:i], account[i+1:]
	}
	return "", account
}

// addProcessName sets the executable's base name, as Winlogbeat does.
func addProcessName(out ecs.Fields, executableField, nameField string) {
	exe, ok := out[executableField].(string)
	if !ok {
		return
	}
	if i := strings.LastIndexAny(exe, `\/`); i >= 0 {
		exe = exe[i+1:]
	}
	if exe != "" {
		out[nameField] = exe
	}
}
