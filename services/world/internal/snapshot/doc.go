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
// The bytes are exactly what proto.Marshal produces for the equivalent
// message (fields in number order, proto3 zero scalars omitted, -0.0 floats
// kept), so any protobuf decoder reads them; the tests check this against
// proto.Marshal and proto.Equal. One convention to know when building the
// equivalent message: EntityState.position and velocity are always present
// (an entity at the origin has an empty but non-nil Vec2), and Snapshot.self
// is always present.
//
// Limits: a Snapshot must fit one UDP packet. MaxSize is the budget of its
// encoding; Append (and callers composing chunks themselves, using the Size
// functions) leave out the farthest entities that would exceed it. An
// EntityState is at most MaxEntitySize (48) bytes, so self and 25 nearby
// entities always fit. A typical moving player (small entity id, random
// 64-bit session id, non-zero position and velocity) takes 40 bytes, so about
// 31 moving neighbours fit, 41 standing ones.
//
// Everything here is a pure function of its arguments: safe for concurrent
// use on distinct buffers.
package snapshot
