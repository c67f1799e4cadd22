package snapshot_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/protofields"
	"github.com/ecs-realm/realm/libs/snapshot"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// table encodes ents as a batch's entities and returns it with the index
// of each (its position: views name entities by index).
func table(ents []snapshot.Entity) ([]byte, []uint16) {
	var t []byte
	idx := make([]uint16, len(ents))
	for i := range ents {
		idx[i] = uint16(i)
		t = snapshot.AppendNearby(t, &ents[i])
	}
	return t, idx
}

// le encodes indexes as SessionView.nearby: 2 bytes each, little-endian.
func le(idx []uint16) []byte {
	var b []byte
	for _, i := range idx {
		b = append(b, byte(i), byte(i>>8))
	}
	return b
}

// parsed returns tab parsed into a Table, failing t if it does not parse.
func parsed(t *testing.T, tab []byte) *snapshot.Table {
	t.Helper()
	var tb snapshot.Table
	if err := tb.Parse(tab); err != nil {
		t.Fatal(err)
	}
	return &tb
}

func TestViewBatchDecodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 20))
	ents := make([]snapshot.Entity, 50)
	for i := range ents {
		ents[i] = randomEntity(rng)
	}
	ents[0].EntityID = 0 // an all-default first entity: index 0 (self 0) is left out
	tab, offs := table(ents)
	want := &realmv1.SnapshotBatch{ServerTick: 77, Entities: tab}
	b := snapshot.AppendBatchHeader(nil, 77)
	for range 30 {
		self := offs[rng.IntN(len(offs))]
		var near []uint16
		for range rng.IntN(40) {
			near = append(near, offs[rng.IntN(len(offs))])
		}
		v := &realmv1.SessionView{SessionId: rng.Uint64() >> rng.IntN(64), LastInputSequence: rng.Uint64() >> rng.IntN(64),
			Self: uint32(self), Nearby: le(near)}
		want.Views = append(want.Views, v)
		b = snapshot.AppendView(b, v.SessionId, v.LastInputSequence, self, near)
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
	var near0 []uint16
	for k := 0; k < len(want.Views[0].Nearby); k += 2 {
		near0 = append(near0, uint16(want.Views[0].Nearby[k])|uint16(want.Views[0].Nearby[k+1])<<8)
	}
	if first := snapshot.AppendView(nil, want.Views[0].SessionId, want.Views[0].LastInputSequence, uint16(want.Views[0].Self), near0); !bytes.Equal(first, rec) {
		t.Fatalf("view record % x, proto.Marshal % x", first, rec)
	}
}

func TestAssembleMatchesProtoMarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	for range 500 {
		ents := make([]snapshot.Entity, 1+rng.IntN(60))
		for i := range ents {
			ents[i] = randomEntity(rng)
		}
		tab, offs := table(ents)
		self := rng.IntN(len(ents))
		var near []uint16
		var nearEnts []snapshot.Entity
		for range rng.IntN(20) {
			j := rng.IntN(len(ents))
			near, nearEnts = append(near, offs[j]), append(nearEnts, ents[j])
		}
		tick, input, session := rng.Uint64()>>rng.IntN(64), rng.Uint64()>>rng.IntN(64), rng.Uint64()>>rng.IntN(64)
		me := ents[self]
		me.SessionID = session
		_, n := compose(nil, tick, input, &me, nearEnts) // how many fit MaxSize
		if tb := parsed(t, tab); tb.Len() != len(ents) {
			t.Fatalf("table of %d entities has Len %d", len(ents), tb.Len())
		}
		got, err := parsed(t, tab).Assemble([]byte("x"), tick, input, session, uint32(offs[self]), le(near))
		if n < len(nearEnts) { // too large for one packet: refused, dst kept
			if !errors.Is(err, snapshot.ErrBadView) || string(got) != "x" {
				t.Fatalf("oversized view: %q, %v", got, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Assemble: %v", err)
		}
		checkSnapshot(t, got[1:], expected(tick, input, &me, nearEnts))
	}
}

func TestAssembleRefusesBadViews(t *testing.T) {
	ents := []snapshot.Entity{{EntityID: 1, X: 1, Y: 2}, {EntityID: 300, X: 3, VY: 4}}
	tab, _ := table(ents)
	tb := parsed(t, tab)
	tests := []struct {
		name string
		self uint32
		near []byte
	}{
		{"self past the table", 2, nil},
		{"nearby past the table", 0, le([]uint16{1, 2})},
		{"odd nearby", 0, []byte{1}},
		{"huge index", 1 << 31, nil},
		{"too large for a packet", 0, make([]byte, 2*snapshot.MaxSize/10)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tb.Assemble([]byte("kept"), 1, 2, 3, tc.self, tc.near)
			if !errors.Is(err, snapshot.ErrBadView) || string(got) != "kept" {
				t.Fatalf("Assemble = %q, %v; want ErrBadView and dst unchanged", got, err)
			}
		})
	}
	for name, bad := range map[string][]byte{
		"cut":         tab[:len(tab)-1],
		"wrong tag":   append([]byte{0x1a}, tab[1:]...),
		"long length": append(append([]byte{}, tab...), 0x22, 0x80, 0x01),
		"one byte":    append(append([]byte{}, tab...), 0x22),
	} {
		var tb snapshot.Table
		if err := tb.Parse(bad); !errors.Is(err, snapshot.ErrBadView) || tb.Len() != 0 {
			t.Errorf("Parse of %s entities = %v, Len %d", name, err, tb.Len())
		}
	}
}

