package logparse

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/canhgac/canhgac/ecs"
)

// Actions set on system.auth events (event.action). Authentication attempts
// carry event.category ["authentication"] and event.outcome success or
// failure; connection-level sshd events carry ["network"].
const (
	ActionSSHLogin          = "ssh_login"            // Accepted/Failed <method> for USER from HOST
	ActionSSHLoginPostponed = "ssh_login_postponed"  // Postponed <method> (partial success, more methods required)
	ActionInvalidUser       = "invalid_user"         // Invalid user USER from HOST
	ActionUserauthRequest   = "ssh_userauth_request" // input_userauth_request: invalid user (repeats invalid_user, without address)
	ActionUserNotAllowed    = "user_not_allowed"     // AllowUsers/DenyUsers/groups/locked account
	ActionRootLoginRefused  = "root_login_refused"   // ROOT LOGIN REFUSED FROM HOST
	ActionMaxAuthAttempts   = "max_auth_attempts"    // maximum authentication attempts exceeded
	ActionPAMAuthFailure    = "pam_auth_failure"     // PAM "authentication failure;" and "PAM: Authentication failure for"
	ActionPAMMoreFailures   = "pam_more_failures"    // PAM N more authentication failures (sums failures logged one by one)
	ActionPAMCheckPass      = "pam_check_pass"       // pam_unix "check pass; user unknown" (precedes its pam_auth_failure)
	ActionSSHDisconnect     = "ssh_disconnect"       // Received disconnect, Disconnected from, Disconnecting (also "Too many authentication failures")
	ActionSSHConnClosed     = "ssh_connection_closed"
	ActionSSHConnection     = "ssh_connection"        // Connection from HOST port N
	ActionSSHNoIdent        = "ssh_no_identification" // Did not receive identification string
	ActionSSHProtocolError  = "ssh_protocol_error"    // bad identification, kex/banner errors, negotiation failures
	ActionSSHTimeout        = "ssh_auth_timeout"      // Timeout before authentication
	ActionConnRefused       = "connection_refused"    // tcp_wrappers "refused connect from"
	ActionSessionOpened     = "session_opened"
	ActionSessionClosed     = "session_closed"
	ActionSudoCommand       = "sudo_command"
	ActionSu                = "su"
	ActionFTPLogin          = "ftp_login"
	ActionWebAuth           = "http_auth" // web server error log: user not found, password mismatch, access denied
)

// Category and type values, boxed once: storing a []string in a map of
// interfaces would otherwise allocate on every event. Records share these
// slices, so consumers must treat field values as read-only.
var (
	categoryAuth    any = []string{"authentication"}
	categoryNetwork any = []string{"network"}
	categorySession any = []string{"session"}
	categoryProcess any = []string{"process"}
	typeStart       any = []string{"start"}
	typeEnd         any = []string{"end"}
	typeInfo        any = []string{"info"}
	typeDenied      any = []string{"denied"}
)

var (
	outcomeSuccess any = "success"
	outcomeFailure any = "failure"
)

func setAction(f ecs.Fields, action string, category, typ any, outcome string) {
	f["event.action"] = action
	f["event.category"] = category
	f["event.type"] = typ
	setOutcome(f, outcome)
}

// setOutcome stores event.outcome without allocating for the two common
// values; "" leaves it unset.
func setOutcome(f ecs.Fields, outcome string) {
	switch outcome {
	case "":
	case "success":
		f["event.outcome"] = outcomeSuccess
	case "failure":
		f["event.outcome"] = outcomeFailure
	default:
		f["event.outcome"] = outcome
	}
}

// setSource stores a host token as source.ip (IPv4-mapped IPv6 addresses
// unmapped, the written form kept in source.address) or, when it is a host
// name, as source.address and source.domain.
func setSource(f ecs.Fields, host string) bool {
	host = strings.TrimSpace(host)
	if host == "" || host == "?" || host == "UNKNOWN" {
		return false
	}

	if a, err := netip.ParseAddr(host); err == nil {
		if a.Is4() {
			// ParseAddr accepts only the canonical dotted form.
			f["source.ip"] = host
		} else {
			f["source.ip"] = a.Unmap().String()
		}
		if a.Is4In6() || a.Zone() != "" {
			f["source.address"] = host
		}
		return true
	}

	if !isHostName(host) {
		return false
	}

	f["source.address"] = host
	f["source.domain"] = host
	return true
}

func isHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}

	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '.' || c == '-' || c == '_') {
			return false
		}
	}

	return true
}

func setPort(f ecs.Fields, port string) {
	if p, err := strconv.ParseInt(port, 10, 64); err == nil && p >= 0 && p <= 65535 {
		f["source.port"] = p
	}
}

// parseSSHD classifies one sshd message. Unknown messages keep only the
// syslog fields.
func parseSSHD(msg string, f ecs.Fields) {
	m := msg
	if strings.HasPrefix(m, "message repeated ") {
		// rsyslog folds repeats: "message repeated N times: [ MSG]".
		rest := m[len("message repeated "):]
		n, after := cutSpace(rest)
		if count, err := strconv.ParseInt(n, 10, 64); err == nil && strings.HasPrefix(after, "times: [") {
			f["system.auth.repeated"] = count
			m = strings.TrimSuffix(strings.TrimLeft(after[len("times: ["):], " "), "]")
		}
	}

	m = strings.TrimPrefix(m, "error: ")
	m = strings.TrimPrefix(m, "fatal: ")
	if strings.HasPrefix(m, "[ID ") {
		// Solaris: "[ID 800047 auth.info] ".
		if i := strings.IndexByte(m, ']'); i > 0 {
			m = strings.TrimLeft(m[i+1:], " ")
		}
	}

	if strings.HasSuffix(m, "]") {
		if i := strings.LastIndex(m, " ["); i >= 0 && (strings.HasSuffix(m, "[preauth]") || strings.HasSuffix(m, "[net]")) {
			m = m[:i]
		}
	}

	switch {
	case strings.HasPrefix(m, "Accepted "):
		sshLogin(m[len("Accepted "):], "success", "Accepted", f)
	case strings.HasPrefix(m, "Failed "):
		sshLogin(m[len("Failed "):], "failure", "Failed", f)
	case strings.HasPrefix(m, "Postponed "):
		sshLogin(m[len("Postponed "):], "", "Postponed", f)
	case strings.HasPrefix(m, "Invalid user ") || strings.HasPrefix(m, "Illegal user ") ||
		strings.HasPrefix(m, "invalid user ") || strings.HasPrefix(m, "illegal user "):
		user, host, port := userFromHost(m[len("Invalid user "):])
		setAction(f, ActionInvalidUser, categoryAuth, typeInfo, "failure")
		f["user.name"] = user
		if setSource(f, host) {
			setPort(f, port)
		}
	case strings.HasPrefix(m, "input_userauth_request: invalid user "):
		setAction(f, ActionUserauthRequest, categoryAuth, typeInfo, "failure")
		f.SetString("user.name", m[len("input_userauth_request: invalid user "):])
	case strings.HasPrefix(m, "User ") && strings.Contains(m[len("User "):], " not allowed because "):
		rest := m[len("User "):]
		i := strings.LastIndex(rest, " not allowed because ")
		account := rest[:i]
		setAction(f, ActionUserNotAllowed, categoryAuth, typeDenied, "failure")
		f["system.auth.ssh.reason"] = rest[i+len(" not allowed because "):]
		if j := strings.LastIndex(account, " from "); j >= 0 {
			f["user.name"] = account[:j]
			setSource(f, account[j+len(" from "):])
		} else {
			f["user.name"] = account
		}
	case strings.HasPrefix(m, "ROOT LOGIN REFUSED FROM "):
		host, port := hostPort(m[len("ROOT LOGIN REFUSED FROM "):])
		setAction(f, ActionRootLoginRefused, categoryAuth, typeDenied, "failure")
		f["user.name"] = "root"
		if setSource(f, host) {
			setPort(f, port)
		}
	case strings.HasPrefix(m, "refused connect from "):
		// tcp_wrappers: "refused connect from NAME (ADDR)".
		rest := m[len("refused connect from "):]
		setAction(f, ActionConnRefused, categoryNetwork, typeDenied, "failure")
		if i, j := strings.LastIndexByte(rest, '('), strings.LastIndexByte(rest, ')'); i >= 0 && j > i {
			setSource(f, rest[i+1:j])
		} else {
			setSource(f, rest)
		}
	case strings.HasPrefix(m, "PAM: "):
		pamSSHD(m[len("PAM: "):], f)
	case strings.HasPrefix(m, "maximum authentication attempts exceeded for "):
		rest := m[len("maximum authentication attempts exceeded for "):]
		setAction(f, ActionMaxAuthAttempts, categoryAuth, typeInfo, "failure")
		rest = strings.TrimPrefix(rest, "invalid user ")
		user, host, port := userFromHost(rest)
		f["user.name"] = user
		if setSource(f, host) {
			setPort(f, port)
		}
	case strings.HasPrefix(m, "Disconnecting"):
		sshDisconnecting(m, f)
	case strings.HasPrefix(m, "Received disconnect from "):
		sshReceivedDisconnect(m[len("Received disconnect from "):], f)
	case strings.HasPrefix(m, "Disconnected from "):
		user, host, port, authenticating := userHostPort(m[len("Disconnected from "):])
		outcome := ""
		if authenticating {
			outcome = "failure"
		}
		setAction(f, ActionSSHDisconnect, categoryNetwork, typeEnd, outcome)
		f.SetString("user.name", user)
		if setSource(f, host) {
			setPort(f, port)
		}
	case strings.HasPrefix(m, "Connection closed by "), strings.HasPrefix(m, "Connection reset by "):
		// "closed by " and "reset by " differ in length; cut at " by ".
		_, rest, _ := strings.Cut(m, " by ")
		user, host, port, authenticating := userHostPort(rest)
		if authenticating {
			setAction(f, ActionSSHConnClosed, categoryAuth, typeEnd, "failure")
		} else {
			setAction(f, ActionSSHConnClosed, categoryNetwork, typeEnd, "")
		}
		f.SetString("user.name", user)
		if setSource(f, host) {
			setPort(f, port)
		}
	case strings.HasPrefix(m, "Connection from "):
		host, port := hostPort(m[len("Connection from "):])
		setAction(f, ActionSSHConnection, categoryNetwork, typeStart, "")
		if setSource(f, host) {
			setPort(f, port)
		}
	case strings.HasPrefix(m, "Did not receive identification string from "):
		host, port := hostPort(m[len("Did not receive identification string from "):])
		setAction(f, ActionSSHNoIdent, categoryNetwork, typeInfo, "failure")
		if setSource(f, host) {
			setPort(f, port)
		}
	case strings.HasPrefix(m, "Bad protocol version identification "):
		setAction(f, ActionSSHProtocolError, categoryNetwork, typeInfo, "failure")
		if i := strings.LastIndex(m, " from "); i >= 0 {
			host, port := hostPort(m[i+len(" from "):])
			if setSource(f, host) {
				setPort(f, port)
			}
		}
	case strings.HasPrefix(m, "Unable to negotiate with "):
		rest := m[len("Unable to negotiate with "):]
		if i := strings.Index(rest, ": "); i >= 0 {
			f["system.auth.ssh.reason"] = rest[i+2:]
			rest = rest[:i]
		}
		host, port := hostPort(rest)
		setAction(f, ActionSSHProtocolError, categoryNetwork, typeInfo, "failure")
		if setSource(f, host) {
			setPort(f, port)
		}
	case strings.HasPrefix(m, "banner exchange: Connection from "), strings.HasPrefix(m, "ssh_dispatch_run_fatal: Connection from "):
		rest := m[strings.Index(m, "Connection from ")+len("Connection from "):]
		if i := strings.Index(rest, ": "); i >= 0 {
			f["system.auth.ssh.reason"] = rest[i+2:]
			rest = rest[:i]
		}
		host, port := hostPort(rest)
		setAction(f, ActionSSHProtocolError, categoryNetwork, typeInfo, "failure")
		if setSource(f, host) {
			setPort(f, port)
		}
	case strings.HasPrefix(m, "kex_exchange_identification: "), strings.HasPrefix(m, "Unable to negotiate a key exchange method"),
		strings.HasPrefix(m, "no matching "), strings.HasPrefix(m, "Read from socket failed: "):
		setAction(f, ActionSSHProtocolError, categoryNetwork, typeInfo, "failure")
		f["system.auth.ssh.reason"] = m
	case strings.HasPrefix(m, "Timeout before authentication for "):
		rest := m[len("Timeout before authentication for "):]
		rest = strings.TrimPrefix(rest, "connection from ")
		if i := strings.Index(rest, " to "); i >= 0 {
			rest = rest[:i]
		}
		host, port := hostPort(rest)
		setAction(f, ActionSSHTimeout, categoryNetwork, typeInfo, "failure")
		if setSource(f, host) {
			setPort(f, port)
		}
	default:
		parsePAM(m, "", f)
	}
}

