package world

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/services/world/internal/sim"
)

// DefaultID is the instance id used when Config.ID is empty.
const DefaultID = "world"

// ErrBadConfig is wrapped by New when the Config is invalid.
var ErrBadConfig = errors.New("world: invalid config")

// Config configures the world service. The zero value means every default.
type Config struct {
	// ID names this world instance in its ResyncRequest and logs; it must
	// be a valid NATS token ([A-Za-z0-9_-], see bus.ValidID). Empty means
	// "world".
	ID string
	// TickRate is the simulation rate in Hz. Zero means 20.
	TickRate int
	// SnapshotEvery sends each player a snapshot every n-th tick. Zero
	// means 1 (every tick).
	SnapshotEvery int
	// SnapshotSpread spreads the snapshots of SnapshotEvery over its n
	// ticks (each tick, 1/n of the players get theirs) instead of sending
	// them all on every n-th tick: the same traffic, 1/n of the snapshot
	// work on every tick instead of all of it on one. False means all on
	// the same tick.
	SnapshotSpread bool
	// MaxSpeed is a player's speed at full input, in units per second.
	// Zero means 5.
	MaxSpeed float64
	// WorldSize is the side of the square map, in units. Zero means 1000
	// (a 1000×1000 map).
	WorldSize float64
	// AOIRadius is the area-of-interest radius, in units. Zero means 50.
	AOIRadius float64
	// AOICap is the most entities one snapshot shows besides the player.
	// Zero means 32. A snapshot is also capped at 1300 bytes, which may
	// leave out the farthest ones.
	AOICap int
	// Workers is how many goroutines share the snapshot phase of a tick.
	// Zero means GOMAXPROCS.
	Workers int
	// MaxBatchBytes caps one SnapshotBatch NATS message. Zero means 256
	// KiB; it must not exceed the server's max payload (1 MiB by default).
	MaxBatchBytes int
	// Registerer receives the service's metrics (realm_world_*). Nil means
	// a private registry: nothing is exported, and several services in one
	// process never collide.
	Registerer prometheus.Registerer
}

// sim returns the simulation's part of the config.
func (c Config) sim() sim.Config {
	return sim.Config{
		TickRate:       c.TickRate,
		SnapshotEvery:  c.SnapshotEvery,
		SnapshotSpread: c.SnapshotSpread,
		MaxSpeed:       c.MaxSpeed,
		WorldSize:      c.WorldSize,
		AOIRadius:      c.AOIRadius,
		AOICap:         c.AOICap,
		Workers:        c.Workers,
		MaxBatchBytes:  c.MaxBatchBytes,
	}
}

// withDefaults fills the zero fields and validates; the error wraps
// ErrBadConfig.
func (c Config) withDefaults() (Config, error) {
	if c.ID == "" {
		c.ID = DefaultID
	}
	if err := bus.ValidID(c.ID); err != nil {
		return c, fmt.Errorf("%w: id %q: %w", ErrBadConfig, c.ID, err)
	}
	s, err := c.sim().WithDefaults()
	if err != nil {
		return c, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	c.TickRate, c.SnapshotEvery, c.MaxSpeed, c.WorldSize = s.TickRate, s.SnapshotEvery, s.MaxSpeed, s.WorldSize
	c.AOIRadius, c.AOICap, c.Workers, c.MaxBatchBytes = s.AOIRadius, s.AOICap, s.Workers, s.MaxBatchBytes
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	return c, nil
}
