package e2e

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ecs-realm/realm/libs/client"
	"github.com/ecs-realm/realm/libs/testutil/realmtest"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// Movement parameters of the players.
const (
	// steerEvery is the interval between two inputs of a player. Each input
	// has a new sequence, so a lost one is replaced soon.
	steerEvery = 150 * time.Millisecond
	// minStep is the displacement (world units) over which a movement check
	// is made: between two snapshots reporting the same applied input.
	minStep = 0.3
	// minCos is the least cosine between a displacement and the input's
	// direction that counts as "moved in the direction of the input".
	minCos = 0.9
	// dirMemory is how many inputs' directions a mover remembers.
	dirMemory = 64
	// reorderTicks: a snapshot at most this many ticks older than the last
	// one is a reordered datagram; further back, the world restarted.
	reorderTicks = 5
)

// vec is a 2D vector in world units.
type vec struct{ x, y float64 }

func (a vec) sub(b vec) vec       { return vec{a.x - b.x, a.y - b.y} }
func (a vec) add(b vec) vec       { return vec{a.x + b.x, a.y + b.y} }
func (a vec) scale(f float64) vec { return vec{a.x * f, a.y * f} }
func (a vec) dot(b vec) float64   { return a.x*b.x + a.y*b.y }
func (a vec) len() float64        { return math.Hypot(a.x, a.y) }
func (a vec) unit() vec           { return a.scale(1 / a.len()) }
func (a vec) String() string      { return fmt.Sprintf("(%.2f, %.2f)", a.x, a.y) }
func pos(e *realmv1.EntityState) vec {
	return vec{float64(e.GetPosition().GetX()), float64(e.GetPosition().GetY())}
}

// mover drives one player: it steers between two waypoints inside the map
// (the centre and a point 60% of the way to its spawn point, so it never
// reaches the border where the world would clamp it), sends an input every
// steerEvery in response to fresh snapshots, and checks each movement the
// snapshots show against the direction of the input the world applied.
type mover struct {
	*realmtest.Player
	center vec

	stop chan struct{}
	done chan struct{}

	mu        sync.Mutex // guards the fields below
	snap      *realmv1.Snapshot
	snaps     int // snapshots received
	epoch     int // world restarts seen (server_tick going backwards)
	tick      uint64
	fresh     bool // a snapshot arrived since the last input
	waypoints [2]vec
	target    int   // index in waypoints
	spawned   bool  // waypoints are set for this epoch
	spawns    []vec // the first position seen in each epoch
	seq       uint64
	epochSeq  uint64         // last input sequence sent before this epoch began
	dirs      map[uint64]vec // input sequence → direction sent
	ref       *realmv1.Snapshot
	good      int    // movements in the direction of the input
	bad       int    // movements against it
	badWhy    string // the first bad movement
	sendErrs  int
}

// drive starts a mover for p on a map of side size; it stops in t.Cleanup
// (before the player is closed).
func drive(t *testing.T, p *realmtest.Player, size float64) *mover {
	m := &mover{
		Player: p,
		center: vec{size / 2, size / 2},
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		dirs:   make(map[uint64]vec, dirMemory),
	}
	go m.run()
	t.Cleanup(m.halt)
	return m
}

// driveAll drives every player.
func driveAll(t *testing.T, ps []*realmtest.Player, size float64) []*mover {
	ms := make([]*mover, len(ps))
	for i, p := range ps {
		ms[i] = drive(t, p, size)
	}
	return ms
}

// halt stops the mover's goroutine. Idempotent.
func (m *mover) halt() {
	select {
	case <-m.stop:
	default:
		close(m.stop)
	}
	<-m.done
}

func (m *mover) run() {
	defer close(m.done)
	tick := time.NewTicker(steerEvery)
	defer tick.Stop()
	snaps := m.UDP.Snapshots()
	for {
		select {
		case <-m.stop:
			return
		case s, ok := <-snaps:
			if !ok {
				return
			}
			m.observe(s)
		case <-tick.C:
			m.steer()
		}
	}
}

// observe records a snapshot and checks the movement it shows.
func (m *mover) observe(s client.Snapshot) {
	m.mu.Lock()
	defer m.mu.Unlock()
	msg := s.Msg
	switch t := msg.GetServerTick(); {
	case t < m.tick && m.tick-t <= reorderTicks:
		return // an older snapshot overtaken by a newer one
	case t < m.tick:
		// A new world: its players start again at their spawn point.
		m.epoch++
		m.spawned, m.ref, m.epochSeq = false, nil, m.seq
	}
	m.tick, m.snap, m.fresh = msg.GetServerTick(), msg, true
	m.snaps++
	if msg.GetSelf() == nil {
		return
	}
	p := pos(msg.GetSelf())
	if !m.spawned {
		m.spawned = true
		m.spawns = append(m.spawns, p)
		off := p.sub(m.center)
		if off.len() < 3 {
			off = vec{8, 0}
		}
		m.waypoints = [2]vec{m.center, m.center.add(off.scale(0.6))}
	}
	seq := msg.GetLastInputSequence()
	dir, known := m.dirs[seq]
	if m.ref == nil || m.ref.GetLastInputSequence() != seq || !known || seq <= m.epochSeq {
		m.ref = msg // a new input took over: measure from here
		return
	}
	d := p.sub(pos(m.ref.GetSelf()))
	if d.len() < minStep {
		return
	}
	if d.dot(dir) >= minCos*d.len() {
		m.good++
	} else {
		m.bad++
		if m.badWhy == "" {
			m.badWhy = fmt.Sprintf("input %d towards %v moved %v from %v (ticks %d → %d)",
				seq, dir, d, pos(m.ref.GetSelf()), m.ref.GetServerTick(), msg.GetServerTick())
		}
	}
	m.ref = msg
}

