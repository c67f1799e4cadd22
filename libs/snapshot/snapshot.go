package snapshot

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// MaxSize is the largest encoded Snapshot the world sends: with the 9-byte
// packet header and the 16-byte AEAD tag it stays under the 1400-byte UDP
// packet limit of the data plane.
const MaxSize = 1300

// MaxEntitySize is the largest encoding of one nearby EntityState as a
// Snapshot field (tag, length and body): a 10-byte varint id and two full
// Vec2.
const MaxEntitySize = 2 + (1 + 10) + 2*(2+10)

// MaxSelfSize is the largest encoding of Snapshot.self: MaxEntitySize and a
// 10-byte varint session id.
const MaxSelfSize = MaxEntitySize + (1 + 10)

// Field tags (field number and wire type in one byte) of the messages this
// package writes. Every one of them fits one byte.
const (
	tagSnapshotTick  = byte(1<<3 | protowire.VarintType) // Snapshot.server_tick
	tagSnapshotInput = byte(2<<3 | protowire.VarintType) // Snapshot.last_input_sequence
	tagSelf          = byte(3<<3 | protowire.BytesType)  // Snapshot.self
	tagNearby        = byte(4<<3 | protowire.BytesType)  // Snapshot.nearby

	tagEntityID = byte(1<<3 | protowire.VarintType)  // EntityState.entity_id
	tagSession  = byte(2<<3 | protowire.VarintType)  // EntityState.session_id
	tagPosition = byte(3<<3 | protowire.BytesType)   // EntityState.position
	tagVelocity = byte(4<<3 | protowire.BytesType)   // EntityState.velocity
	tagX        = byte(1<<3 | protowire.Fixed32Type) // Vec2.x
	tagY        = byte(2<<3 | protowire.Fixed32Type) // Vec2.y
)

// Entity is the content of one realm.v1.EntityState.
type Entity struct {
	EntityID  uint64
	SessionID uint64  // owning player's session, zero if none; encoded in self only
	X, Y      float32 // position, world units
	VX, VY    float32 // velocity, world units per second
}

// HeaderSize returns the size of the Snapshot fields AppendHeader writes.
func HeaderSize(tick, lastInput uint64) int {
	return varintFieldSize(tick) + varintFieldSize(lastInput)
}

// AppendHeader appends Snapshot.server_tick and last_input_sequence: the
// start of every snapshot, followed by AppendSelf and the nearby chunks.
func AppendHeader(dst []byte, tick, lastInput uint64) []byte {
	dst = appendVarintField(dst, tagSnapshotTick, tick)
	return appendVarintField(dst, tagSnapshotInput, lastInput)
}

// EntitySize returns the size of e encoded by AppendNearby.
func EntitySize(e *Entity) int {
	return 2 + entityBodySize(e)
}

// SelfChunkSize returns the size of the self field AppendSelf makes of
// chunk for session.
func SelfChunkSize(chunk []byte, session uint64) int {
	return len(chunk) + varintFieldSize(session)
}

// AppendNearby appends e as one Snapshot.nearby field (tag, length,
// EntityState without the session id). The result, a chunk, can be copied
// as is into any number of snapshots and turned into the self field by
// AppendSelf.
func AppendNearby(dst []byte, e *Entity) []byte {
	n := entityBodySize(e) // < 128: the length is one byte
	dst = append(dst, tagNearby, byte(n))
	dst = appendVarintField(dst, tagEntityID, e.EntityID)
	dst = appendVec2(dst, tagPosition, e.X, e.Y)
	return appendVec2(dst, tagVelocity, e.VX, e.VY)
}

// PutNearby writes what AppendNearby appends for e into c and returns its
// length: the same bytes, for callers that keep each entity's chunk in a
// fixed room and rewrite it every tick (direct stores, no append checks).
func PutNearby(c *[MaxEntitySize]byte, e *Entity) int {
	n := 2
	n = putVarintField(c, n, tagEntityID, e.EntityID)
	n = putVec2(c, n, tagPosition, e.X, e.Y)
	n = putVec2(c, n, tagVelocity, e.VX, e.VY)
	c[0], c[1] = tagNearby, byte(n-2)
	return n
}

func putVarintField(c *[MaxEntitySize]byte, n int, tag byte, v uint64) int {
	if v == 0 {
		return n
	}
	c[n] = tag
	n++
	for v >= 0x80 {
		c[n] = byte(v) | 0x80
		v >>= 7
		n++
	}
	c[n] = byte(v)
	return n + 1
}

func putVec2(c *[MaxEntitySize]byte, n int, tag byte, x, y float32) int {
	start := n
	n += 2
	if bits := math.Float32bits(x); bits != 0 {
		c[n] = tagX
		binary.LittleEndian.PutUint32(c[n+1:], bits)
		n += 5
	}
	if bits := math.Float32bits(y); bits != 0 {
		c[n] = tagY
		binary.LittleEndian.PutUint32(c[n+1:], bits)
		n += 5
	}
	c[start], c[start+1] = tag, byte(n-start-2)
	return n
}

// AppendSelf appends a chunk made by AppendNearby (or PutNearby) as the
// Snapshot.self field of the player of session: the same bytes but the tag
// and length, and the session id after the entity id (field order).
func AppendSelf(dst, chunk []byte, session uint64) []byte {
	if len(chunk) < 2 {
		return dst
	}
	body := chunk[2:]
	id := 0 // the entity id field's length (a cut varint ends the body)
	if len(body) > 0 && body[0] == tagEntityID {
		id = 1
		for id < len(body) && body[id] >= 0x80 {
			id++
		}
		id = min(id+1, len(body))
	}
	dst = append(dst, tagSelf, byte(len(body)+varintFieldSize(session)))
	dst = append(dst, body[:id]...)
	dst = appendVarintField(dst, tagSession, session)
	return append(dst, body[id:]...)
}

func entityBodySize(e *Entity) int {
	return varintFieldSize(e.EntityID) +
		2 + vec2Size(e.X, e.Y) + 2 + vec2Size(e.VX, e.VY)
}

// vec2Size is the body size of a Vec2: proto3 leaves out a float whose bits
// are all zero (+0.0) and keeps -0.0.
func vec2Size(x, y float32) int {
	return floatFieldSize(x) + floatFieldSize(y)
}

func floatFieldSize(f float32) int {
	if math.Float32bits(f) == 0 {
		return 0
	}
	return 5
}

func appendVec2(dst []byte, tag byte, x, y float32) []byte {
	dst = append(dst, tag, byte(vec2Size(x, y)))
	if bits := math.Float32bits(x); bits != 0 {
		dst = append(dst, tagX, byte(bits), byte(bits>>8), byte(bits>>16), byte(bits>>24))
	}
	if bits := math.Float32bits(y); bits != 0 {
		dst = append(dst, tagY, byte(bits), byte(bits>>8), byte(bits>>16), byte(bits>>24))
	}
	return dst
}

// varintFieldSize is the size of a proto3 varint field with a one-byte tag:
// zero when v is zero (left out).
func varintFieldSize(v uint64) int {
	if v == 0 {
		return 0
	}
	return 1 + protowire.SizeVarint(v)
}

func appendVarintField(dst []byte, tag byte, v uint64) []byte {
	if v == 0 {
		return dst
	}
	return protowire.AppendVarint(append(dst, tag), v)
}

// bytesFieldSize is the size of a length-delimited field with a one-byte
// tag and n bytes: zero when n is zero (left out).
func bytesFieldSize(n int) int {
	if n == 0 {
		return 0
	}
	return 1 + protowire.SizeVarint(uint64(n)) + n
}
