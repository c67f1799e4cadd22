// Command realm runs a whole Realm in one process: an embedded NATS server
// with JetStream and the login, ingress and world services (see
// docs/services/realm.md). It keeps its NATS store, development certificate
// and token key in --data-dir and prints where it listens and how to connect.
// Every flag can also be set by its environment variable, REALM_ and the
// flag's name in upper case with '-' replaced by '_' (REALM_DATA_DIR for
// --data-dir). SIGINT or SIGTERM stops login, ingress, world and NATS, in
// that order, and exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/flagenv"
	"github.com/ecs-realm/realm/libs/logging"
	"github.com/ecs-realm/realm/libs/wire"
	"github.com/ecs-realm/realm/services/ingress/ingress"
	"github.com/ecs-realm/realm/services/login/login"
	"github.com/ecs-realm/realm/services/realm/realm"
)

// Argon2id cost of --dev-fast-hash: cheap enough for thousands of logins a
// second, far too cheap for real passwords.
const (
	fastArgonTime      = 1
	fastArgonMemoryKiB = 64
	fastArgonThreads   = 1
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "realm:", err)
		os.Exit(1)
	}
}

// run parses args, starts the realm, prints its summary to stdout and
// serves until ctx ends. Usage and flag errors go to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, logCfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log, err := logging.New(logCfg)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	r, err := realm.New(cfg, log)
	if err != nil {
		return err
	}
	log.Info("realm started",
		zap.Stringer("login", r.LoginAddr()),
		zap.Stringer("ingress", r.IngressAddr()),
		zap.Strings("ingress_public", r.IngressPublicAddrs()),
		zap.String("nats", r.NATSURL()),
		zap.Bool("nats_embedded", r.Embedded()),
		zap.String("ca_file", r.CAFile()),
		zap.String("metrics", r.MetricsAddr()))
	if err := r.WriteSummary(stdout); err != nil {
		log.Warn("summary", zap.Error(err))
	}
	return r.Run(ctx)
}