// sshLogin parses "<method> for [invalid user ]USER from HOST[ port N[ sshN]][: info]".
// The user name is untrusted input and may itself contain " from ", so the
// first " from " whose remainder has the exact trailing shape wins.
func sshLogin(rest, outcome, event string, f ecs.Fields) {
	method, after := cutSpace(rest)
	if !strings.HasPrefix(after, "for ") {
		return
	}

	after = after[len("for "):]
	if event == "Postponed" {
		setAction(f, ActionSSHLoginPostponed, categoryAuth, typeInfo, "")
	} else {
		setAction(f, ActionSSHLogin, categoryAuth, typeInfo, outcome)
	}

	f["system.auth.ssh.method"] = method
	f["system.auth.ssh.event"] = event
	if strings.HasPrefix(after, "invalid user ") || strings.HasPrefix(after, "illegal user ") {
		f["system.auth.ssh.invalid_user"] = true
		after = after[len("invalid user "):]
	}

	searchFrom := 0
	for {
		i := strings.Index(after[searchFrom:], " from ")
		if i < 0 {
			if strings.HasPrefix(after, "from ") {
				// Empty user name: "for invalid user from HOST".
				if host, port, info, ok := loginTail(after[len("from "):]); ok {
					setLoginTail(f, "", host, port, info)
				}
			}
			return
		}
		i += searchFrom
		if host, port, info, ok := loginTail(after[i+len(" from "):]); ok {
			setLoginTail(f, after[:i], host, port, info)
			return
		}
		searchFrom = i + 1
	}
}

