package ingress

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/snapshot"
	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// TestSnapshotsBatched publishes one SnapshotBatch larger than a
// WriteBatch for several sessions: each client gets its snapshots, in order
// and each sealed with its own key and sequence.
func TestSnapshotsBatched(t *testing.T) {
	const perClient = 60 // 3 clients: 180 snapshots, three WriteBatch calls
	e := newEnv(t, Config{ID: "ingress-snapb"})
	clients := []*client{e.newClient(31), e.newClient(32), e.newClient(33)}
	for _, c := range clients {
		c.handshake()
	}
	batch := &realmv1.SnapshotBatch{ServerTick: 1}
	for i := range perClient * len(clients) {
		enc, err := proto.Marshal(&realmv1.Snapshot{ServerTick: uint64(i)})
		if err != nil {
			t.Fatal(err)
		}
		if i == 70 {
			batch.Snapshots = append(batch.Snapshots, &realmv1.SessionSnapshot{SessionId: 999, Snapshot: enc})
		}
		batch.Snapshots = append(batch.Snapshots,
			&realmv1.SessionSnapshot{SessionId: 31 + uint64(i%len(clients)), Snapshot: enc})
	}
	if err := e.obs.Publish(bus.IngressOutSubject("ingress-snapb"), batch); err != nil {
		t.Fatal(err)
	}
	for ci, c := range clients {
		for k := range perClient {
			got := new(realmv1.Snapshot)
			c.open(wire.TypeSnapshot, got) // checks the key and that sequences rise
			if want := uint64(k*len(clients) + ci); got.GetServerTick() != want {
				t.Fatalf("client %d snapshot %d has tick %d, want %d", ci, k, got.GetServerTick(), want)
			}
		}
	}
	waitFor(t, "snapshots counted", func() bool {
		return counter(t, e.svc.m.snapshots) == perClient*3 && counter(t, e.svc.m.skipped[skipUnknown]) == 1
	})
	if got := counter(t, e.svc.m.skipped[skipSendError]); got != 0 {
		t.Errorf("send errors = %v, want 0", got)
	}
}

// viewBatch returns a SnapshotBatch of views, one per session of sessions,
// each showing itself and the other sessions' entities, and the Snapshot
// each session must receive from it.
func viewBatch(tick uint64, sessions ...uint64) (*realmv1.SnapshotBatch, map[uint64]*realmv1.Snapshot) {
	batch := &realmv1.SnapshotBatch{ServerTick: tick}
	state := func(i int) *realmv1.EntityState {
		return &realmv1.EntityState{EntityId: uint64(i + 1), Position: &realmv1.Vec2{X: float32(i), Y: 2}, Velocity: &realmv1.Vec2{X: 1}}
	}
	for i := range sessions {
		batch.Entities = snapshot.AppendNearby(batch.Entities, &snapshot.Entity{EntityID: uint64(i + 1), X: float32(i), Y: 2, VX: 1})
	}
	want := make(map[uint64]*realmv1.Snapshot)
	for i, sid := range sessions {
		v := &realmv1.SessionView{SessionId: sid, LastInputSequence: uint64(10 + i), Self: uint32(i)}
		self := state(i)
		self.SessionId = sid
		s := &realmv1.Snapshot{ServerTick: tick, LastInputSequence: uint64(10 + i), Self: self}
		for j := range sessions {
			if j != i {
				v.Nearby = append(v.Nearby, byte(j), 0) // 2-byte little-endian index
				s.Nearby = append(s.Nearby, state(j))
			}
		}
		batch.Views = append(batch.Views, v)
		want[sid] = s
	}
	return batch, want
}

// TestSnapshotViews publishes a SnapshotBatch of views: each client gets
// the Snapshot its view describes, assembled from the batch's entities; a
// view naming an entity the batch does not have is skipped and counted.
func TestSnapshotViews(t *testing.T) {
	e := newEnv(t, Config{ID: "ingress-views"})
	clients := []*client{e.newClient(51), e.newClient(52), e.newClient(53)}
	for _, c := range clients {
		c.handshake()
	}
	batch, want := viewBatch(42, 51, 52, 53)
	batch.Views = append(batch.Views, &realmv1.SessionView{SessionId: 52, Self: 3}) // the table has 3
	if err := e.obs.Publish(bus.IngressOutSubject("ingress-views"), batch); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		got := new(realmv1.Snapshot)
		c.open(wire.TypeSnapshot, got)
		if w := want[c.id]; !proto.Equal(got, w) {
			t.Fatalf("session %d got %v, want %v", c.id, got, w)
		}
	}
	waitFor(t, "the bad view counted", func() bool {
		return counter(t, e.svc.m.snapshots) == 3 && counter(t, e.svc.m.skipped[skipBadView]) == 1
	})
}

