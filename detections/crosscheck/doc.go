// Package crosscheck compares canhgac's Sigma engine (detections/sigma)
// with pySigma's Elasticsearch backend over the same events. It has no
// library code: its tests convert the SigmaHQ regression rules with
// pySigma's Lucene backend and the ecs_windows pipeline
// (pysigma/convert.py), run the queries on a real Elasticsearch index of all
// regression events, and compare the matched event ids with the engine's.
//
// Running it needs an Elasticsearch node (CANHGAC_ES_URL, see
// internal/itest) and the Python interpreter that scripts/pysigma prints
// (CANHGAC_PYSIGMA_PYTHON):
//
//	scripts/services/elasticsearch start --port 19230 --dir /tmp/canhgac-es-pysigma
//	CANHGAC_ES_URL=http://127.0.0.1:19230 CANHGAC_PYSIGMA_PYTHON=$(scripts/pysigma) \
//	    go test ./detections/crosscheck/
package crosscheck
