package snapshot_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/snapshot"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// table encodes ents as a batch's entities and returns it with the offset
// of each.
func table(ents []snapshot.Entity) ([]byte, []uint32) {
	var t []byte
	offs := make([]uint32, len(ents))
	for i := range ents {
		offs[i] = uint32(len(t))
		t = snapshot.AppendNearby(t, &ents[i])
	}
	return t, offs
}

func TestViewBatchDecodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 20))
	ents := make([]snapshot.Entity, 50)
	for i := range ents {
		ents[i] = randomEntity(rng)
	}
	ents[0].EntityID = 0 // an all-default first entity: offset 0 and self 0 are left out
	tab, offs := table(ents)
	want := &realmv1.SnapshotBatch{ServerTick: 77, Entities: tab}
	b := snapshot.AppendBatchHeader(nil, 77)
	for range 30 {
		v := &realmv1.SessionView{SessionId: rng.Uint64() >> rng.IntN(64), LastInputSequence: rng.Uint64() >> rng.IntN(64),
			Self: offs[rng.IntN(len(offs))]}
		for range rng.IntN(40) {
			v.Nearby = append(v.Nearby, offs[rng.IntN(len(offs))])
		}
		want.Views = append(want.Views, v)
		b = snapshot.AppendView(b, v.SessionId, v.LastInputSequence, v.Self, v.Nearby)
	}
	if got := snapshot.EntitiesHeaderSize(len(tab)); got != len(snapshot.AppendEntities(nil, tab))-len(tab) {
		t.Fatalf("EntitiesHeaderSize = %d", got)
	}
	b = snapshot.AppendEntities(b, tab)
	var got realmv1.SnapshotBatch
	if err := proto.Unmarshal(b, &got); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !proto.Equal(&got, want) {
		t.Fatalf("decoded %v, want %v", &got, want)
	}
	// Each view record is what proto.Marshal makes of the view.
	rec, err := proto.Marshal(&realmv1.SnapshotBatch{Views: want.Views[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if first := snapshot.AppendView(nil, want.Views[0].SessionId, want.Views[0].LastInputSequence, want.Views[0].Self, want.Views[0].Nearby); !bytes.Equal(first, rec) {
		t.Fatalf("view record % x, proto.Marshal % x", first, rec)
	}
}

func TestAssembleMatchesAppend(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	for range 500 {
		ents := make([]snapshot.Entity, 1+rng.IntN(60))
		for i := range ents {
			ents[i] = randomEntity(rng)
		}
		tab, offs := table(ents)
		self := rng.IntN(len(ents))
		var near []uint32
		var nearEnts []snapshot.Entity
		for range rng.IntN(20) {
			j := rng.IntN(len(ents))
			near, nearEnts = append(near, offs[j]), append(nearEnts, ents[j])
		}
		tick, input, session := rng.Uint64()>>rng.IntN(64), rng.Uint64()>>rng.IntN(64), rng.Uint64()>>rng.IntN(64)
		me := ents[self]
		me.SessionID = session
		want, n := snapshot.Append(nil, tick, input, &me, nearEnts)
		got, err := snapshot.Assemble([]byte("x"), tick, input, session, tab, offs[self], near)
		if n < len(nearEnts) { // too large for one packet: refused, dst kept
			if !errors.Is(err, snapshot.ErrBadView) || string(got) != "x" {
				t.Fatalf("oversized view: %q, %v", got, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(got[1:], want) {
			t.Fatalf("Assemble = % x, %v\nwant % x", got[1:], err, want)
		}
	}
}

func TestAssembleRefusesBadOffsets(t *testing.T) {
	ents := []snapshot.Entity{{EntityID: 1, X: 1, Y: 2}, {EntityID: 300, X: 3, VY: 4}}
	tab, offs := table(ents)
	tests := []struct {
		name string
		self uint32
		near []uint32
	}{
		{"self past the end", uint32(len(tab)), nil},
		{"self inside a chunk", 1, nil},
		{"nearby past the end", offs[0], []uint32{offs[1], uint32(len(tab)) - 1}},
		{"nearby inside a chunk", offs[0], []uint32{offs[1] + 2}},
		{"huge offset", 1 << 31, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := snapshot.Assemble([]byte("kept"), 1, 2, 3, tab, tc.self, tc.near)
			if !errors.Is(err, snapshot.ErrBadView) || string(got) != "kept" {
				t.Fatalf("Assemble = %q, %v; want ErrBadView and dst unchanged", got, err)
			}
		})
	}
	// A chunk whose length runs past the table.
	cut := tab[:len(tab)-1]
	if _, err := snapshot.Assemble(nil, 1, 2, 3, cut, offs[0], []uint32{offs[1]}); !errors.Is(err, snapshot.ErrBadView) {
		t.Fatalf("truncated table: %v", err)
	}
}

// FuzzAssemble feeds arbitrary tables and offsets: Assemble must not panic,
// and what it accepts fits MaxSize and starts with the header.
func FuzzAssemble(f *testing.F) {
	tab, offs := table([]snapshot.Entity{{EntityID: 1, X: 1}, {EntityID: 2, Y: 2}})
	f.Add(tab, offs[0], offs[1], uint8(3))
	f.Add([]byte{0x22, 0x7f}, uint32(0), uint32(0), uint8(1))
	f.Fuzz(func(t *testing.T, tab []byte, self, near uint32, count uint8) {
		nearby := make([]uint32, count)
		for i := range nearby {
			nearby[i] = near + uint32(i)
		}
		got, err := snapshot.Assemble(nil, 5, 6, 7, tab, self, nearby)
		if err != nil {
			if len(got) != 0 {
				t.Fatalf("refused view left %d bytes", len(got))
			}
			return
		}
		head := snapshot.AppendHeader(nil, 5, 6)
		if len(got) > snapshot.MaxSize || !bytes.HasPrefix(got, head) {
			t.Fatalf("accepted % x", got)
		}
	})
}
