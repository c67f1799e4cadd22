package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// flatten is what Inputs.Decode must make of a decoded InputBatch.
func flatten(b *realmv1.InputBatch) []SessionInput {
	var out []SessionInput
	for _, in := range b.GetInputs() {
		p := in.GetInput()
		out = append(out, SessionInput{Session: in.GetSessionId(), Sequence: p.GetInputSequence(),
			MoveX: p.GetMove().GetX(), MoveY: p.GetMove().GetY(), Missing: p == nil})
	}
	return out
}

// sameInputs compares inputs bit for bit (NaN moves included).
func sameInputs(a, b []SessionInput) bool {
	return slices.EqualFunc(a, b, func(x, y SessionInput) bool {
		return x.Session == y.Session && x.Sequence == y.Sequence && x.Missing == y.Missing &&
			math.Float32bits(x.MoveX) == math.Float32bits(y.MoveX) && math.Float32bits(x.MoveY) == math.Float32bits(y.MoveY)
	})
}

func randomInputBatch(rng *rand.Rand) *realmv1.InputBatch {
	floats := []float32{0, 1, -0.5, float32(math.NaN()), float32(math.Inf(-1)), float32(math.Copysign(0, -1))}
	b := &realmv1.InputBatch{IngressId: "in-1"}
	for range rng.IntN(20) {
		in := &realmv1.SessionInput{SessionId: rng.Uint64() >> rng.IntN(64)}
		if rng.IntN(8) > 0 {
			in.Input = &realmv1.PlayerInput{InputSequence: rng.Uint64() >> rng.IntN(64), ClientTick: rng.Uint64()}
			if rng.IntN(4) > 0 {
				in.Input.Move = &realmv1.Vec2{X: floats[rng.IntN(len(floats))], Y: rng.Float32()*2 - 1}
			}
		}
		b.Inputs = append(b.Inputs, in)
	}
	return b
}

func TestDecodeInputsMatchesProto(t *testing.T) {
	rng := rand.New(rand.NewPCG(30, 30))
	var in Inputs
	for range 1000 {
		b := randomInputBatch(rng)
		enc, err := proto.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if err := in.Decode(enc); err != nil || !sameInputs(in.List, flatten(b)) {
			t.Fatalf("Decode = %+v, %v; want %+v", in.List, err, flatten(b))
		}
	}
}

func TestDecodeInputsMergesAndSkipsLikeProto(t *testing.T) {
	// One SessionInput with an unknown field, its session id twice (the
	// last wins) and its move in two Vec2 fields (merged); then a second
	// one with a fixed64 and a group of unknown fields.
	move1 := protowire.AppendTag(nil, 1, protowire.Fixed32Type)
	move1 = protowire.AppendFixed32(move1, math.Float32bits(0.25))
	move2 := protowire.AppendTag(nil, 2, protowire.Fixed32Type)
	move2 = protowire.AppendFixed32(move2, math.Float32bits(-1))
	var player []byte
	player = protowire.AppendTag(player, 1, protowire.VarintType)
	player = protowire.AppendVarint(player, 7)
	player = protowire.AppendTag(player, 3, protowire.BytesType)
	player = protowire.AppendBytes(player, move1)
	player = protowire.AppendTag(player, 3, protowire.BytesType)
	player = protowire.AppendBytes(player, move2)
	var first []byte
	first = protowire.AppendTag(first, 1, protowire.VarintType)
	first = protowire.AppendVarint(first, 5)
	first = protowire.AppendTag(first, 9, protowire.BytesType)
	first = protowire.AppendBytes(first, []byte("unknown"))
	first = protowire.AppendTag(first, 2, protowire.BytesType)
	first = protowire.AppendBytes(first, player)
	first = protowire.AppendTag(first, 1, protowire.VarintType)
	first = protowire.AppendVarint(first, 6)
	var second []byte
	second = protowire.AppendTag(second, 1, protowire.VarintType)
	second = protowire.AppendVarint(second, 8)
	second = protowire.AppendTag(second, 4, protowire.Fixed64Type)
	second = protowire.AppendFixed64(second, 1)
	second = protowire.AppendTag(second, 5, protowire.StartGroupType)
	second = protowire.AppendTag(second, 1, protowire.VarintType)
	second = protowire.AppendVarint(second, 1)
	second = protowire.AppendTag(second, 5, protowire.EndGroupType)
	var batch []byte
	batch = protowire.AppendTag(batch, 2, protowire.BytesType)
	batch = protowire.AppendBytes(batch, first)
	batch = protowire.AppendTag(batch, 1, protowire.BytesType)
	batch = protowire.AppendBytes(batch, []byte("in-9"))
	batch = protowire.AppendTag(batch, 2, protowire.BytesType)
	batch = protowire.AppendBytes(batch, second)

	var want realmv1.InputBatch
	if err := proto.Unmarshal(batch, &want); err != nil {
		t.Fatal(err)
	}
	var in Inputs
	if err := in.Decode(batch); err != nil || !sameInputs(in.List, flatten(&want)) {
		t.Fatalf("Decode = %+v, %v; proto.Unmarshal gives %+v", in.List, err, flatten(&want))
	}
	if got := in.List[0]; got.Session != 6 || got.Sequence != 7 || got.MoveX != 0.25 || got.MoveY != -1 || !in.List[1].Missing {
		t.Fatalf("decoded %+v", in.List)
	}

	// Cut anywhere inside, it is refused and leaves no inputs.
	for n := 1; n < len(batch); n++ {
		var cut realmv1.InputBatch
		if proto.Unmarshal(batch[:n], &cut) == nil {
			continue // a prefix that is a message in itself
		}
		if err := in.Decode(batch[:n]); err == nil || len(in.List) != 0 {
			t.Fatalf("cut at %d: Decode = %v, %d inputs", n, err, len(in.List))
		}
	}
}

