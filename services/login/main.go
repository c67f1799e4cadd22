// Command login runs Realm's TLS control plane alone against a NATS server
// or cluster with JetStream (see docs/services/login.md). Every flag can also
// be set by its environment variable, REALM_ and the flag's name in upper
// case with '-' replaced by '_' (REALM_TOKEN_KEY_FILE for --token-key-file).
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
	"github.com/ecs-realm/realm/services/login/login"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "login:", err)
		os.Exit(1)
	}
}

func run() error {
	fs := flag.NewFlagSet("login", flag.ContinueOnError)
	var (
		listen       = fs.String("listen", login.DefaultListen, "TCP address of the TLS control plane")
		id           = fs.String("id", "", `instance id, [A-Za-z0-9_-]{1,64}, unique among login instances (default "login-" + 8 random hex digits)`)
		dataDir      = fs.String("data-dir", login.DefaultDataDir, "directory of the development certificates (<data-dir>/tls)")
		tlsCert      = fs.String("tls-cert", "", "PEM certificate chain; empty (with --tls-key empty) means a development certificate in <data-dir>/tls")
		tlsKey       = fs.String("tls-key", "", "PEM private key of --tls-cert")
		devHosts     = fs.String("dev-hosts", "", "comma-separated names and IPs of the development certificate (default localhost,127.0.0.1,::1)")
		tls12        = fs.Bool("tls12", false, "also accept TLS 1.2 (ECDHE with AEAD suites only); default TLS 1.3 only")
		tokenKey     = fs.String("token-key", "", "connect token key shared with ingress, 64 hex digits (prefer --token-key-file or the environment: flags show in ps)")
		tokenKeyFile = fs.String("token-key-file", "", "file holding the token key as 64 hex digits")
		tokenTTL     = fs.Duration("token-ttl", login.DefaultTokenTTL, "connect token lifetime; at most ingress's --token-lifetime")
		ingressAddrs = fs.String("ingress-addrs", "127.0.0.1:7778", "comma-separated UDP host:port addresses of ingress given to clients")
		tickRate     = fs.Uint("tick-rate", login.DefaultTickRateHz, "world tick rate in Hz, told to clients")
		natsURL      = fs.String("nats-url", "nats://127.0.0.1:4222", "NATS server URL(s), comma-separated; JetStream required")
		replicas     = fs.Int("replicas", 1, "copies of the accounts and presence KV buckets in a JetStream cluster (1..5)")
		metricsAddr  = fs.String("metrics-addr", "127.0.0.1:9101", `address of /metrics, /healthz and /readyz ("" disables)`)
		logLevel     = fs.String("log-level", "info", "log level: debug, info, warn, error")
		logFormat    = fs.String("log-format", logging.FormatJSON, "log format: json or console")

		argonTime    = fs.Uint("argon-time", login.DefaultArgonTime, "argon2id iterations of new password hashes")
		argonMemory  = fs.Uint("argon-memory-kib", login.DefaultArgonMemoryKiB, "argon2id memory of new password hashes, KiB (64 for tests and load runs only)")
		argonThreads = fs.Uint("argon-threads", login.DefaultArgonThreads, "argon2id parallelism of new password hashes")
		maxHashes    = fs.Int("max-concurrent-hashes", 0, "argon2id hashes running at once (0: GOMAXPROCS); peak memory is this × --argon-memory-kib")

		handshakeTimeout = fs.Duration("handshake-timeout", login.DefaultHandshakeTimeout, "close a connection whose TLS handshake takes longer")
		idleTimeout      = fs.Duration("idle-timeout", login.DefaultIdleTimeout, "kick a connection silent for this long (clients ping every ~15s)")
		writeTimeout     = fs.Duration("write-timeout", login.DefaultWriteTimeout, "longest write of one frame to a client")
		requestTimeout   = fs.Duration("request-timeout", login.DefaultRequestTimeout, "longest work on one request (hash slot wait, KV requests)")
		closeTimeout     = fs.Duration("close-timeout", login.DefaultCloseTimeout, "longest goodbye: last frames, close_notify, the client's close_notify")
		maxConns         = fs.Int("max-connections", login.DefaultMaxConnections, "open connections; one more gets SERVER_BUSY")
		writeQueue       = fs.Int("write-queue", login.DefaultWriteQueue, "frames queued per client before it is kicked as a slow consumer")
		loginRate        = fs.Float64("login-rate", login.DefaultLoginRate, "login and register attempts per second per client address (IPv6: per /64)")
		loginBurst       = fs.Int("login-burst", login.DefaultLoginBurst, "burst of login and register attempts per client address")
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
	switch {
	case *tickRate > 1000:
		return fmt.Errorf("--tick-rate %d: at most 1000", *tickRate)
	case *argonTime < 1 || *argonTime > 1<<20:
		return fmt.Errorf("--argon-time %d: out of range", *argonTime)
	case *argonMemory < 8 || *argonMemory > 1<<32-1:
		return fmt.Errorf("--argon-memory-kib %d: out of range", *argonMemory)
	case *argonThreads < 1 || *argonThreads > 255:
		return fmt.Errorf("--argon-threads %d: 1..255", *argonThreads)
	}
	log, err := logging.New(logging.Config{Level: *logLevel, Format: *logFormat})
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	d, err := daemon.Start("login", *metricsAddr, log)
	if err != nil {
		return err
	}
	nc, err := bus.Connect(*natsURL, bus.Options{Name: "login", Logger: log.Named("nats")})
	if err != nil {
		d.Close()
		return err
	}
	defer nc.Close()

	s, err := login.New(login.Config{
		ID:                  *id,
		Listen:              *listen,
		CertFile:            *tlsCert,
		KeyFile:             *tlsKey,
		DataDir:             *dataDir,
		DevHosts:            flagenv.List(*devHosts),
		AllowTLS12:          *tls12,
		TokenKey:            key,
		TokenTTL:            *tokenTTL,
		IngressAddrs:        flagenv.List(*ingressAddrs),
		TickRateHz:          uint32(*tickRate),
		ArgonTime:           uint32(*argonTime),
		ArgonMemoryKiB:      uint32(*argonMemory),
		ArgonThreads:        uint8(*argonThreads),
		MaxConcurrentHashes: *maxHashes,
		Replicas:            *replicas,
		HandshakeTimeout:    *handshakeTimeout,
		IdleTimeout:         *idleTimeout,
		WriteTimeout:        *writeTimeout,
		RequestTimeout:      *requestTimeout,
		CloseTimeout:        *closeTimeout,
		MaxConnections:      *maxConns,
		WriteQueue:          *writeQueue,
		LoginRate:           *loginRate,
		LoginBurst:          *loginBurst,
		Registerer:          d.Registry(),
	}, nc, log)
	if err != nil {
		d.Close()
		return err
	}
	fields := []zap.Field{zap.String("id", s.ID()), zap.Stringer("tls", s.Addr())}
	if ca := s.DevCAFile(); ca != "" {
		fields = append(fields, zap.String("dev_ca", ca))
	}
	return d.Run(s, fields...)
}
