package console_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/canhgac/canhgac/console"
	"github.com/canhgac/canhgac/console/auth"
	"github.com/canhgac/canhgac/console/embedstore"
	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/i18n"
	"github.com/canhgac/canhgac/pipeline"
)

// testUsers are the accounts of every test server, one per role.
var testUsers = []struct {
	name, password string
	role           auth.Role
}{
	{"admin", "admin-password-123", auth.RoleAdmin},
	{"lan.analyst", "analyst-password-123", auth.RoleAnalyst},
	{"minh.auditor", "auditor-password-123", auth.RoleAuditor},
}

type testEnv struct {
	t       testing.TB
	store   *embedstore.Store
	users   *auth.Users
	ts      *httptest.Server
	events  []*ecs.Event
	alertID string
}

// newTestEnv starts a console over a store seeded with 60 real sshd
// events and one brute-force detection from 112.95.230.3.
func newTestEnv(t testing.TB) *testEnv {
	return newTestEnvWith(t, 60)
}

// newTestEnvWith seeds the first n lines of the OpenSSH sample.
func newTestEnvWith(t testing.TB, n int) *testEnv {
	t.Helper()
	raw, store := newTestStore(t)
	events := loadSSHEvents(t, n, seedEnd())
	det := bruteForceDetection(t, events, "112.95.230.3")
	if err := raw.WriteBatch(context.Background(), &pipeline.Write{Events: events, Detections: []pipeline.Detection{det}}); err != nil {
		t.Fatalf("seed store: %v", err)
	}
	alerts, _, err := store.Alerts(context.Background(), console.AlertFilter{Limit: 10})
	if err != nil || len(alerts) != 1 {
		t.Fatalf("seeded alerts = %v, %v: want 1", alerts, err)
	}
	users, err := auth.OpenUsers(filepath.Join(t.TempDir(), "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range testUsers {
		if err := users.Add(u.name, u.role, u.password); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := console.NewServer(console.Options{
		Events: store, Alerts: store, Users: users, Version: "test",
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "canhgac_up 1\n") }),
		Logger:  testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &testEnv{t: t, store: store, users: users, ts: ts, events: events, alertID: alerts[0].ID}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r response) errorCode() string {
	e, _ := r.body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func (r response) errorMessage() string {
	e, _ := r.body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	return msg
}

// do sends a request; headers are given as "Name: value" strings.
func (e *testEnv) do(client *http.Client, method, path, body string, headers ...string) response {
	e.t.Helper()
	if client == nil {
		client = e.ts.Client()
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		if h == "" {
			continue
		}
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	out := response{status: res.StatusCode, header: res.Header, raw: string(data)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(data, &out.body); err != nil {
			e.t.Fatalf("%s %s: decode %q: %v", method, path, data, err)
		}
	}
	return out
}

// bearer signs in as user through the API and returns the Authorization
// header for later requests.
func (e *testEnv) bearer(user string) string {
	e.t.Helper()
	res := e.do(nil, "POST", "/api/login", `{"user":"`+user+`","password":"`+passwordOf(user)+`","bearer":true}`)
	if res.status != 200 {
		e.t.Fatalf("login %s: %d %s", user, res.status, res.raw)
	}
	return "Authorization: Bearer " + res.body["token"].(string)
}

// cookieClient signs in as user like the browser does and returns the
// client holding the session cookie and the CSRF token.
func (e *testEnv) cookieClient(user string) (*http.Client, string) {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	res := e.do(client, "POST", "/api/login", `{"user":"`+user+`","password":"`+passwordOf(user)+`"}`, "Origin: "+e.ts.URL)
	if res.status != 200 {
		e.t.Fatalf("login %s: %d %s", user, res.status, res.raw)
	}
	return client, res.body["csrf_token"].(string)
}

func passwordOf(user string) string {
	for _, u := range testUsers {
		if u.name == user {
			return u.password
		}
	}
	return "no-such-user-password"
}

func TestAPIRequiresSignIn(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct{ method, path string }{
		{"GET", "/api/me"},
		{"GET", "/api/alerts"},
		{"GET", "/api/alerts/" + env.alertID},
		{"POST", "/api/alerts/" + env.alertID + "/ack"},
		{"POST", "/api/alerts/" + env.alertID + "/close"},
		{"GET", "/api/search?q=*"},
		{"GET", "/api/events/" + env.events[0].ID},
		{"GET", "/api/overview"},
		{"POST", "/api/logout"},
	}
	for _, tt := range tests {
		for _, header := range []string{"X-None: 1", "Authorization: Bearer not-a-session-token", "Cookie: canhgac_session=forged"} {
			res := env.do(nil, tt.method, tt.path, "", header)
			if res.status != http.StatusUnauthorized || res.errorCode() != "unauthorized" {
				t.Errorf("%s %s with %q: %d %q, want 401 unauthorized", tt.method, tt.path, header, res.status, res.raw)
			}
		}
	}
}

func TestPublicEndpoints(t *testing.T) {
	env := newTestEnv(t)
	health := env.do(nil, "GET", "/api/health", "")
	if health.status != 200 || health.body["status"] != "ok" || health.body["version"] != "test" {
		t.Errorf("health: %d %s", health.status, health.raw)
	}
	metrics := env.do(nil, "GET", "/metrics", "")
	if metrics.status != 200 || metrics.raw != "canhgac_up 1\n" {
		t.Errorf("metrics: %d %q", metrics.status, metrics.raw)
	}
	wrongMethod := env.do(nil, "GET", "/api/login", "", "Accept-Language: en")
	if wrongMethod.status != 405 || wrongMethod.errorCode() != "method_not_allowed" || wrongMethod.header.Get("Allow") != "POST" {
		t.Errorf("GET /api/login: %d %s Allow %q", wrongMethod.status, wrongMethod.raw, wrongMethod.header.Get("Allow"))
	}
	if listing := env.do(nil, "GET", "/assets/", ""); listing.status != 404 {
		t.Errorf("GET /assets/: %d, want 404 and no directory listing", listing.status)
	}
	unknown := env.do(nil, "GET", "/api/nothing-here", "")
	if unknown.status != 404 || unknown.errorCode() != "not_found" || !strings.Contains(unknown.errorMessage(), "/api/nothing-here") {
		t.Errorf("unknown route: %d %s", unknown.status, unknown.raw)
	}
}

func TestErrorLanguage(t *testing.T) {
	env := newTestEnv(t)
	vi := i18n.T(i18n.VI, "console.err.unauthorized")
	en := i18n.T(i18n.EN, "console.err.unauthorized")
	tests := []struct {
		name    string
		path    string
		headers []string
		want    string
	}{
		{"default", "/api/me", nil, vi},
		{"accept english", "/api/me", []string{"Accept-Language: en-US,en;q=0.9"}, en},
		{"accept vietnamese", "/api/me", []string{"Accept-Language: vi-VN,vi;q=0.9,en;q=0.5"}, vi},
		{"accept other", "/api/me", []string{"Accept-Language: fr-FR"}, vi},
		{"cookie english", "/api/me", []string{"Cookie: canhgac_lang=en", "Accept-Language: vi"}, en},
		{"query beats cookie", "/api/me?lang=vi", []string{"Cookie: canhgac_lang=en"}, vi},
	}
	for _, tt := range tests {
		res := env.do(nil, "GET", tt.path, "", tt.headers...)
		if res.errorMessage() != tt.want {
			t.Errorf("%s: message %q, want %q", tt.name, res.errorMessage(), tt.want)
		}
	}
}

func TestLoginBearerAndCookie(t *testing.T) {
	env := newTestEnv(t)
	res := env.do(nil, "POST", "/api/login", `{"user":"lan.analyst","password":"analyst-password-123","bearer":true}`)
	if res.status != 200 || res.body["token"] == nil || res.header.Get("Set-Cookie") != "" {
		t.Fatalf("bearer login: %d %s cookie %q", res.status, res.raw, res.header.Get("Set-Cookie"))
	}
	me := env.do(nil, "GET", "/api/me", "", "Authorization: Bearer "+res.body["token"].(string))
	if me.status != 200 || me.body["user"] != "lan.analyst" || me.body["role"] != "analyst" || me.body["can_triage"] != true {
		t.Errorf("me with bearer: %d %s", me.status, me.raw)
	}

	res = env.do(nil, "POST", "/api/login", `{"user":"minh.auditor","password":"auditor-password-123"}`)
	cookie := res.header.Get("Set-Cookie")
	if res.status != 200 || res.body["token"] != nil || res.body["csrf_token"] == nil {
		t.Fatalf("cookie login: %d %s", res.status, res.raw)
	}
	for _, attr := range []string{"canhgac_session=", "HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(cookie, attr) {
			t.Errorf("session cookie %q lacks %s", cookie, attr)
		}
	}

	bad := []struct{ body, code string }{
		{`{"user":"lan.analyst","password":"wrong-password"}`, "invalid_credentials"},
		{`{"user":"nobody","password":"analyst-password-123"}`, "invalid_credentials"},
		{`{"user":"lan.analyst","pasword":"typo"}`, "invalid_json"},
		{`not json`, "invalid_json"},
	}
	for _, b := range bad {
		res := env.do(nil, "POST", "/api/login", b.body, "Accept-Language: en")
		if res.errorCode() != b.code || res.status/100 != 4 {
			t.Errorf("login %s: %d %s, want %s", b.body, res.status, res.raw, b.code)
		}
	}
	cross := env.do(nil, "POST", "/api/login", `{"user":"admin","password":"admin-password-123"}`, "Origin: https://evil.example")
	if cross.status != 403 || cross.errorCode() != "origin" {
		t.Errorf("cross-origin login: %d %s", cross.status, cross.raw)
	}
}

func TestLogoutEndsSession(t *testing.T) {
	env := newTestEnv(t)
	auth := env.bearer("admin")
	if res := env.do(nil, "POST", "/api/logout", "", auth); res.status != 204 {
		t.Fatalf("logout: %d %s", res.status, res.raw)
	}
	if res := env.do(nil, "GET", "/api/me", "", auth); res.status != 401 {
		t.Errorf("me after logout: %d", res.status)
	}
}

func TestLoginRateLimit(t *testing.T) {
	env := newTestEnv(t)
	for i := 0; i < 5; i++ {
		res := env.do(nil, "POST", "/api/login", `{"user":"admin","password":"wrong-password"}`)
		if res.status != 401 {
			t.Fatalf("failure %d: %d %s", i+1, res.status, res.raw)
		}
	}
	res := env.do(nil, "POST", "/api/login", `{"user":"admin","password":"admin-password-123"}`, "Accept-Language: en")
	if res.status != 429 || res.errorCode() != "rate_limited" || res.header.Get("Retry-After") == "" {
		t.Fatalf("sign-in after 5 failures: %d %s Retry-After %q", res.status, res.raw, res.header.Get("Retry-After"))
	}
	// The client address is blocked too, so other names fail the same way.
	res = env.do(nil, "POST", "/api/login", `{"user":"lan.analyst","password":"analyst-password-123"}`)
	if res.status != 429 {
		t.Errorf("other user from the blocked address: %d", res.status)
	}
}

func TestTriageRoles(t *testing.T) {
	env := newTestEnv(t)
	auditor := env.bearer("minh.auditor")
	analyst := env.bearer("lan.analyst")
	ack := "/api/alerts/" + env.alertID + "/ack"
	closePath := "/api/alerts/" + env.alertID + "/close"

	if res := env.do(nil, "GET", "/api/alerts/"+env.alertID, "", auditor); res.status != 200 {
		t.Errorf("auditor reads alert: %d %s", res.status, res.raw)
	}
	for _, path := range []string{ack, closePath} {
		res := env.do(nil, "POST", path, `{"reason":"x"}`, auditor, "Accept-Language: en")
		if res.status != 403 || res.errorCode() != "forbidden" || !strings.Contains(res.errorMessage(), "auditor") {
			t.Errorf("auditor POST %s: %d %s, want 403 naming the role", path, res.status, res.raw)
		}
	}

	res := env.do(nil, "POST", ack, "", analyst)
	if res.status != 200 || status(res) != "acknowledged" {
		t.Fatalf("analyst ack: %d %s", res.status, res.raw)
	}
	if res := env.do(nil, "POST", ack, "", analyst); res.status != 200 || status(res) != "acknowledged" {
		t.Errorf("second ack: %d %s, want unchanged 200", res.status, res.raw)
	}
	for _, body := range []string{`{}`, `{"reason":"   "}`, `{"reason":"` + strings.Repeat("x", 1001) + `"}`} {
		if res := env.do(nil, "POST", closePath, body, analyst); res.status != 400 || res.errorCode() != "reason_required" {
			t.Errorf("close with %.30s: %d %s", body, res.status, res.raw)
		}
	}
	res = env.do(nil, "POST", closePath, `{"reason":"Quét mật khẩu đã bị tường lửa chặn"}`, analyst)
	if res.status != 200 || status(res) != "closed" {
		t.Fatalf("analyst close: %d %s", res.status, res.raw)
	}
	alert := res.body["alert"].(map[string]any)
	if alert["reason"] != "Quét mật khẩu đã bị tường lửa chặn" {
		t.Errorf("closed alert reason = %v", alert["reason"])
	}
	if res := env.do(nil, "POST", ack, "", analyst); res.status != 409 || res.errorCode() != "alert_closed" {
		t.Errorf("ack closed alert: %d %s", res.status, res.raw)
	}
	if res := env.do(nil, "POST", "/api/alerts/no-such-alert/ack", "", analyst); res.status != 404 || res.errorCode() != "not_found" {
		t.Errorf("ack unknown alert: %d %s", res.status, res.raw)
	}
}

func status(res response) string {
	alert, _ := res.body["alert"].(map[string]any)
	s, _ := alert["status"].(string)
	return s
}

func TestCookieCSRF(t *testing.T) {
	env := newTestEnv(t)
	client, csrf := env.cookieClient("lan.analyst")
	ack := "/api/alerts/" + env.alertID + "/ack"
	tests := []struct {
		name    string
		headers []string
		status  int
		code    string
	}{
		{"no token", []string{"Origin: " + env.ts.URL}, 403, "csrf"},
		{"wrong token", []string{"Origin: " + env.ts.URL, "X-CSRF-Token: " + csrf + "x"}, 403, "csrf"},
		{"other origin", []string{"Origin: https://evil.example", "X-CSRF-Token: " + csrf}, 403, "origin"},
		{"cross-site fetch", []string{"Sec-Fetch-Site: cross-site", "X-CSRF-Token: " + csrf}, 403, "origin"},
		{"same origin with token", []string{"Origin: " + env.ts.URL, "X-CSRF-Token: " + csrf, "Sec-Fetch-Site: same-origin"}, 200, ""},
	}
	for _, tt := range tests {
		res := env.do(client, "POST", ack, "", tt.headers...)
		if res.status != tt.status || res.errorCode() != tt.code {
			t.Errorf("%s: %d %s, want %d %q", tt.name, res.status, res.raw, tt.status, tt.code)
		}
	}
	if res := env.do(client, "GET", "/api/me", ""); res.status != 200 || res.body["csrf_token"] != csrf {
		t.Errorf("me with cookie: %d %s", res.status, res.raw)
	}
}

func TestAlertsFilters(t *testing.T) {
	env := newTestEnv(t)
	auth := env.bearer("minh.auditor")
	tests := []struct {
		query string
		total int
	}{
		{"", 1},
		{"?level=high", 1},
		{"?level=low", 0},
		{"?status=open", 1},
		{"?status=closed", 0},
		{"?region=dc1", 1},
		{"?region=dc2", 0},
		{"?rule=5f1c1a2e-canhgac-ssh-bruteforce", 1},
		{"?from=now-1d&to=now", 1},
		{"?from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z", 0},
		{"?limit=1&offset=1", 1},
	}
	for _, tt := range tests {
		res := env.do(nil, "GET", "/api/alerts"+tt.query, "", auth)
		if res.status != 200 {
			t.Errorf("alerts%s: %d %s", tt.query, res.status, res.raw)
			continue
		}
		if got := int(res.body["total"].(float64)); got != tt.total {
			t.Errorf("alerts%s: total %d, want %d", tt.query, got, tt.total)
		}
	}
	res := env.do(nil, "GET", "/api/alerts?level=high", "", auth)
	a := res.body["alerts"].([]any)[0].(map[string]any)
	if a["status"] != "open" || a["rule_name"] != "SSH brute force from one source" || a["region"] != "dc1" {
		t.Errorf("alert JSON = %v", a)
	}
	bad := []struct{ query, param string }{
		{"?level=severe", "level"},
		{"?status=done", "status"},
		{"?limit=0", "limit"},
		{"?limit=501", "limit"},
		{"?offset=-1", "offset"},
		{"?from=yesterday", "from"},
		{"?from=now&to=now-1h", "from"},
	}
	for _, b := range bad {
		res := env.do(nil, "GET", "/api/alerts"+b.query, "", auth, "Accept-Language: en")
		if res.status != 400 || res.errorCode() != "invalid_param" || !strings.Contains(res.errorMessage(), b.param+"=") {
			t.Errorf("alerts%s: %d %s, want 400 naming %s", b.query, res.status, res.raw, b.param)
		}
	}
}

func TestAlertDetailHasEvents(t *testing.T) {
	env := newTestEnv(t)
	res := env.do(nil, "GET", "/api/alerts/"+env.alertID, "", env.bearer("minh.auditor"))
	if res.status != 200 {
		t.Fatalf("alert: %d %s", res.status, res.raw)
	}
	events := res.body["events"].([]any)
	if len(events) != 17 {
		t.Fatalf("alert events = %d, want the 17 failures from 112.95.230.3", len(events))
	}
	for _, e := range events {
		doc := e.(map[string]any)
		if doc["source"].(map[string]any)["ip"] != "112.95.230.3" {
			t.Errorf("event %v: source.ip is not 112.95.230.3", doc["event"])
		}
	}
	if res := env.do(nil, "GET", "/api/alerts/unknown-id", "", env.bearer("admin"), "Accept-Language: en"); res.status != 404 || !strings.Contains(res.errorMessage(), "unknown-id") {
		t.Errorf("unknown alert: %d %s", res.status, res.raw)
	}
}

func TestSearchAndEvent(t *testing.T) {
	env := newTestEnv(t)
	auth := env.bearer("lan.analyst")
	count := func(match func(*ecs.Event) bool) int {
		n := 0
		for _, ev := range env.events {
			if match(ev) {
				n++
			}
		}
		return n
	}
	tests := []struct {
		query string
		want  int
	}{
		{"q=&from=now-1d", len(env.events)},
		{"q=user.name:root&from=now-1d", count(func(e *ecs.Event) bool { return e.Fields["user.name"] == "root" })},
		{"q=" + url.QueryEscape("source.ip:112.95.230.0/24 and event.outcome:failure") + "&from=now-1d",
			count(func(e *ecs.Event) bool {
				return e.Fields["source.ip"] == "112.95.230.3" && e.Fields["event.outcome"] == "failure"
			})},
		{"q=" + url.QueryEscape("not event.dataset:system.auth") + "&from=now-1d", 0},
		{"q=&from=2020-01-01&to=2020-01-02", 0},
	}
	for _, tt := range tests {
		res := env.do(nil, "GET", "/api/search?"+tt.query, "", auth)
		if res.status != 200 {
			t.Errorf("search %s: %d %s", tt.query, res.status, res.raw)
			continue
		}
		if got := int(res.body["total"].(float64)); got != tt.want || tt.want == 0 && len(res.body["events"].([]any)) != 0 {
			t.Errorf("search %s: total %d, want %d", tt.query, got, tt.want)
		}
	}
	if tests[1].want == 0 {
		t.Fatal("seed has no root events; the search test checks nothing")
	}

	res := env.do(nil, "GET", "/api/search?q=&from=now-1d&limit=5&offset=2", "", auth)
	evs := res.body["events"].([]any)
	if len(evs) != 5 {
		t.Fatalf("paged search: %d events", len(evs))
	}
	first := evs[0].(map[string]any)
	if first["@timestamp"] == nil || first["event"].(map[string]any)["dataset"] != "system.auth" {
		t.Errorf("search event doc = %v", first)
	}

	bad := []struct{ query, code string }{
		{"q=" + url.QueryEscape("user.name:(root"), "invalid_query"},
		{"q=&from=now-15x", "invalid_param"},
		{"q=&limit=1001", "invalid_param"},
	}
	for _, b := range bad {
		res := env.do(nil, "GET", "/api/search?"+b.query, "", auth)
		if res.status != 400 || res.errorCode() != b.code {
			t.Errorf("search %s: %d %s, want 400 %s", b.query, res.status, res.raw, b.code)
		}
	}

	id := env.events[3].ID
	res = env.do(nil, "GET", "/api/events/"+id, "", auth)
	if res.status != 200 {
		t.Fatalf("event: %d %s", res.status, res.raw)
	}
	doc := res.body["event"].(map[string]any)
	if doc["event"].(map[string]any)["id"] != id || doc["message"] != env.events[3].Fields["message"] {
		t.Errorf("event doc = %v, want %s", doc, describe(env.events[3]))
	}
	if res := env.do(nil, "GET", "/api/events/missing", "", auth); res.status != 404 {
		t.Errorf("missing event: %d %s", res.status, res.raw)
	}
}

func TestOverviewCounts(t *testing.T) {
	env := newTestEnv(t)
	res := env.do(nil, "GET", "/api/overview?from=now-1d", "", env.bearer("minh.auditor"))
	if res.status != 200 {
		t.Fatalf("overview: %d %s", res.status, res.raw)
	}
	if got := int(res.body["events_total"].(float64)); got != len(env.events) {
		t.Errorf("events_total = %d, want %d", got, len(env.events))
	}
	if ds := res.body["datasets"].([]any); len(ds) != 1 || ds[0] != "system.auth" {
		t.Errorf("datasets = %v", ds)
	}
	sum := 0
	for _, b := range res.body["buckets"].([]any) {
		for _, c := range b.(map[string]any)["counts"].(map[string]any) {
			sum += int(c.(float64))
		}
	}
	if sum != len(env.events) {
		t.Errorf("bucket counts sum to %d, want %d", sum, len(env.events))
	}
	if res.body["interval"] != "15m" {
		t.Errorf("interval for one day = %v, want 15m", res.body["interval"])
	}
	byLevel := res.body["alerts_by_level"].(map[string]any)
	if byLevel["high"] != 1.0 || byLevel["low"] != 0.0 {
		t.Errorf("alerts_by_level = %v", byLevel)
	}
}

func TestI18nTable(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct {
		query, header, lang, alerts string
	}{
		{"?lang=vi", "", "vi", "Cảnh báo"},
		{"?lang=en", "", "en", "Alerts"},
		{"", "Accept-Language: en-GB", "en", "Alerts"},
		{"", "", "vi", "Cảnh báo"},
	}
	for _, tt := range tests {
		res := env.do(nil, "GET", "/api/i18n"+tt.query, "", tt.header)
		msgs, _ := res.body["messages"].(map[string]any)
		if res.body["lang"] != tt.lang || msgs["ui.nav.alerts"] != tt.alerts {
			t.Errorf("i18n%s %s: lang %v alerts %v", tt.query, tt.header, res.body["lang"], msgs["ui.nav.alerts"])
		}
		for k := range msgs {
			if !strings.HasPrefix(k, "ui.") {
				t.Errorf("i18n table holds non-UI key %s", k)
			}
		}
	}
	if res := env.do(nil, "GET", "/api/i18n?lang=fr", ""); res.status != 400 || res.errorCode() != "invalid_param" {
		t.Errorf("lang=fr: %d %s", res.status, res.raw)
	}
}

// TestUITextsInCatalog checks that every catalog key the web assets name
// exists, so no screen shows a raw key.
func TestUITextsInCatalog(t *testing.T) {
	var keys []string
	for _, name := range []string{"web/static/app.js", "web/static/index.html"} {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`['"](ui\.[a-z_]+\.[a-z0-9_]+)['"]`).FindAllStringSubmatch(string(data), -1) {
			keys = append(keys, m[1])
		}
	}
	for _, prefix := range []struct {
		prefix string
		values []string
	}{
		{"ui.level.", []string{"informational", "low", "medium", "high", "critical"}},
		{"ui.status.", []string{"open", "acknowledged", "closed"}},
		{"ui.role.", []string{"admin", "analyst", "auditor"}},
		{"ui.range.", []string{"15m", "1h", "24h", "7d", "30d", "1y"}},
		{"ui.health.", []string{"healthy", "late", "silent"}},
	} {
		for _, v := range prefix.values {
			keys = append(keys, prefix.prefix+v)
		}
	}
	if len(keys) < 50 {
		t.Fatalf("found only %d keys in the assets; the pattern is wrong", len(keys))
	}
	for _, k := range keys {
		if !i18n.Has(k) {
			t.Errorf("asset names %s, which is not in the catalog", k)
		}
	}
}

func TestStaticAndHeaders(t *testing.T) {
	env := newTestEnv(t)
	tests := []struct{ path, contentType, contains string }{
		{"/", "text/html", `<script src="/assets/app.js" defer></script>`},
		{"/assets/app.js", "text/javascript", "function render"},
		{"/assets/app.css", "text/css", "--accent"},
	}
	for _, tt := range tests {
		res := env.do(nil, "GET", tt.path, "")
		if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), tt.contentType) || !strings.Contains(res.raw, tt.contains) {
			t.Errorf("GET %s: %d %s", tt.path, res.status, res.header.Get("Content-Type"))
		}
		csp := res.header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %s", tt.path, csp, want)
			}
		}
		if res.header.Get("X-Content-Type-Options") != "nosniff" || res.header.Get("X-Request-ID") == "" {
			t.Errorf("GET %s: headers %v", tt.path, res.header)
		}
	}
	if res := env.do(nil, "GET", "/index.html", ""); res.status == 200 && strings.Contains(res.raw, "<script") {
		// http.FileServer redirects /index.html to /; either way no second copy.
		t.Logf("GET /index.html served the page directly")
	}
}

