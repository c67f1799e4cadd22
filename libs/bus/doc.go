// Package bus is how Realm's services talk to each other: NATS subjects,
// typed publish/subscribe of protobuf events, and an embedded NATS server.
//
// Subjects. Every subject used between services is a constant here (or built
// by IngressOutSubject), so that a grep finds every producer and consumer.
// Instance ids embedded in subjects must pass ValidID: NATS tokens cannot
// contain '.', '*', '>' or whitespace.
//
// Connections. Connect wraps nats.Connect with the settings a long-running
// service wants: reconnect forever with a jittered wait, client pings to
// detect dead TCP connections, logged (not per message) connection events,
// and Close that drains so that nothing already published is lost. While
// disconnected, publishes are buffered by nats.go (8 MiB) and sent after the
// reconnect; past that buffer Publish returns an error. Core NATS is
// at-most-once: a subscriber that is disconnected misses events, which is why
// the services resynchronise on reconnect (see realm.ingress.resync).
//
// Publish marshals into pooled buffers (nats.go copies the bytes before
// Publish returns), so steady-state publishing allocates only what nats.go
// does. Subscribe decodes each message into a fresh message of the handler's
// type on the subscription's goroutine (handlers of one subscription run one
// at a time, in order). A message that does not decode is dropped, counted
// (Conn.DecodeErrors and Options.DecodeErrors) and logged at most once per
// DecodeLogInterval with the number suppressed since.
//
// Embedded server. StartServer runs nats-server in-process: the all-in-one
// binary uses it with JetStream in its data directory, and tests use it on a
// random port (see libs/testutil/natstest). It installs no signal handlers;
// the caller owns Shutdown.
package bus
