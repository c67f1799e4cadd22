package realm

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/metrics"
	"github.com/ecs-realm/realm/libs/wire"
	"github.com/ecs-realm/realm/services/ingress/ingress"
	"github.com/ecs-realm/realm/services/login/login"
	"github.com/ecs-realm/realm/services/world/world"
)

// metricsShutdownTimeout bounds the metrics server's shutdown.
const metricsShutdownTimeout = 5 * time.Second

var (
	// ErrRunTwice is returned by a second call of Run.
	ErrRunTwice = errors.New("realm: Run called twice")
	// ErrServiceStopped is wrapped by Run's error when a service's Run
	// returned before the realm was asked to stop, without an error of its own.
	ErrServiceStopped = errors.New("realm: service stopped unexpectedly")
	// ErrNATSDown is reported by Ready while the embedded NATS server is not
	// running or a service's NATS connection is down.
	ErrNATSDown = errors.New("realm: nats not connected")
)

// Realm is the whole realm in one process. Create it with New and release
// it with Run.
type Realm struct {
	cfg Config // filled
	log *zap.Logger

	ns      *server.Server // embedded NATS server; nil with Config.NATSURL
	natsURL string
	conns   []*bus.Conn // one per service: world, ingress, login

	world   *world.Service
	ingress *ingress.Service
	login   *login.Service
	metrics *metrics.Server

	key         wire.Key
	keyFile     string // "" when Config.TokenKey was given
	keyCreated  bool
	publicAddrs []string // what login advertises

	running atomic.Bool // set by Run
}

// New prepares the data directory and the token key, starts the embedded
// NATS server (unless Config.NATSURL is set), connects the services to it,
// constructs them (binding their listeners) and starts the metrics server.
// On error everything it started is stopped again. log may be nil.
func New(cfg Config, log *zap.Logger) (_ *Realm, err error) {
	cfg, err = cfg.fill()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	r := &Realm{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			r.shutdown(context.Background())
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("realm: data dir: %w", err)
	}
	if err := r.loadKey(); err != nil {
		return nil, err
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	if err := registerRuntime(reg); err != nil {
		return nil, err
	}
	decodeErrs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realm_bus_decode_errors_total",
		Help: "NATS messages dropped because they did not decode, by service.",
	}, []string{"service"})
	if err := reg.Register(decodeErrs); err != nil {
		return nil, fmt.Errorf("realm: metrics: %w", err)
	}
	r.metrics = metrics.NewServer(cfg.MetricsAddr, reg, log.Named("metrics"))
	if cfg.Profiling {
		r.metrics.EnableProfiling()
	}

	if err := r.startNATS(); err != nil {
		return nil, err
	}
	connect := func(name string, onReconnect func()) (*bus.Conn, error) {
		c, err := bus.Connect(r.natsURL, bus.Options{
			Name:         "realm-" + name,
			Logger:       log.Named(name),
			OnReconnect:  onReconnect,
			DecodeErrors: decodeErrs.WithLabelValues(name),
		})
		if err != nil {
			return nil, fmt.Errorf("realm: %s: %w", name, err)
		}
		r.conns = append(r.conns, c)
		return c, nil
	}

	// The world first, so that it queues the events of the others from the
	// start; ingress before login, whose clients are told its address.
	nc, err := connect("world", nil)
	if err != nil {
		return nil, err
	}
	wcfg := cfg.World
	wcfg.Registerer = reg
	if r.world, err = world.New(wcfg, nc, log.Named("world")); err != nil {
		return nil, fmt.Errorf("realm: %w", err)
	}

	// The reconnect handler runs on a nats.go goroutine, possibly before
	// ingress.New returns: it reads the service through an atomic pointer.
	var ing atomic.Pointer[ingress.Service]
	nc, err = connect("ingress", func() {
		if s := ing.Load(); s != nil {
			s.Resync()
		}
	})
	if err != nil {
		return nil, err
	}
	icfg := cfg.Ingress
	icfg.TokenKey, icfg.Registerer = r.key, reg
	if r.ingress, err = ingress.New(icfg, nc, log.Named("ingress")); err != nil {
		return nil, fmt.Errorf("realm: %w", err)
	}
	ing.Store(r.ingress)

	r.publicAddrs = cfg.IngressPublicAddrs
	if len(r.publicAddrs) == 0 {
		r.publicAddrs = []string{dialable(r.ingress.Addr()).String()}
		if r.ingress.Addr().Addr().IsUnspecified() {
			log.Warn("ingress listens on every interface but advertises loopback: set the public ingress address for remote clients",
				zap.Stringer("ingress", r.ingress.Addr()))
		}
	}
	nc, err = connect("login", nil)
	if err != nil {
		return nil, err
	}
	lcfg := cfg.Login
	lcfg.TokenKey, lcfg.Registerer = r.key, reg
	lcfg.IngressAddrs = r.publicAddrs
	if r.login, err = login.New(lcfg, nc, log.Named("login")); err != nil {
		return nil, fmt.Errorf("realm: %w", err)
	}

	r.metrics.AddReadiness("nats", r.natsReady)
	r.metrics.AddReadiness("world", r.world.Ready)
	r.metrics.AddReadiness("ingress", r.ingress.Ready)
	r.metrics.AddReadiness("login", r.login.Ready)
	if err := r.metrics.Start(); err != nil {
		return nil, fmt.Errorf("realm: %w", err)
	}
	return r, nil
}

