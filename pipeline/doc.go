// Package pipeline moves events from the sensors to the store: sensors
// submit batches, the pipeline stamps them with the observer (region and
// sensor), runs detection, and writes events, dead letters and detections to
// the store in one write. Only after the store has committed a write does the
// pipeline call the batches' Commit functions, which advance the sensors'
// checkpoints; so a crash at any point loses nothing, and the store's
// idempotent writes (by event id) make the replay after restart harmless.
//
// The queue between sensors and the pipeline is bounded: when the store is
// slow, Submit blocks and the sensors stop reading. Nothing is dropped.
package pipeline
