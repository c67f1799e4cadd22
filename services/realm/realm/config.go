package realm

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/wire"
	"github.com/ecs-realm/realm/services/ingress/ingress"
	"github.com/ecs-realm/realm/services/login/login"
	"github.com/ecs-realm/realm/services/world/world"
)

// Defaults of the zero Config fields.
const (
	DefaultDataDir       = ".data"
	DefaultLoginListen   = "127.0.0.1:7777"
	DefaultIngressListen = "127.0.0.1:7778"
	DefaultTickRate      = 20
	DefaultNATSHost      = bus.DefaultServerHost
	DefaultNATSPort      = bus.DefaultServerPort
	// TokenKeyFile is the token key's file name in the data directory.
	TokenKeyFile = "token.key"
)

// ErrConfig is wrapped by the error New returns for an invalid Config.
var ErrConfig = errors.New("realm: invalid config")

// Config configures a Realm. The zero value runs everything on loopback
// with the default ports and the data in ".data"; every zero field means the
// default in its comment.
type Config struct {
	// DataDir holds the embedded NATS server's JetStream store (<DataDir>/nats),
	// the development TLS certificate (<DataDir>/tls) and the token key
	// (<DataDir>/token.key). It is created (0700) if missing. Empty means
	// ".data".
	DataDir string

	// NATSURL is an external NATS server or cluster (comma-separated URLs,
	// JetStream required) that every service connects to; no server is
	// started then. Empty means an embedded server with JetStream in
	// <DataDir>/nats on NATSHost:NATSPort.
	NATSURL string
	// NATSHost is the embedded server's client listen address. Empty means
	// "127.0.0.1" (this machine only).
	NATSHost string
	// NATSPort is the embedded server's client port. Zero means 4222,
	// bus.RandomPort (-1) lets the OS choose (see Realm.NATSURL).
	NATSPort int

	// TokenKey seals connect tokens (login) and opens them (ingress). The
	// zero key means the key in TokenKeyFile.
	TokenKey wire.Key
	// TokenKeyFile holds the token key as 64 hex digits. When TokenKey is
	// zero it is read, or created (mode 0600) with a random key if it does
	// not exist. Empty means <DataDir>/token.key.
	TokenKeyFile string

	// TickRate is the world's tick rate in Hz, and what login and ingress
	// tell clients: it overrides the tick rates of World, Login and Ingress.
	// Zero means 20.
	TickRate int
	// IngressPublicAddrs are the UDP host:port addresses login gives clients
	// to reach ingress (through NAT or a load balancer). Empty means the
	// address the ingress socket is bound to, with a wildcard host (0.0.0.0,
	// ::) replaced by 127.0.0.1, which only clients on this machine can use.
	IngressPublicAddrs []string
	// MetricsAddr is the address of /metrics, /healthz and /readyz, shared
	// by the three services. Empty means no metrics server (Ready still
	// aggregates the checks).
	MetricsAddr string
	// Profiling also serves Go's runtime profiles under /debug/pprof/ on
	// MetricsAddr (keep that address private). False means off.
	Profiling bool

	// Login, Ingress and World configure the services. Empty listen
	// addresses mean DefaultLoginListen and DefaultIngressListen (loopback,
	// unlike the services alone). The Realm sets their token keys, tick
	// rates and Registerers; Login.DataDir is DataDir, and Login.IngressAddrs
	// is IngressPublicAddrs (or its default).
	Login   login.Config
	Ingress ingress.Config
	World   world.Config

	// Registry receives the metrics of every service and the Go and process
	// collectors, and is served on MetricsAddr. Nil means a new registry.
	Registry *prometheus.Registry
}

// fill returns c with its defaults applied and validated.
func (c Config) fill() (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return c, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.NATSHost == "" {
		c.NATSHost = DefaultNATSHost
	}
	if c.NATSPort == 0 {
		c.NATSPort = DefaultNATSPort
	}
	if c.TokenKeyFile == "" {
		c.TokenKeyFile = filepath.Join(c.DataDir, TokenKeyFile)
	}
	if c.TickRate == 0 {
		c.TickRate = DefaultTickRate
	}
	if c.Login.Listen == "" {
		c.Login.Listen = DefaultLoginListen
	}
	if c.Ingress.Listen == "" {
		c.Ingress.Listen = DefaultIngressListen
	}
	switch {
	case c.TickRate < 1 || c.TickRate > 1000:
		return bad("tick rate %d not in 1..1000", c.TickRate)
	case c.NATSPort < bus.RandomPort || c.NATSPort > 65535:
		return bad("nats port %d", c.NATSPort)
	}
	for _, a := range c.IngressPublicAddrs {
		if err := checkHostPort(a); err != nil {
			return bad("ingress public address %q: %v", a, err)
		}
	}
	c.Login.DataDir = c.DataDir
	c.Login.TickRateHz = uint32(c.TickRate)
	c.Ingress.TickRate = uint32(c.TickRate)
	c.World.TickRate = c.TickRate
	return c, nil
}

// checkHostPort accepts "host:port" with a non-empty host (a name or an IP
// address: clients resolve names) and a port in 1..65535.
func checkHostPort(a string) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return err
	}
	if host == "" {
		return errors.New("empty host")
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}
