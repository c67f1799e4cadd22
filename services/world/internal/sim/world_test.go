package sim

import (
	"errors"
	"math"
	"slices"
	"testing"

	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

func TestConfigWithDefaults(t *testing.T) {
	c, err := Config{}.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if c.TickRate != 20 || c.SnapshotEvery != 1 || c.MaxSpeed != 5 || c.WorldSize != 1000 ||
		c.AOIRadius != 50 || c.AOICap != 32 || c.Workers < 1 || c.MaxBatchBytes != 256<<10 {
		t.Fatalf("defaults = %+v", c)
	}
	bad := []struct {
		name string
		cfg  Config
	}{
		{"negative tick rate", Config{TickRate: -1}},
		{"tick rate too high", Config{TickRate: MaxTickRate + 1}},
		{"negative snapshot every", Config{SnapshotEvery: -2}},
		{"negative speed", Config{MaxSpeed: -1}},
		{"NaN speed", Config{MaxSpeed: math.NaN()}},
		{"infinite world", Config{WorldSize: math.Inf(1)}},
		{"negative radius", Config{AOIRadius: -5}},
		{"negative cap", Config{AOICap: -1}},
		{"negative workers", Config{Workers: -1}},
		{"tiny batches", Config{MaxBatchBytes: 100}},
		{"huge batches", Config{MaxBatchBytes: 2 << 20}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg, nil); !errors.Is(err, ErrBadConfig) {
				t.Fatalf("New = %v, want ErrBadConfig", err)
			}
		})
	}
}

func TestInputMovesAtMostMaxSpeed(t *testing.T) {
	tests := []struct {
		name   string
		mx, my float32
		wantDX float64 // per second
		wantDY float64
	}{
		{name: "unit right", mx: 1, my: 0, wantDX: 5},
		{name: "half up", mx: 0, my: 0.5, wantDY: 2.5},
		{name: "too long is clamped", mx: 30, my: 0, wantDX: 5},
		{name: "diagonal clamped to length 1", mx: 1, my: -1, wantDX: 5 / math.Sqrt2, wantDY: -5 / math.Sqrt2},
		{name: "huge values do not overflow", mx: math.MaxFloat32, my: math.MaxFloat32, wantDX: 5 / math.Sqrt2, wantDY: 5 / math.Sqrt2},
		{name: "no move", mx: 0, my: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, Config{TickRate: 20, MaxSpeed: 5})
			w.Apply(bound(7, "in-1"))
			setPosition(t, w, 7, 500, 500)
			w.Apply(inputs(input(7, 1, tc.mx, tc.my)))
			for range 20 { // one second
				w.Step()
			}
			p := mustPlayer(t, w, 7)
			dx, dy := float64(p.Position.X)-500, float64(p.Position.Y)-500
			if math.Abs(dx-tc.wantDX) > 1e-3 || math.Abs(dy-tc.wantDY) > 1e-3 {
				t.Fatalf("moved (%v, %v) in 1 s, want (%v, %v)", dx, dy, tc.wantDX, tc.wantDY)
			}
			if d := math.Hypot(dx, dy); d > 5+1e-3 {
				t.Fatalf("moved %v units in 1 s, faster than max speed 5", d)
			}
			if v := math.Hypot(float64(p.Velocity.X), float64(p.Velocity.Y)); v > 5+1e-4 {
				t.Fatalf("speed %v > 5", v)
			}
		})
	}
}

