// Package embedded is the event and alert store of `canhgac run`: one
// SQLite database (modernc.org/sqlite, pure Go) in a local folder, in WAL
// mode so that one writer and many readers work at once.
//
// Events keep their hot ECS fields in indexed columns (@timestamp,
// event.dataset, event.action, host.name, user.name, source.ip, ...), the
// text fields message and event.original in a contentless FTS5 index, and
// every other field in a flat JSON document. KQL queries (package kql)
// compile to SQL with bound parameters; their results equal kql.Match on
// the same events, which the conformance test checks.
//
// WriteBatch stores events, dead letters and detections in one
// transaction with synchronous=FULL: when it returns nil the batch is on
// disk, and a crash before that leaves none of it. Event ids make writes
// idempotent, so a replayed batch stores nothing twice.
package embedded