func setLoginTail(f ecs.Fields, user, host, port, info string) {
	f["user.name"] = user
	if setSource(f, host) {
		setPort(f, port)
	}

	if info != "" {
		f["system.auth.ssh.signature"] = info
	}
}

// loginTail parses "HOST[ port N[ sshN]][: info]" and requires that nothing
// else follows.
func loginTail(s string) (host, port, info string, ok bool) {
	host, rest := cutSpace(s)
	if host == "" || strings.HasSuffix(host, ":") && rest != "" {
		host = strings.TrimSuffix(host, ":")
	}

	if rest == "" {
		return host, "", "", !strings.Contains(s, " ")
	}

	if !strings.HasPrefix(rest, "port ") {
		return "", "", "", false
	}

	port, rest = cutSpace(rest[len("port "):])
	if !isAllDigits(port) {
		return "", "", "", false
	}

	if rest == "" {
		return host, port, "", true
	}

	proto, tail := rest, ""
	if i := strings.IndexByte(rest, ':'); i >= 0 {
		proto, tail = rest[:i], rest[i+1:]
		if tail != "" && tail[0] != ' ' {
			return "", "", "", false
		}
		tail = strings.TrimPrefix(tail, " ")
	} else if strings.IndexByte(rest, ' ') >= 0 {
		return "", "", "", false
	}

	if !strings.HasPrefix(proto, "ssh") || !isAllDigits(proto[3:]) && proto != "ssh" {
		return "", "", "", false
	}

	return host, port, tail, true
}