// loadKey sets r.key from the Config or the key file.
func (r *Realm) loadKey() error {
	if r.cfg.TokenKey != (wire.Key{}) {
		r.key = r.cfg.TokenKey
		return nil
	}
	key, created, err := LoadOrCreateKey(r.cfg.TokenKeyFile)
	if err != nil {
		return fmt.Errorf("realm: %w", err)
	}
	r.key, r.keyFile, r.keyCreated = key, r.cfg.TokenKeyFile, created
	if fi, err := os.Stat(r.keyFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
		r.log.Warn("token key file is readable by others: chmod 600 it", zap.String("file", r.keyFile),
			zap.Stringer("mode", fi.Mode().Perm()))
	}
	return nil
}

// startNATS starts the embedded server, or just records the external URL.
func (r *Realm) startNATS() error {
	if r.cfg.NATSURL != "" {
		r.natsURL = r.cfg.NATSURL
		return nil
	}
	ns, err := bus.StartServer(bus.ServerConfig{
		Host:       r.cfg.NATSHost,
		Port:       r.cfg.NATSPort,
		StoreDir:   filepath.Join(r.cfg.DataDir, "nats"),
		ServerName: "realm",
		Logger:     r.log,
	})
	if err != nil {
		return fmt.Errorf("realm: %w", err)
	}
	r.ns, r.natsURL = ns, bus.ClientURL(ns)
	return nil
}

// registerRuntime adds the Go and process collectors unless reg already has
// them (a caller's registry may).
func registerRuntime(reg *prometheus.Registry) error {
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
			return fmt.Errorf("realm: metrics: %w", err)
		}
	}
	return nil
}

// Run serves until ctx is done or a service fails, then stops login,
// ingress, world, the NATS connections, the embedded NATS server and the
// metrics server, in that order, and returns nil after a requested stop, or
// the services' errors joined. Call it once.
func (r *Realm) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return ErrRunTwice
	}
	type service struct {
		name   string
		run    func(context.Context) error
		cancel context.CancelFunc
		done   chan error
	}
	// Stop order: clients first (login), then the data plane, then the game.
	services := []*service{
		{name: "login", run: r.login.Run},
		{name: "ingress", run: r.ingress.Run},
		{name: "world", run: r.world.Run},
	}
	exited := make(chan string, len(services))
	for i := len(services) - 1; i >= 0; i-- { // start world first
		s := services[i]
		var sctx context.Context
		sctx, s.cancel = context.WithCancel(context.Background())
		s.done = make(chan error, 1)
		go func() {
			s.done <- s.run(sctx)
			exited <- s.name
		}()
	}
	var failed string // the service that stopped on its own, if any
	select {
	case <-ctx.Done():
		r.log.Info("realm stopping")
	case failed = <-exited:
		r.log.Error("service stopped, stopping the realm", zap.String("service", failed))
	}
	var errs []error
	for _, s := range services {
		s.cancel()
		err := <-s.done
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("realm: %s: %w", s.name, err))
		case s.name == failed:
			errs = append(errs, fmt.Errorf("%w: %s", ErrServiceStopped, s.name))
		}
		r.log.Debug("service stopped", zap.String("service", s.name))
	}
	r.shutdown(context.Background())
	r.log.Info("realm stopped")
	return errors.Join(errs...)
}

