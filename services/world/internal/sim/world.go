package sim

import (
	"fmt"

	"github.com/mlange-42/ark/ecs"
	"go.uber.org/zap"

	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
	"github.com/ecs-realm/realm/services/world/internal/grid"
)

// Batch is one encoded realm.v1.SnapshotBatch for one ingress instance.
type Batch struct {
	// IngressID is the instance to send it to (bus.IngressOutSubject).
	IngressID string
	// Payload is the encoded SnapshotBatch. It aliases a buffer of the
	// World: valid until the next Step.
	Payload []byte
	// Snapshots is how many SessionSnapshot records Payload holds.
	Snapshots int
}

// Stats are a World's counters, cumulative since New unless noted.
type Stats struct {
	Tick         uint64 // ticks stepped
	Entities     int    // entities now
	Players      int    // player entities now
	BoundPlayers int    // players with a route now (snapshot receivers)

	SessionsOpened  uint64 // realm.session.opened seen (informational)
	Spawned         uint64 // players spawned
	Despawned       uint64 // players despawned (session closed)
	Rebound         uint64 // endpoint.bound that changed an existing route or resumed it
	Unbound         uint64 // endpoint.unbound applied
	StaleUnbinds    uint64 // endpoint.unbound ignored: not from the route's ingress, or no such player
	BindsAfterClose uint64 // endpoint.bound ignored: session closed recently
	BadEvents       uint64 // events rejected: zero session id, invalid ingress id, unknown type

	InputsApplied uint64 // inputs that became the newest of their player
	InputsStale   uint64 // inputs ignored: sequence not above the newest applied
	InputsUnknown uint64 // inputs ignored: no player for the session
	InputsInvalid uint64 // inputs rejected: missing or non-finite move

	Snapshots          uint64 // snapshots encoded
	SnapshotBytes      uint64 // bytes of encoded snapshots
	SnapshotsTruncated uint64 // snapshots that left out entities to fit snapshot.MaxSize
	Batches            uint64 // SnapshotBatch messages produced
	BatchBytes         uint64 // bytes of SnapshotBatch messages produced

	// How the area of interest was found (see grid.Lists): neighbour lists
	// built from scratch, extended from the grid, and answers taken from
	// the grid because a list could not vouch for them. The other queries
	// used their list alone.
	AOIBuilds, AOIRefreshes, AOIFallbacks uint64
}

// World is the simulation. Create it with New; see the package doc.
type World struct {
	cfg    Config
	log    *zap.Logger
	dt     float32 // seconds per tick
	speed  float32 // units per second at full input
	size   float32 // side of the map
	radius float32 // area of interest

	ecs     *ecs.World
	spawn   *ecs.Map5[Position, Velocity, Ident, Player, Input]
	players *ecs.Map2[Player, Input]
	// Filters, registered once.
	moving  *ecs.Filter2[Position, Velocity]
	steered *ecs.Filter2[Input, Velocity]
	viewed  *ecs.Filter5[Position, Velocity, Ident, Player, Input]
	others  *ecs.Filter3[Position, Velocity, Ident] // non-players

	sessions     map[uint64]ecs.Entity // session id → player entity
	bound        int                   // players with Player.Bound
	closed       tombstones
	nextEntityID uint64

	routes  []string         // interned ingress ids, by route index
	routeOf map[string]int32 // ingress id → route index

	view     view       // per-tick state copy for the snapshot phase
	views    uint64     // views built
	viewTick uint64     // the tick of the last view
	grid     grid.Grid  // area-of-interest index over view
	cell     float32    // the grid's cell width
	lists    grid.Lists // each receiver's neighbours, across ticks
	workers  []*worker  // snapshot encoders, reused across ticks
	out      []Batch    // Step's result, reused across ticks

	stats Stats
}

