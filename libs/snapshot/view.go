package snapshot

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/ecs-realm/realm/libs/protofields"
)

// Tags of realm.v1.SnapshotBatch and realm.v1.SessionView.
const (
	tagBatchTick     = byte(1<<3 | protowire.VarintType) // SnapshotBatch.server_tick
	tagBatchEntities = byte(3<<3 | protowire.BytesType)  // SnapshotBatch.entities
	tagBatchView     = byte(4<<3 | protowire.BytesType)  // SnapshotBatch.views
	tagViewSession   = byte(1<<3 | protowire.VarintType) // SessionView.session_id
	tagViewInput     = byte(2<<3 | protowire.VarintType) // SessionView.last_input_sequence
	tagViewSelf      = byte(3<<3 | protowire.VarintType) // SessionView.self
	tagViewNearby    = byte(4<<3 | protowire.BytesType)  // SessionView.nearby, packed
)

// ErrBadView is returned for entities that are not nearby fields back to
// back (Table.Parse), and for a view that names an entity the table does
// not have or describes a snapshot larger than MaxSize (Table.Assemble).
var ErrBadView = errors.New("snapshot: bad view")

// A SnapshotBatch of views is AppendBatchHeader, any number of AppendView
// records and, last, AppendEntities with the entity table the views index
// into: the table grows while the views are written. Protobuf decoders take
// fields in any order, so the message decodes as if entities came first.
// Views name entities by their index in the table (0 for the first): self
// as a varint, the nearby ones as 2 bytes each, little-endian, so a table
// holds at most MaxEntities.

// AppendBatchHeader appends SnapshotBatch.server_tick: the start of a batch.
func AppendBatchHeader(dst []byte, tick uint64) []byte {
	return appendVarintField(dst, tagBatchTick, tick)
}

// MaxEntities is the most entities a batch's table can hold.
const MaxEntities = 1 << 16

// AppendView appends one SnapshotBatch.views record: a SessionView of
// session, whose own entity is entity self of the batch's table and whose
// nearby entities are the entities nearby, in that order.
func AppendView(dst []byte, session, lastInput uint64, self uint16, nearby []uint16) []byte {
	dst = AppendViewHead(dst, session, lastInput, self, len(nearby))
	for _, i := range nearby {
		dst = append(dst, byte(i), byte(i>>8))
	}
	return dst
}

// AppendViewHead appends a SnapshotBatch.views record up to its nearby
// indexes: the caller appends exactly n of them next, 2 bytes each,
// little-endian. It spares a caller that finds the indexes one by one a
// slice to hold them.
func AppendViewHead(dst []byte, session, lastInput uint64, self uint16, n int) []byte {
	packed := 2 * n
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
	return protowire.AppendVarint(dst, uint64(packed))
}

// AppendEntities appends SnapshotBatch.entities: table, the nearby chunks
// (AppendNearby, PutNearby) the batch's views index, back to back.
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

// Table is a batch's entities, indexed for Assemble. The zero value is an
// empty table; Parse fills it, reusing its memory.
type Table struct {
	entities []byte
	offs     []uint32 // where each entity starts
}

// Parse indexes entities (SnapshotBatch.entities), which must be nearby
// fields back to back (else ErrBadView, and the table is empty). The table
// keeps a reference to entities.
func (t *Table) Parse(entities []byte) error {
	t.entities, t.offs = entities, t.offs[:0]
	for off := 0; off < len(entities); {
		if len(entities)-off < 2 || entities[off] != tagNearby || entities[off+1] >= 0x80 ||
			off+2+int(entities[off+1]) > len(entities) {
			t.entities, t.offs = nil, t.offs[:0]
			return fmt.Errorf("%w: entities malformed at byte %d", ErrBadView, off)
		}
		t.offs = append(t.offs, uint32(off))
		off += 2 + int(entities[off+1])
	}
	return nil
}

// Len returns the number of entities in the table.
func (t *Table) Len() int { return len(t.offs) }

