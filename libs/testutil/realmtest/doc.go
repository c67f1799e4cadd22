// Package realmtest starts a whole Realm in-process for tests: an embedded
// NATS server with JetStream (libs/testutil/natstest) or an external one such
// as a natstest cluster, and real login, ingress and world services on
// loopback with random ports, wired as the all-in-one binary wires them. It
// also logs players in with the real client library (libs/client) and polls
// for conditions with a deadline.
//
// It exists so that the tests of the client library, the load generator and
// the end-to-end suite share one setup instead of each repeating it, and so
// that they can do what the all-in-one binary cannot: run several login and
// ingress instances on one NATS, attach each to a chosen NATS URL, and stop
// or restart one service while the others run.
//
// Test settings, not production ones: argon2id costs 64 KiB and one
// iteration, the login rate limit is high enough for hundreds of logins from
// one address, the tick rate is DefaultTickRate and the map is small
// (DefaultWorldSize) so that every player sees every other (up to the
// world's cap of 32 per snapshot). Every service, NATS connection and client
// is stopped in t.Cleanup, services in the order of a real shutdown (logins,
// ingresses, world, then NATS), and a service's Run error fails the test.
//
// It is test-only (testonly in Bazel). Starting a realm takes a few tens of
// milliseconds plus the NATS server; each player costs four client goroutines
// and two sockets.
package realmtest