// New returns an empty world. log may be nil (no logging); it logs player
// lifecycle at debug level only.
func New(cfg Config, log *zap.Logger) (*World, error) {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	e := ecs.NewWorld(1024)
	w := &World{
		cfg:      cfg,
		log:      log,
		dt:       1 / float32(cfg.TickRate),
		speed:    float32(cfg.MaxSpeed),
		size:     float32(cfg.WorldSize),
		radius:   float32(cfg.AOIRadius),
		ecs:      e,
		spawn:    ecs.NewMap5[Position, Velocity, Ident, Player, Input](e),
		players:  ecs.NewMap2[Player, Input](e),
		moving:   ecs.NewFilter2[Position, Velocity](e).Register(),
		steered:  ecs.NewFilter2[Input, Velocity](e).Register(),
		viewed:   ecs.NewFilter5[Position, Velocity, Ident, Player, Input](e).Register(),
		others:   ecs.NewFilter3[Position, Velocity, Ident](e).Without(ecs.C[Player]()).Register(),
		sessions: make(map[uint64]ecs.Entity),
		routeOf:  make(map[string]int32),
	}
	w.closed.init(uint64(tombstoneSeconds * cfg.TickRate))
	// Cells half the radius: a query scans about 2.5 radii square instead
	// of 3, and the lists' refreshes scan thin rings.
	w.cell = w.radius / 2
	w.lists.Reset(cfg.AOICap, w.radius, aoiSkin(w.speed*w.dt*float32(cfg.SnapshotEvery), w.radius))
	return w, nil
}

// Config returns the configuration in force, defaults filled in.
func (w *World) Config() Config { return w.cfg }

// Tick returns the number of ticks stepped so far (the server_tick of the
// last snapshots).
func (w *World) Tick() uint64 { return w.stats.Tick }

// Stats returns the counters.
func (w *World) Stats() Stats {
	s := w.stats
	s.Players = len(w.sessions)
	s.BoundPlayers = w.bound
	q := w.others.Query()
	s.Entities = s.Players + q.Count()
	q.Close()
	return s
}

// Apply changes the world by one event: a *realmv1.SessionOpened,
// SessionClosed, EndpointBound, EndpointUnbound or InputBatch, or an
// InputBatch as *Inputs. Anything else, and events that break the rules of
// the package doc, are counted in Stats and otherwise ignored; Apply never
// fails and never panics on bad input.
func (w *World) Apply(msg any) {
	switch m := msg.(type) {
	case *Inputs:
		for i := range m.List {
			w.applyInput(&m.List[i])
		}
	case *realmv1.InputBatch:
		for _, in := range m.GetInputs() {
			p := in.GetInput()
			w.applyInput(&SessionInput{Session: in.GetSessionId(), Sequence: p.GetInputSequence(),
				MoveX: p.GetMove().GetX(), MoveY: p.GetMove().GetY(), Missing: p == nil})
		}
	case *realmv1.EndpointBound:
		w.bind(m)
	case *realmv1.EndpointUnbound:
		w.unbind(m)
	case *realmv1.SessionClosed:
		w.closeSession(m.GetSessionId(), "session closed")
	case *realmv1.SessionOpened:
		w.stats.SessionsOpened++
	default:
		w.stats.BadEvents++
	}
}

// PlayerState is a copy of one player's components, for inspection.
type PlayerState struct {
	Ident    Ident
	Position Position
	Velocity Velocity
	Player   Player
	Input    Input
}

// Player returns the state of the player of sessionID, if it exists.
func (w *World) Player(sessionID uint64) (PlayerState, bool) {
	e, ok := w.sessions[sessionID]
	if !ok {
		return PlayerState{}, false
	}
	p, v, id, pl, in := w.spawn.Get(e)
	return PlayerState{Ident: *id, Position: *p, Velocity: *v, Player: *pl, Input: *in}, true
}

// String describes the world in one line, for logs.
func (w *World) String() string {
	s := w.Stats()
	return fmt.Sprintf("tick %d, %d players (%d bound), %d entities", s.Tick, s.Players, s.BoundPlayers, s.Entities)
}
