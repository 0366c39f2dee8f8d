package crosscheck

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/canhgac/canhgac/ecs"
)

// pySigma's ecs_windows pipeline writes queries for events that Winlogbeat
// 8 shipped through its sysmon and security ingest pipelines. Those
// pipelines move event data into ECS fields (Image into
// process.executable, CommandLine into process.command_line, ...) and drop
// the moved winlog.event_data.<Name> values. canhgac's EVTX reader keeps all
// event data under winlog.event_data.<Name>, and its Sigma fieldmap reads
// those names.
//
// The index of this test therefore holds each event as a Winlogbeat 8
// deployment stores it (winlogbeatView), and the engine reads canhgac's own
// event. Both come from the same EVTX record. The moves below follow
// elastic/beats x-pack/winlogbeat/module/sysmon/ingest/sysmon.yml and the
// golden outputs of the security and powershell modules' tests. For example,
// 4688 moves NewProcessName, NewProcessId and ParentProcessName and keeps
// CommandLine and ProcessId, 4624 moves IpAddress, IpPort and
// WorkstationName into source.* and takes user.* from Target*, and 4104
// moves ScriptBlockText into powershell.file.script_block_text. They cover
// the fields that the shared SigmaHQ Windows rules use, not every field the
// pipelines derive.

// ecsMove copies one event data value into an ECS field.
type ecsMove struct {
	from string // event data name, without winlog.event_data.
	to   string // ECS field
	kind valueKind
	keep bool // Winlogbeat copies the value and keeps winlog.event_data.<from>
}

// valueKind is how a moved value is converted.
type valueKind int

const (
	asString valueKind = iota
	asPID              // decimal (Sysmon) or 0x hex (Security) process id, to int64
	asPort             // decimal number up to 65535, to int64
	asIP               // IPv4 or IPv6 address; other text is not moved
)

// sysmonMoves are the moves of the sysmon pipeline that apply to every
// Sysmon event id. The first move into a field wins.
var sysmonMoves = []ecsMove{
	{from: "ProcessGuid", to: "process.entity_id"},
	{from: "ProcessId", to: "process.pid", kind: asPID},
	{from: "Image", to: "process.executable"},
	{from: "SourceProcessGuid", to: "process.entity_id"},
	{from: "SourceProcessId", to: "process.pid", kind: asPID},
	{from: "SourceImage", to: "process.executable"},
	{from: "Destination", to: "process.executable"},
	{from: "CommandLine", to: "process.command_line"},
	{from: "CurrentDirectory", to: "process.working_directory"},
	{from: "ParentProcessGuid", to: "process.parent.entity_id"},
	{from: "ParentProcessId", to: "process.parent.pid", kind: asPID},
	{from: "ParentImage", to: "process.parent.executable"},
	{from: "ParentCommandLine", to: "process.parent.command_line"},
	{from: "TargetFilename", to: "file.path"},
	{from: "Device", to: "file.path"},
	{from: "PipeName", to: "file.name"},
	{from: "ImageLoaded", to: "file.path"},
	{from: "Protocol", to: "network.transport"},
	{from: "SourceIp", to: "source.ip"},
	{from: "SourceHostname", to: "source.domain"},
	{from: "SourcePort", to: "source.port", kind: asPort},
	{from: "DestinationIp", to: "destination.ip"},
	{from: "DestinationHostname", to: "destination.domain"},
	{from: "DestinationPort", to: "destination.port", kind: asPort},
	{from: "QueryName", to: "dns.question.name"},
}

// sysmonPEMoves are the PE header fields. Event 7 (image loaded) describes
// the loaded file (file.pe.*), every other event the process (process.pe.*).
var sysmonPEMoves = []ecsMove{
	{from: "OriginalFileName", to: "original_file_name"},
	{from: "Company", to: "company", keep: true},
	{from: "Description", to: "description", keep: true},
	{from: "FileVersion", to: "file_version", keep: true},
	{from: "Product", to: "product", keep: true},
}