// userFromHost parses "USER from HOST[ port N][ sshN]" taking the last
// " from " so that a user name containing " from " stays intact.
func userFromHost(s string) (user, host, port string) {
	i := strings.LastIndex(s, " from ")
	if i < 0 {
		if strings.HasPrefix(s, "from ") {
			host, port = hostPort(s[len("from "):])
			return "", host, port
		}
		return s, "", ""
	}

	host, port = hostPort(s[i+len(" from "):])
	return s[:i], host, port
}

// hostPort parses "HOST[ port N][...]" and "HOST:" forms.
func hostPort(s string) (host, port string) {
	host, rest := cutSpace(s)
	host = strings.TrimSuffix(host, ":")
	if strings.HasPrefix(rest, "port ") {
		port, _ = cutSpace(rest[len("port "):])
		port = strings.TrimSuffix(port, ":")
		if i := strings.IndexByte(port, ':'); i >= 0 {
			port = port[:i]
		}
	}

	return host, port
}

// userHostPort parses the tail of "Connection closed by" and "Disconnected
// from": "[authenticating user U |invalid user U |user U ]HOST[ port N]".
// authenticating is true for the pre-authentication forms.
func userHostPort(s string) (user, host, port string, authenticating bool) {
	for _, p := range [...]string{"authenticating user ", "invalid user ", "user "} {
		if strings.HasPrefix(s, p) {
			rest := s[len(p):]
			authenticating = p != "user "
			// The user name may contain spaces: the host is the word before
			// " port" or the last word.
			end := len(rest)
			if i := strings.LastIndex(rest, " port "); i >= 0 {
				port, _ = cutSpace(rest[i+len(" port "):])
				end = i
			}
			head := rest[:end]
			j := strings.LastIndexByte(head, ' ')
			if j < 0 {
				return "", head, port, authenticating
			}
			return head[:j], head[j+1:], port, authenticating
		}
	}

	host, port = hostPort(s)
	return "", host, port, false
}

func sshDisconnecting(m string, f ecs.Fields) {
	rest := strings.TrimPrefix(m, "Disconnecting")
	reason := rest
	if i := strings.Index(rest, ": "); i >= 0 {
		reason = rest[i+2:]
		rest = rest[:i]
	}

	rest = strings.TrimLeft(rest, " :")
	tooMany := strings.HasPrefix(reason, "Too many authentication failures")
	if tooMany {
		// The end of a connection whose failures sshd logged one by one
		// (or, before OpenSSH 6.8, the only failure line of key attempts).
		setAction(f, ActionSSHDisconnect, categoryAuth, typeEnd, "failure")
		if u, ok := strings.CutPrefix(reason, "Too many authentication failures for "); ok {
			f.SetString("user.name", u)
		}
	} else {
		outcome := ""
		if strings.HasPrefix(rest, "invalid user ") || strings.HasPrefix(rest, "authenticating user ") {
			outcome = "failure"
		}
		if outcome != "" {
			setAction(f, ActionSSHDisconnect, categoryAuth, typeEnd, outcome)
		} else {
			setAction(f, ActionSSHDisconnect, categoryNetwork, typeEnd, outcome)
		}
	}

	f["system.auth.ssh.reason"] = reason
	if rest != "" {
		user, host, port, _ := userHostPort(rest)
		f.SetString("user.name", user)
		if setSource(f, host) {
			setPort(f, port)
		}
	}
}

// sshReceivedDisconnect parses "HOST[ port N]:[ ]CODE: REASON". Code 3 with
// "Auth fail" and "... authentication methods available" end an
// authentication that failed.
func sshReceivedDisconnect(rest string, f ecs.Fields) {
	host, after := cutSpace(rest)
	port, tail := "", after
	if strings.HasSuffix(host, ":") {
		host = host[:len(host)-1]
	} else if p, ok := strings.CutPrefix(after, "port "); ok {
		if i := strings.IndexByte(p, ':'); i >= 0 {
			port, tail = p[:i], p[i+1:]
		}
	}

	code, reason := cutColon(strings.TrimLeft(tail, " "))
	failed := strings.Contains(reason, "Auth fail") || strings.Contains(reason, "authentication methods available")
	if failed {
		setAction(f, ActionSSHDisconnect, categoryAuth, typeEnd, "failure")
	} else {
		setAction(f, ActionSSHDisconnect, categoryNetwork, typeEnd, "")
	}

	if c, err := strconv.ParseInt(code, 10, 64); err == nil {
		f["system.auth.ssh.disconnect_code"] = c
	}
	f.SetString("system.auth.ssh.reason", reason)
	if setSource(f, host) {
		setPort(f, port)
	}
}

