// Package session is the registry of live UDP sessions: each session by its
// id, and the UDP endpoint it is bound to, so that ingress finds the session
// of an incoming packet in O(1) by its source address.
//
// A session is added once its id is known (login announced it) and bound to
// an endpoint when its handshake verifies. The registry keeps two invariants,
// whatever the order of calls from any number of goroutines:
//
//   - an endpoint is bound to at most one session, and a session to at most
//     one endpoint. Binding a session to a new endpoint moves it (NAT
//     rebinding: the old endpoint is forgotten, BindResult.Previous); binding
//     it to an endpoint held by another session takes the endpoint from that
//     session, which is left unbound (BindResult.Displaced) so the caller can
//     tell whoever tracks it;
//   - removing a session removes its endpoint mapping, so nothing stale is
//     left to route packets to a session that is gone.
//
// Session id 0 is reserved for "no session" (BindResult.Displaced) and cannot
// be added.
//
// # Endpoints
//
// Endpoints are netip.AddrPort values, compared as values and used directly as
// map keys. Every endpoint given to the registry is normalised first: an
// IPv4-mapped IPv6 address (::ffff:a.b.c.d, as a dual-stack socket reports
// IPv4 peers) becomes the plain IPv4 address, so a peer is found whether the
// caller reads it from an IPv4 or a dual-stack socket. Endpoint, Remove,
// Unbind, Range and BindResult return the normalised form. An IPv6 zone is
// kept and is part of the endpoint.
//
// # Concurrency and costs
//
// The registry is split into 64 shards, each a pair of Go maps (by id, by
// endpoint) behind its own sync.RWMutex, padded to 128 bytes. Lookups
// (Lookup, Get, Endpoint) take one shard's read lock and do not allocate, so
// readers on different cores rarely write the same cache line: with a single
// RWMutex every lookup is an atomic add on one shared line, which bounces
// between cores. An endpoint maps to a copy of its session's id and value, so
// Lookup is one map probe with no pointer to follow. BenchmarkLookup compares
// the design with one RWMutex over two maps in the same run: with 100,000
// sessions on a 2-core machine, one reader pays about 15% more (hashing the
// endpoint to its shard), two parallel readers get about 20% more lookups
// through, and the gap grows with the number of cores. The fixed cost is about
// 8 KiB per registry plus, per session, one entry and two map slots.
//
// Changes (Add, Remove, Bind, Unbind) are serialised by one registry mutex
// and then write-lock every shard they touch at once, so each change is atomic
// for readers: no reader sees an endpoint bound to a session whose own
// endpoint says otherwise. Changes are rare next to lookups (a handshake, a
// login, a logout), so serialising them costs little.
//
// Lock order: Registry.mu before any shard lock; several shard locks only
// while holding Registry.mu, and in increasing shard index. Readers take a
// single shard lock and never Registry.mu, except Range, which takes only
// Registry.mu.
//
// Range copies a consistent snapshot of every session (O(n) time and memory,
// blocking changes, not lookups, while it copies) and calls its function
// without any lock held, so the function may call the registry.
package session