// FuzzAssemble feeds arbitrary entities and indexes: Parse and Assemble
// must not panic, and what Assemble accepts fits MaxSize and starts with
// the header.
func FuzzAssemble(f *testing.F) {
	tab, _ := table([]snapshot.Entity{{EntityID: 1, X: 1}, {EntityID: 2, Y: 2}})
	f.Add(tab, uint32(0), []byte{1, 0, 0, 0})
	f.Add([]byte{0x22, 0x01, 0x08}, uint32(0), []byte{0, 0})
	f.Fuzz(func(t *testing.T, tab []byte, self uint32, nearby []byte) {
		var tb snapshot.Table
		if tb.Parse(tab) != nil {
			return
		}
		got, err := tb.Assemble(nil, 5, 6, 7, self, nearby)
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

func TestReader(t *testing.T) {
	ents := []snapshot.Entity{{EntityID: 1, X: 1}, {EntityID: 2, Y: 2}}
	tab, idx := table(ents)
	whole, _ := compose(nil, 3, 4, &snapshot.Entity{EntityID: 9, SessionID: 5}, nil)
	b := &realmv1.SnapshotBatch{ServerTick: 3, Entities: tab,
		Snapshots: []*realmv1.SessionSnapshot{{SessionId: 5, Snapshot: whole}},
		Views: []*realmv1.SessionView{
			{SessionId: 6, LastInputSequence: 4, Self: uint32(idx[1]), Nearby: le(idx[:1])},
			{SessionId: 7, Self: 2}, // the table has 2: bad
		}}
	// The world writes the entities after the views.
	noTable := proto.Clone(b).(*realmv1.SnapshotBatch)
	noTable.Entities = nil
	last := snapshot.AppendEntities(mustMarshal(t, noTable), tab)
	for name, enc := range map[string][]byte{"in field order": mustMarshal(t, b), "entities last": last} {
		var r snapshot.Reader
		var got []string
		err := r.Read(enc, func(session uint64, snap []byte, err error) {
			if err != nil {
				if !errors.Is(err, snapshot.ErrBadView) {
					t.Errorf("%s: session %d: %v", name, session, err)
				}
				got = append(got, fmt.Sprintf("%d:bad", session))
				return
			}
			var s realmv1.Snapshot
			if err := proto.Unmarshal(snap, &s); err != nil || s.GetServerTick() != 3 || s.GetSelf().GetSessionId() != session {
				t.Errorf("%s: snapshot of %d: %v, %v", name, session, &s, err)
			}
			got = append(got, fmt.Sprintf("%d:%d", session, len(s.GetNearby())))
		})
		if want := "[5:0 6:1 7:bad]"; err != nil || fmt.Sprint(got) != want {
			t.Fatalf("%s: Read = %v, saw %v, want %s", name, err, got, want)
		}
	}
	var r snapshot.Reader
	called := false
	if err := r.Read([]byte{0x0a, 0x05, 1}, func(uint64, []byte, error) { called = true }); !errors.Is(err, protofields.ErrMalformed) || called {
		t.Fatalf("malformed batch: Read = %v, fn called %v", err, called)
	}
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
