// Command ingress runs Realm's UDP data plane alone against a NATS server or
// cluster (see docs/services/ingress.md). Every flag can also be set by its
// environment variable, REALM_ and the flag's name in upper case with '-'
// replaced by '_' (REALM_TOKEN_KEY_FILE for --token-key-file).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/flagenv"
	"github.com/ecs-realm/realm/libs/logging"
	"github.com/ecs-realm/realm/libs/metrics"
	"github.com/ecs-realm/realm/libs/wire"
	"github.com/ecs-realm/realm/services/ingress/ingress"
	"github.com/ecs-realm/realm/services/ingress/udpserver"
)

// metricsShutdownTimeout bounds the metrics server's shutdown.
const metricsShutdownTimeout = 5 * time.Second

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
	key, err := loadKey(*tokenKey, *tokenKeyFile)
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

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// The service is created after the connection, whose reconnect handler
	// must reach it.
	var svc atomic.Pointer[ingress.Service]
	ms := metrics.NewServer(*metricsAddr, reg, log)
	ms.AddReadiness("ingress", func() error {
		s := svc.Load()
		if s == nil {
			return errors.New("starting")
		}
		return s.Ready()
	})
	if err := ms.Start(); err != nil {
		return err
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), metricsShutdownTimeout)
		defer cancel()
		if err := ms.Shutdown(ctx); err != nil {
			log.Warn("metrics shutdown", zap.Error(err))
		}
	}()

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
		Registerer: reg,
	}, nc, log)
	if err != nil {
		return err
	}
	svc.Store(s)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("ingress starting", zap.String("id", s.ID()), zap.Stringer("udp", s.Addr()),
		zap.String("metrics", ms.Addr()))
	return s.Run(ctx)
}

// loadKey reads the token key from exactly one of the flag and the file.
func loadKey(hexKey, file string) (wire.Key, error) {
	switch {
	case hexKey != "" && file != "":
		return wire.Key{}, errors.New("set only one of --token-key and --token-key-file")
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return wire.Key{}, fmt.Errorf("token key file: %w", err)
		}
		return wire.ParseKey(string(b))
	case hexKey != "":
		return wire.ParseKey(hexKey)
	}
	return wire.Key{}, errors.New("a token key is required: --token-key-file or $REALM_TOKEN_KEY")
}
