// Package sigma compiles Sigma detection rules (specification v2) once and
// matches them against a stream of ecs.Event values. The same Engine serves
// the live pipeline and the offline hunt, so both report the same
// detections for the same events in the same order.
//
// # Loading
//
// LoadFiles, LoadFS, LoadAll and LoadBytes read YAML files (several
// documents per file, rule collections with action: global, reset and
// repeat), compile every rule and reject, whole, each rule that uses a
// feature this engine does not implement. A Sigma filter document (a
// filter: section with rules: any, all or a list of ids and names) adds
// its condition to every targeted rule whose logsource it covers. A rejection carries a catalog key and arguments (see Error),
// so `rules check` shows the reason in Vietnamese or English.
//
// # Routing and field mapping
//
// A rule's logsource (product, category, service) becomes a predicate on
// event.dataset, winlog.event_id and optional field values. The table is
// logsources.yaml, embedded, and LoadOptions can add more files. The
// Ruleset indexes rules by dataset and Windows event id, so an event is only
// tested against the rules whose logsource can match it. Sigma field names
// become ECS field names through fieldmap.yaml: for Windows events a name
// without an explicit mapping is read from winlog.event_data.<Name>, which
// keeps the SigmaHQ meaning of Windows rules.
//
// # Matching choices
//
//   - Strings compare case-insensitively unless the cased modifier is given
//     (Unicode simple lower-casing of both sides). Regular expressions are
//     case-sensitive unless the i sub-modifier is given.
//   - A keyword search (a search identifier holding a list of plain values)
//     is a substring match against message and event.original, and for
//     Windows events also against every string in winlog.event_data.*.
//   - A field holding a list matches when any element matches.
//   - null matches a missing field or a field whose value is null; exists
//     treats a null value as absent.
//   - base64 and base64offset results are matched case-sensitively, because
//     changing the case of base64 text changes the decoded bytes.
//
// # Correlations
//
// Correlation rules (event_count, value_count, temporal, temporal_ordered)
// run on event time. Matches of referenced rules pass through a reorder
// buffer that holds them for EngineOptions.Lateness, so events that arrive
// out of order by less than that are counted in event-time order; later
// ones are counted in Stats.LateDropped and logged. Correlations may
// reference other correlations by id or name.
package sigma
