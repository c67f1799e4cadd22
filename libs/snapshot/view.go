package snapshot

import (
	"errors"

	"google.golang.org/protobuf/encoding/protowire"
)

// Tags of SnapshotBatch.entities and .views, and of realm.v1.SessionView.
const (
	tagBatchEntities = byte(3<<3 | protowire.BytesType)  // SnapshotBatch.entities
	tagBatchView     = byte(4<<3 | protowire.BytesType)  // SnapshotBatch.views
	tagViewSession   = byte(1<<3 | protowire.VarintType) // SessionView.session_id
	tagViewInput     = byte(2<<3 | protowire.VarintType) // SessionView.last_input_sequence
	tagViewSelf      = byte(3<<3 | protowire.VarintType) // SessionView.self
	tagViewNearby    = byte(4<<3 | protowire.BytesType)  // SessionView.nearby, packed
)

// ErrBadView is returned by Assemble for a view that does not describe a
// valid snapshot: an offset that is not the start of a nearby field inside
// the entities, or a snapshot larger than MaxSize.
var ErrBadView = errors.New("snapshot: bad view")

// A SnapshotBatch of views is AppendBatchHeader, any number of AppendView
// records and, last, AppendEntities with the entity table the views point
// into: the table grows while the views are written. Protobuf decoders take
// fields in any order, so the message decodes as if entities came first.

// AppendView appends one SnapshotBatch.views record: a SessionView of
// session, whose own entity is at byte offset self of the batch's entities
// and whose nearby entities are at the offsets nearby, in that order.
func AppendView(dst []byte, session, lastInput uint64, self uint32, nearby []uint32) []byte {
	packed := 0
	for _, off := range nearby {
		packed += protowire.SizeVarint(uint64(off))
	}
	body := varintFieldSize(session) + varintFieldSize(lastInput) + varintFieldSize(uint64(self)) + bytesFieldSize(packed)
	dst = append(dst, tagBatchView)
	dst = protowire.AppendVarint(dst, uint64(body))
	dst = appendVarintField(dst, tagViewSession, session)
	dst = appendVarintField(dst, tagViewInput, lastInput)
	dst = appendVarintField(dst, tagViewSelf, uint64(self))
	if packed == 0 {
		return dst
	}
	dst = append(dst, tagViewNearby)
	dst = protowire.AppendVarint(dst, uint64(packed))
	for _, off := range nearby {
		dst = protowire.AppendVarint(dst, uint64(off))
	}
	return dst
}

// AppendEntities appends SnapshotBatch.entities: table, the nearby chunks
// (AppendNearby, PutNearby) the batch's views point into, back to back.
func AppendEntities(dst, table []byte) []byte {
	if len(table) == 0 {
		return dst
	}
	dst = append(dst, tagBatchEntities)
	dst = protowire.AppendVarint(dst, uint64(len(table)))
	return append(dst, table...)
}

// EntitiesHeaderSize returns the size of the field header AppendEntities
// writes before a table of n bytes.
func EntitiesHeaderSize(n int) int {
	if n == 0 {
		return 0
	}
	return 1 + protowire.SizeVarint(uint64(n))
}

// Assemble appends the Snapshot a SessionView describes: server tick tick,
// lastInput, self (the chunk at byte offset self of entities, with session
// as its session id) and the chunks at the offsets nearby. It checks only
// that every offset starts a nearby field that lies inside entities and
// that the snapshot fits MaxSize (else ErrBadView, dst unchanged); the
// entities themselves are the world's encoding, decoded by the client.
func Assemble(dst []byte, tick, lastInput, session uint64, entities []byte, self uint32, nearby []uint32) ([]byte, error) {
	start := len(dst)
	c, ok := chunkAt(entities, self)
	if !ok {
		return dst, ErrBadView
	}
	dst = AppendHeader(dst, tick, lastInput)
	dst = AppendSelf(dst, c, session)
	for _, off := range nearby {
		c, ok := chunkAt(entities, off)
		if !ok || len(dst)-start+len(c) > MaxSize {
			return dst[:start], ErrBadView
		}
		dst = append(dst, c...)
	}
	if len(dst)-start > MaxSize {
		return dst[:start], ErrBadView
	}
	return dst, nil
}

// chunkAt returns the nearby field at byte offset off of entities.
func chunkAt(entities []byte, off uint32) ([]byte, bool) {
	if uint64(off)+2 > uint64(len(entities)) || entities[off] != tagNearby || entities[off+1] >= 0x80 {
		return nil, false
	}
	end := int(off) + 2 + int(entities[off+1])
	if end > len(entities) {
		return nil, false
	}
	return entities[off:end], true
}
