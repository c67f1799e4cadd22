package ingress

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/wire"
	"github.com/ecs-realm/realm/services/ingress/udpserver"
)

// ErrConfig is wrapped by New's error for an invalid Config.
var ErrConfig = errors.New("ingress: invalid config")

// Defaults for the zero Config fields.
const (
	DefaultListen        = ":7778"
	DefaultIDPrefix      = "ingress-"
	DefaultIdleTimeout   = 30 * time.Second
	DefaultFlushInterval = time.Millisecond
	DefaultMaxBatch      = 256
	DefaultTickRate      = 20
	DefaultRateLimit     = 200 // packets per second and endpoint
	DefaultRateBurst     = 100 // packets
	DefaultTokenLifetime = 24 * time.Hour
	DefaultMaxRevoked    = 1 << 20

	// MaxMaxBatch bounds Config.MaxBatch: an encoded input takes at most
	// about 60 bytes, so a full batch stays far below NATS's default 1 MiB
	// payload limit.
	MaxMaxBatch = 10000

	// MaxWorkers bounds Config.Workers.
	MaxWorkers = 256
)

// Config configures a Service. The zero value is valid except for TokenKey,
// which is required; every other zero field means the default in its comment.
type Config struct {
	// ID names this ingress instance in events and in its snapshot subject
	// (bus.IngressOutSubject): 1 to 64 characters of [A-Za-z0-9_-], unique
	// among running instances. Empty means "ingress-" and 8 random
	// hexadecimal digits.
	ID string
	// Listen is the UDP address ("host:port") of the data plane. Empty means
	// ":7778" (every interface, dual-stack where the OS allows).
	Listen string
	// TokenKey opens connect tokens; login seals them with the same key.
	// Required (the all-zero key is rejected).
	TokenKey wire.Key
	// TokenLifetime is the longest lifetime login gives a connect token. A
	// closed session's id is remembered this long so its tokens stay
	// revoked until they expire, and a handshake whose token expires later
	// than now plus TokenLifetime (and one minute of clock skew) is rejected,
	// since its revocation could not be remembered long enough. It must be at
	// least login's token lifetime. Zero means 24h.
	TokenLifetime time.Duration
	// MaxRevoked bounds the closed session ids remembered; past it the
	// oldest are forgotten early (counted in
	// realm_ingress_revoked_evicted_total). Zero means 1Mi (about 64 MiB when full).
	MaxRevoked int
	// IdleTimeout unbinds an endpoint that sent no authenticated packet for
	// this long. Zero means 30s.
	IdleTimeout time.Duration
	// FlushInterval is the longest an authenticated input waits before it is
	// published to the world in an InputBatch. It adds to every input's
	// latency (the world's tick then adds up to a tick more), so it stays
	// short; batches still fill under load (MaxBatch). Zero means 1ms.
	FlushInterval time.Duration
	// MaxBatch publishes a batch as soon as this many inputs are pending.
	// Zero means 256; at most MaxMaxBatch.
	MaxBatch int
	// TickRate is the world's tick rate in Hz, told to clients in the
	// handshake ack. Zero means 20.
	TickRate uint32
	// RateLimit is the sustained packets per second accepted from one bound
	// endpoint; RateBurst is the burst above it. Excess packets are dropped
	// (reason "rate"). Zero means 200 and 100.
	RateLimit float64
	RateBurst int
	// Workers is how many goroutines find the session of, authenticate,
	// decrypt and decode data packets, beside the receive loop, which then
	// only reads the socket, hashes each packet's source address and hands
	// the packets over in chunks. Each source address belongs to one worker,
	// which keeps its inputs in order.
	// -1 means none: the receive loop does all the work itself (best on a
	// single core). Zero means the default, GOMAXPROCS-1 workers, at most 2
	// (one receive loop feeds about two), or none when GOMAXPROCS is 1. At
	// most MaxWorkers.
	Workers int
	// Socket tunes the UDP socket; its zero value means 4 MiB buffers and
	// batches of 64. MaxPacketSize is always wire.MaxPacketSize.
	Socket udpserver.Config
	// Registerer receives the metrics (prefix realm_ingress_). Nil means a
	// private registry, so that several services in one process never
	// collide.
	Registerer prometheus.Registerer
}

// withDefaults fills the zero fields and validates the rest.
func (c Config) withDefaults() (Config, error) {
	if c.ID == "" {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return c, fmt.Errorf("ingress: random id: %w", err)
		}
		c.ID = DefaultIDPrefix + hex.EncodeToString(b[:])
	}
	if err := bus.ValidID(c.ID); err != nil {
		return c, fmt.Errorf("%w: id %q: %w", ErrConfig, c.ID, err)
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.TokenKey == (wire.Key{}) {
		return c, fmt.Errorf("%w: token key required", ErrConfig)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"token lifetime", &c.TokenLifetime, DefaultTokenLifetime},
		{"idle timeout", &c.IdleTimeout, DefaultIdleTimeout},
		{"flush interval", &c.FlushInterval, DefaultFlushInterval},
	} {
		if *d.v < 0 {
			return c, fmt.Errorf("%w: negative %s", ErrConfig, d.name)
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if c.MaxRevoked < 0 || c.MaxBatch < 0 || c.RateLimit < 0 || c.RateBurst < 0 {
		return c, fmt.Errorf("%w: negative limit", ErrConfig)
	}
	if c.MaxRevoked == 0 {
		c.MaxRevoked = DefaultMaxRevoked
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.MaxBatch > MaxMaxBatch {
		return c, fmt.Errorf("%w: max batch %d above %d", ErrConfig, c.MaxBatch, MaxMaxBatch)
	}
	if c.TickRate == 0 {
		c.TickRate = DefaultTickRate
	}
	if c.RateLimit == 0 {
		c.RateLimit = DefaultRateLimit
	}
	if c.RateBurst == 0 {
		c.RateBurst = DefaultRateBurst
	}
	switch {
	case c.Workers < -1 || c.Workers > MaxWorkers:
		return c, fmt.Errorf("%w: workers %d not in [-1, %d]", ErrConfig, c.Workers, MaxWorkers)
	case c.Workers == 0:
		c.Workers = defaultWorkers(runtime.GOMAXPROCS(0))
	}
	if c.Socket.ReadBuffer == 0 {
		c.Socket.ReadBuffer = udpserver.DefaultSocketBuffer
	}
	if c.Socket.WriteBuffer == 0 {
		c.Socket.WriteBuffer = udpserver.DefaultSocketBuffer
	}
	c.Socket.MaxPacketSize = wire.MaxPacketSize
	return c, nil
}

// defaultWorkers is the default Config.Workers with procs processors: the
// receive loop keeps one busy, the workers the others.
func defaultWorkers(procs int) int {
	if procs <= 1 {
		return -1
	}
	return min(procs-1, maxDefaultWorkers)
}
