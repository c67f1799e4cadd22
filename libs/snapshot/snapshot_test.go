package snapshot_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/snapshot"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// message is the realm.v1.EntityState equivalent of e as a nearby entity,
// with the package's convention that position and velocity are always
// present. Nearby entities have no session id.
func message(e *snapshot.Entity) *realmv1.EntityState {
	return &realmv1.EntityState{
		EntityId: e.EntityID,
		Position: &realmv1.Vec2{X: e.X, Y: e.Y},
		Velocity: &realmv1.Vec2{X: e.VX, Y: e.VY},
	}
}

func expected(tick, input uint64, self *snapshot.Entity, nearby []snapshot.Entity) *realmv1.Snapshot {
	s := &realmv1.Snapshot{ServerTick: tick, LastInputSequence: input, Self: message(self)}
	s.Self.SessionId = self.SessionID
	for i := range nearby {
		s.Nearby = append(s.Nearby, message(&nearby[i]))
	}
	return s
}

// compose builds a whole Snapshot the way the world's chunks and ingress's
// assembly make one: the header, self from its chunk (AppendSelf), then the
// nearby chunks while they fit MaxSize. It returns the bytes and how many
// nearby entities fit.
func compose(dst []byte, tick, input uint64, self *snapshot.Entity, nearby []snapshot.Entity) ([]byte, int) {
	var c [snapshot.MaxEntitySize]byte
	m := snapshot.PutNearby(&c, self)
	dst = snapshot.AppendHeader(dst, tick, input)
	dst = snapshot.AppendSelf(dst, c[:m], self.SessionID)
	n := 0
	for i := range nearby {
		if len(dst)+snapshot.EntitySize(&nearby[i]) > snapshot.MaxSize {
			break
		}
		dst = snapshot.AppendNearby(dst, &nearby[i])
		n++
	}
	return dst, n
}

// checkSnapshot decodes b and compares it with want, then checks that b is
// byte for byte what proto.Marshal makes of want.
func checkSnapshot(t *testing.T, b []byte, want *realmv1.Snapshot) {
	t.Helper()
	var got realmv1.Snapshot
	if err := proto.Unmarshal(b, &got); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !proto.Equal(&got, want) {
		t.Fatalf("decoded %v, want %v", &got, want)
	}
	ref, err := proto.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, ref) {
		t.Fatalf("bytes differ from proto.Marshal:\n got %x\nwant %x", b, ref)
	}
}

func randomEntity(rng *rand.Rand) snapshot.Entity {
	floats := []float32{0, float32(math.Copysign(0, -1)), 1, -3.5, 999.99, float32(math.Inf(1)), float32(math.NaN())}
	f := func() float32 {
		if rng.IntN(2) == 0 {
			return floats[rng.IntN(len(floats))]
		}
		return rng.Float32() * 1000
	}
	ids := []uint64{0, 1, 127, 128, 1 << 32, math.MaxUint64}
	id := func() uint64 {
		if rng.IntN(2) == 0 {
			return ids[rng.IntN(len(ids))]
		}
		return rng.Uint64() >> rng.IntN(64)
	}
	return snapshot.Entity{EntityID: id(), SessionID: id(), X: f(), Y: f(), VX: f(), VY: f()}
}

func TestAppendMatchesProtoMarshal(t *testing.T) {
	tests := []struct {
		name        string
		tick, input uint64
		self        snapshot.Entity
		nearby      []snapshot.Entity
	}{
		{name: "all zero", self: snapshot.Entity{}},
		{name: "typical", tick: 1200, input: 77,
			self:   snapshot.Entity{EntityID: 3, SessionID: 0xdeadbeefcafe, X: 10, Y: 20, VX: 5},
			nearby: []snapshot.Entity{{EntityID: 4, SessionID: 9, X: 11, Y: 20}, {EntityID: 5, X: 30, Y: 1, VY: -5}}},
		{name: "negative zero kept", tick: 1,
			self: snapshot.Entity{EntityID: 1, X: float32(math.Copysign(0, -1)), VY: float32(math.Copysign(0, -1))}},
		{name: "max ids", tick: math.MaxUint64, input: math.MaxUint64,
			self: snapshot.Entity{EntityID: math.MaxUint64, SessionID: math.MaxUint64, X: 1, Y: 1, VX: 1, VY: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, n := compose(nil, tc.tick, tc.input, &tc.self, tc.nearby)
			if n != len(tc.nearby) {
				t.Fatalf("included %d of %d", n, len(tc.nearby))
			}
			checkSnapshot(t, b, expected(tc.tick, tc.input, &tc.self, tc.nearby))
		})
	}
}

func TestAppendRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for range 2000 {
		self := randomEntity(rng)
		nearby := make([]snapshot.Entity, rng.IntN(8))
		for i := range nearby {
			nearby[i] = randomEntity(rng)
		}
		tick, input := rng.Uint64()>>rng.IntN(64), rng.Uint64()>>rng.IntN(64)
		b, n := compose(nil, tick, input, &self, nearby)
		if n != len(nearby) {
			t.Fatalf("included %d of %d", n, len(nearby))
		}
		checkSnapshot(t, b, expected(tick, input, &self, nearby))
	}
}

func TestChunksComposeASnapshot(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	ents := make([]snapshot.Entity, 10)
	var chunks [][]byte
	for i := range ents {
		ents[i] = randomEntity(rng)
		c := snapshot.AppendNearby(nil, &ents[i])
		if len(c) != snapshot.EntitySize(&ents[i]) || len(c) > snapshot.MaxEntitySize {
			t.Fatalf("chunk %d: len %d, EntitySize %d, max %d", i, len(c), snapshot.EntitySize(&ents[i]), snapshot.MaxEntitySize)
		}
		chunks = append(chunks, c)
	}
	// Self is entity 2; nearby are 7, 0, 9.
	b := snapshot.AppendHeader(nil, 42, 7)
	if len(b) != snapshot.HeaderSize(42, 7) {
		t.Fatalf("header len %d, HeaderSize %d", len(b), snapshot.HeaderSize(42, 7))
	}
	b = snapshot.AppendSelf(b, chunks[2], ents[2].SessionID)
	for _, i := range []int{7, 0, 9} {
		b = append(b, chunks[i]...)
	}
	checkSnapshot(t, b, expected(42, 7, &ents[2], []snapshot.Entity{ents[7], ents[0], ents[9]}))
}

func TestAppendRespectsMaxSize(t *testing.T) {
	// Worst case entities: every field at its longest encoding.
	big := snapshot.Entity{EntityID: math.MaxUint64, SessionID: math.MaxUint64, X: 1, Y: 1, VX: 1, VY: 1}
	if got := snapshot.EntitySize(&big); got != snapshot.MaxEntitySize {
		t.Fatalf("EntitySize(worst) = %d, want MaxEntitySize %d", got, snapshot.MaxEntitySize)
	}
	if got := len(snapshot.AppendSelf(nil, snapshot.AppendNearby(nil, &big), big.SessionID)); got != snapshot.MaxSelfSize {
		t.Fatalf("self field of the worst entity: %d bytes, want MaxSelfSize %d", got, snapshot.MaxSelfSize)
	}
	nearby := make([]snapshot.Entity, 64)
	for i := range nearby {
		nearby[i] = big
	}
	b, n := compose(nil, math.MaxUint64, math.MaxUint64, &big, nearby)
	if len(b) > snapshot.MaxSize {
		t.Fatalf("snapshot is %d bytes, max %d", len(b), snapshot.MaxSize)
	}
	header := snapshot.HeaderSize(math.MaxUint64, math.MaxUint64)
	if want := (snapshot.MaxSize - header - snapshot.MaxSelfSize) / snapshot.MaxEntitySize; n != want {
		t.Fatalf("included %d nearby, want %d (as many as fit)", n, want)
	}
	if n < 33 {
		t.Fatalf("only %d worst-case entities fit; the package doc promises 33", n)
	}
	checkSnapshot(t, b, expected(math.MaxUint64, math.MaxUint64, &big, nearby[:n]))
}

func TestComposeAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	self := randomEntity(rng)
	nearby := make([]snapshot.Entity, 32)
	for i := range nearby {
		nearby[i] = randomEntity(rng)
	}
	buf := make([]byte, 0, 4*snapshot.MaxSize)
	allocs := testing.AllocsPerRun(100, func() {
		b, _ := compose(buf[:0], 1, 2, &self, nearby)
		b = snapshot.AppendBatchHeader(b, 1)
		_ = snapshot.AppendViewHead(b, 3, 4, 5, 6)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}

func TestPutNearbyMatchesAppendNearby(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	entities := []snapshot.Entity{
		{},
		{EntityID: 1},
		{EntityID: math.MaxUint64, SessionID: math.MaxUint64, X: -0.0, Y: 1, VX: float32(math.Inf(1)), VY: float32(math.NaN())},
		{EntityID: 300, SessionID: 1 << 63, X: 1, Y: 0, VX: 0, VY: -2},
	}
	for range 200 {
		entities = append(entities, randomEntity(rng))
	}
	var c [snapshot.MaxEntitySize]byte
	for i, e := range entities {
		want := snapshot.AppendNearby(nil, &e)
		n := snapshot.PutNearby(&c, &e)
		if !bytes.Equal(c[:n], want) {
			t.Fatalf("entity %d %+v: PutNearby % x, AppendNearby % x", i, e, c[:n], want)
		}
	}
}
