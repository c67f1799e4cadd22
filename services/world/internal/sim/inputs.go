package sim

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/ecs-realm/realm/libs/protofields"
)

// Inputs is a realm.v1.InputBatch flattened: one SessionInput per input, in
// order. Decode fills it from the encoded message without allocating (once
// its slice has grown), which is how the service takes the world's busiest
// subject; Apply takes it like the decoded message.
type Inputs struct {
	List []SessionInput
}

// SessionInput is one realm.v1.SessionInput.
type SessionInput struct {
	Session  uint64
	Sequence uint64  // PlayerInput.input_sequence
	MoveX    float32 // PlayerInput.move
	MoveY    float32
	// Missing is set when the SessionInput had no PlayerInput (an invalid
	// input, counted as such).
	Missing bool
}

// Decode replaces in's inputs with those of b, an encoded realm.v1.InputBatch:
// the same inputs proto.Unmarshal would give (fields in any order, repeated
// scalars and messages merged as protobuf does, unknown fields skipped;
// ingress_id is not read). On error (protofields.ErrMalformed) in holds no
// inputs.
func (in *Inputs) Decode(b []byte) error {
	in.List = in.List[:0]
	err := protofields.Each(b, func(num protowire.Number, typ protowire.Type, _ uint64, v []byte) error {
		if num != 2 || typ != protowire.BytesType {
			return nil
		}
		e := SessionInput{Missing: true}
		if err := e.decodeSessionInput(v); err != nil {
			return err
		}
		in.List = append(in.List, e)
		return nil
	})
	if err != nil {
		in.List = in.List[:0]
	}
	return err
}

func (e *SessionInput) decodeSessionInput(b []byte) error {
	return protofields.Each(b, func(num protowire.Number, typ protowire.Type, x uint64, v []byte) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			e.Session = x
		case num == 2 && typ == protowire.BytesType:
			e.Missing = false
			return e.decodePlayerInput(v)
		}
		return nil
	})
}

func (e *SessionInput) decodePlayerInput(b []byte) error {
	return protofields.Each(b, func(num protowire.Number, typ protowire.Type, x uint64, v []byte) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			e.Sequence = x
		case num == 3 && typ == protowire.BytesType:
			return protofields.Each(v, func(num protowire.Number, typ protowire.Type, x uint64, _ []byte) error {
				switch {
				case num == 1 && typ == protowire.Fixed32Type:
					e.MoveX = math.Float32frombits(uint32(x))
				case num == 2 && typ == protowire.Fixed32Type:
					e.MoveY = math.Float32frombits(uint32(x))
				}
				return nil
			})
		}
		return nil
	})
}
