// Package console is canhgac's SOC console: the HTTP JSON API that the web
// UI and the CLI use, the embedded web UI itself, and sign-in with roles.
//
// The console reads events and alerts through two small interfaces,
// EventSearcher and AlertStore; package console/embedstore implements them
// over the embedded store of `canhgac run`, package console/esstore over
// Elasticsearch, and package console/federated over the stores of several
// regions, leaving a failed region out with a RegionWarning. Accounts and
// sessions live in package console/auth. Every text a user sees comes from the i18n
// catalog: API errors in the request's language, UI texts (keys "ui.") as
// a JSON table the browser renders.
//
// # API
//
// All responses are JSON. Errors have the shape
//
//	{"error": {"code": "invalid_param", "message": "..."}}
//
// with the message in the request's language: the lang query parameter,
// else the canhgac_lang cookie, else Accept-Language, else Vietnamese.
//
//	GET  /api/health                 status, version (no sign-in)
//	GET  /api/i18n?lang=vi|en        UI texts (no sign-in)
//	POST /api/login                  {user, password, bearer} -> session
//	POST /api/logout                 ends the session
//	GET  /api/me                     user, role, CSRF token
//	GET  /api/alerts                 level, status, region, rule, from, to, limit, offset
//	GET  /api/alerts/{id}            alert and its matching events
//	POST /api/alerts/{id}/ack        analyst or admin
//	POST /api/alerts/{id}/close      {reason}; analyst or admin
//	GET  /api/search                 q (KQL), from, to, limit, offset
//	GET  /api/events/{id}            one event as a nested ECS document
//	GET  /api/overview               events per interval by dataset, alerts by level
//	GET  /api/regions                per-region ingest rate, lag and sensor health
//	GET  /metrics                    the Prometheus handler given in Options
//
// Times are RFC 3339 or relative to now ("now-15m"); see ParseTimeParam.
// A browser signs in with a session cookie (HttpOnly, SameSite=Strict) and
// must send the session's CSRF token in X-CSRF-Token on POST requests; the
// CLI asks for a bearer token and sends it in the Authorization header.
// docs/api.md in this folder lists parameters and responses in full.
package console
