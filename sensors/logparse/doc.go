// Package logparse turns log lines into ECS fields. It reads syslog
// (RFC 3164 and RFC 5424) with program-specific parsers for sshd, PAM, sudo,
// su and vsftpd, and nginx and Apache access and error logs. It reads Linux
// auditd records, also when they are carried in syslog lines. It reads JSON
// lines: ECS documents, Zeek logs, and Windows events in the Winlogbeat, OTRF
// and evtx_dump shapes.
//
// # Streaming
//
// A Decoder reads one Line at a time and calls emit for each Record it
// completes. Most lines give one Record at once; auditd records are held
// until their event is complete (see Decoder.Pending for checkpoints and
// Decoder.Flush for end of input). Every non-empty line ends up in exactly
// one Record: parsed, a raw system.syslog event (format auto, nothing
// recognised), or a dead letter (Record.Err, a *ParseError whose Reason is a
// stable code with a catalog message under "logparse.deadletter.<reason>").
//
// # Timestamps
//
// Timestamps that carry a zone (RFC 5424, ISO 8601 with offset, access logs,
// auditd epoch seconds) are used as written. Timestamps without a zone (BSD
// syslog, ISO without offset, Apache and nginx error logs) are in
// Options.Location, time.Local by default.
//
// BSD syslog timestamps ("Mmm dd hh:mm:ss") have no year. The decoder takes
// the year of the reference time (Options.Reference: the file's modification
// time for files, the receive time for live input) and subtracts one when the
// result would lie more than two days after the reference. A line cannot be
// written before its event happens, so a timestamp later than the file's
// last change or the message's receipt belongs to the previous year: a line
// of 31 December read on 2 January, or a line of 10 December in a file last
// written on 4 December. The two days allow for clock skew and for senders
// that log in another time zone. rsyslog applies the same idea only to
// December lines read in January; a file read long after it was written
// needs it for every month.
//
// # Datasets and actions
//
// event.dataset is system.auth for sshd, sudo, su, vsftpd and PAM messages,
// system.syslog for other syslog lines and unrecognised lines, web.access and
// web.error (service.type apache or nginx) for web servers, auditd.log,
// zeek.<stream> for Zeek logs, and windows.<channel in lower case> for
// Windows events. JSON ECS documents keep
// their own dataset. The event.action values of system.auth events are the
// Action constants of this package; an authentication failure is an event
// with event.category containing "authentication" and event.outcome
// "failure". Lines that only repeat or sum up failures logged one by one
// (ssh_userauth_request, pam_check_pass, pam_more_failures, and ssh_disconnect
// for "Too many authentication failures") have actions of their own, so a
// rule that counts ssh_login, invalid_user, pam_auth_failure and
// max_auth_attempts counts each attempt once.
package logparse
