package login

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/wire"
)

// Defaults of the zero Config fields.
const (
	DefaultListen           = ":7777"
	DefaultDataDir          = "data"
	DefaultTokenTTL         = 5 * time.Minute
	DefaultTickRateHz       = 20
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultIdleTimeout      = 60 * time.Second
	DefaultWriteTimeout     = 10 * time.Second
	DefaultRequestTimeout   = 10 * time.Second
	DefaultCloseTimeout     = 2 * time.Second
	DefaultMaxConnections   = 10000
	DefaultWriteQueue       = 64
	DefaultLoginRate        = 1.0 // attempts per second per client address
	DefaultLoginBurst       = 10
	DefaultArgonTime        = 1
	DefaultArgonMemoryKiB   = 64 << 10 // 64 MiB
	DefaultArgonThreads     = 2
)

// ErrConfig is wrapped by the error New returns for an invalid Config.
var ErrConfig = errors.New("login: invalid config")

// Config configures a Service. The zero value of every field means the
// default named in its comment; TokenKey is the only required field.
type Config struct {
	// ID names this login instance in events and presence entries; it must
	// pass bus.ValidID. Empty means "login-" and 8 random hex digits.
	ID string
	// Listen is the TCP address of the TLS listener. Empty means
	// DefaultListen (":7777"); use "127.0.0.1:0" in tests.
	Listen string

	// CertFile and KeyFile are the PEM certificate chain and key. Both empty
	// means development mode: a self-signed ECDSA P-256 CA and leaf for
	// DevHosts are made (or reused) in <DataDir>/tls by tlsconfig.EnsureDevCert
	// and clients trust <DataDir>/tls/ca.pem. Giving only one is an error.
	CertFile, KeyFile string
	// DataDir holds the development certificates. Empty means "data".
	DataDir string
	// DevHosts are the names and addresses the development certificate is
	// valid for. Nil means tlsconfig.DefaultDevHosts (localhost, 127.0.0.1, ::1).
	DevHosts []string
	// AllowTLS12 also accepts TLS 1.2 (ECDHE with AEAD suites only).
	// False means TLS 1.3 only.
	AllowTLS12 bool

	// TokenKey seals connect tokens; ingress opens them with the same key.
	// Required (the zero key is rejected).
	TokenKey wire.Key
	// TokenTTL is how long a connect token is accepted. Zero means 5 minutes.
	TokenTTL time.Duration
	// IngressAddrs are the UDP host:port addresses given to clients in
	// LoginResponse. Empty means none (a login tier without a data plane,
	// as in some tests).
	IngressAddrs []string
	// TickRateHz is the world's tick rate given to clients. Zero means 20.
	TickRateHz uint32

	// ArgonTime, ArgonMemoryKiB and ArgonThreads are the argon2id cost of new
	// password hashes. Zero means time 1, 64 MiB, 2 threads (each hash then
	// takes 64 MiB of RAM and tens of milliseconds of CPU). Tests and load
	// runs use time 1, 64 KiB, 1 thread. All three zero or all three set.
	ArgonTime      uint32
	ArgonMemoryKiB uint32
	ArgonThreads   uint8
	// MaxConcurrentHashes bounds the argon2id hashes running at once, so a
	// login storm queues instead of using MaxConcurrentHashes × memory and
	// more. Zero means GOMAXPROCS.
	MaxConcurrentHashes int
	// Replicas is the number of copies of the KV buckets in a JetStream
	// cluster (1 to 5). Zero means 1.
	Replicas int

	// HandshakeTimeout bounds the TLS handshake. Zero means 10s.
	HandshakeTimeout time.Duration
	// IdleTimeout closes a connection that sent no frame for that long
	// (Kick IDLE_TIMEOUT). Zero means 60s.
	IdleTimeout time.Duration
	// WriteTimeout bounds the write of one frame to a client. Zero means 10s.
	WriteTimeout time.Duration
	// RequestTimeout bounds the work of one request: the wait for a hash
	// slot and the KV requests. Zero means 10s.
	RequestTimeout time.Duration
	// CloseTimeout bounds the end of a connection: writing the last frames
	// and close_notify, then waiting for the client's close_notify.
	// Zero means 2s.
	CloseTimeout time.Duration
	// MaxConnections bounds open connections (in handshake or established);
	// one more gets Error SERVER_BUSY and is closed. Zero means 10000.
	MaxConnections int
	// WriteQueue is the number of frames queued for one client; a client
	// that lets it fill is disconnected (Kick SLOW_CONSUMER). Zero means 64.
	WriteQueue int
	// LoginRate and LoginBurst limit login and register attempts per client
	// address (per /64 for IPv6): LoginRate per second sustained, LoginBurst
	// at once. Zero means 1 per second and a burst of 10.
	LoginRate  float64
	LoginBurst int

	// Registerer receives the service's metrics (prefix realm_login_). Nil
	// means a private registry, so that several services in one process or
	// test never collide.
	Registerer prometheus.Registerer
}

