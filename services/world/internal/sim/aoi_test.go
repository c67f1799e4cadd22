package sim

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ecs-realm/realm/libs/snapshot"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// TestSnapshotsMatchBruteForce steps a world of moving players through
// spawns, despawns, teleports, unbinds and re-binds, and checks every
// snapshot of every tick against the brute-force answer: the nearest
// entities within the radius, nearest first, at most AOICap, cut where the
// next would not fit snapshot.MaxSize. The neighbour lists (grid.Lists)
// must never show a stale answer.
func TestSnapshotsMatchBruteForce(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{name: "default speed", cfg: Config{WorldSize: 200, AOICap: 16}},
		{name: "fast, size-capped", cfg: Config{WorldSize: 200, AOICap: 60, MaxSpeed: 40}}, // 60 do not fit 1300 bytes
		{name: "every third tick", cfg: Config{WorldSize: 200, AOICap: 16, SnapshotEvery: 3, MaxSpeed: 20}},
		{name: "two workers", cfg: Config{WorldSize: 200, AOICap: 16, Workers: 2}},
		{name: "spread over three ticks", cfg: Config{WorldSize: 200, AOICap: 16, SnapshotEvery: 3, SnapshotSpread: true, MaxSpeed: 20}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, tc.cfg)
			rng := rand.New(rand.NewPCG(5, 5))
			var sids []uint64
			spawn := func() {
				sid := rng.Uint64() | 1
				w.Apply(bound(sid, []string{"in-a", "in-b"}[rng.IntN(2)]))
				sids = append(sids, sid)
			}
			for range 500 { // about 95 players within each radius
				spawn()
			}
			seq := uint64(0)
			for tick := range 30 {
				seq++
				batch := &realmv1.InputBatch{}
				for _, sid := range sids {
					batch.Inputs = append(batch.Inputs, input(sid, seq, rng.Float32()*2-1, rng.Float32()*2-1))
				}
				w.Apply(batch)
				if tick > 0 { // churn, after the first lists exist
					for range 3 {
						spawn()
					}
					for range 2 {
						i := rng.IntN(len(sids))
						w.Apply(&realmv1.SessionClosed{SessionId: sids[i]})
						sids = slices.Delete(sids, i, i+1)
					}
					for range 3 {
						setPosition(t, w, sids[rng.IntN(len(sids))], rng.Float32()*200, rng.Float32()*200)
					}
					sid := sids[rng.IntN(len(sids))]
					w.Apply(&realmv1.EndpointUnbound{SessionId: sid, IngressId: mustPlayer(t, w, sid).Player.IngressID,
						Reason: realmv1.UnbindReason_UNBIND_REASON_IDLE_TIMEOUT})
					w.Apply(bound(sids[rng.IntN(len(sids))], "in-b"))
				}
				d := decode(t, w, w.Step())
				if !w.cfg.SnapshotSpread && (tick+1)%w.cfg.SnapshotEvery != 0 {
					continue
				}
				checkAgainstBruteForce(t, w, sids, d)
			}
			s := w.Stats()
			t.Logf("stats: %d snapshots (%d cut by size), %d list builds, %d refreshes, %d fallbacks",
				s.Snapshots, s.SnapshotsTruncated, s.AOIBuilds, s.AOIRefreshes, s.AOIFallbacks)
			// The size-capped case must cut snapshots (nearest first), the
			// others must not: 16 entities always fit.
			if capped := tc.cfg.AOICap*snapshot.MaxEntitySize > snapshot.MaxSize; capped != (s.SnapshotsTruncated > 0) {
				t.Fatalf("%d snapshots cut by size, with a cap of %d", s.SnapshotsTruncated, tc.cfg.AOICap)
			}
			// At the default speed most queries must be served by a kept
			// list (else this test would not test them).
			if tc.cfg.MaxSpeed == 0 && s.AOIBuilds*4 > s.Snapshots {
				t.Fatalf("%d list builds for %d snapshots: the lists are not kept", s.AOIBuilds, s.Snapshots)
			}
		})
	}
}

// checkAgainstBruteForce checks the snapshots of a tick: one for every bound
// player whose turn it is (SnapshotSpread), none for the others, and each
// the brute-force answer.
func checkAgainstBruteForce(t *testing.T, w *World, sids []uint64, d decoded) {
	t.Helper()
	n := uint64(w.cfg.SnapshotEvery)
	type ent struct {
		x, y  float32
		state snapshot.Entity
	}
	all := make([]ent, 0, len(sids))
	for _, sid := range sids {
		p := mustPlayer(t, w, sid)
		all = append(all, ent{p.Position.X, p.Position.Y, snapshot.Entity{
			EntityID: p.Ident.EntityID, SessionID: sid, X: p.Position.X, Y: p.Position.Y,
			VX: p.Velocity.X, VY: p.Velocity.Y}})
	}
	r2 := w.radius * w.radius
	bound := 0
	for _, sid := range sids {
		p := mustPlayer(t, w, sid)
		s, ok := d.snapshots[sid]
		if !p.Player.Bound || (w.cfg.SnapshotSpread && turn(sid, n) != w.Tick()%n) {
			if ok {
				t.Fatalf("tick %d: session %d got a snapshot out of turn", w.Tick(), sid)
			}
			continue
		}
		bound++
		if !ok {
			t.Fatalf("tick %d: session %d got no snapshot", w.Tick(), sid)
		}
		// The brute-force answer: squared distances, sorted.
		type cand struct {
			d2 float32
			e  *snapshot.Entity
		}
		var want []cand
		x, y := p.Position.X, p.Position.Y
		for i := range all {
			e := &all[i]
			if e.state.SessionID == sid {
				continue
			}
			dx, dy := e.x-x, e.y-y
			if d2 := dx*dx + dy*dy; d2 <= r2 {
				want = append(want, cand{d2, &e.state})
			}
		}
		slices.SortFunc(want, func(a, b cand) int {
			if a.d2 < b.d2 {
				return -1
			}
			if a.d2 > b.d2 {
				return 1
			}
			return 0
		})
		want = want[:min(len(want), w.cfg.AOICap)]
		got := s.GetNearby()
		if len(got) > len(want) {
			t.Fatalf("tick %d: session %d sees %d entities, brute force %d", w.Tick(), sid, len(got), len(want))
		}
		// In any order, the nearest of the brute-force answer.
		d2s := make([]float32, 0, len(got))
		for _, e := range got {
			dx, dy := e.GetPosition().GetX()-x, e.GetPosition().GetY()-y
			d2s = append(d2s, dx*dx+dy*dy)
		}
		slices.Sort(d2s)
		for i, d2 := range d2s {
			if d2 != want[i].d2 {
				t.Fatalf("tick %d: session %d, %d-th nearest entity at d²=%v, brute force %v", w.Tick(), sid, i, d2, want[i].d2)
			}
		}
		if len(got) < len(want) { // cut by size: the next must not fit
			size := len(mustMarshal(t, s))
			if size+snapshot.EntitySize(want[len(got)].e) <= snapshot.MaxSize {
				t.Fatalf("tick %d: session %d sees %d of %d entities in %d bytes", w.Tick(), sid, len(got), len(want), size)
			}
		}
	}
	if bound != len(d.snapshots) {
		t.Fatalf("tick %d: %d snapshots for %d bound players", w.Tick(), len(d.snapshots), bound)
	}
}
