package logparse

import (
	"strconv"
	"strings"

	"github.com/canhgac/canhgac/ecs"
)

// parsePAM recognises Linux-PAM messages of any program:
//
//	pam_unix(SERVICE:auth): authentication failure; logname= uid= euid= tty= ruser= rhost= [user=]
//	(pam_unix) authentication failure; ...        (Linux-PAM before 0.99.2)
//	PAM N more authentication failures; ...
//	pam_unix(SERVICE:session): session opened for user U[(uid=N)] by [V](uid=N)
//	pam_unix(SERVICE:session): session closed for user U
//	pam_unix(SERVICE:auth): check pass; user unknown
//
// pamModule is a module named in the syslog tag ("vsftpd(pam_unix)").
func parsePAM(msg, pamModule string, f ecs.Fields) bool {
	m := strings.TrimSuffix(msg, " [preauth]")
	module, service, kind := pamModule, "", ""
	switch {
	case strings.HasPrefix(m, "pam_"):
		i := strings.IndexAny(m, "(:")
		if i < 0 {
			return false
		}
		module = m[:i]
		if m[i] == '(' {
			j := strings.Index(m, "):")
			if j < i {
				return false
			}
			svc := m[i+1 : j]
			if k := strings.IndexByte(svc, ':'); k >= 0 {
				service, kind = svc[:k], svc[k+1:]
			} else {
				kind = svc
			}
			m = strings.TrimLeft(m[j+2:], " ")
		} else {
			m = strings.TrimLeft(m[i+1:], " ")
		}
	case strings.HasPrefix(m, "(pam_unix) "):
		module = "pam_unix"
		m = m[len("(pam_unix) "):]
	}

	setPAMNames := func() {
		f.SetString("system.auth.pam.module", module)
		f.SetString("system.auth.pam.service", service)
		f.SetString("system.auth.pam.type", kind)
	}

	switch {
	case strings.HasPrefix(m, "authentication failure;") || strings.HasPrefix(m, "PAM ") && strings.Contains(m, " more authentication failure"):
		action := ActionPAMAuthFailure
		if strings.HasPrefix(m, "PAM ") {
			action = ActionPAMMoreFailures
			n, _ := cutSpace(m[len("PAM "):])
			if c, err := strconv.ParseInt(n, 10, 64); err == nil {
				f["system.auth.pam.more_failures"] = c
			}
		}
		setAction(f, action, categoryAuth, typeInfo, "failure")
		setPAMNames()
		pamFailureFields(m[strings.IndexByte(m, ';')+1:], f)
		return true
	case strings.HasPrefix(m, "session opened for user "):
		setAction(f, ActionSessionOpened, categorySession, typeStart, "success")
		setPAMNames()
		rest := m[len("session opened for user "):]
		user, by, _ := strings.Cut(rest, " by ")
		f["user.name"] = trimUID(user)
		if by = trimUID(by); by != "" {
			f["system.auth.pam.by"] = by
		}
		return true
	case strings.HasPrefix(m, "session closed for user "):
		setAction(f, ActionSessionClosed, categorySession, typeEnd, "success")
		setPAMNames()
		f["user.name"] = trimUID(m[len("session closed for user "):])
		return true
	case strings.HasPrefix(m, "check pass; user unknown"):
		setAction(f, ActionPAMCheckPass, categoryAuth, typeInfo, "failure")
		setPAMNames()
		return true
	}

	return false
}

// trimUID strips a "(uid=N)" suffix: "root(uid=0)" → "root".
func trimUID(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "(uid="); i >= 0 {
		return s[:i]
	}

	return s
}

// pamFailureFields parses "logname= uid=0 euid=0 tty=ssh ruser=R rhost=H [user=U]".
// ruser and user are untrusted and may contain " rhost=": rhost is the first
// occurrence whose remainder is empty or " user=...", and user= takes the rest
// of the line.
func pamFailureFields(s string, f ecs.Fields) {
	s = strings.TrimSpace(s)
	head := s
	search := 0
	for {
		i := strings.Index(s[search:], "rhost=")
		if i < 0 {
			break
		}
		i += search
		if i > 0 && s[i-1] != ' ' {
			search = i + 1
			continue
		}
		host, rest := cutSpace(s[i+len("rhost="):])
		rest = strings.TrimLeft(rest, " ")
		if rest == "" || strings.HasPrefix(rest, "user=") {
			head = strings.TrimRight(s[:i], " ")
			setSource(f, host)
			if host != "" {
				f["system.auth.pam.rhost"] = host
			}
			if u, ok := strings.CutPrefix(rest, "user="); ok && u != "" {
				f["user.name"] = u
			}
			break
		}
		search = i + 1
	}
	// head: "logname= uid=0 euid=0 tty=ssh ruser=R" (ruser may contain spaces).
	if i := strings.Index(head, "ruser="); i >= 0 {
		ruser := head[i+len("ruser="):]
		if ruser != "" {
			f["system.auth.pam.ruser"] = ruser
			if _, ok := f["user.name"]; !ok {
				f["user.name"] = ruser
			}
		}
		head = head[:i]
	}

	for _, kv := range strings.Fields(head) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			continue
		}
		switch k {
		case "logname", "uid", "euid", "tty":
			f["system.auth.pam."+k] = v
		}
	}
}