func TestDecodeInputsAllocatesNothing(t *testing.T) {
	enc, err := proto.Marshal(randomInputBatch(rand.New(rand.NewPCG(31, 31))))
	if err != nil {
		t.Fatal(err)
	}
	var in Inputs
	_ = in.Decode(enc) // grows the list
	if allocs := testing.AllocsPerRun(100, func() { _ = in.Decode(enc) }); allocs != 0 {
		t.Fatalf("Decode allocates %v times", allocs)
	}
}

func TestApplyInputsAsProto(t *testing.T) {
	// The same batch, decoded by proto or by Inputs, moves the same players
	// to the same places.
	rng := rand.New(rand.NewPCG(32, 32))
	a, b := newWorld(t, Config{}), newWorld(t, Config{})
	batch := &realmv1.InputBatch{}
	for sid := uint64(1); sid <= 20; sid++ {
		a.Apply(bound(sid, "in-1"))
		b.Apply(bound(sid, "in-1"))
		batch.Inputs = append(batch.Inputs, input(sid, 3, rng.Float32()*4-2, rng.Float32()*4-2))
	}
	batch.Inputs = append(batch.Inputs, input(99, 1, 1, 0), &realmv1.SessionInput{SessionId: 5}) // unknown, missing
	enc, err := proto.Marshal(batch)
	if err != nil {
		t.Fatal(err)
	}
	var in Inputs
	if err := in.Decode(enc); err != nil {
		t.Fatal(err)
	}
	a.Apply(batch)
	b.Apply(&in)
	a.Step()
	b.Step()
	for sid := uint64(1); sid <= 20; sid++ {
		if pa, pb := mustPlayer(t, a, sid), mustPlayer(t, b, sid); pa != pb {
			t.Fatalf("session %d: %+v from proto, %+v from Inputs", sid, pa, pb)
		}
	}
	if sa, sb := a.Stats(), b.Stats(); sa != sb || sb.InputsUnknown != 1 || sb.InputsInvalid != 1 || sb.InputsApplied != 20 {
		t.Fatalf("stats %+v from proto, %+v from Inputs", sa, sb)
	}
}

// FuzzDecodeInputs: whatever proto.Unmarshal accepts, Decode gives the same
// inputs; nothing makes it panic.
func FuzzDecodeInputs(f *testing.F) {
	rng := rand.New(rand.NewPCG(33, 33))
	for range 4 {
		enc, _ := proto.Marshal(randomInputBatch(rng))
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var in Inputs
		err := in.Decode(b)
		var want realmv1.InputBatch
		if proto.Unmarshal(b, &want) != nil {
			return // Decode may accept what proto refuses (it does not read ingress_id)
		}
		if err != nil || !sameInputs(in.List, flatten(&want)) {
			t.Fatalf("Decode = %+v, %v; proto.Unmarshal gives %+v", in.List, err, flatten(&want))
		}
	})
}
