// Package logsensor is the input half of canhgac's log sensor: it follows
// log files and receives syslog messages, and hands raw lines and messages
// with their positions to a consumer. Parsing into ECS events happens
// elsewhere (package sensors/logparse); this package only reads, numbers and
// checkpoints.
//
// Delivery is at-least-once with exact resumption. A Tailer (one file) or a
// Watcher (a list of paths and globs) calls the consumer's Deliver function
// with a batch of lines. It reads no further until Deliver returns, so a
// slow consumer slows reading and no line is dropped. The file checkpoint
// (device, inode, offset, a fingerprint of the first bytes and the next
// sequence number) advances only when the consumer calls Commit after its
// store acknowledged the batch; after a restart the Tailer resumes at the
// committed position and gives every line the same sequence number as
// before, so a store that writes by ecs.PositionID(SourceID, Seq) stores
// each line exactly once.
//
// A Listener receives syslog over UDP (one datagram is one message) or TCP
// (LF-delimited or octet-counted framing as in RFC 6587, detected per
// connection) on a local address. TCP readers stop reading while Deliver
// runs, so TCP flow control pushes back on the sender. UDP has no flow
// control: datagrams wait in a bounded queue and are counted in the
// canhgac_logsensor_syslog_dropped_total metric when the queue is full.
//
// Plain syslog over TCP cannot confirm delivery to the sender: a sender
// counts a message as sent once the kernel accepted it, so messages that
// were read from the socket but not committed when the sensor stops
// uncleanly are lost, and the sender does not resend them. Only RELP or an
// application-level acknowledgement closes that gap. What the Listener does
// guarantee is that sequence numbers are never reused: it persists a
// reserved block of numbers before it hands any of them to Deliver, so an
// event id derived from (listener id, sequence) is unique across restarts.
// A clean stop leaves no gap; a crash shows up as a gap in the sequence, at
// most one reserved block wide, that the pipeline counts.
package logsensor
