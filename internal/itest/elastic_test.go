package itest

import "testing"

// TestElasticStopStartKill checks the dedicated node's life cycle. The node
// responds after NewElastic, not after Stop or Kill, and again after Start.
func TestElasticStopStartKill(t *testing.T) {
	e := NewElastic(t)
	if !e.Running() {
		t.Fatalf("node at %s does not respond after NewElastic", e.URL())
	}
	e.Stop()
	if e.Running() {
		t.Fatalf("node at %s still answers after Stop", e.URL())
	}
	e.Start()
	if !e.Running() {
		t.Fatalf("node at %s does not respond after a restart", e.URL())
	}
	e.Kill()
	if e.Running() {
		t.Fatalf("node at %s still answers after Kill", e.URL())
	}
	e.Start()
	if !e.Running() {
		t.Fatalf("node at %s does not respond after a start that followed Kill", e.URL())
	}
}
