package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/metrics"
	"github.com/ecs-realm/realm/libs/wire"
)

// shutdownTimeout bounds the metrics server's shutdown.
const shutdownTimeout = 5 * time.Second

// ErrStarting is the readiness error before the service is set.
var ErrStarting = errors.New("daemon: service starting")

// Service is what a daemon runs: the services' New returns one.
type Service interface {
	// Run serves until ctx is done, then shuts down and returns.
	Run(ctx context.Context) error
	// Ready reports readiness for /readyz (nil: ready).
	Ready() error
}

// Daemon is one binary's frame around its service. Create it with Start,
// then call Run once.
type Daemon struct {
	name    string
	log     *zap.Logger
	reg     *prometheus.Registry
	metrics *metrics.Server
	svc     atomic.Pointer[Service] // set by Run; read by readiness
}

// Start creates the registry and starts the metrics server on metricsAddr
// ("" means none) with a readiness check named name that fails with
// ErrStarting until Run is given the service.
func Start(name, metricsAddr string, log *zap.Logger) (*Daemon, error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	d := &Daemon{name: name, log: log, reg: reg, metrics: metrics.NewServer(metricsAddr, reg, log.Named("metrics"))}
	d.metrics.AddReadiness(name, func() error {
		s := d.svc.Load()
		if s == nil {
			return ErrStarting
		}
		return (*s).Ready()
	})
	if err := d.metrics.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return d, nil
}

// Registry is where the service registers its metrics.
func (d *Daemon) Registry() *prometheus.Registry { return d.reg }

// MetricsAddr is the address the metrics server listens on ("" if none).
func (d *Daemon) MetricsAddr() string { return d.metrics.Addr() }

// Run runs svc until SIGINT or SIGTERM, then stops the metrics server, and
// returns svc's error. fields are logged with the start message.
func (d *Daemon) Run(svc Service, fields ...zap.Field) error {
	d.svc.Store(&svc)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d.log.Info(d.name+" starting", append(fields, zap.String("metrics", d.metrics.Addr()))...)
	err := svc.Run(ctx)
	d.Close()
	return err
}

// Close stops the metrics server; Run calls it. Call it instead when the
// service could not be created.
func (d *Daemon) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := d.metrics.Shutdown(ctx); err != nil {
		d.log.Warn("metrics shutdown", zap.Error(err))
	}
}

// TokenKey reads the connect-token key from exactly one of hexKey (64 hex
// digits) and file (the same, a trailing newline allowed).
func TokenKey(hexKey, file string) (wire.Key, error) {
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
