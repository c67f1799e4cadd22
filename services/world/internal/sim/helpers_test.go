package sim

import (
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/snapshot"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

func newWorld(t testing.TB, cfg Config) *World {
	t.Helper()
	w, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func bound(sid uint64, ingress string) *realmv1.EndpointBound {
	return &realmv1.EndpointBound{SessionId: sid, AccountId: sid + 1000, Endpoint: "127.0.0.1:9", IngressId: ingress}
}

func input(sid, seq uint64, x, y float32) *realmv1.SessionInput {
	return &realmv1.SessionInput{SessionId: sid, Input: &realmv1.PlayerInput{InputSequence: seq, Move: &realmv1.Vec2{X: x, Y: y}}}
}

func inputs(in ...*realmv1.SessionInput) *realmv1.InputBatch {
	return &realmv1.InputBatch{IngressId: "in-1", Inputs: in}
}

// setPosition teleports the player of sid (tests place entities exactly).
func setPosition(t testing.TB, w *World, sid uint64, x, y float32) {
	t.Helper()
	e, ok := w.sessions[sid]
	if !ok {
		t.Fatalf("no player %d", sid)
	}
	p, _, _, _, _ := w.spawn.Get(e)
	*p = Position{X: x, Y: y}
}

func mustPlayer(t testing.TB, w *World, sid uint64) PlayerState {
	t.Helper()
	p, ok := w.Player(sid)
	if !ok {
		t.Fatalf("no player %d", sid)
	}
	return p
}

// decoded is the content of one Step's batches.
type decoded struct {
	batches   map[string]int               // ingress id → number of batches
	snapshots map[uint64]*realmv1.Snapshot // session → snapshot
	route     map[uint64]string            // session → ingress id it was sent to
}

// decode checks and decodes the batches of one Step: every payload is a
// SnapshotBatch within the size limit, every snapshot within MaxSize, no
// session twice.
func decode(t testing.TB, w *World, batches []Batch) decoded {
	t.Helper()
	d := decoded{batches: map[string]int{}, snapshots: map[uint64]*realmv1.Snapshot{}, route: map[uint64]string{}}
	for _, b := range batches {
		if err := bus.ValidID(b.IngressID); err != nil {
			t.Fatalf("batch for %q: %v", b.IngressID, err)
		}
		if len(b.Payload) > w.cfg.MaxBatchBytes {
			t.Fatalf("batch of %d bytes > limit %d", len(b.Payload), w.cfg.MaxBatchBytes)
		}
		var sb realmv1.SnapshotBatch
		if err := proto.Unmarshal(b.Payload, &sb); err != nil {
			t.Fatalf("decode batch: %v", err)
		}
		if sb.GetServerTick() != w.Tick() {
			t.Fatalf("batch tick %d, world tick %d", sb.GetServerTick(), w.Tick())
		}
		if n := len(sb.GetSnapshots()) + len(sb.GetViews()); n != b.Snapshots || b.Snapshots == 0 {
			t.Fatalf("batch holds %d snapshots, Batch.Snapshots = %d", n, b.Snapshots)
		}
		d.batches[b.IngressID]++
		var r snapshot.Reader // as ingress reads it
		err := r.Read(b.Payload, func(session uint64, snap []byte, err error) {
			if err != nil {
				t.Fatalf("batch for %s: %v", b.IngressID, err)
			}
			if len(snap) > snapshot.MaxSize {
				t.Fatalf("snapshot of %d bytes > %d", len(snap), snapshot.MaxSize)
			}
			s := new(realmv1.Snapshot)
			if err := proto.Unmarshal(snap, s); err != nil {
				t.Fatalf("decode snapshot: %v", err)
			}
			if _, dup := d.snapshots[session]; dup {
				t.Fatalf("session %d has two snapshots", session)
			}
			if s.GetSelf().GetSessionId() != session {
				t.Fatalf("snapshot of session %d shows self %d", session, s.GetSelf().GetSessionId())
			}
			d.snapshots[session], d.route[session] = s, b.IngressID
		})
		if err != nil {
			t.Fatalf("batch for %s: %v", b.IngressID, err)
		}
	}
	return d
}

// nearbySessions returns the sessions of the players s shows nearby, in
// ascending order. Snapshots name nearby entities by entity id only, and
// in no particular order.
func nearbySessions(t testing.TB, w *World, s *realmv1.Snapshot) []uint64 {
	t.Helper()
	var out []uint64
	for _, e := range s.GetNearby() {
		if e.GetSessionId() != 0 {
			t.Fatalf("nearby entity %d carries session id %d", e.GetEntityId(), e.GetSessionId())
		}
		out = append(out, sessionOf(t, w, e.GetEntityId()))
	}
	slices.Sort(out)
	return out
}

// sessionOf returns the session of the player with entity id id.
func sessionOf(t testing.TB, w *World, id uint64) uint64 {
	t.Helper()
	for sid := range w.sessions {
		if p, _ := w.Player(sid); p.Ident.EntityID == id {
			return sid
		}
	}
	t.Fatalf("no player has entity id %d", id)
	return 0
}

func protoEqual(a, b proto.Message) bool { return proto.Equal(a, b) }

func mustMarshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
