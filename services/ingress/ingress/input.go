package ingress

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of the messages encoded by hand on the per-packet path
// (proto/realm/v1/udp.proto and events.proto).
const (
	fieldInputSequence protowire.Number = 1 // PlayerInput
	fieldClientTick    protowire.Number = 2 // PlayerInput
	fieldMove          protowire.Number = 3 // PlayerInput
	fieldX             protowire.Number = 1 // Vec2
	fieldY             protowire.Number = 2 // Vec2

	fieldSessionID protowire.Number = 1 // SessionInput
	fieldInput     protowire.Number = 2 // SessionInput

	fieldIngressID protowire.Number = 1 // InputBatch
	fieldInputs    protowire.Number = 2 // InputBatch

	fieldChallenge protowire.Number = 1 // KeepAlive
)

// decodeKeepAlive decodes a KeepAlive as proto.Unmarshal would and returns
// its challenge (nil if absent; it aliases b), and whether b was well formed.
func decodeKeepAlive(b []byte) (challenge []byte, ok bool) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num > protowire.MaxValidNumber {
			return nil, false
		}
		b = b[n:]
		if num == fieldChallenge && typ == protowire.BytesType {
			challenge, n = protowire.ConsumeBytes(b)
			if challenge == nil {
				challenge = b[:0] // present but empty: not nil
			}
		} else {
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return nil, false
		}
		b = b[n:]
	}
	return challenge, true
}

// input is a decoded realmv1.PlayerInput. It is decoded with protowire
// rather than proto.Unmarshal so that the per-packet path allocates nothing.
type input struct {
	seq, tick uint64
	hasMove   bool
	x, y      float32
}

// decodeInput decodes a PlayerInput as proto.Unmarshal would (unknown fields
// and known fields of another wire type are skipped, the last occurrence of
// a scalar wins, repeated occurrences of move merge). It rejects what
// proto.Unmarshal rejects, and also non-finite coordinates, which no client
// has a reason to send and which would poison the world's arithmetic.
func decodeInput(b []byte) (input, bool) {
	var in input
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num > protowire.MaxValidNumber { // ConsumeTag allows up to MaxInt32
			return input{}, false
		}
		b = b[n:]
		switch {
		case num == fieldInputSequence && typ == protowire.VarintType:
			in.seq, n = protowire.ConsumeVarint(b)
		case num == fieldClientTick && typ == protowire.VarintType:
			in.tick, n = protowire.ConsumeVarint(b)
		case num == fieldMove && typ == protowire.BytesType:
			var v []byte
			v, n = protowire.ConsumeBytes(b)
			if n >= 0 && !decodeVec2(v, &in) {
				return input{}, false
			}
			in.hasMove = true
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return input{}, false
		}
		b = b[n:]
	}
	return in, true
}

// decodeVec2 merges a Vec2 encoding into in.x and in.y.
func decodeVec2(b []byte, in *input) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num > protowire.MaxValidNumber {
			return false
		}
		b = b[n:]
		switch {
		case (num == fieldX || num == fieldY) && typ == protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f := math.Float32frombits(v)
			if n >= 0 && (math.IsNaN(float64(f)) || math.IsInf(float64(f), 0)) {
				return false
			}
			if num == fieldX {
				in.x = f
			} else {
				in.y = f
			}
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return false
		}
		b = b[n:]
	}
	return true
}

// vec2Size is the size of the Vec2 encoding of in's move.
func (in *input) vec2Size() int {
	n := 0
	if math.Float32bits(in.x) != 0 {
		n += protowire.SizeTag(fieldX) + protowire.SizeFixed32()
	}
	if math.Float32bits(in.y) != 0 {
		n += protowire.SizeTag(fieldY) + protowire.SizeFixed32()
	}
	return n
}

// size is the size of the PlayerInput encoding of in.
func (in *input) size() int {
	n := 0
	if in.seq != 0 {
		n += protowire.SizeTag(fieldInputSequence) + protowire.SizeVarint(in.seq)
	}
	if in.tick != 0 {
		n += protowire.SizeTag(fieldClientTick) + protowire.SizeVarint(in.tick)
	}
	if in.hasMove {
		n += protowire.SizeTag(fieldMove) + protowire.SizeBytes(in.vec2Size())
	}
	return n
}

// appendInput appends the PlayerInput encoding of in, as proto.Marshal
// writes it: fields in number order, zero scalars omitted.
func appendInput(b []byte, in *input) []byte {
	if in.seq != 0 {
		b = protowire.AppendTag(b, fieldInputSequence, protowire.VarintType)
		b = protowire.AppendVarint(b, in.seq)
	}
	if in.tick != 0 {
		b = protowire.AppendTag(b, fieldClientTick, protowire.VarintType)
		b = protowire.AppendVarint(b, in.tick)
	}
	if in.hasMove {
		b = protowire.AppendTag(b, fieldMove, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(in.vec2Size()))
		if bits := math.Float32bits(in.x); bits != 0 {
			b = protowire.AppendTag(b, fieldX, protowire.Fixed32Type)
			b = protowire.AppendFixed32(b, bits)
		}
		if bits := math.Float32bits(in.y); bits != 0 {
			b = protowire.AppendTag(b, fieldY, protowire.Fixed32Type)
			b = protowire.AppendFixed32(b, bits)
		}
	}
	return b
}

// appendSessionInput appends one element of InputBatch.inputs: the field tag
// and length, then SessionInput{session_id, input}.
func appendSessionInput(b []byte, sessionID uint64, in *input) []byte {
	inSize := in.size()
	size := protowire.SizeTag(fieldInput) + protowire.SizeBytes(inSize)
	if sessionID != 0 {
		size += protowire.SizeTag(fieldSessionID) + protowire.SizeVarint(sessionID)
	}
	b = protowire.AppendTag(b, fieldInputs, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	if sessionID != 0 {
		b = protowire.AppendTag(b, fieldSessionID, protowire.VarintType)
		b = protowire.AppendVarint(b, sessionID)
	}
	b = protowire.AppendTag(b, fieldInput, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(inSize))
	return appendInput(b, in)
}

// appendBatchHeader appends InputBatch.ingress_id.
func appendBatchHeader(b []byte, ingressID string) []byte {
	if ingressID == "" {
		return b
	}
	b = protowire.AppendTag(b, fieldIngressID, protowire.BytesType)
	return protowire.AppendString(b, ingressID)
}
