// Command ingress runs Realm's UDP data plane alone against a NATS server or
// cluster (see docs/services/ingress.md). Every flag can also be set by its
// environment variable, REALM_ and the flag's name in upper case with '-'
// replaced by '_' (REALM_TOKEN_KEY_FILE for --token-key-file).
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/daemon"
	"github.com/ecs-realm/realm/libs/flagenv"
	"github.com/ecs-realm/realm/libs/logging"
	"github.com/ecs-realm/realm/services/ingress/ingress"
	"github.com/ecs-realm/realm/services/ingress/udpserver"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ingress:", err)
		os.Exit(1)
	}
}

func run() error {
	fs := flag.NewFlagSet("ingress", flag.ContinueOnError)
	var (
		listen        = fs.String("listen", ingress.DefaultListen, "UDP address of the data plane")
		id            = fs.String("id", "", `instance id, [A-Za-z0-9_-]{1,64}, unique among ingress instances (default "ingress-" + 8 random hex digits)`)
		tokenKey      = fs.String("token-key", "", "connect token key shared with login, 64 hex digits (prefer --token-key-file or the environment: flags show in ps)")
		tokenKeyFile  = fs.String("token-key-file", "", "file holding the token key as 64 hex digits")
		tokenLifetime = fs.Duration("token-lifetime", ingress.DefaultTokenLifetime, "longest connect token lifetime login issues; must be at least login's")
		natsURL       = fs.String("nats-url", "nats://127.0.0.1:4222", "NATS server URL(s), comma-separated")
		metricsAddr   = fs.String("metrics-addr", "127.0.0.1:9102", `address of /metrics, /healthz and /readyz ("" disables)`)
		idleTimeout   = fs.Duration("idle-timeout", ingress.DefaultIdleTimeout, "unbind an endpoint silent for this long")
		flushInterval = fs.Duration("flush-interval", ingress.DefaultFlushInterval, "longest wait of an input before it is published to the world")
		maxBatch      = fs.Int("max-batch", ingress.DefaultMaxBatch, "publish an input batch at this many inputs")
		tickRate      = fs.Uint("tick-rate", ingress.DefaultTickRate, "world tick rate in Hz, told to clients in the handshake ack")
		rateLimit     = fs.Float64("rate-limit", ingress.DefaultRateLimit, "packets per second accepted from one endpoint")
		rateBurst     = fs.Int("rate-burst", ingress.DefaultRateBurst, "packet burst accepted from one endpoint above --rate-limit")
		maxRevoked    = fs.Int("max-revoked", ingress.DefaultMaxRevoked, "closed sessions remembered to refuse their tokens")
		readBuffer    = fs.Int("socket-read-buffer", udpserver.DefaultSocketBuffer, "UDP socket receive buffer in bytes (capped by net.core.rmem_max)")
		writeBuffer   = fs.Int("socket-write-buffer", udpserver.DefaultSocketBuffer, "UDP socket send buffer in bytes (capped by net.core.wmem_max)")
		socketBatch   = fs.Int("socket-batch", udpserver.DefaultBatchSize, "datagrams read per system call where recvmmsg exists (1 disables batching)")
		workers       = fs.Int("workers", 0, "goroutines that authenticate and decode packets beside the receive loop (0: GOMAXPROCS-1, at most 2; -1: none, the loop does it all)")
		logLevel      = fs.String("log-level", "info", "log level: debug, info, warn, error")
		logFormat     = fs.String("log-format", logging.FormatJSON, "log format: json or console")
	)
	if err := flagenv.Parse(fs, "REALM", os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	key, err := daemon.TokenKey(*tokenKey, *tokenKeyFile)
	if err != nil {
		return err
	}
	if *tickRate > 1000 {
		return fmt.Errorf("--tick-rate %d: at most 1000", *tickRate)
	}
	log, err := logging.New(logging.Config{Level: *logLevel, Format: *logFormat})
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	d, err := daemon.Start("ingress", *metricsAddr, log)
	if err != nil {
		return err
	}
	// The service is created after the connection, whose reconnect handler
	// must reach it.
	var svc atomic.Pointer[ingress.Service]

	nc, err := bus.Connect(*natsURL, bus.Options{
		Name:   "ingress",
		Logger: log.Named("nats"),
		OnReconnect: func() {
			if s := svc.Load(); s != nil {
				s.Resync()
			}
		},
	})
	if err != nil {
		d.Close()
		return err
	}
	defer nc.Close()

	s, err := ingress.New(ingress.Config{
		ID:            *id,
		Listen:        *listen,
		TokenKey:      key,
		TokenLifetime: *tokenLifetime,
		MaxRevoked:    *maxRevoked,
		IdleTimeout:   *idleTimeout,
		FlushInterval: *flushInterval,
		MaxBatch:      *maxBatch,
		TickRate:      uint32(*tickRate),
		RateLimit:     *rateLimit,
		RateBurst:     *rateBurst,
		Workers:       *workers,
		Socket: udpserver.Config{
			ReadBuffer:  *readBuffer,
			WriteBuffer: *writeBuffer,
			BatchSize:   *socketBatch,
		},
		Registerer: d.Registry(),
	}, nc, log)
	if err != nil {
		d.Close()
		return err
	}
	svc.Store(s)
	return d.Run(s, zap.String("id", s.ID()), zap.Stringer("udp", s.Addr()))
}