// sysmonDropped are event data names the sysmon pipeline removes after it
// derived other fields from them (or without replacement, like UtcTime).
var sysmonDropped = []string{
	"SourceThreadId", "SourcePortName", "DestinationPortName", "RuleName", "User",
	"Initiated", "SourceIsIpv6", "DestinationIsIpv6", "QueryStatus", "Archived",
	"IsExecutable", "QueryResults", "UtcTime", "Hash", "Hashes", "TargetObject", "Details",
}

// security4688Moves are the moves of the security pipeline for process
// creation (event 4688), whose event data names differ from Sysmon's.
var security4688Moves = []ecsMove{
	{from: "NewProcessName", to: "process.executable"},
	{from: "CommandLine", to: "process.command_line", keep: true},
	{from: "NewProcessId", to: "process.pid", kind: asPID},
	{from: "ParentProcessName", to: "process.parent.executable"},
	{from: "ProcessId", to: "process.parent.pid", kind: asPID, keep: true},
}

// securitySubjectMoves give the acting user of a Security event, as the
// security pipeline does for 4688, 4699 and 4701.
var securitySubjectMoves = []ecsMove{
	{from: "SubjectUserName", to: "user.name", keep: true},
	{from: "SubjectDomainName", to: "user.domain", keep: true},
	{from: "SubjectUserSid", to: "user.id", keep: true},
}

// securityLogonUserMoves give the user of a logon (4624) or failed logon
// (4625): the account that logged on, not the subject that requested it.
var securityLogonUserMoves = []ecsMove{
	{from: "TargetUserName", to: "user.name", keep: true},
	{from: "TargetDomainName", to: "user.domain", keep: true},
	{from: "TargetUserSid", to: "user.id", keep: true},
}

// securityNetworkMoves are the source address and process of Security
// events other than 4688, which names its process fields differently.
var securityNetworkMoves = []ecsMove{
	{from: "IpAddress", to: "source.ip", kind: asIP},
	{from: "IpPort", to: "source.port", kind: asPort},
	{from: "WorkstationName", to: "source.domain"},
	{from: "ProcessName", to: "process.executable"},
	{from: "ProcessId", to: "process.pid", kind: asPID},
}

// powershellScriptMoves are the moves of the powershell pipeline for
// script block logging (event 4104).
var powershellScriptMoves = []ecsMove{
	{from: "ScriptBlockText", to: "powershell.file.script_block_text"},
	{from: "ScriptBlockId", to: "powershell.file.script_block_id"},
	{from: "MessageNumber", to: "powershell.sequence", kind: asPort},
	{from: "MessageTotal", to: "powershell.total", kind: asPort},
	{from: "Path", to: "file.path"},
}

// winlogbeatView returns the fields of a Windows event as Winlogbeat 8's
// ingest pipelines store them. Other events are returned unchanged. f is not
// modified.
func winlogbeatView(f ecs.Fields) ecs.Fields {
	out := make(ecs.Fields, len(f)+16)
	for k, v := range f {
		out[k] = v
	}
	dataset, _ := f.String("event.dataset")
	if !strings.HasPrefix(dataset, "windows.") {
		return out
	}
	eventID, hasID := f.Int("winlog.event_id")
	if hasID {
		out["event.code"] = strconv.FormatInt(eventID, 10)
	}

	switch dataset {
	case "windows.microsoft-windows-sysmon/operational":
		// The sysmon pipeline first drops empty values of event data.
		for k, v := range f {
			if s, ok := v.(string); ok && strings.HasPrefix(k, eventDataPrefix) && isEmptySysmonValue(s) {
				delete(out, k)
			}
		}
		applyMoves(out, sysmonMoves)
		pePrefix := "process.pe."
		if eventID == 7 {
			pePrefix = "file.pe."
		}
		for _, m := range sysmonPEMoves {
			m.to = pePrefix + m.to
			applyMoves(out, []ecsMove{m})
		}
		moveHashes(out, eventID)
		moveUser(out)
		if eventID >= 12 && eventID <= 14 {
			copyString(out, "TargetObject", "registry.path")
		}
		for _, name := range sysmonDropped {
			delete(out, eventDataPrefix+name)
		}
	case "windows.security":
		switch eventID {
		case 4688:
			applyMoves(out, security4688Moves)
		default:
			applyMoves(out, securityNetworkMoves)
		}
		if eventID == 4624 || eventID == 4625 {
			applyMoves(out, securityLogonUserMoves)
		} else {
			applyMoves(out, securitySubjectMoves)
		}
	case "windows.microsoft-windows-powershell/operational":
		if eventID == 4104 {
			applyMoves(out, powershellScriptMoves)
		}
	}

	addProcessName(out, "process.executable", "process.name")
	addProcessName(out, "process.parent.executable", "process.parent.name")
	return out
}

