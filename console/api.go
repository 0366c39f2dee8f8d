package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/i18n"
)

// Paging bounds of the list endpoints.
const (
	defaultLimit   = 50
	maxAlertLimit  = 500
	maxSearchLimit = 1000
	maxOffset      = 100000
	// maxReasonLength bounds a close reason, in characters.
	maxReasonLength = 1000
)

// alertLevels are the Sigma rule levels, lowest first.
var alertLevels = []string{"informational", "low", "medium", "high", "critical"}

// alertJSON is an alert as the API returns it: ecs.Alert's fields plus the
// workflow status by name.
type alertJSON struct {
	ecs.Alert
	Status string `json:"status"`
}

func toAlertJSON(a ecs.Alert) alertJSON {
	if a.EventIDs == nil {
		a.EventIDs = []string{}
	}
	return alertJSON{Alert: a, Status: a.Status.String()}
}

// params reads and checks query parameters, keeping the first error.
type params struct {
	r    *http.Request
	now  time.Time
	lang i18n.Lang
	err  *apiError
}

func (p *params) fail(name, value, hint string) {
	if p.err == nil {
		p.err = newAPIError(http.StatusBadRequest, "invalid_param", "console.err.invalid_param", name, value, hint)
	}
}

func (p *params) time(name, fallback string) time.Time {
	v := p.r.URL.Query().Get(name)
	if v == "" {
		v = fallback
	}
	if v == "" {
		return time.Time{}
	}
	t, err := ParseTimeParam(v, p.now)
	if err != nil {
		p.fail(name, v, i18n.T(p.lang, "console.hint.time"))
	}
	return t
}

func (p *params) int(name string, fallback, minimum, maximum int, hintKey string) int {
	v := p.r.URL.Query().Get(name)
	if v == "" {
		return fallback
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < minimum || n > maximum {
		p.fail(name, v, i18n.T(p.lang, hintKey, maximum))
		return fallback
	}
	return n
}

func (p *params) oneOf(name string, allowed []string, hintKey string) string {
	v := p.r.URL.Query().Get(name)
	if v == "" {
		return ""
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail(name, v, i18n.T(p.lang, hintKey))
	return ""
}

func (p *params) timeRange(defaultFrom string) (from, to time.Time) {
	from = p.time("from", defaultFrom)
	to = p.time("to", "")
	if p.err == nil && !from.IsZero() && !to.IsZero() && !from.Before(to) {
		p.fail("from", p.r.URL.Query().Get("from"), i18n.T(p.lang, "console.hint.range"))
	}
	return from, to
}

func (s *Server) params(r *http.Request) *params {
	return &params{r: r, now: s.now(), lang: requestInfoFrom(r.Context()).lang}
}

// localizedError is an error that renders itself in a user's language,
// such as the KQL parser's syntax errors.
type localizedError interface {
	error
	Message(lang i18n.Lang) string
}

// storeError turns a store error into a response: ErrNotFound gives 404
// naming the thing, ErrRegionUnavailable 503 naming it, a KQL error
// (localizedError or ErrInvalidQuery) 400, a deadline 503, anything else
// 500.
func (s *Server) storeError(r *http.Request, err error, thingKey, id string) *apiError {
	lang := requestInfoFrom(r.Context()).lang
	var localized localizedError
	switch {
	case errors.Is(err, ErrRegionUnavailable) && id == "":
		e := newAPIError(http.StatusServiceUnavailable, "region_unavailable", "console.err.regions_down", err.Error())
		e.cause = err
		return e
	case errors.Is(err, ErrRegionUnavailable):
		e := newAPIError(http.StatusServiceUnavailable, "region_unavailable", "console.err.region_unavailable", i18n.T(lang, thingKey, id))
		e.cause = err
		return e
	case errors.Is(err, ErrNotFound):
		e := newAPIError(http.StatusNotFound, "not_found", "console.err.not_found", i18n.T(lang, thingKey, id))
		e.cause = err
		return e
	case errors.As(err, &localized):
		e := newAPIError(http.StatusBadRequest, "invalid_query", "console.err.invalid_query", localized.Message(lang))
		e.cause = err
		return e
	case errors.Is(err, ErrInvalidQuery):
		e := newAPIError(http.StatusBadRequest, "invalid_query", "console.err.invalid_query", err.Error())
		e.cause = err
		return e
	case errors.Is(err, context.DeadlineExceeded):
		e := newAPIError(http.StatusServiceUnavailable, "unavailable", "console.err.unavailable", err.Error())
		e.cause = err
		return e
	}
	return internalError(r, err)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	body := map[string]any{"status": "ok", "version": s.opts.Version, "time": s.now().UTC()}
	if s.opts.Health != nil {
		if err := s.opts.Health(r.Context()); err != nil {
			body["status"] = "unavailable"
			body["error"] = err.Error()
			writeJSON(w, http.StatusServiceUnavailable, body)
			return
		}
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) handleI18n(w http.ResponseWriter, r *http.Request) {
	lang := requestInfoFrom(r.Context()).lang
	if v := r.URL.Query().Get("lang"); v != "" {
		if _, ok := i18n.Parse(v); !ok {
			s.writeError(w, r, newAPIError(http.StatusBadRequest, "invalid_param", "console.err.invalid_param",
				"lang", v, i18n.T(lang, "console.hint.lang")))
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"lang": lang, "messages": i18n.Table(lang, "ui.")})
}

func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) {
	p := s.params(r)
	q := r.URL.Query()
	f := AlertFilter{
		Level:  p.oneOf("level", alertLevels, "console.hint.level"),
		Status: p.oneOf("status", []string{"open", "acknowledged", "closed"}, "console.hint.status"),
		Region: q.Get("region"),
		RuleID: q.Get("rule"),
		Limit:  p.int("limit", defaultLimit, 1, maxAlertLimit, "console.hint.limit"),
		Offset: p.int("offset", 0, 0, maxOffset, "console.hint.offset"),
	}
	f.From, f.To = p.timeRange("")
	if p.err != nil {
		s.writeError(w, r, p.err)
		return
	}
	ctx, warnings := WithWarnings(r.Context())
	alerts, total, err := s.opts.Alerts.Alerts(ctx, f)
	if err != nil {
		s.writeError(w, r, s.storeError(r, err, "console.thing.alert", ""))
		return
	}
	out := make([]alertJSON, len(alerts))
	for i, a := range alerts {
		out[i] = toAlertJSON(a)
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "limit": f.Limit, "offset": f.Offset, "alerts": out,
		"warnings": s.warningsJSON(r, warnings.List()), "regions": s.regionNames()})
}

func (s *Server) handleAlert(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	alert, events, err := s.opts.Alerts.Alert(r.Context(), id)
	if err != nil {
		s.writeError(w, r, s.storeError(r, err, "console.thing.alert", id))
		return
	}
	docs := make([]map[string]any, 0, len(events))
	for _, ev := range events {
		docs = append(docs, ev.Document())
	}
	writeJSON(w, http.StatusOK, map[string]any{"alert": toAlertJSON(alert), "events": docs})
}

// closeRequest is the body of POST /api/alerts/{id}/close.
type closeRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) handleAck(w http.ResponseWriter, r *http.Request) {
	s.changeStatus(w, r, ecs.StatusAcknowledged, "")
}

