// Package natstest starts embedded NATS servers for tests: one server, or a
// JetStream cluster on loopback, each on random ports with its store in
// t.TempDir(), shut down in t.Cleanup. It is built on bus.StartServer so that
// tests run the same server setup as the all-in-one binary.
//
// It is test-only (testonly in Bazel). A JetStream cluster takes a few
// seconds to elect its meta leader (nats-server's election timeouts are not
// configurable from outside its package), so prefer Start unless the test is
// about clustering.
package natstest
