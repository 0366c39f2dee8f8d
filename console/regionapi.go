package console

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/canhgac/canhgac/i18n"
)

// regionLister is a store over several named regions, such as
// federated.Store. The warning banner names the regions that a result
// still covers.
type regionLister interface {
	Regions() []string
}

// regionNames returns the configured region names for the alert filter,
// or nil for a single store.
func (s *Server) regionNames() []string {
	if l, ok := s.opts.Events.(regionLister); ok {
		return l.Regions()
	}
	return nil
}

// warningJSON is a region warning as the API returns it, with the banner
// text in the request's language.
type warningJSON struct {
	RegionWarning
	Message string `json:"message"`
}

// warningsJSON merges warnings (a search result's and those collected in
// the request's context), one per region, and renders their messages.
func (s *Server) warningsJSON(r *http.Request, lists ...[]RegionWarning) []warningJSON {
	lang := requestInfoFrom(r.Context()).lang
	var merged []RegionWarning
	for _, list := range lists {
		for _, w := range list {
			if !slices.ContainsFunc(merged, func(have RegionWarning) bool { return have.Region == w.Region }) {
				merged = append(merged, w)
			}
		}
	}
	var covered []string
	for _, name := range s.regionNames() {
		if !slices.ContainsFunc(merged, func(w RegionWarning) bool { return w.Region == name }) {
			covered = append(covered, name)
		}
	}
	out := make([]warningJSON, 0, len(merged))
	for _, w := range merged {
		msg := i18n.T(lang, "console.warn.region_down", w.Region, w.Err)
		if len(covered) > 0 {
			msg = i18n.T(lang, "console.warn.region_down_covered", w.Region, w.Err, strings.Join(covered, ", "))
		}
		out = append(out, warningJSON{RegionWarning: w, Message: msg})
	}
	return out
}

// regionJSON is a region's status as GET /api/regions returns it: the
// store's figures plus rates and lag computed at the request time.
type regionJSON struct {
	RegionStatus
	// Rate5m and Rate15m are events ingested per minute, averaged over the
	// last 5 and 15 minutes.
	Rate5m  float64 `json:"rate_5m"`
	Rate15m float64 `json:"rate_15m"`
	// LagSeconds is the time since the newest event.ingested, nil when the
	// store cannot tell or holds no events.
	LagSeconds *float64 `json:"lag_seconds"`
}

func (s *Server) handleRegions(w http.ResponseWriter, r *http.Request) {
	now := s.now().UTC()
	if s.opts.Regions == nil {
		writeJSON(w, http.StatusOK, map[string]any{"configured": false, "time": now, "regions": []regionJSON{}})
		return
	}
	statuses, err := s.opts.Regions.RegionStatus(r.Context(), now)
	if err != nil {
		s.writeError(w, r, s.storeError(r, err, "console.thing.event", ""))
		return
	}
	out := make([]regionJSON, 0, len(statuses))
	for _, st := range statuses {
		if st.Sensors == nil {
			st.Sensors = []SensorStatus{}
		}
		rj := regionJSON{RegionStatus: st, Rate5m: float64(st.Ingested5m) / 5, Rate15m: float64(st.Ingested15m) / 15}
		if !st.LastIngested.IsZero() {
			lag := max(now.Sub(st.LastIngested), 0).Seconds()
			rj.LagSeconds = &lag
		}
		out = append(out, rj)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"configured": true, "time": now, "regions": out,
		"late_after_seconds": int(SensorLateAfter / time.Second), "silent_after_seconds": int(SensorSilentAfter / time.Second),
	})
}