func (s *Server) handleClose(w http.ResponseWriter, r *http.Request) {
	var req closeRequest
	if e := decodeJSON(r, &req); e != nil {
		s.writeError(w, r, e)
		return
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" || utf8.RuneCountInString(reason) > maxReasonLength {
		s.writeError(w, r, newAPIError(http.StatusBadRequest, "reason_required", "console.err.reason_required", maxReasonLength))
		return
	}
	s.changeStatus(w, r, ecs.StatusClosed, reason)
}

// changeStatus moves an alert to status. A closed alert stays closed (409);
// acknowledging an acknowledged alert changes nothing and succeeds.
func (s *Server) changeStatus(w http.ResponseWriter, r *http.Request, status ecs.AlertStatus, reason string) {
	info := requestInfoFrom(r.Context())
	id := r.PathValue("id")
	alert, _, err := s.opts.Alerts.Alert(r.Context(), id)
	if err != nil {
		s.writeError(w, r, s.storeError(r, err, "console.thing.alert", id))
		return
	}
	if alert.Status == ecs.StatusClosed {
		s.writeError(w, r, newAPIError(http.StatusConflict, "alert_closed", "console.err.alert_closed", id))
		return
	}
	if alert.Status != status {
		if err := s.opts.Alerts.SetAlertStatus(r.Context(), id, status, reason, info.user); err != nil {
			// Another user may have changed the alert since it was read:
			// a close by them is a conflict, the same acknowledgement is done.
			now, _, readErr := s.opts.Alerts.Alert(r.Context(), id)
			switch {
			case readErr == nil && now.Status == ecs.StatusClosed:
				s.writeError(w, r, newAPIError(http.StatusConflict, "alert_closed", "console.err.alert_closed", id))
				return
			case readErr == nil && now.Status == status:
				writeJSON(w, http.StatusOK, map[string]any{"alert": toAlertJSON(now)})
				return
			}
			s.writeError(w, r, s.storeError(r, err, "console.thing.alert", id))
			return
		}
		// NOTE: the embedded store keeps this change with the actor in its
		// alert history, but nothing sends it to the audit ledger yet.
		s.log.Info("alert status changed", "request_id", info.id, "alert", id, "rule", alert.RuleID,
			"from", alert.Status.String(), "to", status.String(), "user", info.user)
	}
	alert, _, err = s.opts.Alerts.Alert(r.Context(), id)
	if err != nil {
		s.writeError(w, r, s.storeError(r, err, "console.thing.alert", id))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"alert": toAlertJSON(alert)})
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	p := s.params(r)
	req := SearchRequest{
		Query:  strings.TrimSpace(r.URL.Query().Get("q")),
		Limit:  p.int("limit", defaultLimit, 1, maxSearchLimit, "console.hint.limit"),
		Offset: p.int("offset", 0, 0, maxOffset, "console.hint.offset"),
	}
	req.From, req.To = p.timeRange("now-15m")
	if req.To.IsZero() {
		req.To = p.now.UTC()
	}
	if p.err != nil {
		s.writeError(w, r, p.err)
		return
	}
	start := time.Now()
	ctx, warnings := WithWarnings(r.Context())
	res, err := s.opts.Events.Search(ctx, req)
	if err != nil {
		s.writeError(w, r, s.storeError(r, err, "console.thing.event", ""))
		return
	}
	docs := make([]map[string]any, 0, len(res.Events))
	for _, ev := range res.Events {
		docs = append(docs, ev.Document())
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"total": res.Total, "limit": req.Limit, "offset": req.Offset,
		"from": req.From, "to": req.To, "took_ms": time.Since(start).Milliseconds(), "events": docs,
		"warnings": s.warningsJSON(r, res.Warnings, warnings.List()),
	})
}

