package console

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/canhgac/canhgac/i18n"
)

// apiError is an error response: an HTTP status, a stable machine code and
// a catalog message, rendered in the request's language.
type apiError struct {
	status int
	code   string
	key    string
	args   []any
	// cause is logged, never sent to the client.
	cause error
}

func newAPIError(status int, code, key string, args ...any) *apiError {
	return &apiError{status: status, code: code, key: key, args: args}
}

// errorBody is the JSON shape of every error response:
// {"error": {"code": "...", "message": "..."}}.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError sends e in the request's language and logs server-side
// failures with their cause.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	info := requestInfoFrom(r.Context())
	if e.status >= 500 {
		s.log.Error("request failed", "request_id", info.id, "method", r.Method, "path", r.URL.Path, "err", e.cause)
	} else if e.cause != nil {
		s.log.Debug("request rejected", "request_id", info.id, "code", e.code, "err", e.cause)
	}
	var body errorBody
	body.Error.Code = e.code
	body.Error.Message = i18n.T(info.lang, e.key, e.args...)
	writeJSON(w, e.status, body)
}

// internalError wraps an unexpected failure; the client sees the request id
// to quote, the log gets the cause.
func internalError(r *http.Request, cause error) *apiError {
	e := newAPIError(http.StatusInternalServerError, "internal", "console.err.internal", requestInfoFrom(r.Context()).id)
	e.cause = cause
	return e
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		// The status line is already sent; the client sees a cut body.
		slog.Debug("write JSON response", "err", err)
	}
}