func TestListenAndServeShutsDown(t *testing.T) {
	env := newTestEnv(t)
	srv, err := console.NewServer(console.Options{Addr: "127.0.0.1:0", Events: env.store, Alerts: env.store,
		Users: env.users, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("ListenAndServe after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("ListenAndServe did not return after cancel")
	}
}

func TestNewServerRequiresStores(t *testing.T) {
	if _, err := console.NewServer(console.Options{}); err == nil {
		t.Error("NewServer without stores: want error")
	}
}

func TestConcurrentTriage(t *testing.T) {
	env := newTestEnv(t)
	auth := env.bearer("lan.analyst")
	type result struct {
		action string
		res    response
	}
	actions := []string{"ack", "ack", "ack", "close", "close"}
	results := make(chan result, len(actions))
	for _, action := range actions {
		go func() {
			res := env.do(nil, "POST", "/api/alerts/"+env.alertID+"/"+action, `{"reason":"duplicate of an earlier alert"}`, auth)
			results <- result{action, res}
		}()
	}
	closed := 0
	for range actions {
		r := <-results
		switch {
		case r.res.status == 409 && r.res.errorCode() == "alert_closed":
		case r.res.status == 200 && r.action == "close" && status(r.res) == "closed":
			closed++
		case r.res.status == 200 && r.action == "ack":
		default:
			t.Errorf("concurrent %s: %d %s, want 200 or 409", r.action, r.res.status, r.res.raw)
		}
	}
	if closed != 1 {
		t.Errorf("%d requests closed the alert, want exactly 1", closed)
	}
}

func TestSessionsFileKeepsSignIn(t *testing.T) {
	env := newTestEnv(t)
	sessionsFile := filepath.Join(t.TempDir(), "sessions.json")
	start := func() *httptest.Server {
		srv, err := console.NewServer(console.Options{Events: env.store, Alerts: env.store, Users: env.users,
			SessionsFile: sessionsFile, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		return httptest.NewServer(srv.Handler())
	}
	first := start()
	env.ts = first
	bearer := env.bearer("lan.analyst")
	first.Close()

	second := start()
	defer second.Close()
	env.ts = second
	if res := env.do(nil, "GET", "/api/me", "", bearer); res.status != 200 || res.body["user"] != "lan.analyst" {
		t.Errorf("me after restart: %d %s", res.status, res.raw)
	}
	if res := env.do(nil, "POST", "/api/logout", "", bearer); res.status != 204 {
		t.Fatalf("logout: %d", res.status)
	}
	second.Close()
	third := start()
	defer third.Close()
	env.ts = third
	if res := env.do(nil, "GET", "/api/me", "", bearer); res.status != 401 {
		t.Errorf("me after logout and restart: %d, want 401", res.status)
	}
}