// shutdown releases what New acquired. The services must have stopped, or
// never been created.
func (r *Realm) shutdown(ctx context.Context) {
	// A service constructed by a failed New holds listeners and
	// subscriptions until its Run; a Run whose context is done releases them.
	if !r.running.Load() {
		done, cancel := context.WithCancel(ctx)
		cancel()
		if r.login != nil {
			_ = r.login.Run(done)
		}
		if r.ingress != nil {
			_ = r.ingress.Run(done)
		}
		if r.world != nil {
			_ = r.world.Run(done)
		}
	}
	for i := len(r.conns) - 1; i >= 0; i-- { // login, ingress, world
		r.conns[i].Close()
	}
	if r.ns != nil {
		r.ns.Shutdown()
		r.ns.WaitForShutdown()
	}
	if r.metrics != nil {
		sctx, cancel := context.WithTimeout(ctx, metricsShutdownTimeout)
		defer cancel()
		if err := r.metrics.Shutdown(sctx); err != nil {
			r.log.Warn("metrics shutdown", zap.Error(err))
		}
	}
}

// natsReady is the "nats" readiness check: the embedded server runs and
// every service's connection is up.
func (r *Realm) natsReady() error {
	if r.ns != nil && !r.ns.Running() {
		return fmt.Errorf("%w: embedded server stopped", ErrNATSDown)
	}
	for _, c := range r.conns {
		if !c.Connected() {
			return ErrNATSDown
		}
	}
	return nil
}

// Ready runs the readiness checks of /readyz (nats, world, ingress, login)
// and returns the failures joined, nil when the realm can serve players.
func (r *Realm) Ready() error { return r.metrics.Ready() }

// LoginAddr is the TLS listener's address.
func (r *Realm) LoginAddr() net.Addr { return r.login.Addr() }

// IngressAddr is the address the UDP socket is bound to.
func (r *Realm) IngressAddr() netip.AddrPort { return r.ingress.Addr() }

// IngressPublicAddrs are the ingress addresses login gives clients.
func (r *Realm) IngressPublicAddrs() []string { return append([]string(nil), r.publicAddrs...) }

// NATSURL is the URL the services connect to: the embedded server's, with
// its bound port, or Config.NATSURL.
func (r *Realm) NATSURL() string { return r.natsURL }

// Embedded reports whether the realm runs its own NATS server.
func (r *Realm) Embedded() bool { return r.ns != nil }

// CAFile is the development CA certificate clients must trust, or "" when
// login runs with configured certificates.
func (r *Realm) CAFile() string { return r.login.DevCAFile() }

// MetricsAddr is the bound address of the metrics server, "" without one.
func (r *Realm) MetricsAddr() string { return r.metrics.Addr() }

// TokenKey is the token key login and ingress share.
func (r *Realm) TokenKey() wire.Key { return r.key }

// TokenKeyFile is the file the token key was read from or written to, ""
// when it came from Config.TokenKey.
func (r *Realm) TokenKeyFile() string { return r.keyFile }

// KeyCreated reports whether New created the token key file.
func (r *Realm) KeyCreated() bool { return r.keyCreated }

// DataDir is the data directory in use.
func (r *Realm) DataDir() string { return r.cfg.DataDir }

// TickRate is the tick rate of the three services, in Hz.
func (r *Realm) TickRate() int { return r.cfg.TickRate }

// loginRate returns login's per-address limit of login attempts: the
// sustained rate per second and the burst.
func (r *Realm) loginRate() (float64, int) {
	rate, burst := r.cfg.Login.LoginRate, r.cfg.Login.LoginBurst
	if rate == 0 {
		rate = login.DefaultLoginRate
	}
	if burst == 0 {
		burst = login.DefaultLoginBurst
	}
	return rate, burst
}

// dialable returns a, with a wildcard host replaced by loopback, so that a
// client on this machine can dial it.
func dialable(a netip.AddrPort) netip.AddrPort {
	a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	if !a.Addr().IsUnspecified() {
		return a
	}
	if a.Addr().Is6() {
		return netip.AddrPortFrom(netip.IPv6Loopback(), a.Port())
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), a.Port())
}
