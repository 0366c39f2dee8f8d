package packet

import "bytes"

// SSHRecord holds the identification strings ("SSH-2.0-OpenSSH_9.6") that
// the two sides of an SSH connection send first (RFC 4253, section 4.2).
type SSHRecord struct {
	RecordContext
	ClientBanner string // sent by the flow's client; empty if not seen
	ServerBanner string
}

// maxSSHBanner is the maximum identification string length of RFC 4253.
const maxSSHBanner = 255

// sshSegment records an SSH identification string at the start of a TCP
// segment in either direction and reports whether the flow is SSH. The
// record is written once both sides sent theirs, or when the flow ends.
// NOTE: a server may send other lines before its identification string;
// those servers are only seen if the string starts a segment.
func (e *engine) sshSegment(f *flow, payload []byte, dir int) bool {
	if f.sshD[dir] || !bytes.HasPrefix(payload, []byte("SSH-")) {
		return f.rec.Protocol == "ssh"
	}
	line := payload
	if len(line) > maxSSHBanner {
		line = line[:maxSSHBanner]
	}
	if i := bytes.IndexAny(line, "\r\n"); i >= 0 {
		line = line[:i]
	}
	f.sshD[dir] = true
	if f.ssh == nil {
		ctx, ok := e.context(f)
		if !ok {
			return true
		}
		f.ssh = &SSHRecord{RecordContext: ctx}
	}
	f.rec.Protocol = "ssh"
	if dir == dirClientToServer {
		f.ssh.ClientBanner = string(line)
	} else {
		f.ssh.ServerBanner = string(line)
	}
	if f.ssh.ClientBanner != "" && f.ssh.ServerBanner != "" {
		e.sink.sshRecord(f.ssh)
		f.ssh = nil
	}
	return true
}