func TestStaleInputsIgnored(t *testing.T) {
	w := newWorld(t, Config{})
	w.Apply(bound(7, "in-1"))
	setPosition(t, w, 7, 500, 500)

	// One batch, out of order: 5 is the newest and wins; 3 and the
	// duplicate 5 are stale.
	w.Apply(inputs(input(7, 5, 1, 0), input(7, 3, -1, 0), input(7, 5, 0, 1)))
	w.Step()
	p := mustPlayer(t, w, 7)
	if p.Input.Sequence != 5 || p.Position.X <= 500 || p.Position.Y != 500 {
		t.Fatalf("after 5,3,5: input %+v at %+v, want sequence 5 moving +x", p.Input, p.Position)
	}
	// A later batch with an older input changes nothing.
	w.Apply(inputs(input(7, 4, -1, 0)))
	x := p.Position.X
	w.Step()
	p = mustPlayer(t, w, 7)
	if p.Input.Sequence != 5 || p.Position.X <= x {
		t.Fatalf("old input 4 was applied: %+v at %+v", p.Input, p.Position)
	}
	// In a batch 9 then 8: only 9 counts.
	w.Apply(inputs(input(7, 9, 0, -1), input(7, 8, 1, 0)))
	w.Step()
	if p = mustPlayer(t, w, 7); p.Input.Sequence != 9 || p.Velocity.X != 0 || p.Velocity.Y >= 0 {
		t.Fatalf("after 9,8: %+v velocity %+v, want sequence 9 moving -y", p.Input, p.Velocity)
	}
	if s := w.Stats(); s.InputsApplied != 2 || s.InputsStale != 4 {
		t.Fatalf("applied %d stale %d, want 2 and 4", s.InputsApplied, s.InputsStale)
	}
}

func TestBadInputsAndEvents(t *testing.T) {
	w := newWorld(t, Config{})
	w.Apply(bound(7, "in-1"))
	nan := float32(math.NaN())
	w.Apply(inputs(
		input(8, 1, 1, 0),   // unknown session
		input(7, 1, nan, 0), // non-finite
		input(7, 2, float32(math.Inf(1)), 0),
		&realmv1.SessionInput{SessionId: 7}, // no input
		nil,                                 // nil element
	))
	w.Apply(&realmv1.EndpointBound{SessionId: 0, IngressId: "in-1"})   // zero session
	w.Apply(&realmv1.EndpointBound{SessionId: 9, IngressId: "bad.id"}) // not a subject token
	w.Apply(&realmv1.EndpointBound{SessionId: 10, IngressId: ""})      // no ingress
	w.Apply(&realmv1.EndpointUnbound{SessionId: 0})                    // zero session
	w.Apply(&realmv1.SessionClosed{SessionId: 0})                      // zero session
	w.Apply(&realmv1.Pong{})                                           // not an event
	w.Apply(nil)                                                       // nothing
	w.Step()
	s := w.Stats()
	if s.InputsUnknown != 2 || s.InputsInvalid != 3 || s.InputsApplied != 0 {
		t.Fatalf("inputs: unknown %d invalid %d applied %d, want 2, 3, 0", s.InputsUnknown, s.InputsInvalid, s.InputsApplied)
	}
	if s.BadEvents != 7 || s.Players != 1 {
		t.Fatalf("bad events %d players %d, want 7 and 1", s.BadEvents, s.Players)
	}
	if p := mustPlayer(t, w, 7); p.Input.Sequence != 0 || p.Velocity != (Velocity{}) {
		t.Fatalf("a rejected input changed the player: %+v", p)
	}
}

func TestWorldBounds(t *testing.T) {
	tests := []struct {
		name         string
		x, y         float32
		mx, my       float32
		wantX, wantY float32
	}{
		{name: "left", x: 1, y: 50, mx: -1, wantX: 0, wantY: 50},
		{name: "right", x: 99, y: 50, mx: 1, wantX: 100, wantY: 50},
		{name: "bottom", x: 50, y: 0.5, my: -1, wantX: 50, wantY: 0},
		{name: "top right corner", x: 99.9, y: 99.9, mx: 1, my: 1, wantX: 100, wantY: 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, Config{WorldSize: 100, MaxSpeed: 10})
			w.Apply(bound(1, "in-1"))
			setPosition(t, w, 1, tc.x, tc.y)
			w.Apply(inputs(input(1, 1, tc.mx, tc.my)))
			for range 40 {
				w.Step()
			}
			if p := mustPlayer(t, w, 1); p.Position.X != tc.wantX || p.Position.Y != tc.wantY {
				t.Fatalf("at %+v, want (%v, %v)", p.Position, tc.wantX, tc.wantY)
			}
		})
	}
}