func (s *Server) handleEvent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ev, err := s.opts.Events.Event(r.Context(), id)
	if err != nil {
		s.writeError(w, r, s.storeError(r, err, "console.thing.event", id))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"event": ev.Document()})
}

// histogramIntervals are the bucket widths the overview picks from: the
// smallest that gives at most maxBuckets buckets.
var histogramIntervals = []time.Duration{
	time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 3 * time.Hour,
	12 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 30 * 24 * time.Hour,
}

const maxBuckets = 120

func histogramInterval(from, to time.Time) time.Duration {
	span := to.Sub(from)
	for _, iv := range histogramIntervals {
		if span/iv <= maxBuckets {
			return iv
		}
	}
	return histogramIntervals[len(histogramIntervals)-1]
}

// overviewBucket is one interval of the events chart: counts by dataset.
type overviewBucket struct {
	Start  time.Time      `json:"start"`
	Counts map[string]int `json:"counts"`
}

func (s *Server) handleOverview(w http.ResponseWriter, r *http.Request) {
	p := s.params(r)
	from, to := p.timeRange("now-1h")
	if to.IsZero() {
		to = p.now.UTC()
	}
	if p.err != nil {
		s.writeError(w, r, p.err)
		return
	}
	interval := histogramInterval(from, to)
	// Align the range to the interval so bucket starts are round times.
	from = from.Truncate(interval)
	ctx, warnings := WithWarnings(r.Context())
	buckets, err := s.opts.Events.DateHistogram(ctx, interval, "event.dataset", "", from, to)
	if err != nil {
		s.writeError(w, r, s.storeError(r, err, "console.thing.event", ""))
		return
	}
	series := make([]overviewBucket, 0, int(to.Sub(from)/interval)+1)
	index := make(map[int64]int)
	for t := from; t.Before(to); t = t.Add(interval) {
		index[t.Unix()] = len(series)
		series = append(series, overviewBucket{Start: t, Counts: map[string]int{}})
	}
	datasetSet := map[string]bool{}
	total := 0
	for _, b := range buckets {
		key := b.Key
		if key == "" {
			key = "(none)"
		}
		i, ok := index[b.Start.Truncate(interval).Unix()]
		if !ok {
			continue
		}
		series[i].Counts[key] += b.Count
		datasetSet[key] = true
		total += b.Count
	}
	datasets := make([]string, 0, len(datasetSet))
	for k := range datasetSet {
		datasets = append(datasets, k)
	}
	slices.Sort(datasets)

	byLevel := make(map[string]int, len(alertLevels))
	alertTotal := 0
	for _, level := range alertLevels {
		_, n, err := s.opts.Alerts.Alerts(ctx, AlertFilter{Level: level, From: from, To: to, Limit: 1})
		if err != nil {
			s.writeError(w, r, s.storeError(r, err, "console.thing.alert", ""))
			return
		}
		byLevel[level] = n
		alertTotal += n
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"from": from, "to": to, "interval_seconds": int(interval / time.Second),
		"interval": formatInterval(interval), "datasets": datasets, "buckets": series, "events_total": total,
		"levels": alertLevels, "alerts_by_level": byLevel, "alerts_total": alertTotal,
		"warnings": s.warningsJSON(r, warnings.List()),
	})
}

func formatInterval(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	default:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
}