const eventDataPrefix = "winlog.event_data."

// isEmptySysmonValue reports whether the sysmon pipeline treats an event
// data value as empty and removes it.
func isEmptySysmonValue(s string) bool {
	return s == "" || s == "-" || s == "{00000000-0000-0000-0000-000000000000}"
}

// applyMoves performs moves on out in order. A move whose source is
// missing, empty or not convertible is skipped and leaves the source alone.
func applyMoves(out ecs.Fields, moves []ecsMove) {
	for _, m := range moves {
		src, ok := out.String(eventDataPrefix + m.from)
		if !ok || src == "" || src == "-" {
			continue
		}
		var value any = src
		switch m.kind {
		case asPID:
			pid, ok := parsePID(src)
			if !ok {
				continue
			}
			value = pid
		case asPort:
			port, err := strconv.ParseUint(strings.TrimSpace(src), 10, 16)
			if err != nil {
				continue
			}
			value = int64(port)
		case asIP:
			if _, err := netip.ParseAddr(src); err != nil {
				continue
			}
		}
		if _, taken := out[m.to]; !taken {
			out[m.to] = value
		}
		if !m.keep {
			delete(out, eventDataPrefix+m.from)
		}
	}
}

func copyString(out ecs.Fields, from, to string) {
	if v, ok := out.String(eventDataPrefix + from); ok && v != "" {
		out[to] = v
	}
}

// moveHashes splits Sysmon's "SHA1=...,MD5=...,IMPHASH=..." into lower-case
// process.hash.* (events 1, 23, 24, 25, 26) or file.hash.* (6, 7, 15, 29),
// with the import hash under *.pe.imphash. The pipeline lists 26 for both,
// and its process move runs first. All-zero hashes are skipped.
func moveHashes(out ecs.Fields, eventID int64) {
	hashes, ok := out.String(eventDataPrefix + "Hashes")
	if !ok {
		hashes, ok = out.String(eventDataPrefix + "Hash")
	}
	if !ok {
		return
	}
	var prefix string
	switch eventID {
	case 1, 23, 24, 25, 26:
		prefix = "process."
	case 6, 7, 15, 29:
		prefix = "file."
	default:
		return
	}
	for _, pair := range strings.Split(hashes, ",") {
		alg, value, found := strings.Cut(pair, "=")
		if !found {
			continue
		}
		alg, value = strings.ToLower(strings.TrimSpace(alg)), strings.ToLower(strings.TrimSpace(value))
		if strings.Trim(value, "0") == "" {
			continue
		}
		if alg == "imphash" {
			out[prefix+"pe.imphash"] = value
		} else {
			out[prefix+"hash."+alg] = value
		}
	}
}

// moveUser splits Sysmon's "DOMAIN\user" into user.domain and user.name.
func moveUser(out ecs.Fields) {
	account, ok := out.String(eventDataPrefix + "User")
	if !ok {
		return
	}
	domain, name, found := strings.Cut(account, `\`)
	if !found || strings.Contains(name, `\`) {
		return
	}
	if domain != "" {
		out["user.domain"] = domain
	}
	if name != "" {
		out["user.name"] = name
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

// addProcessName sets the part of the executable after the last backslash,
// as Winlogbeat does, unless the name is already set.
func addProcessName(out ecs.Fields, executableField, nameField string) {
	exe, ok := out[executableField].(string)
	if !ok {
		return
	}
	if _, set := out[nameField]; set {
		return
	}
	i := strings.LastIndexByte(exe, '\\')
	if i < 0 || i == len(exe)-1 {
		return
	}
	out[nameField] = exe[i+1:]
}
