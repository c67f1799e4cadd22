package load

import (
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// randomSnapshot makes a snapshot with every field set or not at random.
func randomSnapshot(rng *rand.Rand) *realmv1.Snapshot {
	entity := func() *realmv1.EntityState {
		e := &realmv1.EntityState{EntityId: rng.Uint64N(1 << 20), SessionId: rng.Uint64()}
		if rng.IntN(4) > 0 {
			e.Position = &realmv1.Vec2{X: rng.Float32()*2000 - 1000, Y: rng.Float32() * 1000}
		}
		if rng.IntN(2) > 0 {
			e.Velocity = &realmv1.Vec2{X: rng.Float32(), Y: -rng.Float32()}
		}
		return e
	}
	s := &realmv1.Snapshot{ServerTick: rng.Uint64N(1 << 30)}
	if rng.IntN(4) > 0 {
		s.LastInputSequence = rng.Uint64()
	}
	if rng.IntN(4) > 0 {
		s.Self = entity()
	}
	for range rng.IntN(33) {
		s.Nearby = append(s.Nearby, entity())
	}
	return s
}

func TestParseHeadMatchesProto(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 2000 {
		s := randomSnapshot(rng)
		b, err := proto.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		h, err := parseHead(b)
		if err != nil {
			t.Fatalf("#%d: %v", i, err)
		}
		want := snapshotHead{lastInput: s.GetLastInputSequence(), hasSelf: s.GetSelf() != nil,
			x: s.GetSelf().GetPosition().GetX(), y: s.GetSelf().GetPosition().GetY()}
		if h != want {
			t.Fatalf("#%d: parseHead = %+v, want %+v (from %v)", i, h, want, s)
		}
	}
}

func TestParseHeadRejectsMalformed(t *testing.T) {
	b, err := proto.Marshal(&realmv1.Snapshot{ServerTick: 3, LastInputSequence: 300,
		Self: &realmv1.EntityState{EntityId: 1, Position: &realmv1.Vec2{X: 1, Y: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseHead(b); err != nil {
		t.Fatalf("whole snapshot: %v", err)
	}
	// Every strict prefix that cuts a field short is an error; none panics.
	bad := 0
	for n := range len(b) {
		if _, err := parseHead(b[:n]); err != nil {
			bad++
		}
	}
	if bad == 0 {
		t.Fatal("no truncated prefix was rejected")
	}
	for _, in := range [][]byte{
		{0x13},                   // field 2 as a start-group
		{0x10, 0x80},             // varint cut short
		{0x1a, 0x05, 0x08},       // self longer than the message
		{0x1a, 0x02, 0x1a, 0x05}, // position longer than self
	} {
		if _, err := parseHead(in); err == nil {
			t.Errorf("parseHead(% x) accepted", in)
		}
	}
}

func FuzzParseHead(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 8 {
		b, _ := proto.Marshal(randomSnapshot(rng))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHead(b)
		var s realmv1.Snapshot
		if proto.Unmarshal(b, &s) != nil || err != nil {
			return // only well-formed input is compared
		}
		if h.lastInput != s.GetLastInputSequence() || h.hasSelf != (s.GetSelf() != nil) {
			t.Fatalf("parseHead = %+v, proto says %v", h, &s)
		}
	})
}

// BenchmarkParseHead compares parseHead with proto.Unmarshal of the same
// full snapshot (32 nearby entities).
func BenchmarkParseHead(b *testing.B) {
	s := randomSnapshot(rand.New(rand.NewPCG(3, 4)))
	s.Self = &realmv1.EntityState{EntityId: 1, Position: &realmv1.Vec2{X: 1, Y: 2}}
	for len(s.Nearby) < 32 {
		s.Nearby = append(s.Nearby, &realmv1.EntityState{EntityId: 9, Position: &realmv1.Vec2{X: 1}, Velocity: &realmv1.Vec2{Y: 1}})
	}
	buf, err := proto.Marshal(s)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("baseline-unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := proto.Unmarshal(buf, new(realmv1.Snapshot)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parseHead", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseHead(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}