func TestSpawnPointDeterministicAndSpread(t *testing.T) {
	var quadrant [4]int
	for sid := uint64(1); sid <= 10000; sid++ {
		x, y := SpawnPoint(sid, 1000)
		if x2, y2 := SpawnPoint(sid, 1000); x2 != x || y2 != y {
			t.Fatalf("SpawnPoint(%d) not deterministic", sid)
		}
		if x < 0 || x >= 1000 || y < 0 || y >= 1000 {
			t.Fatalf("SpawnPoint(%d) = (%v, %v) outside the map", sid, x, y)
		}
		q := 0
		if x >= 500 {
			q++
		}
		if y >= 500 {
			q += 2
		}
		quadrant[q]++
	}
	for q, n := range quadrant {
		if n < 2200 || n > 2800 { // 2500 expected; 6σ ≈ 260
			t.Fatalf("quadrant %d has %d of 10000 spawn points: %v", q, n, quadrant)
		}
	}

	w := newWorld(t, Config{})
	w.Apply(bound(42, "in-1"))
	wx, wy := SpawnPoint(42, 1000)
	if p := mustPlayer(t, w, 42); p.Position != (Position{wx, wy}) || p.Ident.EntityID != 1 {
		t.Fatalf("spawned %+v, want at (%v, %v) with entity id 1", p, wx, wy)
	}
}

func TestDespawnOnSessionClosed(t *testing.T) {
	w := newWorld(t, Config{TickRate: 10})
	w.Apply(bound(1, "in-1"))
	w.Apply(bound(2, "in-1"))
	setPosition(t, w, 1, 100, 100)
	setPosition(t, w, 2, 101, 100)
	if d := decode(t, w, w.Step()); !slices.Equal(nearbySessions(t, w, d.snapshots[1]), []uint64{2}) {
		t.Fatalf("before close: player 1 sees %v, want [2]", nearbySessions(t, w, d.snapshots[1]))
	}

	w.Apply(&realmv1.SessionClosed{SessionId: 2, Reason: realmv1.CloseReason_CLOSE_REASON_LOGOUT})
	if _, ok := w.Player(2); ok {
		t.Fatal("player 2 still exists after session.closed")
	}
	d := decode(t, w, w.Step())
	if len(d.snapshots) != 1 || len(d.snapshots[1].GetNearby()) != 0 {
		t.Fatalf("after close: snapshots %v", d.snapshots)
	}

	// A bound delivered late (published before the close) does not respawn.
	w.Apply(bound(2, "in-1"))
	if _, ok := w.Player(2); ok {
		t.Fatal("a late endpoint.bound respawned a closed session")
	}
	// After the tombstone expires (60 s = 600 ticks) the id is forgotten.
	for range 600 {
		w.Step()
	}
	w.Apply(bound(2, "in-1"))
	if _, ok := w.Player(2); !ok {
		t.Fatal("the closed session was remembered forever")
	}
	if s := w.Stats(); s.Despawned != 1 || s.BindsAfterClose != 1 || s.Players != 2 || w.closed.len() != 0 {
		t.Fatalf("stats %+v, tombstones %d", s, w.closed.len())
	}
}