// fill sets the defaults and validates; it returns the completed copy.
func (c Config) fill() (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	if c.ID == "" {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return Config{}, fmt.Errorf("login id: %w", err)
		}
		c.ID = "login-" + hex.EncodeToString(b[:])
	}
	if err := bus.ValidID(c.ID); err != nil {
		return bad("id: %w", err)
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return bad("cert and key files go together")
	}
	if c.TokenKey == (wire.Key{}) {
		return bad("token key is required")
	}
	if c.TokenTTL == 0 {
		c.TokenTTL = DefaultTokenTTL
	}
	for _, a := range c.IngressAddrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return bad("ingress address %q: %w", a, err)
		}
	}
	if c.TickRateHz == 0 {
		c.TickRateHz = DefaultTickRateHz
	}
	switch {
	case c.ArgonTime == 0 && c.ArgonMemoryKiB == 0 && c.ArgonThreads == 0:
		c.ArgonTime, c.ArgonMemoryKiB, c.ArgonThreads = DefaultArgonTime, DefaultArgonMemoryKiB, DefaultArgonThreads
	case c.ArgonTime == 0 || c.ArgonMemoryKiB == 0 || c.ArgonThreads == 0:
		return bad("argon2 time, memory and threads must all be set or all be zero")
	}
	if c.MaxConcurrentHashes == 0 {
		c.MaxConcurrentHashes = runtime.GOMAXPROCS(0)
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	durations := []struct {
		d   *time.Duration
		def time.Duration
	}{
		{&c.HandshakeTimeout, DefaultHandshakeTimeout},
		{&c.IdleTimeout, DefaultIdleTimeout},
		{&c.WriteTimeout, DefaultWriteTimeout},
		{&c.RequestTimeout, DefaultRequestTimeout},
		{&c.CloseTimeout, DefaultCloseTimeout},
	}
	for _, d := range durations {
		if *d.d == 0 {
			*d.d = d.def
		}
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.WriteQueue == 0 {
		c.WriteQueue = DefaultWriteQueue
	}
	if c.LoginRate == 0 {
		c.LoginRate = DefaultLoginRate
	}
	if c.LoginBurst == 0 {
		c.LoginBurst = DefaultLoginBurst
	}
	switch {
	case c.TokenTTL < 0, c.HandshakeTimeout < 0, c.IdleTimeout < 0, c.WriteTimeout < 0,
		c.RequestTimeout < 0, c.CloseTimeout < 0:
		return bad("negative duration")
	case c.MaxConcurrentHashes < 0, c.MaxConnections < 0, c.WriteQueue < 0, c.LoginBurst < 0, c.LoginRate < 0:
		return bad("negative limit")
	case c.Replicas < 1 || c.Replicas > 5:
		return bad("replicas %d not in 1..5", c.Replicas)
	}
	return c, nil
}

// devCertDir is where development certificates live.
func (c *Config) devCertDir() string { return filepath.Join(c.DataDir, "tls") }
