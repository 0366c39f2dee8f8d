// Package ecs defines the event and alert records that every stage of
// canhgac passes along: sensors produce ecs.Event values, detections turn
// matches into ecs.Alert values, and the stores persist both.
//
// Field names follow the Elastic Common Schema (ECS 8.x). An event keeps its
// fields flat, keyed by the dotted ECS name ("source.ip", "user.name"), so
// that a rule or a query looks a field up with one map access and no
// reflection. JSON encoding nests the dotted names into ECS objects.
package ecs
