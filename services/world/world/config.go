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
	// Sim is the simulation's tuning: tick rate, snapshot schedule, speed,
	// map, area of interest, workers and batch size (its fields are
	// promoted: cfg.TickRate). The zero value means every default; see
	// Sim's fields for them.
	Sim
	// Registerer receives the service's metrics (realm_world_*). Nil means
	// a private registry: nothing is exported, and several services in one
	// process never collide.
	Registerer prometheus.Registerer
}

// Sim is the world's simulation config (services/world/internal/sim), for
// callers outside services/world to fill in.
type Sim = sim.Config

// withDefaults fills the zero fields and validates; the error wraps
// ErrBadConfig.
func (c Config) withDefaults() (Config, error) {
	if c.ID == "" {
		c.ID = DefaultID
	}
	if err := bus.ValidID(c.ID); err != nil {
		return c, fmt.Errorf("%w: id %q: %w", ErrBadConfig, c.ID, err)
	}
	s, err := c.Sim.WithDefaults()
	if err != nil {
		return c, fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	c.Sim = s
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	return c, nil
}
