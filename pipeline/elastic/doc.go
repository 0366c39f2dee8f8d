// Package elastic is the Elasticsearch backend of the event and alert
// store. The pipeline writes through WriteBatch (pipeline.Store), and the
// console reads through Search, Event, DateHistogram and the alert methods,
// adapted by console/esstore.
//
// Layout on the cluster, created idempotently by Setup:
//
//   - events go to data streams named logs-<dataset>-<region>, for example
//     logs-system.auth-dc1, through composable index templates whose
//     mappings come from package esquery (the same mapping the KQL compiler
//     expects);
//   - dead letters (inputs that could not be parsed, and events that
//     Elasticsearch rejected) go to logs-canhgac.deadletter-<region>, kept
//     whole with the reason;
//   - alerts live in the index canhgac-alerts, one document per alert with
//     its workflow state and history, and canhgac-alert-groups maps each
//     group key to its current alert.
//
// Writes are idempotent by event id: documents are created with op_type
// create and _id = event id, and a version conflict means the event is
// already stored. Elasticsearch checks _id only inside one backing index,
// so after a rollover WriteBatch looks up the ids of the batch in the
// previous backing index as well, for Options.ReplayWindow after the
// rollover.
//
// Alerts fold without scripts (the node may lack painless): WriteBatch
// reads the group pointer and the alert in real time and writes them back
// with if_seq_no/if_primary_term, starting again when another writer won.
// An alert keeps the keys of its last 1000 matches, so a replayed
// detection is not counted twice.
//
// Retention: when the cluster has ILM, Setup installs lifecycle policies
// (rollover, delete after the retention). Without ILM, RunRetention rolls
// the data streams of the store's region over by age and size and deletes
// backing indices whose newest event is older than the retention of their
// dataset (365 days, 730 for audit data, by default).
package elastic
