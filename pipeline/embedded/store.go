package embedded

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/canhgac/canhgac/ecs"
	"github.com/canhgac/canhgac/pipeline"
	"github.com/canhgac/canhgac/pipeline/kql"
	"modernc.org/sqlite"
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Logger receives start, stop and error messages; nil means
	// slog.Default().
	Logger *slog.Logger
	// Readers is the number of concurrent read connections; 0 means 4.
	Readers int
	// CacheMiB is the page cache of the writer connection in MiB; 0 means 64.
	CacheMiB int
	// Now returns the wall-clock time stamped on alert changes and used as
	// the time of ingest for retention; nil means time.Now.
	Now func() time.Time
}

// Store is the embedded event and alert store. It is safe for concurrent
// use: writes are serialized on one connection, reads run in parallel.
type Store struct {
	dir    string
	path   string
	writer *sql.DB
	reader *sql.DB
	log    *slog.Logger
	now    func() time.Time

	mu      sync.RWMutex
	spilled map[string]bool // promoted fields that also live in documents
}

// DatabaseFile is the name of the SQLite file inside the store folder.
const DatabaseFile = "events.db"

// Open opens or creates the store in dir.
func Open(dir string, opts Options) (*Store, error) {
	if numPromoted != len(promoted) {
		panic("embedded: numPromoted does not match the promoted columns")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create store folder %s: %w", dir, err)
	}
	s := &Store{
		dir:     dir,
		path:    filepath.Join(dir, DatabaseFile),
		log:     opts.Logger,
		now:     opts.Now,
		spilled: map[string]bool{},
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	readers := opts.Readers
	if readers <= 0 {
		readers = 4
	}
	cache := opts.CacheMiB
	if cache <= 0 {
		cache = 64
	}
	var err error
	s.writer, err = sql.Open("sqlite", s.dsn(false, cache))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", s.path, err)
	}
	s.writer.SetMaxOpenConns(1)
	s.writer.SetConnMaxLifetime(0)
	s.writer.SetConnMaxIdleTime(0)
	if _, err := s.writer.Exec(schema); err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("create schema in %s: %w", s.path, err)
	}
	if err := s.migrate(); err != nil {
		s.writer.Close()
		return nil, err
	}
	// FTS5 merges index segments when 8 of one level exist instead of 4:
	// less merge work per insert, a few more segments per text query.
	if _, err := s.writer.Exec("INSERT INTO events_fts (events_fts, rank) VALUES ('automerge', 8)"); err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("configure full-text index in %s: %w", s.path, err)
	}
	s.reader, err = sql.Open("sqlite", s.dsn(true, 16))
	if err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("open %s for reading: %w", s.path, err)
	}
	s.reader.SetMaxOpenConns(readers)
	s.reader.SetMaxIdleConns(readers)
	rows, err := s.writer.Query("SELECT field FROM spilled")
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("read spilled fields from %s: %w", s.path, err)
	}
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			rows.Close()
			s.Close()
			return nil, fmt.Errorf("read spilled fields from %s: %w", s.path, err)
		}
		s.spilled[f] = true
	}
	rows.Close()
	s.log.Info("embedded store opened", "path", s.path)
	return s, nil
}

func (s *Store) dsn(readOnly bool, cacheMiB int) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	// FULL: a batch is durable when its commit returns, not only atomic.
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cacheMiB*1024))
	q.Add("_pragma", "temp_store(MEMORY)")
	// A checkpoint every 10000 pages (40 MB of WAL at 4 KiB pages) instead
	// of 1000 copies an index page that many batches changed once, not
	// once per batch. BenchmarkWriteBatch measured about 10–15% less CPU
	// per event on a loaded 2-core machine.
	q.Add("_pragma", "wal_autocheckpoint(10000)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_txlock", "immediate")
	}
	return "file:" + s.path + "?" + q.Encode()
}

// Close closes the database. Further calls fail.
func (s *Store) Close() error {
	var errs []error
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	if s.writer != nil {
		// A checkpoint keeps the WAL file small between runs.
		if _, err := s.writer.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			errs = append(errs, fmt.Errorf("checkpoint %s: %w", s.path, err))
		}
		errs = append(errs, s.writer.Close())
	}
	s.log.Info("embedded store closed", "path", s.path)
	return errors.Join(errs...)
}

func (s *Store) spilledFields() map[string]bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.spilled) == 0 {
		return nil
	}
	m := make(map[string]bool, len(s.spilled))
	for k := range s.spilled {
		m[k] = true
	}
	return m
}

// The SQL functions below carry the parts of KQL semantics that SQLite
// lacks. They are registered once for every connection of the driver.
func init() {
	sqlite.MustRegisterDeterministicScalarFunction("kql_ip", 1, sqlIP)
	sqlite.MustRegisterDeterministicScalarFunction("kql_time", 1, sqlTime)
	sqlite.MustRegisterDeterministicScalarFunction("kql_keyword_path", 1, sqlKeywordPath)
	sqlite.MustRegisterDeterministicScalarFunction("kql_match", numEventColumns+1, sqlMatch)
}

