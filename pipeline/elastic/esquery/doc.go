// Package esquery compiles KQL (package kql) to Elasticsearch query DSL and
// owns the index mapping that the compiled queries rely on. The Elasticsearch
// store puts Mapping into its index templates, indexes each event as
// Document returns it, and sends Compile's result as the "query" of a
// search, so that a query returns the same events as kql.Match and the
// embedded store.
//
// How KQL field types become Elasticsearch types:
//
//   - Keyword fields (most ECS fields) are `keyword`: exact and
//     case-sensitive, `*` wildcards become `wildcard` queries. Every string
//     of a keyword field is also copied into FreeTextField, which free text
//     searches, except the strings of objects inside lists (dns.answers).
//   - Text fields (message, event.original) are `text` with the standard
//     analyzer. Document adds each text field's words as kql.Tokenize splits
//     them under WordsField, and queries use those words. A document
//     without them falls back to the standard analyzer, whose words differ
//     (it keeps "lsass.exe" and "10.0.0.1" as one word).
//   - IP fields (ip and every name ending in .ip) are `ip`. CIDR ranges
//     become `term` or `range` queries that keep IPv4 and IPv6 apart as
//     kql.Match does.
//   - Date fields (@timestamp, event.created|ingested|start|end) are
//     `date_nanos`, so times compare to the nanosecond.
//   - Numeric ECS fields (ports, byte counts, event.severity, winlog.event_id
//     ...) are `double`, because kql.Match compares every number as a
//     float64.
//   - Other fields get their type from the first value Elasticsearch
//     indexes: strings `keyword`, booleans `boolean`, numbers `double`.
//     Queries on them use forms that work for each of these types.
//
// Errors that reach a user carry catalog keys: CompileString returns a
// parse error as the *kql.Error, and Compile returns an *Error for a valid
// query that Elasticsearch cannot run (a wildcard value longer than 256
// bytes, whose automaton Lucene rejects as too complex).
//
// Where Elasticsearch cannot give kql.Match's result, a NOTE comment marks
// the place, and the conformance test lists a query that shows it with
// the reason.
package esquery