func cutColon(s string) (string, string) {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[:i], strings.TrimLeft(s[i+1:], " ")
	}

	return s, ""
}

// pamSSHD parses sshd's "PAM: <text> for [illegal user ]USER from HOST[ via ADDR]".
func pamSSHD(m string, f ecs.Fields) {
	lower := strings.ToLower(m)
	if !(strings.HasPrefix(lower, "authentication failure for ") || strings.HasPrefix(lower, "authentication error for ") ||
		strings.HasPrefix(lower, "user not known to the underlying authentication module for ")) {
		return
	}

	rest := m[strings.Index(m, " for ")+len(" for "):]
	rest = strings.TrimPrefix(rest, "illegal user ")
	rest = strings.TrimRight(rest, " ")
	if i := strings.LastIndex(rest, " via "); i >= 0 {
		rest = rest[:i]
	}

	setAction(f, ActionPAMAuthFailure, categoryAuth, typeInfo, "failure")
	user, host, _ := userFromHost(rest)
	f["user.name"] = user
	setSource(f, host)
}

// sshSessions remembers recent sshd processes (by host and pid):
//   - their client address, so that messages that omit it ("Disconnecting:
//     Too many authentication failures", "kex_exchange_identification: ...")
//     get source.ip from an earlier line of the same process (see
//     fillsSessionAddress);
//   - a failed authentication that named no address ("User root not allowed
//     because account is locked"). The process's next disconnect or
//     connection close that names the client then becomes the failure
//     (event.category authentication, event.outcome failure), so that the
//     failure has an address.
type sshSessions struct {
	procs map[sshProcKey]sshProc
}

type sshProcKey struct {
	host string
	pid  int64
}

type sshProc struct {
	ip             string
	pendingFailure bool
}

// fillsSessionAddress reports whether an event without an address of its own
// gets the session's address. Lines that repeat a failure already logged
// with the address ("input_userauth_request: invalid user", PAM "check pass;
// user unknown") stay without one, so that the failure is counted once per
// address.
func fillsSessionAddress(action string) bool {
	switch action {
	case ActionMaxAuthAttempts, ActionSSHProtocolError, ActionSSHDisconnect, ActionSSHConnClosed, ActionSSHTimeout, ActionPAMMoreFailures:
		return true
	}

	return false
}

// maxSSHSessions bounds the table; at the bound it is cleared, which costs a
// missing source.ip on the follow-up lines of the sessions then open.
const maxSSHSessions = 4096

func (s *sshSessions) enrich(host string, f ecs.Fields) {
	pid, ok := f["process.pid"].(int64)
	if !ok {
		return
	}

	if s.procs == nil {
		s.procs = make(map[sshProcKey]sshProc)
	}

	key := sshProcKey{host, pid}
	p, known := s.procs[key]
	failed := f["event.outcome"] == "failure"
	if ip, ok := f["source.ip"].(string); ok {
		if p.pendingFailure && !failed {
			if a := f["event.action"]; a == ActionSSHDisconnect || a == ActionSSHConnClosed {
				f["event.category"] = categoryAuth
				f["event.outcome"] = outcomeFailure
				f["system.auth.ssh.after_failure"] = true
			}
		}
		p = sshProc{ip: ip}
	} else if _, named := f["source.address"]; !named {
		switch {
		case known && p.ip != "":
			if a, _ := f["event.action"].(string); fillsSessionAddress(a) {
				f["source.ip"] = p.ip
			}
		case failed:
			p.pendingFailure = isAuthEvent(f)
		}
	}

	if !known && len(s.procs) >= maxSSHSessions {
		clear(s.procs)
	}
	s.procs[key] = p
}