// TestSnapshotAllocs checks that sealing and sending snapshots allocates
// nothing in steady state.
func TestSnapshotAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool (nonces, sendmmsg scratch) allocate")
	}
	e := newEnv(t, Config{ID: "ingress-snapa"})
	c := e.newClient(41)
	c.handshake()
	enc, err := proto.Marshal(&realmv1.Snapshot{ServerTick: 9, Self: &realmv1.EntityState{EntityId: 1, SessionId: 41}})
	if err != nil {
		t.Fatal(err)
	}
	batch := &realmv1.SnapshotBatch{ServerTick: 9}
	for range 100 {
		batch.Snapshots = append(batch.Snapshots, &realmv1.SessionSnapshot{SessionId: 41, Snapshot: enc})
	}
	// Called directly: nothing is published on the subscription, so this is
	// its only caller. The client does not read; loopback drops the excess.
	encBatch, err := proto.Marshal(batch)
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() { _ = e.svc.onSnapshots(encBatch) })
	if allocs != 0 {
		t.Errorf("onSnapshots of %d snapshots allocates %.1f times, want 0", len(batch.Snapshots), allocs)
	}
	if got := counter(t, e.svc.m.snapshots); got != 21*100 {
		t.Errorf("snapshots sent = %v, want %d", got, 21*100)
	}
	// Views are assembled in a buffer of the service's: no allocation either.
	views, _ := viewBatch(9, 41, 41, 41, 41)
	encViews, err := proto.Marshal(views)
	if err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(20, func() { _ = e.svc.onSnapshots(encViews) }); allocs != 0 {
		t.Errorf("onSnapshots of %d views allocates %.1f times, want 0", len(views.Views), allocs)
	}
}

// BenchmarkSnapshots measures sealing and sending a SnapshotBatch of 256
// snapshots (about 200 bytes each) for 16 bound sessions on 16 loopback
// client sockets, which do not read (loopback drops what their buffers
// cannot hold). "writeto" is the previous path, one WriteTo per snapshot,
// in the same run; "writebatch" is onSnapshots. ns/op is per snapshot.
func BenchmarkSnapshots(b *testing.B) {
	const sessions, perBatch = 16, 256
	e := newEnv(b, benchConfig)
	payload, err := proto.Marshal(&realmv1.Snapshot{
		ServerTick: 1, Self: &realmv1.EntityState{EntityId: 1, Position: &realmv1.Vec2{X: 1, Y: 2}},
		Nearby: make([]*realmv1.EntityState, 8),
	})
	if err != nil {
		b.Fatal(err)
	}
	payload = append(payload, make([]byte, max(0, 200-len(payload)))...)
	batch := &realmv1.SnapshotBatch{ServerTick: 1}
	for i := range sessions {
		c := e.newClient(uint64(100 + i))
		c.handshake()
	}
	for i := range perBatch {
		batch.Snapshots = append(batch.Snapshots,
			&realmv1.SessionSnapshot{SessionId: uint64(100 + i%sessions), Snapshot: payload})
	}
	s := e.svc
	run := func(b *testing.B, send func()) {
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i += perBatch {
			send()
		}
	}
	b.Run("writeto", func(b *testing.B) {
		buf := make([]byte, 0, wire.MaxPacketSize)
		run(b, func() {
			for _, ss := range batch.GetSnapshots() {
				st, _ := s.reg.Get(ss.GetSessionId())
				ep, _ := s.reg.Endpoint(ss.GetSessionId())
				pkt, err := wire.SealPacket(buf[:0], st.s2c, wire.TypeSnapshot, st.seq.Next(), ss.GetSnapshot())
				if err != nil {
					b.Fatal(err)
				}
				if err := s.srv.WriteTo(pkt, ep); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	enc, err := proto.Marshal(batch)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("writebatch", func(b *testing.B) { run(b, func() { _ = s.onSnapshots(enc) }) })
}
