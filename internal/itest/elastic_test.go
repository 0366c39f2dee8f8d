package itest

import "testing"

// TestElasticStopStartKill checks the dedicated node's life cycle: it
// answers after NewElastic, not after Stop or Kill, and again after Start.
func TestElasticStopStartKill(t *testing.T) {
	e := NewElastic(t)
	if !e.Running() {
		t.Fatalf("node at %s does not answer after NewElastic", e.URL())
	}
	e.Stop()
	if e.Running() {
		t.Fatalf("node at %s still answers after Stop", e.URL())
	}
	e.Start()
	if !e.Running() {
		t.Fatalf("node at %s does not answer after a restart", e.URL())
	}
	e.Kill()
	if e.Running() {
		t.Fatalf("node at %s still answers after Kill", e.URL())
	}
	e.Start()
	if !e.Running() {
		t.Fatalf("node at %s does not answer after a start that followed Kill", e.URL())
	}
}
