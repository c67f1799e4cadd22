package snapshot_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/snapshot"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

func TestRecordMatchesProtoMarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	tests := []struct {
		name    string
		nearby  int // entities besides self
		session uint64
		tick    uint64
		input   uint64
	}{
		{name: "empty header, short", nearby: 0, session: 1, tick: 0, input: 0},
		{name: "short", nearby: 1, session: 1 << 40, tick: 7, input: 3},
		{name: "just under 128", nearby: 2, session: 5, tick: 1, input: 0},
		{name: "long", nearby: 20, session: 1<<64 - 1, tick: 1 << 33, input: 1 << 50},
		{name: "full", nearby: 40, session: 12345, tick: 99, input: 98},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			self := randomEntity(rng)
			nearby := make([]snapshot.Entity, tc.nearby)
			for i := range nearby {
				nearby[i] = randomEntity(rng)
			}
			snap, _ := snapshot.Append(nil, tc.tick, tc.input, &self, nearby)
			want := &realmv1.SnapshotBatch{ServerTick: 5, Snapshots: []*realmv1.SessionSnapshot{
				{SessionId: 77, Snapshot: []byte("x")}, // a record before, which must stay intact
				{SessionId: tc.session, Snapshot: snap},
			}}

			b := snapshot.AppendBatchHeader(nil, 5)
			b = snapshot.AppendSessionHeader(b, 77, 1)
			b = append(b, 'x')
			b, rec := snapshot.BeginRecord(b, tc.session, tc.tick, tc.input)
			b = snapshot.AppendSelf(b, snapshot.AppendNearby(nil, &self), self.SessionID)
			for _, e := range nearby {
				if rec.Size(b)+snapshot.EntitySize(&e) > snapshot.MaxSize {
					break
				}
				b = snapshot.AppendNearby(b, &e)
			}
			if rec.Size(b) != len(snap) {
				t.Fatalf("Size = %d, want %d", rec.Size(b), len(snap))
			}
			b = snapshot.EndRecord(b, rec)

			ref, err := proto.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, ref) {
				var got realmv1.SnapshotBatch
				err := proto.Unmarshal(b, &got)
				t.Fatalf("bytes differ from proto.Marshal: decoded %v (%v), want %v", &got, err, want)
			}
		})
	}
}

func TestRecordAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	self := snapshot.AppendNearby(nil, new(randomEntity(rng)))
	buf := make([]byte, 0, 4*snapshot.MaxSize)
	allocs := testing.AllocsPerRun(100, func() {
		b, rec := snapshot.BeginRecord(buf[:0], 3, 1, 2)
		b = snapshot.EndRecord(snapshot.AppendSelf(b, self, 3), rec) // short: moved
		b, rec = snapshot.BeginRecord(b, 3, 1, 2)
		for range 10 {
			b = append(b, self...)
		}
		_ = snapshot.EndRecord(b, rec)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run, want 0", allocs)
	}
}
