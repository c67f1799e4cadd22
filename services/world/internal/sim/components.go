package sim

// ECS components. Every player entity has all five; other kinds of entities
// (none yet) would have Position, Velocity and Ident and show in snapshots
// with a zero session id.

// Position is where an entity is, in world units.
type Position struct{ X, Y float32 }

// Velocity is how an entity moves, in world units per second.
type Velocity struct{ X, Y float32 }

// Ident is an entity's identity on the wire (realm.v1.EntityState).
type Ident struct {
	// EntityID is unique among the entities of this world process
	// (counting from 1, never reused).
	EntityID uint64
	// SessionID is the owning player's session, zero if none.
	SessionID uint64
}

// Player is a connected player: its session and where its snapshots go.
type Player struct {
	SessionID uint64
	AccountID uint64
	// IngressID and Endpoint are the route: the ingress instance that owns
	// the player's UDP endpoint, and that endpoint (address:port).
	IngressID string
	Endpoint  string
	// Bound is false after endpoint.unbound: the entity stays, snapshots
	// stop until the next endpoint.bound.
	Bound bool
	// route is IngressID interned by the World (index into World.routes).
	route int32
}

// Input is the newest input applied to a player.
type Input struct {
	// Sequence is the newest PlayerInput.input_sequence applied; older or
	// equal sequences are ignored.
	Sequence uint64
	// MoveX, MoveY is the move intent, clamped to length 1.
	MoveX, MoveY float32
}
