// Package kql parses the Kibana Query Language that analysts type in the
// console and the CLI, for example
//
//	user.name:admin and not source.ip:10.0.0.0/8
//
// Parse returns an AST (Node) that each backend compiles: the embedded
// store to SQL, the Elasticsearch backend to query DSL. This package knows
// neither. Match evaluates a Node on one ecs.Event in memory and is the
// reference semantics that every backend must reproduce; TypeOf says which
// fields are keyword, text, IP or date fields, and Tokenize how text
// fields split into words.
//
// Parse errors are *Error values with a catalog key (kql.error.*), the
// column and a hint (kql.hint.*), shown in Vietnamese or English through
// Error.Message.
package kql
