package elastic

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// RetentionReport is the outcome of one run of the retention job.
type RetentionReport struct {
	// RolledOver lists the data streams that got a new write index.
	RolledOver []string
	// Deleted lists the backing indices deleted because their newest
	// event was older than the retention of their dataset.
	Deleted []string
	// AlertsDeleted counts closed alerts last changed before the system
	// retention.
	AlertsDeleted int
}

// HasILM reports whether Setup found index lifecycle management on the
// cluster. Without it RunRetention rolls over and deletes backing indices.
func (s *Store) HasILM() bool { return s.hasILM.Load() }

// Retention returns how long events of a dataset (as it appears in a data
// stream name) are kept.
func (s *Store) Retention(dataset string) time.Duration {
	days := s.opts.SystemRetentionDays
	if s.isAudit(dataset) {
		days = s.opts.AuditRetentionDays
	}
	return time.Duration(days) * 24 * time.Hour
}

// RunRetention applies retention as of now to the data streams and alerts
// of the store's region; the store of each region runs its own. Without
// ILM it rolls a data stream over when its non-empty write index is older
// than RolloverMaxAge or larger than RolloverMaxPrimaryMB. It deletes a
// backing index once the retention of its dataset has passed since the
// index was rolled over. With ILM, the cluster does both. In either case
// it deletes closed alerts last changed before the system retention.
func (s *Store) RunRetention(ctx context.Context, now time.Time) (RetentionReport, error) {
	var rep RetentionReport
	if !s.hasILM.Load() {
		streams, err := s.resolveStreams(ctx, "logs-*-"+namePart(s.opts.Region, ""))
		if err != nil {
			return rep, fmt.Errorf("retention: list data streams: %w", err)
		}
		names := make([]string, 0, len(streams))
		for name := range streams {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			if err := s.retainStream(ctx, name, streams[name], now, &rep); err != nil {
				return rep, err
			}
		}
	}
	n, err := s.deleteClosedAlerts(ctx, now.Add(-s.Retention("")))
	rep.AlertsDeleted = n
	if err != nil {
		return rep, err
	}
	s.log.Info("retention done", "url", s.url, "rolled_over", rep.RolledOver, "deleted", rep.Deleted,
		"alerts_deleted", rep.AlertsDeleted, "as_of", now)
	return rep, nil
}

// RunRetentionLoop runs RunRetention at once and then every
// RetentionInterval until ctx ends. It logs failures and keeps going, and
// returns ctx.Err().
func (s *Store) RunRetentionLoop(ctx context.Context) error {
	for {
		if _, err := s.RunRetention(ctx, s.now()); err != nil && ctx.Err() == nil {
			s.log.Error("retention failed; next attempt after the interval", "url", s.url, "err", err,
				"interval", s.opts.RetentionInterval)
		}
		if err := sleep(ctx, s.opts.RetentionInterval); err != nil {
			return err
		}
	}
}

func (s *Store) retainStream(ctx context.Context, name string, backing []backingIndex, now time.Time, rep *RetentionReport) error {
	if len(backing) == 0 {
		return nil
	}
	retention := s.Retention(datasetOfStream(name))
	write := backing[len(backing)-1]
	older := backing[:len(backing)-1]
	// _cat/indices counts only refreshed documents, so the decision uses
	// newestEvent, which refreshes first. An empty write index stays.
	newest, err := s.newestEvent(ctx, write.Name)
	if err != nil {
		return err
	}
	roll := !newest.IsZero() && (now.Sub(write.Created) >= s.opts.RolloverMaxAge ||
		write.PriBytes >= s.opts.RolloverMaxPrimaryMB<<20)
	if roll {
		status, body, err := s.do(ctx, http.MethodPost, "/"+url.PathEscape(name)+"/_rollover", nil)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return s.statusError("POST /"+name+"/_rollover", status, body)
		}
		s.streams.forget(name)
		rep.RolledOver = append(rep.RolledOver, name)
		s.log.Info("data stream rolled over", "stream", name, "index", write.Name, "created", write.Created)
		return nil // the new backing index is listed at the next run
	}
	// As ILM's delete phase counts from the rollover, a backing index is
	// kept for the retention after it stopped taking writes, that is after
	// the next backing index was created. Retention follows the time of
	// ingest, not of the events: evidence imported today from a capture of
	// years ago is kept as long as today's logs.
	for i, bi := range older {
		retired := backing[i+1].Created
		if now.Sub(retired) < retention {
			continue
		}
		status, body, err := s.do(ctx, http.MethodDelete, "/"+url.PathEscape(bi.Name), nil)
		if err != nil {
			return err
		}
		if status != http.StatusOK && status != http.StatusNotFound {
			return s.statusError("DELETE /"+bi.Name, status, body)
		}
		s.streams.forget(name)
		rep.Deleted = append(rep.Deleted, bi.Name)
		s.log.Info("backing index deleted after retention", "stream", name, "index", bi.Name,
			"retired", retired, "retention", retention)
	}
	return nil
}

