package ingress

import (
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// toProto converts a decoded input to the generated message.
func (in *input) toProto() *realmv1.PlayerInput {
	m := &realmv1.PlayerInput{InputSequence: in.seq, ClientTick: in.tick}
	if in.hasMove {
		m.Move = &realmv1.Vec2{X: in.x, Y: in.y}
	}
	return m
}

func TestInputRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		m    *realmv1.PlayerInput
	}{
		{"empty", &realmv1.PlayerInput{}},
		{"full", &realmv1.PlayerInput{InputSequence: 1 << 60, ClientTick: 3, Move: &realmv1.Vec2{X: -1, Y: 0.25}}},
		{"zero move", &realmv1.PlayerInput{InputSequence: 1, Move: &realmv1.Vec2{}}},
		{"negative zero", &realmv1.PlayerInput{Move: &realmv1.Vec2{X: float32(math.Copysign(0, -1))}}},
		{"max", &realmv1.PlayerInput{InputSequence: math.MaxUint64, ClientTick: math.MaxUint64, Move: &realmv1.Vec2{X: math.MaxFloat32, Y: -math.MaxFloat32}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := proto.Marshal(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			in, ok := decodeInput(b)
			if !ok {
				t.Fatal("decodeInput rejected a valid PlayerInput")
			}
			if !proto.Equal(in.toProto(), tc.m) {
				t.Errorf("decoded %v, want %v", in.toProto(), tc.m)
			}
			enc := appendInput(nil, &in)
			if len(enc) != in.size() {
				t.Errorf("appendInput wrote %d bytes, size() says %d", len(enc), in.size())
			}
			want, _ := proto.MarshalOptions{Deterministic: true}.Marshal(tc.m)
			if string(enc) != string(want) {
				t.Errorf("appendInput = %x, proto.Marshal = %x", enc, want)
			}
		})
	}
}

func TestDecodeInputRejects(t *testing.T) {
	nan := protowire.AppendTag(nil, fieldX, protowire.Fixed32Type)
	nan = protowire.AppendFixed32(nan, math.Float32bits(float32(math.NaN())))
	inf := protowire.AppendTag(nil, fieldY, protowire.Fixed32Type)
	inf = protowire.AppendFixed32(inf, math.Float32bits(float32(math.Inf(-1))))
	move := func(v []byte) []byte {
		b := protowire.AppendTag(nil, fieldMove, protowire.BytesType)
		return protowire.AppendBytes(b, v)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"truncated varint", []byte{0x08, 0xff}},
		{"field zero", []byte{0x00, 0x01}},
		{"truncated move", []byte{0x1a, 0x05, 0x0d}},
		{"bad move", move([]byte{0xff})},
		{"nan", move(nan)},
		{"inf", move(inf)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := decodeInput(tc.b); ok {
				t.Errorf("decodeInput(%x) accepted", tc.b)
			}
		})
	}
}

// FuzzDecodeInput checks that decodeInput accepts what proto.Unmarshal
// accepts (less non-finite coordinates), decodes the same values, and that
// the batch encoding of the result decodes back to them.
func FuzzDecodeInput(f *testing.F) {
	for _, m := range []*realmv1.PlayerInput{
		{}, {InputSequence: 5, ClientTick: 9, Move: &realmv1.Vec2{X: 0.5, Y: -1}},
	} {
		b, _ := proto.Marshal(m)
		f.Add(b)
	}
	f.Add([]byte{0x1a, 0x00, 0x1a, 0x05, 0x0d, 0, 0, 0x80, 0x3f, 0x78, 0x01}) // two moves, unknown field
	f.Fuzz(func(t *testing.T, b []byte) {
		in, ok := decodeInput(b)
		var m realmv1.PlayerInput
		err := proto.Unmarshal(b, &m)
		finite := func(f float32) bool { return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0) }
		if wantOK := err == nil && finite(m.GetMove().GetX()) && finite(m.GetMove().GetY()); ok != wantOK {
			t.Fatalf("decodeInput ok = %v, proto.Unmarshal err = %v (move %v)", ok, err, m.GetMove())
		}
		if !ok {
			return
		}
		m.ProtoReflect().SetUnknown(nil) // decodeInput drops unknown fields
		if m.Move != nil {
			m.Move.ProtoReflect().SetUnknown(nil)
		}
		if !proto.Equal(in.toProto(), &m) {
			t.Fatalf("decodeInput = %v, proto.Unmarshal = %v", in.toProto(), &m)
		}
		batch := appendSessionInput(appendBatchHeader(nil, "x"), 7, &in)
		var got realmv1.InputBatch
		if err := proto.Unmarshal(batch, &got); err != nil {
			t.Fatalf("batch does not decode: %v", err)
		}
		want := &realmv1.InputBatch{IngressId: "x", Inputs: []*realmv1.SessionInput{{SessionId: 7, Input: &m}}}
		if !proto.Equal(&got, want) {
			t.Fatalf("batch = %v, want %v", &got, want)
		}
	})
}

func TestDecodeInputAllocs(t *testing.T) {
	b, _ := proto.Marshal(&realmv1.PlayerInput{InputSequence: 5, ClientTick: 9, Move: &realmv1.Vec2{X: 0.5, Y: -1}})
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		in, ok := decodeInput(b)
		if !ok {
			t.Fatal("rejected")
		}
		buf = appendSessionInput(buf[:0], 1, &in)
	})
	if allocs != 0 {
		t.Errorf("decode and encode allocate %.1f times, want 0", allocs)
	}
}