// parseFlags turns the command line and the environment into a Config.
func parseFlags(args []string, stderr io.Writer) (realm.Config, logging.Config, error) {
	fs := flag.NewFlagSet("realm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		dataDir     = fs.String("data-dir", realm.DefaultDataDir, "directory of the NATS store, the development certificate and the token key")
		natsURL     = fs.String("nats-url", "", "external NATS server URL(s), comma-separated, JetStream required; empty runs an embedded server")
		natsHost    = fs.String("nats-host", realm.DefaultNATSHost, "client listen address of the embedded NATS server")
		natsPort    = fs.Int("nats-port", realm.DefaultNATSPort, "client port of the embedded NATS server (-1: random)")
		replicas    = fs.Int("replicas", 1, "copies of login's KV buckets in a JetStream cluster (1..5; 3 for a 3-node --nats-url cluster)")
		tokenKey    = fs.String("token-key", "", "connect token key, 64 hex digits (prefer the key file or the environment: flags show in ps)")
		tokenKeyF   = fs.String("token-key-file", "", "token key file, created with a random key if missing (default <data-dir>/token.key)")
		tickRate    = fs.Int("tick-rate", realm.DefaultTickRate, "world tick rate in Hz, also told to clients")
		metricsAddr = fs.String("metrics-addr", "127.0.0.1:9100", `address of /metrics, /healthz and /readyz ("" disables)`)
		pprofOn     = fs.Bool("pprof", false, "also serve Go runtime profiles at /debug/pprof/ on --metrics-addr (keep it private)")
		logLevel    = fs.String("log-level", "info", "log level: debug, info, warn, error")
		logFormat   = fs.String("log-format", logging.FormatConsole, "log format: console or json")

		loginListen  = fs.String("login-listen", realm.DefaultLoginListen, "TCP address of the TLS login server")
		loginID      = fs.String("login-id", "", `login instance id (default "login-" + 8 random hex digits)`)
		tlsCert      = fs.String("tls-cert", "", "PEM certificate chain; empty (with --tls-key empty) means a development certificate in <data-dir>/tls")
		tlsKey       = fs.String("tls-key", "", "PEM private key of --tls-cert")
		devHosts     = fs.String("dev-hosts", "", "comma-separated names and IPs of the development certificate (default localhost,127.0.0.1,::1)")
		tls12        = fs.Bool("tls12", false, "also accept TLS 1.2 (ECDHE with AEAD suites only)")
		tokenTTL     = fs.Duration("token-ttl", login.DefaultTokenTTL, "connect token lifetime; at most --token-lifetime")
		argonTime    = fs.Uint("argon-time", login.DefaultArgonTime, "argon2id iterations of new password hashes")
		argonMemory  = fs.Uint("argon-memory-kib", login.DefaultArgonMemoryKiB, "argon2id memory of new password hashes, KiB")
		argonThreads = fs.Uint("argon-threads", login.DefaultArgonThreads, "argon2id parallelism of new password hashes")
		fastHash     = fs.Bool("dev-fast-hash", false, "argon2id time 1, 64 KiB, 1 thread for new accounts: for load runs and development only")
		maxHashes    = fs.Int("max-concurrent-hashes", 0, "argon2id hashes running at once (0: GOMAXPROCS)")
		loginRate    = fs.Float64("login-rate", login.DefaultLoginRate, "login and register attempts per second per client address (raise for load runs from one machine)")
		loginBurst   = fs.Int("login-burst", login.DefaultLoginBurst, "burst of login and register attempts per client address")
		maxConns     = fs.Int("max-connections", login.DefaultMaxConnections, "open TLS connections; one more gets SERVER_BUSY")
		loginIdle    = fs.Duration("login-idle-timeout", login.DefaultIdleTimeout, "kick a TLS connection silent for this long")

		ingressListen = fs.String("ingress-listen", realm.DefaultIngressListen, "UDP address of the data plane")
		ingressPublic = fs.String("ingress-public-addr", "", "comma-separated UDP host:port addresses of ingress given to clients (default the bound --ingress-listen address)")
		ingressID     = fs.String("ingress-id", "", `ingress instance id (default "ingress-" + 8 random hex digits)`)
		ingressIdle   = fs.Duration("ingress-idle-timeout", ingress.DefaultIdleTimeout, "unbind a UDP endpoint silent for this long")
		udpRate       = fs.Float64("ingress-rate-limit", ingress.DefaultRateLimit, "packets per second accepted from one UDP endpoint")
		udpBurst      = fs.Int("ingress-rate-burst", ingress.DefaultRateBurst, "packet burst accepted from one UDP endpoint")
		tokenLifetime = fs.Duration("token-lifetime", ingress.DefaultTokenLifetime, "longest token lifetime ingress accepts; at least --token-ttl")

		worldSize     = fs.Float64("world-size", 1000, "side of the square map, units")
		maxSpeed      = fs.Float64("max-speed", 5, "player speed at full input, units per second")
		aoiRadius     = fs.Float64("aoi-radius", 50, "area-of-interest radius, units")
		aoiCap        = fs.Int("aoi-cap", 32, "most entities in one snapshot besides the player")
		snapshotEvery = fs.Int("snapshot-every", 1, "send snapshots every n-th tick")
		snapshotSprd  = fs.Bool("snapshot-spread", false, "with --snapshot-every n > 1, spread players' snapshots over the n ticks instead of sending all on one")
		workers       = fs.Int("workers", 0, "goroutines sharing the world's snapshot phase (0: GOMAXPROCS)")
	)
	if err := flagenv.Parse(fs, "REALM", args); err != nil {
		return realm.Config{}, logging.Config{}, err
	}
	if fs.NArg() > 0 {
		return realm.Config{}, logging.Config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *fastHash {
		if set["argon-time"] || set["argon-memory-kib"] || set["argon-threads"] {
			return realm.Config{}, logging.Config{}, errors.New("--dev-fast-hash and --argon-* exclude each other")
		}
		*argonTime, *argonMemory, *argonThreads = fastArgonTime, fastArgonMemoryKiB, fastArgonThreads
	}
	switch {
	case *argonTime < 1 || *argonTime > 1<<20:
		return realm.Config{}, logging.Config{}, fmt.Errorf("--argon-time %d: out of range", *argonTime)
	case *argonMemory < 8 || *argonMemory > 1<<32-1:
		return realm.Config{}, logging.Config{}, fmt.Errorf("--argon-memory-kib %d: out of range", *argonMemory)
	case *argonThreads < 1 || *argonThreads > 255:
		return realm.Config{}, logging.Config{}, fmt.Errorf("--argon-threads %d: 1..255", *argonThreads)
	}
	var key wire.Key
	if *tokenKey != "" {
		if set["token-key-file"] {
			return realm.Config{}, logging.Config{}, errors.New("set only one of --token-key and --token-key-file")
		}
		k, err := wire.ParseKey(*tokenKey)
		if err != nil {
			return realm.Config{}, logging.Config{}, fmt.Errorf("--token-key: %w", err)
		}
		key = k
	}
	cfg := realm.Config{
		DataDir:            *dataDir,
		NATSURL:            *natsURL,
		NATSHost:           *natsHost,
		NATSPort:           *natsPort,
		TokenKey:           key,
		TokenKeyFile:       *tokenKeyF,
		TickRate:           *tickRate,
		IngressPublicAddrs: flagenv.List(*ingressPublic),
		MetricsAddr:        *metricsAddr,
		Profiling:          *pprofOn,
		Login: login.Config{
			ID:                  *loginID,
			Listen:              *loginListen,
			CertFile:            *tlsCert,
			KeyFile:             *tlsKey,
			DevHosts:            flagenv.List(*devHosts),
			AllowTLS12:          *tls12,
			TokenTTL:            *tokenTTL,
			ArgonTime:           uint32(*argonTime),
			ArgonMemoryKiB:      uint32(*argonMemory),
			ArgonThreads:        uint8(*argonThreads),
			MaxConcurrentHashes: *maxHashes,
			Replicas:            *replicas,
			IdleTimeout:         *loginIdle,
			MaxConnections:      *maxConns,
			LoginRate:           *loginRate,
			LoginBurst:          *loginBurst,
		},
		Ingress: ingress.Config{
			ID:            *ingressID,
			Listen:        *ingressListen,
			TokenLifetime: *tokenLifetime,
			IdleTimeout:   *ingressIdle,
			RateLimit:     *udpRate,
			RateBurst:     *udpBurst,
		},
	}
	cfg.World.WorldSize = *worldSize
	cfg.World.MaxSpeed = *maxSpeed
	cfg.World.AOIRadius = *aoiRadius
	cfg.World.AOICap = *aoiCap
	cfg.World.SnapshotEvery = *snapshotEvery
	cfg.World.SnapshotSpread = *snapshotSprd
	cfg.World.Workers = *workers
	return cfg, logging.Config{Level: *logLevel, Format: *logFormat}, nil
}
