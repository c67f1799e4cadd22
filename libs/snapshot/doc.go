// Package snapshot encodes realm.v1.Snapshot and realm.v1.SnapshotBatch
// messages with append-style functions instead of proto.Marshal.
//
// Why: every tick the world sends each bound player a snapshot of itself and
// up to 32 entities around it. At 10k players that is 330k EntityState
// messages per tick; building them as Go structs and calling proto.Marshal
// allocates hundreds of thousands of objects and walks protobuf reflection
// for each. Here an entity is encoded once per tick (AppendNearby), and a
// snapshot is a header plus byte copies of the chunks of the entities it
// shows, written into a buffer the caller reuses: no allocation in steady
// state, and the cost of a snapshot is little more than its copies.
//
// Views: most of a snapshot's bytes are entities its neighbours' snapshots
// carry too. A SnapshotBatch can therefore hold each entity once (its
// entities field, AppendEntities) and each player's snapshot as a view of
// indexes into it (AppendView); the world sends those, and ingress turns
// each view back into the player's Snapshot (Reader, Table.Assemble) just
// before sealing it, so the bytes on NATS are about a fifth of the bytes on
// the wire to the players. Both services use this package: the world to
// encode, ingress to read and assemble.
//
// The bytes are exactly what proto.Marshal produces for the equivalent
// message (fields in number order, proto3 zero scalars omitted, -0.0 floats
// kept; the one exception: a batch of views carries its entities after the
// views, which protobuf decoders accept), so any protobuf decoder reads them; the tests check this against
// proto.Marshal and proto.Equal. One convention to know when building the
// equivalent message: EntityState.position and velocity are always present
// (an entity at the origin has an empty but non-nil Vec2), and Snapshot.self
// is always present.
//
// Nearby entities are encoded without their session id: a session id belongs
// to its player (it names the session in NATS events and connect tokens), and
// other clients know an entity by its entity id. Only self carries it, so a
// client can check that a snapshot is its own.
//
// Limits: a Snapshot must fit one UDP packet. MaxSize is the budget of its
// encoding: the world, composing a snapshot from chunks with the Size
// functions, leaves out the farthest entities that would exceed it, and
// Table.Assemble refuses a view that does not fit. A nearby
// EntityState is at most MaxEntitySize (37) bytes and self at most
// MaxSelfSize (48), so self and 33 nearby entities always fit. A typical
// moving entity (small entity id, non-zero position and velocity) takes 30
// bytes, so a snapshot of self and 32 moving neighbours (about 1,030 bytes)
// is never cut at the default cap of 32.
//
// The functions are pure functions of their arguments: safe for concurrent
// use on distinct buffers. A Table or Reader belongs to one goroutine.
package snapshot