// chunk returns entity i, if the table has it.
func (t *Table) chunk(i uint32) ([]byte, bool) {
	if uint64(i) >= uint64(len(t.offs)) {
		return nil, false
	}
	off := t.offs[i]
	return t.entities[off : off+2+uint32(t.entities[off+1])], true
}

// Assemble appends the Snapshot a SessionView describes: server tick tick,
// lastInput, self (entity self of the table, with session as its session
// id) and the entities nearby (2-byte little-endian indexes). A view that
// names an entity the table does not have, has an odd nearby, or whose
// snapshot exceeds MaxSize, is refused (ErrBadView, dst unchanged); the
// entities' contents are the world's encoding, which the client decodes.
func (t *Table) Assemble(dst []byte, tick, lastInput, session uint64, self uint32, nearby []byte) ([]byte, error) {
	start := len(dst)
	c, ok := t.chunk(self)
	if !ok || len(nearby)%2 != 0 {
		return dst, ErrBadView
	}
	dst = AppendHeader(dst, tick, lastInput)
	dst = AppendSelf(dst, c, session)
	for k := 0; k+1 < len(nearby); k += 2 {
		c, ok := t.chunk(uint32(nearby[k]) | uint32(nearby[k+1])<<8)
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

// Reader reads encoded SnapshotBatch messages without decoding them into
// Go structs, the form ingress takes them in: nothing is allocated once its
// buffers have grown. The zero value is ready; a Reader is not safe for
// concurrent use.
type Reader struct {
	table Table
	buf   []byte
}

// Read calls fn with each snapshot of the encoded batch b, in order, and
// its session: whole snapshots as they are, views assembled (Table.Assemble)
// from the batch's entities. A view that cannot be assembled, or any view
// when the entities do not parse, comes with err (wrapping ErrBadView) and no
// snapshot. snap is valid only during the call. A batch that is not a
// well-formed message is refused before fn is called
// (protofields.ErrMalformed).
func (r *Reader) Read(b []byte, fn func(session uint64, snap []byte, err error)) error {
	// The tick and the entities first: the world writes entities last.
	var tick uint64
	var entities []byte
	err := protofields.Each(b, func(num protowire.Number, typ protowire.Type, x uint64, v []byte) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			tick = x
		case num == 3 && typ == protowire.BytesType:
			entities = v
		}
		return nil
	})
	if err != nil {
		return err
	}
	parsed, tableErr := false, error(nil)
	return protofields.Each(b, func(num protowire.Number, typ protowire.Type, _ uint64, v []byte) error {
		switch {
		case num == 2 && typ == protowire.BytesType: // SessionSnapshot
			var session uint64
			var snap []byte
			err := protofields.Each(v, func(num protowire.Number, typ protowire.Type, x uint64, v []byte) error {
				switch {
				case num == 1 && typ == protowire.VarintType:
					session = x
				case num == 2 && typ == protowire.BytesType:
					snap = v
				}
				return nil
			})
			fn(session, snap, err)
		case num == 4 && typ == protowire.BytesType: // SessionView
			if !parsed {
				parsed, tableErr = true, r.table.Parse(entities)
			}
			var vw view
			err := vw.decode(v)
			if err == nil {
				err = tableErr
			}
			if err == nil {
				var snap []byte
				if snap, err = r.table.Assemble(r.buf[:0], tick, vw.input, vw.session, vw.self, vw.nearby); err == nil {
					r.buf = snap[:0]
					fn(vw.session, snap, nil)
					return nil
				}
			}
			fn(vw.session, nil, fmt.Errorf("view of session %d: %w", vw.session, errors.Join(ErrBadView, err)))
		}
		return nil
	})
}

// view is a decoded SessionView; nearby aliases the message.
type view struct {
	session, input uint64
	self           uint32
	nearby         []byte
}

func (vw *view) decode(b []byte) error {
	return protofields.Each(b, func(num protowire.Number, typ protowire.Type, x uint64, v []byte) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			vw.session = x
		case num == 2 && typ == protowire.VarintType:
			vw.input = x
		case num == 3 && typ == protowire.VarintType:
			vw.self = uint32(x)
		case num == 4 && typ == protowire.BytesType:
			vw.nearby = v
		}
		return nil
	})
}
