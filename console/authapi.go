package console

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/canhgac/canhgac/console/auth"
)

// sessionCookie names the cookie that carries the browser's session token.
const sessionCookie = "canhgac_session"

// csrfHeader is the header in which cookie-authenticated state-changing
// requests echo the session's CSRF token (from POST /api/login or
// GET /api/me).
const csrfHeader = "X-CSRF-Token"

// requireAuth wraps h so it runs only for a live session. A bearer token
// (Authorization header, used by the CLI) is taken first, else the session
// cookie. A cookie-authenticated request other than GET and HEAD must also
// pass the Origin check and carry the session's CSRF token. With triage
// set, the user's role must allow acknowledging and closing alerts.
func (s *Server) requireAuth(triage bool, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := requestInfoFrom(r.Context())
		token, bearer := bearerToken(r)
		if !bearer {
			if c, err := r.Cookie(sessionCookie); err == nil {
				token = c.Value
			}
		}
		session, ok := s.sessions.Lookup(token)
		if !ok {
			s.writeError(w, r, newAPIError(http.StatusUnauthorized, "unauthorized", "console.err.unauthorized"))
			return
		}
		info.user = session.User
		info.session = &session
		info.token = token
		if !bearer && r.Method != http.MethodGet && r.Method != http.MethodHead {
			if e := checkOrigin(r); e != nil {
				s.writeError(w, r, e)
				return
			}
			if !session.CheckCSRF(r.Header.Get(csrfHeader)) {
				s.writeError(w, r, newAPIError(http.StatusForbidden, "csrf", "console.err.csrf"))
				return
			}
		}
		if triage && !session.Role.CanTriage() {
			s.writeError(w, r, newAPIError(http.StatusForbidden, "forbidden", "console.err.forbidden", session.Role.String()))
			return
		}
		h(w, r)
	})
}

func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// checkOrigin rejects a browser request sent from another site. Browsers
// send Origin on every cross-origin and every POST request; a request
// without Origin and without Sec-Fetch-Site comes from a non-browser
// client and passes.
func checkOrigin(r *http.Request) *apiError {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return newAPIError(http.StatusForbidden, "origin", "console.err.origin", site)
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host != r.Host {
		return newAPIError(http.StatusForbidden, "origin", "console.err.origin", origin)
	}
	return nil
}

// loginRequest is the body of POST /api/login.
type loginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
	// Bearer requests the token in the response body (for the CLI)
	// instead of a session cookie (for the browser).
	Bearer bool `json:"bearer"`
}

// sessionResponse is the body of POST /api/login and GET /api/me.
type sessionResponse struct {
	User      string    `json:"user"`
	Role      string    `json:"role"`
	CanTriage bool      `json:"can_triage"`
	Expires   time.Time `json:"expires"`
	// CSRFToken goes into the X-CSRF-Token header of cookie-authenticated
	// POST requests.
	CSRFToken string `json:"csrf_token,omitempty"`
	// Token is set only when the login request asked for a bearer token.
	Token string `json:"token,omitempty"`
}

func newSessionResponse(session auth.Session) sessionResponse {
	return sessionResponse{User: session.User, Role: session.Role.String(), CanTriage: session.Role.CanTriage(),
		Expires: session.Expires.UTC(), CSRFToken: session.CSRF}
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	info := requestInfoFrom(r.Context())
	if e := checkOrigin(r); e != nil {
		s.writeError(w, r, e)
		return
	}
	var req loginRequest
	if e := decodeJSON(r, &req); e != nil {
		s.writeError(w, r, e)
		return
	}
	req.User = strings.ToLower(strings.TrimSpace(req.User))
	clientIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		clientIP = host
	}
	keys := []string{"user:" + req.User, "ip:" + clientIP}
	for _, key := range keys {
		if blocked, wait := s.limiter.Blocked(key); blocked {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			s.writeError(w, r, newAPIError(http.StatusTooManyRequests, "rate_limited", "console.err.rate_limited", int(wait.Seconds())+1))
			s.log.Warn("sign-in blocked", "request_id", info.id, "user", req.User, "remote", clientIP)
			return
		}
	}
	user, err := s.opts.Users.Verify(req.User, req.Password)
	if err != nil {
		for _, key := range keys {
			s.limiter.Fail(key)
		}
		if !errors.Is(err, auth.ErrInvalidCredentials) {
			s.writeError(w, r, internalError(r, err))
			return
		}
		s.log.Warn("sign-in failed", "request_id", info.id, "user", req.User, "remote", clientIP)
		s.writeError(w, r, newAPIError(http.StatusUnauthorized, "invalid_credentials", "console.err.invalid_credentials"))
		return
	}
	for _, key := range keys {
		s.limiter.Reset(key)
	}
	token, session := s.sessions.Create(user)
	info.user = user.Name
	s.log.Info("signed in", "request_id", info.id, "user", user.Name, "role", user.Role.String(), "bearer", req.Bearer)
	resp := newSessionResponse(session)
	if req.Bearer {
		resp.Token = token
		resp.CSRFToken = ""
	} else {
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", Expires: session.Expires,
			HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	info := requestInfoFrom(r.Context())
	s.sessions.Revoke(info.token)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	s.log.Info("signed out", "request_id", info.id, "user", info.user)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	info := requestInfoFrom(r.Context())
	resp := newSessionResponse(*info.session)
	if _, bearer := bearerToken(r); bearer {
		resp.CSRFToken = ""
	}
	writeJSON(w, http.StatusOK, resp)
}

// decodeJSON reads one JSON object from the request body, rejecting
// unknown fields so a misspelt field is reported instead of ignored.
func decodeJSON(r *http.Request, v any) *apiError {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return newAPIError(http.StatusBadRequest, "invalid_json", "console.err.invalid_json", err.Error())
	}
	return nil
}
