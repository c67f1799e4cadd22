// Package ingress is Realm's UDP data plane: it binds each client's UDP
// endpoint to the session login authenticated, forwards the client's inputs
// to the world over NATS and sends the world's snapshots back to the client.
// The byte format is libs/wire (docs/PROTOCOL.md §2); the socket and its
// receive loop are package udpserver; this package is the protocol logic
// between them and the events on NATS (docs/PROTOCOL.md §3).
//
// # What it does
//
// A handshake request (wire.OpenHandshake, with the token key shared with
// login) that verifies, is not revoked and passes the session's replay window
// binds its source endpoint to the session in a session.Registry, is answered
// with a sealed HandshakeAck and is announced as realm.endpoint.bound.
// Snapshots go to the endpoint only once a KeepAlive from it has echoed the
// ack's challenge (return routability, see Threat model). A valid
// handshake from another endpoint moves the binding (NAT rebinding) and is
// announced again; one re-sent from the bound endpoint is acked again and
// changes nothing. Every later packet from a bound endpoint is handed to a
// worker goroutine (see Data path), which finds its session by one registry
// lookup, rate-limits it, checks it against the replay window, opens it in
// place with the session's client-to-server key and, for an Input, decodes
// it and appends it to the pending InputBatch, published on
// realm.world.input every Config.FlushInterval or at Config.MaxBatch inputs.
// Snapshots arrive on this instance's realm.ingress.<id>.out and are sealed
// with each session's server-to-client key, into buffers reused from one
// batch to the next, and sent to their endpoints 64 per
// udpserver.Server.WriteBatch (one sendmmsg(2) call on Linux).
//
// A binding ends when login closes the session (realm.session.closed: the
// session is removed, its tokens are revoked, EndpointUnbound SESSION_CLOSED),
// after Config.IdleTimeout without an authenticated packet (IDLE_TIMEOUT), on
// shutdown (SHUTDOWN), when another ingress instance binds the session (the
// client moved there: the binding is dropped silently, see below), or when a
// handshake of another session takes the endpoint (UNSPECIFIED). A world that
// starts or reconnects asks every ingress for its bindings
// (realm.ingress.resync); the answer, and the re-announcement after this
// instance's own NATS reconnect (Service.Resync), is EndpointBound{resync:
// true} per binding.
//
// Moves between instances publish no EndpointUnbound: the new instance's
// EndpointBound already says where the session is, and an unbound event from
// the old instance, racing it, could undo it. For the same reason the world
// should ignore an EndpointUnbound whose ingress_id is not the instance the
// session is currently bound through.
//
// # Data path
//
// The socket is read by one goroutine, udpserver's receive loop, with
// recvmmsg on Linux (up to Config.Socket.BatchSize datagrams per read). The service
// is its udpserver.BatchHandler, and by default splits the work:
//
//   - The receive loop only hashes each data packet's source address to pick
//     its worker and copies the packet into that worker's chunk (a 16 KiB
//     buffer of packets). At the end of each read (EndBatch) it hands the
//     filled chunks over: a few channel operations per read, none per
//     packet. Handshakes are handled on the loop itself (below).
//   - Each worker, for each packet of a chunk, does the registry lookup,
//     takes the session's lock (uncontended: see Order), applies the rate
//     limit and the replay check, decrypts in place and decodes; then it
//     appends all the chunk's inputs to the one batcher under a single lock
//     acquisition, and returns the chunk to a free list. The clock is read
//     once per chunk.
//   - The publisher goroutine publishes the batches on NATS, so that neither
//     the loop nor the workers ever wait for NATS (nats.go holds its
//     connection lock while it writes to the socket). A batch is published
//     at Config.MaxBatch inputs or every Config.FlushInterval (default 1ms:
//     it adds directly to the input-to-snapshot latency). At most 64 full
//     batches wait; past that new inputs are dropped as "overload".
//
// Config.Workers sets the number of workers: by default GOMAXPROCS-1, at
// most 2, or none with one processor; -1 means none, and the receive loop
// then does everything itself, in place in the receive buffer, and commits
// a read's inputs at its end. The chunks, nine per worker (one of them for
// barriers), circulate through one free list; when none is free the
// workers are saturated, and the receive loop waits for one (counted in
// realm_ingress_handoff_waits_total) while the socket's receive buffer
// absorbs what arrives.
//
// Why at most two workers: in the default configuration the receive loop is
// the bottleneck. On the reference 2-vCPU machine it keeps one core busy
// while the worker, the publisher and NATS together use about half of
// another, so one loop feeds about two workers, and more only add
// hand-offs. There a second worker measured slower than one (0.62 of the
// bare loop's rate against 0.66): the loop and one worker already fill both
// cores. The measurements, and the alternatives measured and dropped (no
// copy into chunks, several SO_REUSEPORT sockets, spinning workers), are in
// docs/services/ingress.md.
//
// # Order
//
// A client address always goes to the same worker, which handles its chunks
// in order, so a session's inputs reach the batcher, and the world, in the
// order they were read. Inputs of different sessions on different workers
// interleave in no particular order. When a handshake moves a session to
// another address (NAT rebinding), or gives an address to another session,
// the receive loop first waits until the workers have handled everything
// already read (a barrier): the inputs from the old address are committed
// before any from the new one, and none is dropped as coming from an
// address no longer bound. Workers never take Service.bindMu, which the
// handshake holds while it waits.
//
// On shutdown Run closes the socket, lets the workers finish what was
// read, publishes the pending inputs, then publishes EndpointUnbound
// SHUTDOWN for every binding and flushes NATS.
//
// # Costs
//
// The per-packet path (Input and KeepAlive) allocates nothing and takes no
// service-wide lock: a hash and a copy on the receive loop; one sharded
// registry lookup, one per-session mutex, one ChaCha20-Poly1305 open in place
// and a protowire decode into a struct on the worker; and, once per chunk,
// one batcher lock to append the inputs to a reused buffer that already
// holds the InputBatch encoding. Handshakes take Service.bindMu, which
// orders every binding change with its event; they are rare, run on the
// receive loop (a move waits for the workers, see Order) and allocate a
// little (an AEAD, the ack). Nothing is logged per packet: every drop is
// counted in realm_ingress_packets_dropped_total{reason}.
//
// Throughput comes from a second core, not from a cheaper packet: on the
// reference machine the default configuration handles 0.66 of the
// datagrams per second of a bare receive loop that discards them, but
// spends 2.25 times the bare loop's CPU per packet; on one core (Workers -1)
// it reaches 0.44. Per packet on one goroutine the path costs about 340 ns,
// of which decryption is about 170 ns. See docs/services/ingress.md.
//
// # Threat model
//
// The attacker may send any datagram from any source address (spoofing) and,
// on-path, see, drop, delay, reorder and rewrite traffic between a client and
// ingress. It does not have the token key (held by login and ingress) nor the
// session keys (in the token, and given to the client over TLS).
//
//   - Off-path attackers can neither bind nor hijack an endpoint. Binding
//     needs a token sealed with the token key and a request tag made with the
//     client-to-server key inside it. Moving a binding needs the same, with a
//     sequence the session has not seen. Data packets need that key too:
//     spoofed ones from the client's address fail authentication
//     ("bad_auth"), ones from any other address are "unknown_endpoint".
//   - On-path attackers can drop or delay packets, as on any UDP path, and
//     nothing more while this instance holds the session's state: they cannot
//     read (the payloads are encrypted), modify (the header is associated
//     data) or replay packets (the replay window), and a replayed handshake
//     from another address is refused ("replay"; from the bound address it is
//     merely acked again). Rewriting the source address of a client's genuine
//     handshake moves the binding, which is only another way to drop the
//     client's traffic: the attacker can read nothing it gets.
//   - Replayed handshakes after a loss of state: the replay window lives in
//     memory. After this instance restarts, or for a session it never held, a
//     captured handshake can be replayed from any address until its token
//     expires, moving the binding there. That denies service to the client
//     until its next handshake (which has a higher sequence and wins back the
//     endpoint) and discloses or injects nothing. Unbound sessions (idle,
//     moved) keep their state until their token expires for this reason.
//   - Amplification: nothing is sent before a handshake verifies, and the ack
//     is never larger than the request (at least 512 bytes, checked before
//     every send), so spoofed handshakes cannot be reflected. A logged-in
//     client holds its keys and could send a valid handshake with a spoofed
//     source, keeping the binding alive with spoofed keep-alives: snapshots
//     (a packet per tick) would then stream to a victim. Return routability
//     prevents it: every new binding gets a random challenge, sent only in
//     the ack, to the handshake's source, and no snapshot goes to the
//     endpoint until a KeepAlive from it echoes the challenge
//     (sess.newBinding, sess.confirm). The victim gets one ack per spoofed
//     handshake, no larger than it.
//   - Revocation: a closed session's tokens are refused for
//     Config.TokenLifetime after the close, and a token that would outlive
//     that memory is refused at the handshake, so revocation holds for as
//     long as any token of the session is valid (within Config.MaxRevoked
//     closed sessions; beyond, the oldest are forgotten early and counted).
//   - What the token's lifetime bounds: how long a captured handshake is
//     replayable after a loss of state, how long a closed session must be
//     remembered, and how long a client may go without refreshing before it
//     can no longer handshake. A token alone is useless without its
//     client-to-server key, and it is not secret from the path (it travels in
//     the clear inside the handshake, itself encrypted and authenticated).
//   - Resource exhaustion: a forged handshake costs one XChaCha20-Poly1305
//     open and no state or allocation; a datagram from an unknown endpoint
//     costs a copy to a worker and one map lookup; a bound endpoint is limited to Config.RateLimit
//     packets per second (an attacker who can spoof that exact endpoint can
//     spend its budget, which again only drops traffic). Handshakes, forged
//     ones included, are verified on the receive loop, so a flood of them
//     slows the reading of every client's packets. State is created only
//     by valid handshakes, so only login-issued sessions occupy memory, and
//     the revocation memory is bounded.
package ingress
