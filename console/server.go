package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/canhgac/canhgac/console/auth"
	"github.com/canhgac/canhgac/console/web"
	"github.com/canhgac/canhgac/i18n"
)

// Options configures a Server. Events, Alerts and Users are required.
type Options struct {
	// Addr is the TCP address ListenAndServe binds, 127.0.0.1:8480 when empty.
	Addr string
	// Events and Alerts are the stores the API reads and changes.
	Events EventSearcher
	Alerts AlertStore
	// Regions, when set, serves GET /api/regions: per-region ingest rate,
	// lag and sensor health (federated.Store implements it). When nil the
	// endpoint reports that no region status is configured.
	Regions RegionStatusReader
	// Users are the accounts that may sign in (see auth.OpenUsers).
	Users *auth.Users
	// Metrics, when set, is served unauthenticated at GET /metrics (the
	// Prometheus handler of the process).
	Metrics http.Handler
	// Health, when set, is called by GET /api/health; an error turns the
	// response into 503 with the error's text.
	Health func(context.Context) error
	// Logger receives request logs; nil means slog.Default().
	Logger *slog.Logger
	// SessionTTL is how long a sign-in lasts, 12 hours when zero.
	SessionTTL time.Duration
	// SessionsFile, when set, keeps sessions in this file (mode 0600, token
	// hashes only) so that sign-ins survive a restart; when empty, sessions
	// live in memory only.
	SessionsFile string
	// LoginMaxFailures failed sign-ins within LoginWindow block the user
	// name and the client address for LoginWindow. Defaults: 5 and 15 minutes.
	LoginMaxFailures int
	LoginWindow      time.Duration
	// Version is reported by GET /api/health.
	Version string
	// Now is the clock, time.Now when nil.
	Now func() time.Time
}

// DefaultAddr is the address ListenAndServe binds when Options.Addr is empty.
const DefaultAddr = "127.0.0.1:8480"

// Server is the console: JSON API, web UI and sign-in. Create it with
// NewServer; it is safe for concurrent use.
type Server struct {
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	sessions *auth.Sessions
	limiter  *auth.Limiter
	handler  http.Handler
}

// NewServer checks opts and builds the console's handler.
func NewServer(opts Options) (*Server, error) {
	if opts.Events == nil || opts.Alerts == nil {
		return nil, errors.New("console: Options.Events and Options.Alerts are required")
	}
	if opts.Users == nil {
		return nil, errors.New("console: Options.Users is required (see auth.OpenUsers)")
	}
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.LoginMaxFailures <= 0 {
		opts.LoginMaxFailures = 5
	}
	if opts.LoginWindow <= 0 {
		opts.LoginWindow = 15 * time.Minute
	}
	s := &Server{opts: opts, log: opts.Logger, now: opts.Now}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.SessionsFile != "" {
		sessions, err := auth.OpenSessions(opts.SessionsFile, opts.SessionTTL, s.now)
		if err != nil {
			return nil, fmt.Errorf("console: %w", err)
		}
		s.sessions = sessions
	} else {
		s.sessions = auth.NewSessions(opts.SessionTTL, s.now)
	}
	s.limiter = auth.NewLimiter(opts.LoginMaxFailures, opts.LoginWindow, s.now)

	assets, err := fs.Sub(web.Assets, "static")
	if err != nil {
		return nil, fmt.Errorf("console: open embedded assets: %w", err)
	}
	s.handler = s.routes(assets)
	return s, nil
}

// Handler returns the console's HTTP handler with security headers,
// request ids and request logging applied.
func (s *Server) Handler() http.Handler { return s.handler }

// ListenAndServe serves the console on Options.Addr until ctx is done, then
// shuts down gracefully, giving open requests up to 10 seconds.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("console: listen on %s: %w", s.opts.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves the console on ln until ctx is done, like ListenAndServe.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("console listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("console: serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if serveErr := <-errc; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("console: serve on %s: %w", ln.Addr(), serveErr)
	}
	if err != nil {
		return fmt.Errorf("console: shut down: %w", err)
	}
	s.log.Info("console stopped", "addr", ln.Addr().String())
	return nil
}