// newestEvent returns the largest @timestamp in index, or the zero time
// when it holds no events. It refreshes the index first, so events
// written but not yet searchable count too.
func (s *Store) newestEvent(ctx context.Context, index string) (time.Time, error) {
	path := "/" + url.PathEscape(index)
	status, body, err := s.do(ctx, http.MethodPost, path+"/_refresh", nil)
	if err != nil {
		return time.Time{}, err
	}
	if status != http.StatusOK {
		return time.Time{}, s.statusError("POST "+path+"/_refresh", status, body)
	}
	r, err := s.search(ctx, index, map[string]any{
		"size": 0,
		"aggs": map[string]any{"newest": map[string]any{"max": map[string]any{"field": "@timestamp"}}},
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("newest event of %s: %w", index, err)
	}
	var aggs struct {
		Newest struct {
			Value *float64 `json:"value"`
		} `json:"newest"`
	}
	if len(r.Aggregations) > 0 {
		if err := json.Unmarshal(r.Aggregations, &aggs); err != nil {
			return time.Time{}, fmt.Errorf("decode newest event of %s: %w", index, err)
		}
	}
	if aggs.Newest.Value == nil {
		return time.Time{}, nil
	}
	// The max of a date_nanos field is returned in milliseconds; round up
	// so an index is never judged older than its newest event.
	return time.UnixMilli(int64(*aggs.Newest.Value) + 1).UTC(), nil
}

// deleteClosedAlerts deletes closed alerts last changed before cutoff (by
// wall clock, so alerts on imported old evidence stay as long), and
// the group pointers that still name them.
func (s *Store) deleteClosedAlerts(ctx context.Context, cutoff time.Time) (int, error) {
	if cutoff.Before(time.Unix(0, 0)) {
		// Alert times are date_nanos, which start in 1970: nothing stored
		// is older, and a range before 1970 fails the search.
		return 0, nil
	}
	deleted := 0
	for {
		body := map[string]any{
			"query": map[string]any{"bool": map[string]any{"filter": []any{
				map[string]any{"term": map[string]any{"status": "closed"}},
				map[string]any{"term": map[string]any{"region": s.opts.Region}},
				map[string]any{"range": map[string]any{"updated_at": timeRange(time.Time{}, cutoff)}},
			}}},
			"size":    1000,
			"_source": []string{"id", "group_key"},
		}
		if err := s.refreshIndex(ctx, AlertsIndex); err != nil {
			return deleted, err
		}
		var docs []alertDoc
		_, err := s.searchSources(ctx, AlertsIndex, body, func(raw json.RawMessage) error {
			var a alertDoc
			if err := json.Unmarshal(raw, &a); err != nil {
				return fmt.Errorf("decode alert: %w", err)
			}
			docs = append(docs, a)
			return nil
		})
		if err != nil {
			return deleted, fmt.Errorf("retention: find closed alerts: %w", err)
		}
		if len(docs) == 0 {
			return deleted, nil
		}
		for _, a := range docs {
			if err := s.deleteAlert(ctx, &a); err != nil {
				return deleted, err
			}
			deleted++
		}
	}
}

// deleteAlert deletes one alert and its group pointer when the pointer
// still names it.
func (s *Store) deleteAlert(ctx context.Context, a *alertDoc) error {
	var ptr groupDoc
	pointer := groupDocID(s.groupScope(a.Region, a.GroupKey))
	v, found, err := s.getDoc(ctx, GroupsIndex, pointer, &ptr)
	if err != nil {
		return err
	}
	if found && ptr.AlertID == a.ID {
		path := "/" + GroupsIndex + "/_doc/" + url.PathEscape(pointer) + v.query()
		status, body, err := s.do(ctx, http.MethodDelete, path, nil)
		if err != nil {
			return err
		}
		// 409: a new alert claimed the group meanwhile, and its pointer stays.
		if status != http.StatusOK && status != http.StatusNotFound && status != http.StatusConflict {
			return s.statusError("DELETE "+path, status, body)
		}
	}
	path := "/" + AlertsIndex + "/_doc/" + url.PathEscape(a.ID)
	status, body, err := s.do(ctx, http.MethodDelete, path, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK && status != http.StatusNotFound {
		return s.statusError("DELETE "+path, status, body)
	}
	return nil
}

// refreshIndex makes one index's writes searchable.
func (s *Store) refreshIndex(ctx context.Context, index string) error {
	path := "/" + index + "/_refresh?ignore_unavailable=true"
	status, body, err := s.do(ctx, http.MethodPost, path, nil)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return s.statusError("POST "+path, status, body)
	}
	return nil
}