// steer sends the next input towards the current waypoint, if a snapshot
// arrived since the last one (no input is based on a stale position, such as
// one of a world that has since been restarted).
func (m *mover) steer() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.fresh || !m.spawned || m.snap.GetSelf() == nil {
		return
	}
	m.fresh = false
	p := pos(m.snap.GetSelf())
	if m.waypoints[m.target].sub(p).len() < 1 {
		m.target ^= 1
	}
	dir := m.waypoints[m.target].sub(p).unit()
	m.seq++
	m.dirs[m.seq] = dir
	delete(m.dirs, m.seq-dirMemory)
	in := &realmv1.PlayerInput{InputSequence: m.seq, ClientTick: m.tick, Move: &realmv1.Vec2{X: float32(dir.x), Y: float32(dir.y)}}
	if err := m.UDP.SendInput(in); err != nil {
		m.sendErrs++ // transient (an ICMP report); the next input replaces it
	}
}

// progress is a mover's counters at one moment.
type progress struct{ snaps, epoch, good, bad int }

func (m *mover) progress() progress {
	m.mu.Lock()
	defer m.mu.Unlock()
	return progress{m.snaps, m.epoch, m.good, m.bad}
}

// latest returns the last snapshot and how many came so far.
func (m *mover) latest() (*realmv1.Snapshot, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snap, m.snaps
}

// entityID returns the entity id of the mover's player, as its last
// snapshot shows it (0 before the first). A restarted world may give it
// another.
func (m *mover) entityID() uint64 {
	s, _ := m.latest()
	return s.GetSelf().GetEntityId()
}

// sees returns which of the entity ids the last snapshot shows nearby.
func (m *mover) sees(ids ...uint64) []uint64 {
	s, _ := m.latest()
	var seen []uint64
	for _, e := range s.GetNearby() {
		if slices.Contains(ids, e.GetEntityId()) {
			seen = append(seen, e.GetEntityId())
		}
	}
	return seen
}

// marks returns every mover's progress now, to wait for more.
func marks(ms []*mover) []progress {
	ps := make([]progress, len(ms))
	for i, m := range ms {
		ps[i] = m.progress()
	}
	return ps
}

// waitMoved waits until every mover has made at least n more good
// movements than at mark, and fails at once on any bad movement.
func waitMoved(t *testing.T, what string, ms []*mover, mark []progress, n int) {
	t.Helper()
	realmtest.WaitFor(t, what, func() bool {
		done := true
		for i, m := range ms {
			p := m.progress()
			if p.bad > 0 {
				checkNoBadMoves(t, ms)
				t.FailNow()
			}
			done = done && p.good >= mark[i].good+n
		}
		return done
	})
}

// checkNoBadMoves fails t if any mover moved against its input.
func checkNoBadMoves(t *testing.T, ms []*mover) {
	t.Helper()
	for _, m := range ms {
		m.mu.Lock()
		bad, why := m.bad, m.badWhy
		m.mu.Unlock()
		if bad > 0 {
			t.Errorf("%s: %d movements against the input, first: %s", m.Name, bad, why)
		}
	}
}

// waitSeeEachOther waits until every mover's last snapshot shows every
// other mover nearby.
func waitSeeEachOther(t *testing.T, what string, ms []*mover) {
	t.Helper()
	realmtest.WaitFor(t, what, func() bool {
		ids := entityIDs(ms)
		for _, m := range ms {
			if len(m.sees(ids...)) != len(ms)-1 {
				return false
			}
		}
		return true
	})
}

// waitGone waits until every mover has received a few snapshots more than
// at mark, the last of which does not show entity id.
func waitGone(t *testing.T, what string, ms []*mover, mark []progress, id uint64) {
	t.Helper()
	realmtest.WaitFor(t, what, func() bool {
		for i, m := range ms {
			_, n := m.latest()
			if n < mark[i].snaps+3 || len(m.sees(id)) > 0 {
				return false
			}
		}
		return true
	})
}

// entityIDs returns the movers' entity ids, as their last snapshots show
// them.
func entityIDs(ms []*mover) []uint64 {
	ids := make([]uint64, len(ms))
	for i, m := range ms {
		ids[i] = m.entityID()
	}
	return ids
}

// without returns ms without m.
func without(ms []*mover, m *mover) []*mover {
	return slices.DeleteFunc(slices.Clone(ms), func(x *mover) bool { return x == m })
}
