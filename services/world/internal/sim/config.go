package sim

import (
	"errors"
	"fmt"
	"math"
	"runtime"
)

// Defaults of the zero Config fields.
const (
	DefaultTickRate      = 20
	DefaultSnapshotEvery = 1
	DefaultMaxSpeed      = 5.0
	DefaultWorldSize     = 1000.0
	DefaultAOIRadius     = 50.0
	DefaultAOICap        = 32
	DefaultMaxBatchBytes = 256 << 10
)

// Upper bounds that keep a Config sane.
const (
	MaxTickRate = 1000
	// MinBatchBytes guarantees room for a batch header, the largest view
	// record and the entities it may add to the batch's table (about
	// 2.2 KB at worst: MaxSize of entities of 8 bytes each).
	MinBatchBytes = 4 << 10
	// MaxBatchBytes stays below the default NATS max payload (1 MiB).
	MaxBatchBytes = 1 << 20
)

// ErrBadConfig is wrapped by Config.WithDefaults when a field is invalid.
var ErrBadConfig = errors.New("sim: invalid config")

// Config is the simulation's tuning. The zero value means every default.
type Config struct {
	// TickRate is the simulation rate in ticks per second; each Step
	// advances 1/TickRate seconds. Zero means 20.
	TickRate int
	// SnapshotEvery sends each bound player a snapshot on every n-th
	// tick. Zero means 1 (every tick).
	SnapshotEvery int
	// SnapshotSpread spreads the snapshots of SnapshotEvery n over its n
	// ticks: every tick, the players of one n-th (by a hash of the session
	// id) get theirs, so each tick encodes 1/n of the snapshots instead of
	// all of them on every n-th tick. Each player still gets one every n
	// ticks. False (the zero value) sends them all on the same tick.
	SnapshotSpread bool
	// MaxSpeed is a player's speed at full input, in units per second.
	// Zero means 5.
	MaxSpeed float64
	// WorldSize is the side of the square map [0, WorldSize]², in units.
	// Zero means 1000 (1000×1000).
	WorldSize float64
	// AOIRadius is the area-of-interest radius, in units (the spatial
	// grid's cells are half of it). Zero means 50.
	AOIRadius float64
	// AOICap is the most entities a snapshot shows besides the player
	// itself (fewer when they would not fit snapshot.MaxSize). Zero means
	// 32.
	AOICap int
	// Workers is how many goroutines share the area-of-interest and
	// encoding phase of a snapshot tick. Zero means GOMAXPROCS; small
	// worlds use fewer (a worker gets at least 512 players).
	Workers int
	// MaxBatchBytes caps one SnapshotBatch message, in bytes. Zero means
	// 256 KiB; at most 1 MiB (the default NATS payload limit).
	MaxBatchBytes int
}

// WithDefaults returns c with every zero field set to its default, or an
// error wrapping ErrBadConfig naming the first invalid field.
func (c Config) WithDefaults() (Config, error) {
	if c.TickRate == 0 {
		c.TickRate = DefaultTickRate
	}
	if c.SnapshotEvery == 0 {
		c.SnapshotEvery = DefaultSnapshotEvery
	}
	if c.MaxSpeed == 0 {
		c.MaxSpeed = DefaultMaxSpeed
	}
	if c.WorldSize == 0 {
		c.WorldSize = DefaultWorldSize
	}
	if c.AOIRadius == 0 {
		c.AOIRadius = DefaultAOIRadius
	}
	if c.AOICap == 0 {
		c.AOICap = DefaultAOICap
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = DefaultMaxBatchBytes
	}
	switch {
	case c.TickRate < 0 || c.TickRate > MaxTickRate:
		return c, fmt.Errorf("%w: tick rate %d Hz not in 1..%d", ErrBadConfig, c.TickRate, MaxTickRate)
	case c.SnapshotEvery < 0:
		return c, fmt.Errorf("%w: snapshot every %d ticks", ErrBadConfig, c.SnapshotEvery)
	case !finitePositive(c.MaxSpeed):
		return c, fmt.Errorf("%w: max speed %v", ErrBadConfig, c.MaxSpeed)
	case !finitePositive(c.WorldSize) || c.WorldSize > math.MaxFloat32:
		return c, fmt.Errorf("%w: world size %v", ErrBadConfig, c.WorldSize)
	case !finitePositive(c.AOIRadius):
		return c, fmt.Errorf("%w: area-of-interest radius %v", ErrBadConfig, c.AOIRadius)
	case c.AOICap < 0:
		return c, fmt.Errorf("%w: area-of-interest cap %d", ErrBadConfig, c.AOICap)
	case c.Workers < 0:
		return c, fmt.Errorf("%w: workers %d", ErrBadConfig, c.Workers)
	case c.MaxBatchBytes < MinBatchBytes || c.MaxBatchBytes > MaxBatchBytes:
		return c, fmt.Errorf("%w: max batch bytes %d not in %d..%d", ErrBadConfig, c.MaxBatchBytes, MinBatchBytes, MaxBatchBytes)
	}
	return c, nil
}

func finitePositive(f float64) bool { return f > 0 && !math.IsInf(f, 1) }