func TestUnbound(t *testing.T) {
	w := newWorld(t, Config{})
	w.Apply(bound(1, "in-a"))
	w.Apply(bound(2, "in-a"))

	// An unbound from another instance is stale: nothing changes.
	w.Apply(&realmv1.EndpointUnbound{SessionId: 1, IngressId: "in-b", Reason: realmv1.UnbindReason_UNBIND_REASON_MOVED})
	// An unbound for another endpoint of the same instance is stale too.
	w.Apply(&realmv1.EndpointUnbound{SessionId: 1, IngressId: "in-a", Endpoint: "10.0.0.1:1"})
	// Unknown session.
	w.Apply(&realmv1.EndpointUnbound{SessionId: 99, IngressId: "in-a"})
	if d := decode(t, w, w.Step()); len(d.snapshots) != 2 {
		t.Fatalf("%d snapshots after stale unbinds, want 2", len(d.snapshots))
	}

	// The owner's unbound stops snapshots and keeps the entity.
	w.Apply(&realmv1.EndpointUnbound{SessionId: 1, IngressId: "in-a", Endpoint: "127.0.0.1:9",
		Reason: realmv1.UnbindReason_UNBIND_REASON_IDLE_TIMEOUT})
	d := decode(t, w, w.Step())
	if _, ok := d.snapshots[1]; ok || len(d.snapshots) != 1 {
		t.Fatalf("unbound player still gets snapshots: %v", d.snapshots)
	}
	if p := mustPlayer(t, w, 1); p.Player.Bound {
		t.Fatal("player still bound")
	}
	// Its entity is still seen by others.
	setPosition(t, w, 1, 10, 10)
	setPosition(t, w, 2, 12, 10)
	if d := decode(t, w, w.Step()); !slices.Equal(nearbySessions(t, w, d.snapshots[2]), []uint64{1}) {
		t.Fatalf("player 2 sees %v, want the unbound player 1", nearbySessions(t, w, d.snapshots[2]))
	}

	// Reason SESSION_CLOSED despawns.
	w.Apply(&realmv1.EndpointUnbound{SessionId: 2, IngressId: "in-a", Reason: realmv1.UnbindReason_UNBIND_REASON_SESSION_CLOSED})
	if _, ok := w.Player(2); ok {
		t.Fatal("unbound with SESSION_CLOSED did not despawn")
	}
	if s := w.Stats(); s.StaleUnbinds != 3 || s.Unbound != 1 || s.BoundPlayers != 0 || s.Players != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestRebindChangesRoute(t *testing.T) {
	w := newWorld(t, Config{})
	w.Apply(bound(1, "in-a"))
	w.Apply(inputs(input(1, 1, 1, 0)))
	d := decode(t, w, w.Step())
	if d.route[1] != "in-a" {
		t.Fatalf("snapshot went to %q, want in-a", d.route[1])
	}
	before := mustPlayer(t, w, 1)

	w.Apply(&realmv1.EndpointBound{SessionId: 1, Endpoint: "10.1.1.1:5000", IngressId: "in-b"})
	after := mustPlayer(t, w, 1)
	if after.Position != before.Position || after.Ident != before.Ident || after.Input != before.Input {
		t.Fatalf("re-bind respawned: before %+v after %+v", before, after)
	}
	if after.Player.IngressID != "in-b" || after.Player.Endpoint != "10.1.1.1:5000" {
		t.Fatalf("route not updated: %+v", after.Player)
	}
	d = decode(t, w, w.Step())
	if d.route[1] != "in-b" || d.batches["in-a"] != 0 {
		t.Fatalf("after re-bind: routes %v batches %v", d.route, d.batches)
	}
	// The old instance's unbound, arriving after the move, is stale.
	w.Apply(&realmv1.EndpointUnbound{SessionId: 1, IngressId: "in-a", Endpoint: "127.0.0.1:9",
		Reason: realmv1.UnbindReason_UNBIND_REASON_MOVED})
	if d = decode(t, w, w.Step()); d.route[1] != "in-b" {
		t.Fatalf("a stale unbound stopped snapshots: %v", d.route)
	}
	// A resync re-announcement of the same route changes nothing.
	w.Apply(&realmv1.EndpointBound{SessionId: 1, Endpoint: "10.1.1.1:5000", IngressId: "in-b", Resync: true})
	if s := w.Stats(); s.Rebound != 1 || s.Spawned != 1 {
		t.Fatalf("rebound %d spawned %d, want 1 and 1", s.Rebound, s.Spawned)
	}
}

func TestSnapshotContent(t *testing.T) {
	w := newWorld(t, Config{AOIRadius: 50, AOICap: 3})
	// Player 1 at (100,100); 2..5 near at distances 30, 10, 20, 40; 6 on
	// the radius (included); 7 and 8 far.
	pos := map[uint64][2]float32{1: {100, 100}, 2: {130, 100}, 3: {100, 110}, 4: {80, 100}, 5: {100, 60},
		6: {150, 100}, 7: {151, 100}, 8: {900, 900}}
	for sid := uint64(1); sid <= 8; sid++ {
		w.Apply(bound(sid, "in-1"))
		setPosition(t, w, sid, pos[sid][0], pos[sid][1])
	}
	w.Apply(inputs(input(1, 41, 0, 0)))
	d := decode(t, w, w.Step())

	s := d.snapshots[1]
	if s.GetServerTick() != 1 || s.GetLastInputSequence() != 41 {
		t.Fatalf("tick %d last input %d, want 1 and 41", s.GetServerTick(), s.GetLastInputSequence())
	}
	if self := s.GetSelf(); self.GetSessionId() != 1 || self.GetPosition().GetX() != 100 || self.GetEntityId() != 1 {
		t.Fatalf("self = %v", self)
	}
	// The nearest 3 (at 10, 20 and 30).
	if got := nearbySessions(t, w, s); !slices.Equal(got, []uint64{2, 3, 4}) {
		t.Fatalf("player 1 sees %v, want [2 3 4]", got)
	}
	// Without the cap: within the radius (boundary included), not beyond.
	w2 := newWorld(t, Config{AOIRadius: 50, AOICap: 100})
	for sid := uint64(1); sid <= 8; sid++ {
		w2.Apply(bound(sid, "in-1"))
		setPosition(t, w2, sid, pos[sid][0], pos[sid][1])
	}
	d = decode(t, w2, w2.Step())
	if got := nearbySessions(t, w2, d.snapshots[1]); !slices.Equal(got, []uint64{2, 3, 4, 5, 6}) {
		t.Fatalf("player 1 sees %v, want [2 3 4 5 6]", got)
	}
	if got := nearbySessions(t, w2, d.snapshots[8]); len(got) != 0 {
		t.Fatalf("far player 8 sees %v", got)
	}
	// Positions and velocities are those after the tick's movement.
	for _, e := range d.snapshots[1].GetNearby() {
		p := mustPlayer(t, w2, sessionOf(t, w2, e.GetEntityId()))
		if e.GetPosition().GetX() != p.Position.X || e.GetPosition().GetY() != p.Position.Y || e.GetEntityId() != p.Ident.EntityID {
			t.Fatalf("entity %v, player %+v", e, p)
		}
	}
}

func TestSnapshotSizeCapEnforced(t *testing.T) {
	// 60 moving players within a few units: all within the radius and the
	// cap, but 60 entities (about 30 bytes each) do not fit 1300 bytes.
	w := newWorld(t, Config{AOICap: 100})
	for i := range 60 {
		sid := uint64(1)<<63 | uint64(i)
		w.Apply(bound(sid, "in-1"))
		setPosition(t, w, sid, 500+float32(i%8), 500+float32(i/8))
		w.Apply(inputs(input(sid, 1<<40, 0.3, 0.4)))
	}
	d := decode(t, w, w.Step()) // decode checks every snapshot ≤ MaxSize
	for sid, s := range d.snapshots {
		if n := len(s.GetNearby()); n < 25 || n >= 59 {
			t.Fatalf("session %d sees %d entities; want the nearest that fit (25..58)", sid, n)
		}
	}
	if s := w.Stats(); s.SnapshotsTruncated != 60 {
		t.Fatalf("truncated %d snapshots, want 60", s.SnapshotsTruncated)
	}
}

func TestSnapshotEvery(t *testing.T) {
	w := newWorld(t, Config{SnapshotEvery: 3})
	w.Apply(bound(1, "in-1"))
	for tick := 1; tick <= 9; tick++ {
		got := w.Step()
		if want := tick%3 == 0; (len(got) > 0) != want {
			t.Fatalf("tick %d: %d batches", tick, len(got))
		}
	}
}

func TestSnapshotSpread(t *testing.T) {
	const players, every = 60, 3
	w := newWorld(t, Config{SnapshotEvery: every, SnapshotSpread: true})
	for sid := uint64(1); sid <= players; sid++ {
		w.Apply(bound(sid, "in-1"))
	}
	got := map[uint64][]uint64{} // session → ticks of its snapshots
	for range 3 * every {
		d := decode(t, w, w.Step())
		if n := len(d.snapshots); n == 0 || n == players {
			t.Fatalf("tick %d: %d snapshots; want a share of the %d players", w.Tick(), n, players)
		}
		for sid := range d.snapshots {
			got[sid] = append(got[sid], w.Tick())
		}
	}
	for sid := uint64(1); sid <= players; sid++ {
		ticks := got[sid]
		if len(ticks) != 3 || ticks[1]-ticks[0] != every || ticks[2]-ticks[1] != every {
			t.Fatalf("session %d got snapshots on ticks %v, want one every %d ticks", sid, ticks, every)
		}
	}
}

func TestBatchesSplitAndGroupedByIngress(t *testing.T) {
	w := newWorld(t, Config{MaxBatchBytes: MinBatchBytes, Workers: 1})
	ingresses := []string{"in-a", "in-b", "in-c"}
	for sid := uint64(1); sid <= 300; sid++ {
		w.Apply(bound(sid, ingresses[sid%3]))
	}
	batches := w.Step()
	d := decode(t, w, batches)
	if len(d.snapshots) != 300 {
		t.Fatalf("%d snapshots, want 300", len(d.snapshots))
	}
	for sid, ing := range d.route {
		if ing != ingresses[sid%3] {
			t.Fatalf("session %d sent to %s, want %s", sid, ing, ingresses[sid%3])
		}
	}
	for _, ing := range ingresses {
		if d.batches[ing] < 2 {
			t.Fatalf("%s got %d batches; 100 snapshots do not fit one of %d bytes", ing, d.batches[ing], MinBatchBytes)
		}
	}
	// Grouped: each ingress's batches come in one run (one worker).
	seen := map[string]bool{}
	for i, b := range batches {
		if seen[b.IngressID] && batches[i-1].IngressID != b.IngressID {
			t.Fatalf("batches for %s are not contiguous", b.IngressID)
		}
		seen[b.IngressID] = true
	}
}

func TestWorkersAgree(t *testing.T) {
	// The parallel snapshot phase must produce exactly what one worker does.
	const players = 2 * minPerWorker
	build := func(workers int) *World {
		// About 35 players within each radius.
		w := newWorld(t, Config{Workers: workers, WorldSize: 300})
		for sid := uint64(1); sid <= players; sid++ {
			w.Apply(bound(sid*7919, []string{"in-a", "in-b"}[sid%2]))
			w.Apply(inputs(input(sid*7919, 1, float32(sid%5)-2, float32(sid%3)-1)))
		}
		return w
	}
	one, four := build(1), build(4)
	for range 2 {
		a, b := decode(t, one, one.Step()), decode(t, four, four.Step())
		if len(a.snapshots) != players || len(a.snapshots) != len(b.snapshots) {
			t.Fatalf("%d and %d snapshots", len(a.snapshots), len(b.snapshots))
		}
		for sid, s := range a.snapshots {
			if !protoEqual(s, b.snapshots[sid]) {
				t.Fatalf("session %d: 1 worker %v, 4 workers %v", sid, s, b.snapshots[sid])
			}
		}
	}
	if len(four.workers) < 2 {
		t.Fatalf("only %d workers ran", len(four.workers))
	}
}

func TestSteadyStepAllocatesNothing(t *testing.T) {
	w := newWorld(t, Config{Workers: 1})
	for sid := uint64(1); sid <= 1000; sid++ {
		w.Apply(bound(sid, "in-1"))
		w.Apply(inputs(input(sid, 1, 0.6, -0.8)))
	}
	w.Step()
	w.Step()
	allocs := testing.AllocsPerRun(20, func() { w.Step() })
	if allocs != 0 {
		t.Fatalf("Step with 1000 players allocated %v times, want 0", allocs)
	}
}
