package load

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/ecs-realm/realm/libs/protofields"
)

// Field numbers of realm.v1.Snapshot, EntityState and Vec2 that a simulated
// player reads (docs/PROTOCOL.md, "Snapshot").
const (
	fieldLastInput = 2 // Snapshot.last_input_sequence, varint
	fieldSelf      = 3 // Snapshot.self, EntityState
	fieldPosition  = 3 // EntityState.position, Vec2
	fieldX         = 1 // Vec2.x, fixed32 float
	fieldY         = 2 // Vec2.y, fixed32 float
)

// snapshotHead is what a simulated player needs of a snapshot: which input
// it acknowledges, for the latency, and where the player is, to wander.
type snapshotHead struct {
	lastInput uint64
	x, y      float32
	hasSelf   bool
}

// parseHead reads the head of an encoded realm.v1.Snapshot without
// decoding the rest: the nearby entities, most of the bytes, are skipped by
// their length. A full proto.Unmarshal costs about twenty times as much and
// allocates per entity, which on one machine would be load generator time
// taken from the server under test. Malformed bytes are
// protofields.ErrMalformed.
func parseHead(b []byte) (snapshotHead, error) {
	var h snapshotHead
	var self []byte
	err := protofields.Each(b, func(num protowire.Number, typ protowire.Type, v uint64, sub []byte) error {
		switch {
		case num == fieldLastInput && typ == protowire.VarintType:
			h.lastInput = v
		case num == fieldSelf && typ == protowire.BytesType:
			self, h.hasSelf = sub, true
		}
		return nil
	})
	if err != nil || !h.hasSelf {
		return h, err
	}
	var pos []byte
	err = protofields.Each(self, func(num protowire.Number, typ protowire.Type, _ uint64, sub []byte) error {
		if num == fieldPosition && typ == protowire.BytesType {
			pos = sub
		}
		return nil
	})
	if err != nil {
		return h, err
	}
	err = protofields.Each(pos, func(num protowire.Number, typ protowire.Type, v uint64, _ []byte) error {
		switch {
		case num == fieldX && typ == protowire.Fixed32Type:
			h.x = math.Float32frombits(uint32(v))
		case num == fieldY && typ == protowire.Fixed32Type:
			h.y = math.Float32frombits(uint32(v))
		}
		return nil
	})
	return h, err
}