// parseSudo parses sudo's log line:
//
//	INVOKER : [REASON ; ]TTY=T ; PWD=P ; USER=TARGET ; [GROUP=G ; ][ENV=E ; ]COMMAND=CMD
//
// A REASON ("user NOT in sudoers", "3 incorrect password attempts", "command
// not allowed") marks a refused command.
func parseSudo(msg string, f ecs.Fields) bool {
	i := strings.Index(msg, " : ")
	if i < 0 {
		return false
	}

	invoker := strings.TrimSpace(msg[:i])
	rest := msg[i+3:]
	cmdAt := strings.Index(rest, "COMMAND=")
	if cmdAt < 0 || invoker == "" || strings.IndexByte(invoker, ' ') >= 0 {
		return false
	}

	command := rest[cmdAt+len("COMMAND="):]
	reason := ""
	for _, part := range strings.Split(rest[:cmdAt], " ; ") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || strings.IndexByte(k, ' ') >= 0 {
			reason = part
			continue
		}
		switch k {
		case "TTY":
			f["system.auth.sudo.tty"] = v
			f["process.tty.name"] = v
		case "PWD":
			f["system.auth.sudo.pwd"] = v
			f["process.working_directory"] = v
		case "USER":
			f["system.auth.sudo.user"] = v
			f["user.effective.name"] = v
		case "GROUP":
			f["system.auth.sudo.group"] = v
			f["group.name"] = v
		}
	}

	f["user.name"] = invoker
	f["system.auth.sudo.command"] = command
	f["process.command_line"] = command
	if exe, _ := cutSpace(command); exe != "" {
		f["process.executable"] = exe
	}

	if reason != "" {
		f["system.auth.sudo.error"] = reason
		category := categoryProcess
		if strings.Contains(reason, "password") {
			category = []string{"process", "authentication"}
		}
		setAction(f, ActionSudoCommand, category, typeDenied, "failure")
	} else {
		setAction(f, ActionSudoCommand, categoryProcess, []string{"start"}, "success")
	}

	return true
}

// parseSu parses su's own messages (shadow-utils and util-linux forms):
//
//	Successful su for TARGET by USER
//	FAILED su for TARGET by USER
//	+ TTY USER:TARGET / - TTY USER:TARGET
//	(to TARGET) USER on TTY
func parseSu(msg string, f ecs.Fields) bool {
	set := func(outcome, user, target string) {
		setAction(f, ActionSu, []string{"authentication", "session"}, typeStart, outcome)
		f.SetString("user.name", user)
		f.SetString("user.effective.name", target)
	}

	switch {
	case strings.HasPrefix(msg, "Successful su for "), strings.HasPrefix(msg, "FAILED su for "):
		outcome := "success"
		if msg[0] == 'F' {
			outcome = "failure"
		}
		rest := msg[strings.Index(msg, " for ")+len(" for "):]
		target, user, _ := strings.Cut(rest, " by ")
		set(outcome, user, target)
		return true
	case strings.HasPrefix(msg, "+ "), strings.HasPrefix(msg, "- "):
		outcome := "success"
		if msg[0] == '-' {
			outcome = "failure"
		}
		_, rest := cutSpace(msg[2:])
		user, target, ok := strings.Cut(rest, ":")
		if !ok {
			return false
		}
		set(outcome, user, target)
		return true
	case strings.HasPrefix(msg, "(to "):
		j := strings.IndexByte(msg, ')')
		if j < 0 {
			return false
		}
		target := msg[len("(to "):j]
		user, tty, _ := strings.Cut(strings.TrimSpace(msg[j+1:]), " on ")
		set("success", user, target)
		f.SetString("process.tty.name", tty)
		return true
	}

	return false
}

// parseVsftpdMessage parses vsftpd's "[USER] FAIL LOGIN: Client "ADDR"[, "reason"]"
// and "OK LOGIN" messages.
func parseVsftpdMessage(msg string, f ecs.Fields) bool {
	m := msg
	if strings.HasPrefix(m, "[pid ") {
		if i := strings.IndexByte(m, ']'); i > 0 {
			if pid, err := strconv.ParseInt(m[len("[pid "):i], 10, 64); err == nil {
				f["process.pid"] = pid
			}
			m = strings.TrimLeft(m[i+1:], " ")
		}
	}

	user := ""
	if strings.HasPrefix(m, "[") {
		i := strings.IndexByte(m, ']')
		if i < 0 {
			return false
		}
		user = m[1:i]
		m = strings.TrimLeft(m[i+1:], " ")
	}

	outcome := ""
	switch {
	case strings.HasPrefix(m, "FAIL LOGIN: Client "):
		outcome = "failure"
	case strings.HasPrefix(m, "OK LOGIN: Client "):
		outcome = "success"
	default:
		return parsePAM(msg, "", f)
	}

	rest := m[strings.Index(m, "Client ")+len("Client "):]
	addr := rest
	if strings.HasPrefix(rest, "\"") {
		if j := strings.IndexByte(rest[1:], '"'); j >= 0 {
			addr = rest[1 : j+1]
			if tail := rest[j+2:]; strings.HasPrefix(tail, ", \"") {
				f["system.auth.ftp.reason"] = strings.Trim(tail[2:], "\"")
			}
		}
	}

	setAction(f, ActionFTPLogin, categoryAuth, typeStart, outcome)
	f.SetString("user.name", user)
	setSource(f, addr)
	return true
}

// parseVsftpdLog parses vsftpd's own log file:
// "Www Mmm dd hh:mm:ss yyyy [pid N] [USER] FAIL LOGIN: Client "ADDR"".
func (d *Decoder) parseVsftpdLog(s string) (parsed, bool) {
	ts, n, ok := parseCtimeStamp(s, d.loc)
	if !ok || !strings.HasPrefix(s[n:], " [pid ") {
		return parsed{}, false
	}

	f := make(ecs.Fields, 16)
	msg := strings.TrimLeft(s[n:], " ")
	f["process.name"] = "vsftpd"
	f["message"] = msg
	if !parseVsftpdMessage(msg, f) {
		return parsed{}, false
	}

	f["event.dataset"] = "system.auth"
	return parsed{ts: ts, fields: f}, true
}
