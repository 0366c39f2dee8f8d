package elastic

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// streamInfo is the state of one data stream that WriteBatch uses to find
// replayed documents after a rollover.
type streamInfo struct {
	// previous is the backing index before the write index, "" if none.
	previous string
	// rolledAt is the creation time of the write index, which is the time
	// of the last rollover.
	rolledAt time.Time
	// checked is when this entry was read from the cluster.
	checked time.Time
}

// streamCacheTTL bounds the age of a cached streamInfo. A rollover that
// ILM makes on the cluster goes unseen for at most this long.
const streamCacheTTL = 10 * time.Second

// streamCache holds streamInfo per data stream name.
type streamCache struct {
	mu sync.Mutex
	m  map[string]streamInfo
}

func newStreamCache() *streamCache { return &streamCache{m: map[string]streamInfo{}} }

func (c *streamCache) get(name string, now time.Time) (streamInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	info, ok := c.m[name]
	if !ok || now.Sub(info.checked) > streamCacheTTL {
		return streamInfo{}, false
	}
	return info, true
}

func (c *streamCache) put(name string, info streamInfo) {
	c.mu.Lock()
	c.m[name] = info
	c.mu.Unlock()
}

func (c *streamCache) forget(name string) {
	c.mu.Lock()
	delete(c.m, name)
	c.mu.Unlock()
}

// backingIndex is one backing index of a data stream.
type backingIndex struct {
	Name     string
	Created  time.Time
	PriBytes int64
}

// resolveStreams lists the data streams matching pattern with their
// backing indices, oldest first; the last one is the write index. It uses
// the resolve-index API and _cat/indices, which the server core serves,
// because the data stream APIs live in a module that not every
// distribution has.
func (s *Store) resolveStreams(ctx context.Context, pattern string) (map[string][]backingIndex, error) {
	status, body, err := s.do(ctx, http.MethodGet, "/_resolve/index/"+url.PathEscape(pattern)+"?expand_wildcards=open", nil)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNotFound {
		return map[string][]backingIndex{}, nil
	}
	if status != http.StatusOK {
		return nil, s.statusError("GET /_resolve/index/"+pattern, status, body)
	}

	var resolved struct {
		DataStreams []struct {
			Name           string   `json:"name"`
			BackingIndices []string `json:"backing_indices"`
		} `json:"data_streams"`
	}
	if err := json.Unmarshal(body, &resolved); err != nil {
		return nil, fmt.Errorf("decode resolved data streams %s: %w", pattern, err)
	}

	out := make(map[string][]backingIndex, len(resolved.DataStreams))
	if len(resolved.DataStreams) == 0 {
		return out, nil
	}
	stats, err := s.catIndices(ctx, ".ds-"+pattern+"-*")
	if err != nil {
		return nil, err
	}
	for _, ds := range resolved.DataStreams {
		list := make([]backingIndex, 0, len(ds.BackingIndices))
		for _, name := range ds.BackingIndices {
			bi, ok := stats[name]
			if !ok {
				bi = backingIndex{Name: name}
			}
			list = append(list, bi)
		}
		out[ds.Name] = list
	}
	return out, nil
}

// catIndices reads the creation time and primary size of the indices
// matching pattern.
func (s *Store) catIndices(ctx context.Context, pattern string) (map[string]backingIndex, error) {
	path := "/_cat/indices/" + url.PathEscape(pattern) + "?format=json&bytes=b&expand_wildcards=all&h=index,creation.date,pri.store.size"
	status, body, err := s.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNotFound {
		return map[string]backingIndex{}, nil
	}
	if status != http.StatusOK {
		return nil, s.statusError("GET /_cat/indices/"+pattern, status, body)
	}
	var rows []map[string]string
	if err := json.Unmarshal(body, &rows); err != nil {
		return nil, fmt.Errorf("decode _cat/indices %s: %w", pattern, err)
	}
	out := make(map[string]backingIndex, len(rows))
	for _, r := range rows {
		bi := backingIndex{Name: r["index"]}
		if ms, err := strconv.ParseInt(r["creation.date"], 10, 64); err == nil {
			bi.Created = time.UnixMilli(ms).UTC()
		}
		bi.PriBytes, _ = strconv.ParseInt(r["pri.store.size"], 10, 64)
		out[bi.Name] = bi
	}
	return out, nil
}

// streamInfo returns the cached state of a data stream, reading it from
// the cluster when the entry is missing or stale.
func (s *Store) streamInfo(ctx context.Context, name string) (streamInfo, error) {
	now := time.Now()
	if info, ok := s.streams.get(name, now); ok {
		return info, nil
	}
	streams, err := s.resolveStreams(ctx, name)
	if err != nil {
		return streamInfo{}, err
	}
	info := streamInfo{checked: now}
	if list := streams[name]; len(list) >= 2 {
		info.previous = list[len(list)-2].Name
		info.rolledAt = list[len(list)-1].Created
	}
	s.streams.put(name, info)
	return info, nil
}

// dropReplayed removes events whose id is already stored in the backing
// index before the write index of their data stream, when that stream
// rolled over less than ReplayWindow ago. Inside one backing index the
// create operation itself rejects a second copy.
//
// NOTE: a replay that arrives more than ReplayWindow after a rollover, or
// that spans two rollovers, can store an event a second time.
func (s *Store) dropReplayed(ctx context.Context, items []item) ([]item, error) {
	if s.opts.ReplayWindow < 0 || len(items) == 0 {
		return items, nil
	}
	now := time.Now()
	idsByIndex := map[string][]string{}
	for _, it := range items {
		info, err := s.streamInfo(ctx, it.stream)
		if err != nil {
			return nil, err
		}
		if info.previous == "" || now.Sub(info.rolledAt) > s.opts.ReplayWindow {
			continue
		}
		idsByIndex[info.previous] = append(idsByIndex[info.previous], it.id)
	}
	if len(idsByIndex) == 0 {
		return items, nil
	}

	found := map[string]bool{}
	for index, ids := range idsByIndex {
		hits, err := s.existing(ctx, index, ids)
		if err != nil {
			return nil, err
		}
		for _, id := range hits {
			found[id] = true
		}
	}
	if len(found) == 0 {
		return items, nil
	}

	remaining := items[:0]
	for _, it := range items {
		if !found[it.id] {
			remaining = append(remaining, it)
		}
	}
	s.log.Info("skipped events stored before the last rollover", "url", s.url, "events", len(found))
	if s.metrics != nil {
		s.metrics.documents.WithLabelValues("duplicate").Add(float64(len(found)))
	}
	return remaining, nil
}

// existing returns the ids that exist in index. The multi-get API reads
// in real time, so documents written but not yet refreshed are found.
func (s *Store) existing(ctx context.Context, index string, ids []string) ([]string, error) {
	path := "/" + url.PathEscape(index) + "/_mget?_source=false&filter_path=docs._id,docs.found"
	status, body, err := s.doJSON(ctx, http.MethodPost, path, map[string]any{"ids": ids})
	if err != nil {
		return nil, err
	}
	if status == http.StatusNotFound {
		// Deleted by retention in the meantime.
		return nil, nil
	}
	if status != http.StatusOK {
		return nil, s.statusError("POST /"+index+"/_mget", status, body)
	}
	var r struct {
		Docs []struct {
			ID    string `json:"_id"`
			Found bool   `json:"found"`
		} `json:"docs"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("decode _mget of %s: %w", index, err)
	}
	var out []string
	for _, d := range r.Docs {
		if d.Found {
			out = append(out, d.ID)
		}
	}
	return out, nil
}
