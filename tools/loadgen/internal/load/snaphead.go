package load

import (
	"errors"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// errBadSnapshot is returned by parseHead for bytes that are not a
// well-formed realm.v1.Snapshot.
var errBadSnapshot = errors.New("load: malformed snapshot")

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
// taken from the server under test.
func parseHead(b []byte) (snapshotHead, error) {
	var h snapshotHead
	var self []byte
	err := fields(b, func(num protowire.Number, typ protowire.Type, v uint64, sub []byte) {
		switch {
		case num == fieldLastInput && typ == protowire.VarintType:
			h.lastInput = v
		case num == fieldSelf && typ == protowire.BytesType:
			self, h.hasSelf = sub, true
		}
	})
	if err != nil || !h.hasSelf {
		return h, err
	}
	var pos []byte
	err = fields(self, func(num protowire.Number, typ protowire.Type, _ uint64, sub []byte) {
		if num == fieldPosition && typ == protowire.BytesType {
			pos = sub
		}
	})
	if err != nil {
		return h, err
	}
	err = fields(pos, func(num protowire.Number, typ protowire.Type, v uint64, _ []byte) {
		switch {
		case num == fieldX && typ == protowire.Fixed32Type:
			h.x = math.Float32frombits(uint32(v))
		case num == fieldY && typ == protowire.Fixed32Type:
			h.y = math.Float32frombits(uint32(v))
		}
	})
	return h, err
}

// fields calls f for each field of the message encoded in b, in order, with
// its value: v for varint and fixed fields, sub for length-delimited ones.
// As in protobuf, where a field occurs twice the last one wins (a repeated
// self or position is not merged: the server never sends one). Groups and
// truncated or malformed fields are errBadSnapshot.
func fields(b []byte, f func(num protowire.Number, typ protowire.Type, v uint64, sub []byte)) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errBadSnapshot
		}
		b = b[n:]
		var v uint64
		var sub []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var v32 uint32
			v32, n = protowire.ConsumeFixed32(b)
			v = uint64(v32)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			sub, n = protowire.ConsumeBytes(b)
		default:
			return errBadSnapshot
		}
		if n < 0 {
			return errBadSnapshot
		}
		b = b[n:]
		f(num, typ, v, sub)
	}
	return nil
}