// sqlIP returns the 16-byte form of an address text, or NULL.
func sqlIP(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	a, ok := kql.ParseIP(s)
	if !ok {
		return nil, nil
	}
	b := a.As16()
	return b[:], nil
}

// sqlTime returns a date text as Unix nanoseconds, or NULL.
func sqlTime(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	s, ok := args[0].(string)
	if !ok {
		return nil, nil
	}
	t, ok := kql.ParseDate(s)
	if !ok {
		return nil, nil
	}
	return t.UnixNano(), nil
}

// sqlKeywordPath reports whether a json_tree full key names a top-level
// keyword field or an element of its list, the places free text searches.
func sqlKeywordPath(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	s, ok := args[0].(string)
	if !ok {
		return int64(0), nil
	}
	field, ok := fieldOfPath(s)
	if !ok || kql.TypeOf(field) != kql.Keyword {
		return int64(0), nil
	}
	return int64(1), nil
}

// fieldOfPath returns the field name of a SQLite JSON path such as
// `$."user.roles"[2]` or `$.tags`; it fails for paths inside objects.
func fieldOfPath(p string) (string, bool) {
	if !strings.HasPrefix(p, "$.") {
		return "", false
	}
	p = p[2:]
	var field string
	if strings.HasPrefix(p, `"`) {
		end := strings.IndexByte(p[1:], '"')
		if end < 0 {
			return "", false
		}
		field = p[1 : end+1]
		p = p[end+2:]
	} else {
		end := strings.IndexAny(p, ".[")
		if end < 0 {
			end = len(p)
		}
		field = p[:end]
		p = p[end:]
	}
	if p == "" {
		return field, true
	}
	// One list index may follow; anything else is inside an object.
	if p[0] == '[' && strings.IndexByte(p, ']') == len(p)-1 {
		return field, true
	}
	return "", false
}

var parsedQueries sync.Map // canonical KQL text → kql.Node

// sqlMatch evaluates a KQL query (its canonical text, first argument) with
// kql.Match on the event rebuilt from the row (the eventColumns values).
// Queries that SQL cannot express exactly, such as wildcard field names,
// use it.
func sqlMatch(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	q, _ := args[0].(string)
	var node kql.Node
	if cached, ok := parsedQueries.Load(q); ok {
		node = cached.(kql.Node)
	} else {
		n, err := kql.Parse(q)
		if err != nil {
			return nil, fmt.Errorf("kql_match: %w", err)
		}
		parsedQueries.Store(q, n)
		node = n
	}
	vals := make([]any, numEventColumns)
	for i := range vals {
		vals[i] = args[i+1]
	}
	e, err := decodeRow(vals)
	if err != nil {
		return nil, err
	}
	if kql.Match(node, e) {
		return int64(1), nil
	}
	return int64(0), nil
}

// Stats describes the store's size.
type Stats struct {
	Events      int64
	Alerts      int64
	DeadLetters int64
	// DiskBytes is the size of the database file and its WAL.
	DiskBytes int64
}

// Stats counts events, alerts and dead letters and measures the files.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.reader.QueryRowContext(ctx,
		"SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM alerts), (SELECT count(*) FROM dead_letters)").
		Scan(&st.Events, &st.Alerts, &st.DeadLetters)
	if err != nil {
		return st, fmt.Errorf("count rows in %s: %w", s.path, err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if fi, err := os.Stat(s.path + suffix); err == nil {
			st.DiskBytes += fi.Size()
		}
	}
	return st, nil
}

// eventsByID loads events by id, in the order of ids; missing ids (removed
// by retention) are skipped.
func (s *Store) eventsByID(ctx context.Context, ids []string) ([]*ecs.Event, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ph := strings.Repeat(",?", len(ids))[1:]
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.reader.QueryContext(ctx, "SELECT "+eventColumns+" FROM events WHERE id IN ("+ph+")", args...)
	if err != nil {
		return nil, fmt.Errorf("load events by id: %w", err)
	}
	found, err := scanEvents(rows)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*ecs.Event, len(found))
	for _, e := range found {
		byID[e.ID] = e
	}
	out := make([]*ecs.Event, 0, len(found))
	for _, id := range ids {
		if e, ok := byID[id]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}

func scanEvents(rows *sql.Rows) ([]*ecs.Event, error) {
	defer rows.Close()
	var out []*ecs.Event
	vals := make([]any, numEventColumns)
	ptrs := make([]any, numEventColumns)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("scan event: %w", err)
		}
		e, err := decodeRow(vals)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return out, nil
}

var _ pipeline.Store = (*Store)(nil)

// migrate adds the columns that databases written by earlier releases lack.
func (s *Store) migrate() error {
	for _, m := range migrations {
		var n int
		err := s.writer.QueryRow("SELECT count(*) FROM pragma_table_info(?) WHERE name = ?", m.table, m.column).Scan(&n)
		if err != nil {
			return fmt.Errorf("inspect table %s in %s: %w", m.table, s.path, err)
		}
		if n > 0 {
			continue
		}
		if _, err := s.writer.Exec(m.ddl); err != nil {
			return fmt.Errorf("add column %s.%s in %s: %w", m.table, m.column, s.path, err)
		}
	}
	return nil
}
