// Command world runs Realm's game loop alone against a NATS server or
// cluster (see docs/services/world.md). Every flag can also be set by its
// environment variable, REALM_ and the flag's name in upper case with '-'
// replaced by '_' (REALM_TICK_RATE for --tick-rate).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/daemon"
	"github.com/ecs-realm/realm/libs/flagenv"
	"github.com/ecs-realm/realm/libs/logging"
	"github.com/ecs-realm/realm/services/world/world"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "world:", err)
		os.Exit(1)
	}
}

func run() error {
	fs := flag.NewFlagSet("world", flag.ContinueOnError)
	var (
		natsURL       = fs.String("nats-url", "nats://127.0.0.1:4222", "NATS server URL(s), comma-separated")
		id            = fs.String("id", world.DefaultID, "instance id, [A-Za-z0-9_-]{1,64}, sent in resync requests")
		tickRate      = fs.Int("tick-rate", 20, "simulation ticks per second")
		snapshotEvery = fs.Int("snapshot-every", 1, "send each player a snapshot every n-th tick")
		spread        = fs.Bool("snapshot-spread", false, "spread the snapshots of --snapshot-every over its n ticks")
		maxSpeed      = fs.Float64("max-speed", 5, "player speed at full input, units per second")
		worldSize     = fs.Float64("world-size", 1000, "side of the square map, units")
		aoiRadius     = fs.Float64("aoi-radius", 50, "area-of-interest radius, units")
		aoiCap        = fs.Int("aoi-cap", 32, "most entities in one snapshot besides the player")
		workers       = fs.Int("workers", 0, "goroutines sharing the snapshot phase (0: GOMAXPROCS)")
		maxBatchBytes = fs.Int("max-batch-bytes", 256<<10, "largest SnapshotBatch NATS message, bytes")
		metricsAddr   = fs.String("metrics-addr", "127.0.0.1:9103", `address of /metrics, /healthz and /readyz ("" disables)`)
		logLevel      = fs.String("log-level", "info", "log level: debug, info, warn, error")
		logFormat     = fs.String("log-format", logging.FormatJSON, "log format: json or console")
	)
	if err := flagenv.Parse(fs, "REALM", os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	log, err := logging.New(logging.Config{Level: *logLevel, Format: *logFormat})
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	d, err := daemon.Start("world", *metricsAddr, log)
	if err != nil {
		return err
	}
	nc, err := bus.Connect(*natsURL, bus.Options{Name: "world-" + *id, Logger: log})
	if err != nil {
		d.Close()
		return err
	}
	defer nc.Close()

	s, err := world.New(world.Config{
		ID: *id,
		Sim: world.Sim{
			TickRate:       *tickRate,
			SnapshotEvery:  *snapshotEvery,
			SnapshotSpread: *spread,
			MaxSpeed:       *maxSpeed,
			WorldSize:      *worldSize,
			AOIRadius:      *aoiRadius,
			AOICap:         *aoiCap,
			Workers:        *workers,
			MaxBatchBytes:  *maxBatchBytes,
		},
		Registerer: d.Registry(),
	}, nc, log)
	if err != nil {
		d.Close()
		return err
	}
	return d.Run(s, zap.String("id", *id))
}
