// Package kqltest holds the KQL conformance suite that every query backend
// shares: the query list (Queries) and the fixture events built from the
// shared real data (Events). A backend's test stores the events, runs each
// query and expects the same event ids as kql.Match. It is imported only
// by tests.
package kqltest
