package elastic

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/internal/jsonenc"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/elastic/esquery"
)

// item is one document of a _bulk request.
type item struct {
	stream string // data stream
	id     string
	doc    []byte
	event  *ecs.Event // nil for a dead letter
	stage  string     // stageParse or stageIndex for a dead letter
}

// outcome is the class of one bulk item's result, which decides what
// WriteBatch does with the item.
type outcome int

const (
	// stored: Elasticsearch created the document.
	stored outcome = iota
	// duplicate: a document with this id already exists (a replay).
	duplicate
	// retry: rejected for load (429) or failed on the node (5xx); send
	// again after a pause.
	retry
	// reject: the document cannot be indexed as it is (mapping or parse
	// error); an event goes to the dead-letter stream with the reason.
	reject
	// fail: any other error; WriteBatch returns it.
	fail
)

var outcomeNames = [...]string{"stored", "duplicate", "retry", "reject", "fail"}

// String returns the outcome's name.
func (o outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// retryTypes are error types that mean "try again later" whatever the
// status code is.
var retryTypes = map[string]bool{
	"es_rejected_execution_exception":         true,
	"circuit_breaking_exception":              true,
	"unavailable_shards_exception":            true,
	"process_cluster_event_timeout_exception": true,
	"node_not_connected_exception":            true,
	"no_shard_available_action_exception":     true,
}

// classify sorts the result of one bulk item.
func classify(status int, e *esError) outcome {
	errType := ""
	if e != nil {
		errType = e.Type
	}
	switch {
	case status == http.StatusOK || status == http.StatusCreated:
		return stored
	case status == http.StatusConflict && errType == "version_conflict_engine_exception":
		return duplicate
	case status == http.StatusTooManyRequests || status >= 500 || retryTypes[errType]:
		return retry
	case status == http.StatusBadRequest:
		return reject
	}
	return fail
}

// WriteBatch indexes the events and dead letters of w and folds its
// detections into alerts. Every event is created with _id = event id in
// its data stream, so writing the same batch again stores nothing twice.
//
// Items that Elasticsearch rejects for load (429) or fails on (5xx) are
// sent again with exponential backoff until ctx ends. Events it cannot
// index as they are (HTTP 400: mapping and parse errors) are written whole,
// with the reason, to the dead-letter stream. WriteBatch returns nil only
// when every document is stored, was already stored, or is dead-lettered.
// It is not atomic: on error part of the batch may be stored, and the
// caller writes the batch again.
func (s *Store) WriteBatch(ctx context.Context, w *pipeline.Write) error {
	docs := getBuffer(docBuffers, len(w.Events)*typicalDocBytes)
	// The items point into docs until the requests are done.
	defer putBuffer(docBuffers, docs)
	var enc esquery.Encoder
	items := make([]item, 0, len(w.Events)+len(w.DeadLetters))
	for _, ev := range w.Events {
		it, err := s.eventItem(ev, docs, &enc)
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	for i := range w.DeadLetters {
		it, err := s.deadLetterItem(&w.DeadLetters[i])
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	items, err := s.dropReplayed(ctx, items)
	if err != nil {
		return err
	}
	if err := s.writeItems(ctx, items); err != nil {
		return err
	}
	if err := s.foldDetections(ctx, w.Detections); err != nil {
		return err
	}
	return nil
}

// docBuffers and bodyBuffers keep the buffers of batches' documents and
// of _bulk bodies for the next batch. Fresh megabytes cost page faults on
// first use, which took more CPU than encoding the documents. Channels
// keep them across garbage collections, which empty a sync.Pool, and one
// for each use keeps a small body buffer from growing into a batch's
// documents.
var (
	docBuffers  = make(chan *bytes.Buffer, 4)
	bodyBuffers = make(chan *bytes.Buffer, 8)
)

// maxPooledBytes bounds the buffers kept, so at most 12 × 16 MiB stay
// allocated between batches.
const maxPooledBytes = 16 << 20

// getBuffer returns an empty buffer of pool with room for at least size
// bytes.
func getBuffer(pool chan *bytes.Buffer, size int) *bytes.Buffer {
	var b *bytes.Buffer
	select {
	case b = <-pool:
		b.Reset()
	default:
		b = new(bytes.Buffer)
	}
	b.Grow(size)
	return b
}

// putBuffer keeps b in pool for a later getBuffer, unless it is too large
// or the pool is full.
func putBuffer(pool chan *bytes.Buffer, b *bytes.Buffer) {
	if b.Cap() > maxPooledBytes {
		return
	}
	select {
	case pool <- b:
	default:
	}
}

// typicalDocBytes is about the size of one event's document, to size the
// buffer of a batch's documents up front.
const typicalDocBytes = 1280

// eventItem encodes one event at the end of docs, which collects the
// documents of a batch, and points the item at its bytes. A bytes.Buffer
// that is only written to never moves bytes already written: when it grows
// it copies them to a new array and leaves the old one as it was, so
// earlier items stay valid.
func (s *Store) eventItem(ev *ecs.Event, docs *bytes.Buffer, enc *esquery.Encoder) (item, error) {
	if ev.ID == "" {
		return item{}, fmt.Errorf("write batch: event of source %q at sequence %d has no id", ev.SourceID, ev.Seq)
	}
	start := docs.Len()
	if err := enc.Append(docs, ev); err != nil {
		docs.Truncate(start)
		return item{}, fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	end := docs.Len()
	return item{stream: s.streamOf(ev), id: ev.ID, doc: docs.Bytes()[start:end:end], event: ev}, nil
}

// deadLetterDoc is the document of a dead letter.
type deadLetterDoc struct {
	Timestamp string `json:"@timestamp"`
	Canhgac   struct {
		SourceID  string `json:"source_id"`
		RawBase64 string `json:"raw_base64,omitempty"`
		Stage     string `json:"stage"`
	} `json:"canhgac"`
	Log *struct {
		Offset int64 `json:"offset"`
	} `json:"log,omitempty"`
	Event struct {
		Original string `json:"original,omitempty"`
		ID       string `json:"id,omitempty"`
		Dataset  string `json:"dataset,omitempty"`
	} `json:"event"`
	Error struct {
		Type    string `json:"type,omitempty"`
		Message string `json:"message"`
	} `json:"error"`
	Observer struct {
		Geo struct {
			Name string `json:"name"`
		} `json:"geo"`
	} `json:"observer"`
}

// Stages of a dead letter: where the input failed.
const (
	stageParse = "parse"
	stageIndex = "index"
)

func setRaw(d *deadLetterDoc, raw []byte) {
	if utf8.Valid(raw) {
		d.Event.Original = string(raw)
		return
	}
	d.Canhgac.RawBase64 = base64.StdEncoding.EncodeToString(raw)
}

// deadLetterItem encodes an input that a sensor could not parse. Its id
// hashes the source, offset and bytes, so a replay stores it once.
func (s *Store) deadLetterItem(dl *pipeline.DeadLetter) (item, error) {
	if dl.SourceID == "" {
		return item{}, fmt.Errorf("write batch: dead letter at offset %d has no source id", dl.Offset)
	}
	var d deadLetterDoc
	ts := dl.Time
	if ts.IsZero() {
		ts = time.Unix(0, 0)
	}
	d.Timestamp = ts.UTC().Format(ecs.TimeFormat)
	d.Canhgac.SourceID = dl.SourceID
	d.Canhgac.Stage = stageParse
	if dl.Offset >= 0 {
		d.Log = &struct {
			Offset int64 `json:"offset"`
		}{dl.Offset}
	}

	setRaw(&d, dl.Raw)
	d.Error.Message = dl.Reason
	d.Observer.Geo.Name = s.opts.Region
	doc, err := json.Marshal(&d)
	if err != nil {
		return item{}, fmt.Errorf("encode dead letter of %s at offset %d: %w", dl.SourceID, dl.Offset, err)
	}

	h := sha256.New()
	h.Write([]byte(dl.SourceID))
	var off [8]byte
	binary.BigEndian.PutUint64(off[:], uint64(dl.Offset))
	h.Write(off[:])
	sum := sha256.Sum256(dl.Raw)
	h.Write(sum[:])
	return item{stream: s.deadLetterStream(), id: "p-" + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16]), doc: doc, stage: stageParse}, nil
}

// rejectedItem turns an event that Elasticsearch rejected into a dead
// letter that keeps the whole event and the reason.
func (s *Store) rejectedItem(it item, e *esError) (item, error) {
	var d deadLetterDoc
	d.Timestamp = s.now().UTC().Format(ecs.TimeFormat)
	d.Canhgac.SourceID = it.event.SourceID
	d.Canhgac.Stage = stageIndex
	if off, ok := it.event.Fields.Int("log.offset"); ok {
		d.Log = &struct {
			Offset int64 `json:"offset"`
		}{off}
	}
	d.Event.Original = string(it.doc)
	d.Event.ID = it.id
	d.Event.Dataset, _ = it.event.Fields["event.dataset"].(string)
	if e != nil {
		d.Error.Type = e.Type
	}
	d.Error.Message = fmt.Sprintf("elasticsearch rejected event %s in %s: %s", it.id, it.stream, e.String())
	d.Observer.Geo.Name = s.opts.Region
	doc, err := json.Marshal(&d)
	if err != nil {
		return item{}, fmt.Errorf("encode dead letter of event %s: %w", it.id, err)
	}
	return item{stream: s.deadLetterStream(), id: "i-" + it.id, doc: doc, stage: stageIndex}, nil
}

// itemResult is the outcome of one item and the error behind it.
type itemResult struct {
	outcome outcome
	err     *esError
	status  int
}

// writeItems sends items until each one is stored, a duplicate, or
// dead-lettered. It retries 429 and 5xx with backoff until ctx ends.
func (s *Store) writeItems(ctx context.Context, items []item) error {
	pause := s.opts.RetryInitial
	for attempt := 1; len(items) > 0; attempt++ {
		results, err := s.bulk(ctx, items)
		if err != nil {
			return err
		}
		var next []item
		waitBefore := false
		var created, duplicates, retried int
		for i, r := range results {
			it := items[i]
			switch r.outcome {
			case stored:
				if it.event != nil {
					created++
				}
			case duplicate:
				if it.event != nil {
					duplicates++
				}
			case retry:
				retried++
				next = append(next, it)
				waitBefore = true
				if s.metrics != nil {
					s.metrics.retries.WithLabelValues(retryReason(r)).Inc()
				}
			case reject:
				if it.event == nil {
					return fmt.Errorf("dead letter %s rejected by %s: %s", it.id, it.stream, r.err.String())
				}
				dl, err := s.rejectedItem(it, r.err)
				if err != nil {
					return err
				}
				s.log.Warn("event rejected by elasticsearch, kept in the dead-letter stream",
					"event", it.id, "stream", it.stream, "error", r.err.String())
				next = append(next, dl)
			default:
				return fmt.Errorf("index %s into %s on %s: HTTP %d: %s", it.id, it.stream, s.url, r.status, r.err.String())
			}
			if r.outcome == stored && it.stage != "" && s.metrics != nil {
				s.metrics.deadLetters.WithLabelValues(it.stage).Inc()
			}
		}
		if s.metrics != nil {
			s.metrics.documents.WithLabelValues("created").Add(float64(created))
			s.metrics.documents.WithLabelValues("duplicate").Add(float64(duplicates))
		}
		items = next
		if !waitBefore {
			continue
		}
		s.log.Warn("elasticsearch rejected documents for load, sending them again",
			"url", s.url, "documents", retried, "attempt", attempt, "pause", pause)
		if err := sleep(ctx, jitter(pause)); err != nil {
			return fmt.Errorf("write batch to %s: %d documents still rejected after %d attempts: %w", s.url, retried, attempt, err)
		}
		pause = min(pause*2, s.opts.RetryMax)
	}
	return nil
}

func retryReason(r itemResult) string {
	if r.err != nil && r.err.Type != "" {
		return r.err.Type
	}
	return fmt.Sprintf("http_%d", r.status)
}

// jitter spreads pauses between 75% and 125% of d, so that writers
// rejected together do not return together.
func jitter(d time.Duration) time.Duration {
	return d*3/4 + rand.N(d/2+1)
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// bulkFilter trims the response to what classify needs.
const bulkFilter = "?filter_path=errors,items.*.status,items.*.error"

// minChunkDocs is the smallest share of a batch that bulk sends as a
// request of its own when it splits a batch across BulkWorkers.
const minChunkDocs = 512

// bulk sends items in requests of at most BulkMaxBytes, up to BulkWorkers
// of them at once, and returns one result per item in the order of items.
// A whole request rejected with 429 or 5xx counts as a retry of each of
// its items.
func (s *Store) bulk(ctx context.Context, items []item) ([]itemResult, error) {
	chunks := s.chunks(items)
	results := make([]itemResult, len(items))
	errs := make([]error, len(chunks))
	sem := make(chan struct{}, s.opts.BulkWorkers)
	var wg sync.WaitGroup
	for i, c := range chunks {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			body := getBuffer(bodyBuffers, c.size)
			// s.do has closed the response when bulkRequest returns, so
			// the transport no longer reads the body.
			defer putBuffer(bodyBuffers, body)
			for j := c.start; j < c.end; j++ {
				appendAction(body, &items[j])
			}
			rs, err := s.bulkRequest(ctx, body.Bytes(), c.end-c.start)
			if err != nil {
				errs[i] = err
				return
			}
			copy(results[c.start:c.end], rs)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return results, nil
}

// chunk is a range of items sent in one request, and about the size of
// its body in bytes.
type chunk struct{ start, end, size int }

// chunks splits items into requests of at most BulkMaxBytes, and a large
// batch into at least BulkWorkers requests so the node indexes them in
// parallel.
func (s *Store) chunks(items []item) []chunk {
	perChunk := len(items)
	if workers := s.opts.BulkWorkers; workers > 1 && len(items) >= workers*minChunkDocs {
		perChunk = (len(items) + workers - 1) / workers
	}
	var out []chunk
	start, size := 0, 0
	for i := range items {
		n := len(items[i].doc) + len(items[i].id) + len(items[i].stream) + 40
		if i > start && (size+n > s.opts.BulkMaxBytes || i-start >= perChunk) {
			out = append(out, chunk{start, i, size})
			start, size = i, 0
		}
		size += n
	}
	if start < len(items) {
		out = append(out, chunk{start, len(items), size})
	}
	return out
}

func appendAction(body *bytes.Buffer, it *item) {
	body.WriteString(`{"create":{"_index":`)
	jsonenc.AppendString(body, it.stream)
	body.WriteString(`,"_id":`)
	jsonenc.AppendString(body, it.id)
	body.WriteString("}}\n")
	body.Write(it.doc)
	body.WriteByte('\n')
}

// bulkRequest sends one _bulk body holding n documents.
func (s *Store) bulkRequest(ctx context.Context, body []byte, n int) ([]itemResult, error) {
	began := time.Now()
	status, resp, err := s.do(ctx, http.MethodPost, "/_bulk"+bulkFilter, body)
	if s.metrics != nil {
		s.metrics.bulkSeconds.Observe(time.Since(began).Seconds())
	}
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		e := parseError(resp)
		if o := classify(status, e); o == retry {
			out := make([]itemResult, n)
			for i := range out {
				out[i] = itemResult{outcome: retry, err: e, status: status}
			}
			return out, nil
		}
		return nil, s.statusError("POST /_bulk", status, resp)
	}
	return parseBulk(resp, n)
}

// parseBulk reads a _bulk response filtered by bulkFilter. Without errors
// every item was created and the items are not decoded.
func parseBulk(resp []byte, n int) ([]itemResult, error) {
	var head struct {
		Errors bool            `json:"errors"`
		Items  json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(resp, &head); err != nil {
		return nil, fmt.Errorf("decode _bulk response: %w", err)
	}
	out := make([]itemResult, n)
	if !head.Errors {
		for i := range out {
			out[i] = itemResult{outcome: stored, status: http.StatusCreated}
		}
		return out, nil
	}
	var items []map[string]struct {
		Status int      `json:"status"`
		Error  *esError `json:"error"`
	}
	if err := json.Unmarshal(head.Items, &items); err != nil {
		return nil, fmt.Errorf("decode _bulk items: %w", err)
	}
	if len(items) != n {
		return nil, fmt.Errorf("_bulk response has %d items for %d documents", len(items), n)
	}
	for i, m := range items {
		if len(m) != 1 {
			return nil, fmt.Errorf("_bulk response item %d has %d actions, want 1", i, len(m))
		}
		for _, r := range m {
			out[i] = itemResult{outcome: classify(r.Status, r.Error), err: r.Error, status: r.Status}
		}
	}
	return out, nil
}
