package bus

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
)

// Defaults applied by StartServer to zero ServerConfig fields.
const (
	DefaultServerHost   = "127.0.0.1"
	DefaultServerPort   = 4222
	DefaultClusterName  = "realm"
	DefaultReadyTimeout = 10 * time.Second
)

// RandomPort asks StartServer for a port chosen by the OS (ServerConfig.Port
// and ClusterPort).
const RandomPort = server.RANDOM_PORT

// ErrServerNotReady is returned by StartServer when the server did not accept
// connections within ReadyTimeout.
var ErrServerNotReady = errors.New("bus: nats server not ready")

// ServerConfig configures an embedded NATS server. The zero value is a
// standalone server on 127.0.0.1:4222 without JetStream.
type ServerConfig struct {
	// Host is the client listen address; empty means DefaultServerHost
	// (loopback only). Use "0.0.0.0" to accept remote clients.
	Host string
	// Port is the client port; zero means DefaultServerPort, RandomPort (-1)
	// lets the OS choose (read it back with ClientURL).
	Port int
	// StoreDir enables JetStream with file storage in this directory; empty
	// means JetStream off.
	StoreDir string
	// JetStreamMaxMemory and JetStreamMaxStore cap JetStream's memory and
	// file storage in bytes; zero means nats-server's defaults (75% of RAM,
	// 1 TB or 75% of the disk).
	JetStreamMaxMemory int64
	JetStreamMaxStore  int64
	// ServerName names the server in a cluster and in JetStream; it must be
	// unique in the cluster. Empty means nats-server's generated id (fine
	// standalone; set it for JetStream clusters so restarts keep identity).
	ServerName string
	// ClusterName is the cluster's name, the same on every node; empty means
	// DefaultClusterName. Used only when ClusterPort is set.
	ClusterName string
	// ClusterHost is the route listen address; empty means Host.
	ClusterHost string
	// ClusterPort is the route port: zero means no clustering, RandomPort (-1)
	// lets the OS choose.
	ClusterPort int
	// Routes are the other nodes' route URLs ("nats-route://host:port"). A
	// JetStream cluster needs them; listing every node including this one is
	// fine and lets JetStream know the cluster's size up front.
	Routes []string
	// Logger receives the server's logs (notices and debug at debug level,
	// warnings at warn, errors at error). Nil means the server logs nothing.
	Logger *zap.Logger
	// ReadyTimeout bounds the wait for the server to accept connections;
	// zero means DefaultReadyTimeout.
	ReadyTimeout time.Duration
}

// ServerOptions returns the nats-server options StartServer would use, for
// callers that need to adjust something this package does not expose.
func ServerOptions(cfg ServerConfig) (*server.Options, error) {
	opts := &server.Options{
		Host:       cmp.Or(cfg.Host, DefaultServerHost),
		Port:       cmp.Or(cfg.Port, DefaultServerPort),
		ServerName: cfg.ServerName,
		NoSigs:     true,
		NoLog:      cfg.Logger == nil,
	}
	if cfg.StoreDir != "" {
		opts.JetStream = true
		opts.StoreDir = cfg.StoreDir
		opts.JetStreamMaxMemory = cfg.JetStreamMaxMemory
		opts.JetStreamMaxStore = cfg.JetStreamMaxStore
	}
	if cfg.ClusterPort != 0 {
		opts.Cluster.Name = cmp.Or(cfg.ClusterName, DefaultClusterName)
		opts.Cluster.Host = cmp.Or(cfg.ClusterHost, opts.Host)
		opts.Cluster.Port = cfg.ClusterPort
	} else if len(cfg.Routes) > 0 {
		return nil, errors.New("bus: server routes need a cluster port")
	}
	for _, r := range cfg.Routes {
		u, err := url.Parse(r)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("bus: bad route %q: want nats-route://host:port", r)
		}
		opts.Routes = append(opts.Routes, u)
	}
	return opts, nil
}

// StartServer starts an embedded NATS server and waits (at most
// ReadyTimeout) until it accepts connections. The caller stops it with
// Shutdown and then WaitForShutdown.
func StartServer(cfg ServerConfig) (*server.Server, error) {
	opts, err := ServerOptions(cfg)
	if err != nil {
		return nil, err
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("bus: nats server: %w", err)
	}
	if cfg.Logger != nil {
		log := cfg.Logger.Named("nats-server")
		debug := log.Core().Enabled(zap.DebugLevel)
		s.SetLoggerV2(serverLogger{log.Sugar()}, debug, false, false)
	}
	s.Start()
	wait := cmp.Or(cfg.ReadyTimeout, DefaultReadyTimeout)
	if !s.ReadyForConnections(wait) {
		s.Shutdown()
		s.WaitForShutdown()
		return nil, fmt.Errorf("%w after %s (client %s:%d)", ErrServerNotReady, wait, opts.Host, opts.Port)
	}
	return s, nil
}

// ClientURL returns the nats:// URL at which s accepts clients, with the
// bound port and, for a wildcard listen address, the loopback host.
func ClientURL(s *server.Server) string {
	addr, ok := s.Addr().(*net.TCPAddr)
	if !ok {
		return s.ClientURL()
	}
	return "nats://" + net.JoinHostPort(dialHost(addr.IP), strconv.Itoa(addr.Port))
}

// RouteURL returns the nats-route:// URL of s's cluster listener, or "" when
// s is not clustered.
func RouteURL(s *server.Server) string {
	addr := s.ClusterAddr()
	if addr == nil {
		return ""
	}
	return "nats-route://" + net.JoinHostPort(dialHost(addr.IP), strconv.Itoa(addr.Port))
}

// dialHost returns the host to dial for a listener bound to ip: loopback
// for a wildcard address.
func dialHost(ip net.IP) string {
	switch {
	case ip == nil || ip.Equal(net.IPv4zero):
		return "127.0.0.1"
	case ip.IsUnspecified():
		return "::1"
	}
	return ip.String()
}

// serverLogger adapts zap to nats-server's Logger interface.
type serverLogger struct{ s *zap.SugaredLogger }

func (l serverLogger) Noticef(format string, v ...any) { l.s.Debugf(format, v...) }
func (l serverLogger) Warnf(format string, v ...any)   { l.s.Warnf(format, v...) }
func (l serverLogger) Errorf(format string, v ...any)  { l.s.Errorf(format, v...) }
func (l serverLogger) Debugf(format string, v ...any)  { l.s.Debugf(format, v...) }
func (l serverLogger) Tracef(format string, v ...any)  { l.s.Debugf(format, v...) }

// Fatalf is logged as an error and does not exit: an embedded server must not
// end the process. The failure then surfaces as a StartServer error (the
// server is not ready) or as a stopped server.
func (l serverLogger) Fatalf(format string, v ...any) { l.s.Errorf(format, v...) }
