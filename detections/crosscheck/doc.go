// Package crosscheck compares canhgac's Sigma engine (detections/sigma)
// with pySigma's Elasticsearch backend over the same events. It has no
// library code. Its tests convert SigmaHQ rules with pySigma's Lucene
// backend and the ecs_windows pipeline (pysigma/convert.py) and run the
// queries on a real Elasticsearch index. They compare the matched event ids
// with the engine's in three samples: the 120 regression rules over all
// regression events (EVTX), every shared Windows rule over the shared EVTX
// attack samples, and every shared Linux rule over the shared Linux logs.
//
// The tables of expected differences (expected_test.go) give the cause of
// each rule on which the two disagree. A new difference, or a listed one
// that disappears, fails the test.
//
// Running it needs an Elasticsearch node (CANHGAC_ES_URL, see
// internal/itest) and the Python interpreter that scripts/pysigma prints
// (CANHGAC_PYSIGMA_PYTHON):
//
//	scripts/services/elasticsearch start --port 19230 --dir /tmp/canhgac-es-pysigma
//	CANHGAC_ES_URL=http://127.0.0.1:19230 CANHGAC_PYSIGMA_PYTHON=$(scripts/pysigma) \
//	    go test ./detections/crosscheck/
package crosscheck