func (s *Server) routes(assets fs.FS) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/health", s.handleHealth)
	mux.HandleFunc("GET /api/i18n", s.handleI18n)
	mux.HandleFunc("POST /api/login", s.handleLogin)
	mux.Handle("POST /api/logout", s.requireAuth(false, s.handleLogout))
	mux.Handle("GET /api/me", s.requireAuth(false, s.handleMe))
	mux.Handle("GET /api/alerts", s.requireAuth(false, s.handleAlerts))
	mux.Handle("GET /api/alerts/{id}", s.requireAuth(false, s.handleAlert))
	mux.Handle("POST /api/alerts/{id}/ack", s.requireAuth(true, s.handleAck))
	mux.Handle("POST /api/alerts/{id}/close", s.requireAuth(true, s.handleClose))
	mux.Handle("GET /api/search", s.requireAuth(false, s.handleSearch))
	mux.Handle("GET /api/events/{id}", s.requireAuth(false, s.handleEvent))
	mux.Handle("GET /api/overview", s.requireAuth(false, s.handleOverview))
	mux.Handle("GET /api/regions", s.requireAuth(false, s.handleRegions))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		// A path that exists for another method gets 405 and the Allow
		// header; any other path gets 404.
		var allowed []string
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			probe := r.Clone(r.Context())
			probe.Method = method
			if _, pattern := mux.Handler(probe); pattern != "/api/" && method != r.Method {
				allowed = append(allowed, method)
			}
		}
		if len(allowed) > 0 {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			s.writeError(w, r, newAPIError(http.StatusMethodNotAllowed, "method_not_allowed", "console.err.method",
				r.Method, r.URL.Path, strings.Join(allowed, ", ")))
			return
		}
		s.writeError(w, r, newAPIError(http.StatusNotFound, "not_found", "console.err.route", r.Method, r.URL.Path))
	})
	if s.opts.Metrics != nil {
		mux.Handle("GET /metrics", s.opts.Metrics)
	}
	files := http.StripPrefix("/assets/", http.FileServerFS(assets))
	mux.HandleFunc("GET /assets/", func(w http.ResponseWriter, r *http.Request) {
		// No directory listings: only the files themselves are served.
		if strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, assets, "index.html")
	})
	return s.withRequestInfo(securityHeaders(mux))
}

// contentSecurityPolicy allows only the console's own scripts, styles and
// API; no inline script or style and no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// requestInfo is the per-request state that the outermost middleware sets
// and the handlers read: the request id, the language and, once
// authenticated, the session.
type requestInfo struct {
	id      string
	lang    i18n.Lang
	user    string
	session *auth.Session
	token   string
}

type requestInfoKey struct{}

func requestInfoFrom(ctx context.Context) *requestInfo {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return info
	}
	return &requestInfo{lang: i18n.VI}
}

// langCookie names the cookie that stores the language picked in the UI.
const langCookie = "canhgac_lang"

// requestLang picks the language of a request: the lang query parameter,
// else the language cookie, else the Accept-Language header, else
// Vietnamese.
func requestLang(r *http.Request) i18n.Lang {
	if l, ok := i18n.Parse(r.URL.Query().Get("lang")); ok {
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil {
		if l, ok := i18n.Parse(c.Value); ok {
			return l
		}
	}
	return i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
}

// statusRecorder keeps the status and size of a response for the log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusRecorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// maxBodyBytes bounds request bodies; the API takes small JSON objects only.
const maxBodyBytes = 64 << 10

func (s *Server) withRequestInfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{id: newRequestID(), lang: requestLang(r)}
		w.Header().Set("X-Request-ID", info.id)
		r = r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info))
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.Error("handler panic", "request_id", info.id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if rec.status == 0 {
					s.writeError(rec, r, internalError(r, fmt.Errorf("panic: %v", p)))
				}
			}
			s.log.Info("http request", "request_id", info.id, "method", r.Method, "path", r.URL.Path,
				"status", rec.status, "bytes", rec.bytes, "duration", time.Since(start),
				"user", info.user, "remote", r.RemoteAddr)
		}()
		next.ServeHTTP(rec, r)
	})
}

func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
