// Package login is Realm's control plane: a TLS server where a player
// registers, proves who they are, and receives the connect token, session
// keys and ingress addresses that the UDP data plane trusts
// (docs/PROTOCOL.md §1). It publishes realm.session.opened and
// realm.session.closed for ingress and world.
//
// # Connections
//
// The accept loop gives every TCP connection its own goroutine, which runs
// the TLS handshake (TLS 1.3 only, unless Config.AllowTLS12; bounded by
// HandshakeTimeout) and then reads and answers frames one at a time, in
// order (the reader). A second goroutine per connection writes the answers
// from a bounded queue (the writer, WriteQueue frames). Each connection logs
// through a child logger carrying its session id (drawn at accept, used if
// it logs in) and remote address; nothing is logged per frame.
//
// Only the reader decides that a connection ends, for one reason: logout,
// the client's close or reset, a protocol error (a malformed, oversized or
// unexpected frame: Error with its code), the idle deadline (no frame within
// IdleTimeout: Kick IDLE_TIMEOUT), a full write queue (Kick SLOW_CONSUMER;
// what is still queued is dropped), or a kick requested from elsewhere
// (REPLACED by the presence watch, SHUTDOWN by Run), which it picks up as
// soon as the request in hand, if any, is answered: a kick moves the read
// deadline into the past, and the idle deadline is re-armed only under the
// same mutex, so neither can undo the other. Then:
//
//  1. the reader closes the write queue; a logged-in session is torn down at
//     once: realm.session.closed is published with the reason (exactly once:
//     only this path publishes it), and the presence entry is deleted if it
//     is still this session's;
//  2. the writer writes what is queued, the final Error or Kick frame and a
//     TLS close_notify, all within CloseTimeout (after the frame it was
//     writing, if any);
//  3. the reader waits up to CloseTimeout for the client's close_notify,
//     discarding what it still sends (at most 1 MiB), so that the socket is
//     not closed under unread data, which would turn the goodbye into a
//     reset; then it closes the socket.
//
// A write that fails (or times out after WriteTimeout) closes the socket at
// once, which ends the reader with DISCONNECTED.
//
// # Limits
//
// MaxConnections counts connections from accept to close, handshakes
// included. One more is answered, after its handshake, with Error
// SERVER_BUSY and close_notify; at most 64 such answers run at once, beyond
// that an extra connection is closed without a word. Login and register
// attempts are rate limited per client address (per /64 for IPv6), see
// LoginRate and LoginBurst; a refused attempt gets RATE_LIMITED and the
// connection stays open. Argon2id hashes run under a semaphore
// (MaxConcurrentHashes): a login storm waits (within RequestTimeout) instead
// of taking MaxConcurrentHashes × ArgonMemoryKiB and more.
//
// # Accounts and sessions
//
// Accounts live in the JetStream KV bucket realm_accounts (layout and
// hashing: services/login/internal/accounts). A registration is answered
// only after its KV Create is stored; an unknown name and a wrong password
// cost the same hash and get the same Error INVALID_CREDENTIALS.
//
// A login creates a session: its id, two fresh 32-byte keys
// (client-to-server, server-to-client), a connect token sealed with the
// token key for TokenTTL (wire.TokenCodec), the ingress addresses and the
// tick rate. RefreshToken seals a new token for the same session and keys
// with a later expiry. Sending register (or login) when logged in answers
// ALREADY_LOGGED_IN; neither closes the connection.
//
// # One session per account
//
// Presence is the KV bucket realm_presence (services/login/internal/presence):
// a login claims the account's entry by compare-and-set, which orders every
// claim of an account by its revision. Every instance watches the bucket and
// kicks (REPLACED) its own session of an account when it sees a change of
// that account with a higher revision than the session's claim and another
// session id, or a delete. Because the decision compares revisions, two
// logins at the same time on two instances agree on which one is newer:
// exactly the older one is kicked. A change seen while a session's own claim
// is still in flight is remembered and compared when the claim returns.
// A NATS server restart loses the watch's consumer (an ephemeral one), and
// nats.go would notice only after missed heartbeats, about ten seconds. So
// after every reconnect the service resumes the watch on a new consumer
// that starts right after the last revision it saw (presence.Watcher.Resume,
// retried every 250 ms while JetStream recovers): nothing is missed, nothing
// delivered twice, and a replacement is kicked as soon as JetStream answers
// again.
//
// # Shutdown
//
// When Run's context ends, the listener closes, handshakes in progress are
// abandoned, every open connection is kicked with SHUTDOWN (a connection that
// completes its handshake during shutdown gets Error SHUTTING_DOWN), requests
// in flight are answered first (a registration is never cut between its KV
// write and its answer), every session publishes its session.closed and
// releases presence, the presence watch stops and NATS is flushed. The
// longest shutdown is about RequestTimeout + WriteTimeout + 2 × CloseTimeout.
//
// # Lock order
//
// Service.mu (connections, sessions by account, closing) before conn.mu (a
// connection's pending kick). Nothing else nests.
package login
