// Package realm runs a whole Realm in one process: an embedded NATS server
// with JetStream (or a connection to an external NATS cluster) and the login,
// ingress and world services, wired together by their Configs. It is what the
// all-in-one binary services/realm runs, and what a test or a tool uses to
// start a realm in-process.
//
// Why a package: the wiring (token key shared by login and ingress, the
// ingress address login advertises, one tick rate for the three services, the
// reconnect resync of ingress, one Prometheus registry and one /readyz for
// everything, the shutdown order) is the same for the binary and for tests,
// and belongs in one place that is not main.
//
// # Data directory
//
// Config.DataDir (default ".data") keeps what must survive a restart:
//
//	<data-dir>/nats/       JetStream store of the embedded server (accounts, presence)
//	<data-dir>/tls/ca.pem  development CA clients trust (with cert.pem and key.pem)
//	<data-dir>/token.key   token key shared by login and ingress (hex, mode 0600)
//
// The development certificate and the token key are made on first start and
// reused afterwards (see LoadOrCreateKey and tlsconfig.EnsureDevCert), so
// clients keep trusting the same CA and tokens sealed before a restart still
// open after it.
//
// # Lifecycle
//
// New starts the NATS server (unless Config.NATSURL names an external one),
// connects one bus.Conn per service, constructs the services (binding the TLS
// listener and the UDP socket, so the address accessors work at once) and
// starts the metrics server. Run serves until its context ends, or until a
// service fails, then stops, in this order: login (clients get Kick SHUTDOWN
// and close_notify, sessions are closed on NATS), ingress (bindings
// unbound, pending inputs flushed), world, the NATS connections (drained),
// the embedded NATS server and the metrics server. Run must be called once to
// release what New acquired; Run with a context already done just shuts down.
//
// # Costs and limits
//
// One process holds everything: a login storm's argon2 hashes, the ingress
// packet path and the world's tick share the CPU, and the embedded NATS is a
// single server (no replication). That is the right setup for one machine,
// development and tests; to scale out, run the services separately against a
// NATS cluster (docs/services/realm.md). The services talk over loopback TCP to
// the embedded server, as they would to a remote one, so nothing behaves
// differently between the two setups.
package realm
