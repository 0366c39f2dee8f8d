// Package elastic is the Elasticsearch backend of the event and alert
// store: the pipeline writes through WriteBatch (pipeline.Store), the
// console reads through Search, Event, DateHistogram and the alert methods
// (adapted by console/esstore).
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
// Retention: when the cluster has ILM, Setup installs lifecycle policies
// (rollover, delete after the retention). Without ILM, RunRetention rolls
// data streams over by age and size and deletes backing indices whose
// newest event is older than the retention of their dataset.
package elastic
