package realmtest

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/client"
	"github.com/ecs-realm/realm/libs/testutil/natstest"
	"github.com/ecs-realm/realm/libs/tlsconfig"
	"github.com/ecs-realm/realm/libs/wire"
	"github.com/ecs-realm/realm/services/ingress/ingress"
	"github.com/ecs-realm/realm/services/login/login"
	"github.com/ecs-realm/realm/services/world/world"
)

// Test defaults of the zero Options fields.
const (
	// DefaultTickRate is the tick rate of a test realm, in Hz.
	DefaultTickRate = 30
	// DefaultWorldSize is the side of a test realm's map: its diagonal
	// (about 42) is within the default area-of-interest radius (50), so that
	// every player sees every other.
	DefaultWorldSize = 30
	// LoginRate is the login rate limit of a test realm, per second and
	// address, also used as the burst: many players log in from 127.0.0.1.
	LoginRate = 100000
)

// Service names, as given to Options.NATSURL.
const (
	ServiceLogin   = "login"
	ServiceIngress = "ingress"
	ServiceWorld   = "world"
)

// Options adjusts Start. The zero value is one login, one ingress and one
// world on a fresh embedded NATS server.
type Options struct {
	// Logins and Ingresses are the numbers of instances. Zero (or less)
	// Logins means 1; zero Ingresses means 1 and a negative count none (a
	// login tier without data plane).
	// Login instance i gives clients the ingress addresses starting at
	// ingress i mod Ingresses (then the others in order), so players of
	// different login instances use different ingress instances.
	Logins, Ingresses int
	// NoWorld starts no world service (the test plays the world itself, or
	// starts one later with StartWorld).
	NoWorld bool

	// NATSURLs are the client URLs of an external NATS server or cluster
	// (from natstest.StartCluster, say). Empty means a fresh natstest.Start.
	NATSURLs []string
	// NATSURL returns the URL (or comma-separated URLs) instance i of
	// service (ServiceLogin, ServiceIngress, ServiceWorld) connects to; for
	// the world, i counts the worlds started before (0, then 1 after a
	// restart). Nil means every URL of the server or cluster.
	NATSURL func(service string, i int) string
	// Replicas is the replica count of login's KV buckets: 3 on a 3-node
	// cluster. Zero means 1.
	Replicas int

	// TickRate is the tick rate of world, login and ingress. Zero means
	// DefaultTickRate.
	TickRate int
	// Login, Ingress and World adjust each instance's Config after the test
	// defaults are set (addresses on 127.0.0.1:0, the token key, fast
	// argon2id, high login rate, the tick rate, a DefaultWorldSize map).
	Login   func(i int, cfg *login.Config)
	Ingress func(i int, cfg *ingress.Config)
	World   func(cfg *world.Config)

	// Logger is given to the services and clients. Nil means a zaptest
	// logger at warn level.
	Logger *zap.Logger
}

// Realm is a running test realm. Its fields are set by Start and must not
// be changed.
type Realm struct {
	// NATSURL is every URL of the NATS server or cluster, comma-separated.
	NATSURL string
	// Server is the embedded NATS server, nil when Options.NATSURLs was set.
	Server *server.Server
	// TokenKey is the token key of every login and ingress instance.
	TokenKey wire.Key
	// DataDir holds the development certificate of the login instances.
	DataDir string
	// CAFile is the development CA clients trust; TLS is a client
	// configuration trusting it, shared by the clients of ClientConfig so
	// that they resume TLS sessions.
	CAFile string
	TLS    *tls.Config
	// Logins and Ingresses are the instances, in order.
	Logins    []*Login
	Ingresses []*Ingress

	t     testing.TB
	opts  Options
	log   *zap.Logger
	world atomic.Pointer[World] // the running world, nil when stopped
	nw    atomic.Int32          // worlds started, for their names
}

// Login is one running login instance.
type Login struct {
	Service *login.Service
	// Addr is the TLS listener's address.
	Addr string
	// Conn is the instance's own NATS connection.
	Conn *bus.Conn
	runner
}

// Ingress is one running ingress instance.
type Ingress struct {
	Service *ingress.Service
	// Addr is the UDP address.
	Addr string
	// Conn is the instance's own NATS connection; its reconnects trigger
	// Resync, as in the binaries.
	Conn *bus.Conn
	runner
}

// World is one running world service.
type World struct {
	Service *world.Service
	// Conn is the service's own NATS connection.
	Conn *bus.Conn
	runner
}

// Start starts a realm as opts says and stops it in t.Cleanup.
func Start(t testing.TB, opts Options) *Realm {
	t.Helper()
	r := &Realm{t: t, opts: opts, log: opts.Logger, DataDir: t.TempDir()}
	if r.log == nil {
		r.log = zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	}
	if len(opts.NATSURLs) == 0 {
		r.Server, r.NATSURL = natstest.Start(t)
	} else {
		r.NATSURL = strings.Join(opts.NATSURLs, ",")
	}
	var err error
	if r.TokenKey, err = wire.NewKey(); err != nil {
		t.Fatal(err)
	}
	if !opts.NoWorld {
		r.StartWorld()
	}
	for i := range count(opts.Ingresses) {
		r.Ingresses = append(r.Ingresses, r.startIngress(i, ""))
	}
	addrs := make([]string, len(r.Ingresses))
	for i, ing := range r.Ingresses {
		addrs[i] = ing.Addr
	}
	for i := range max(opts.Logins, 1) {
		r.Logins = append(r.Logins, r.startLogin(i, rotate(addrs, i)))
	}
	r.CAFile = r.Logins[0].Service.DevCAFile()
	if r.TLS, err = tlsconfig.Client(r.CAFile, ""); err != nil {
		t.Fatal(err)
	}
	return r
}

// count returns the instance count for an Options field: zero means 1,
// negative none.
func count(n int) int {
	switch {
	case n == 0:
		return 1
	case n < 0:
		return 0
	}
	return n
}

// rotate returns s starting at index i mod len(s).
func rotate(s []string, i int) []string {
	if len(s) == 0 {
		return nil
	}
	i %= len(s)
	return append(append([]string(nil), s[i:]...), s[:i]...)
}

func (r *Realm) tickRate() int {
	if r.opts.TickRate == 0 {
		return DefaultTickRate
	}
	return r.opts.TickRate
}

// url is the NATS URL instance i of service connects to.
func (r *Realm) url(service string, i int) string {
	if r.opts.NATSURL != nil {
		return r.opts.NATSURL(service, i)
	}
	return r.NATSURL
}

// connect opens a NATS connection named name, closed in t.Cleanup (and by
// the service's Stop).
func (r *Realm) connect(url, name string, onReconnect func()) *bus.Conn {
	r.t.Helper()
	c, err := bus.Connect(url, bus.Options{Name: name, Logger: r.log.Named(name), OnReconnect: onReconnect})
	if err != nil {
		r.t.Fatalf("realmtest: %s: %v", name, err)
	}
	r.t.Cleanup(c.Close)
	return c
}

// Connect returns a NATS connection of the test's own to the realm's NATS,
// closed in t.Cleanup: to watch or publish events.
func (r *Realm) Connect(name string) *bus.Conn {
	r.t.Helper()
	return r.connect(r.NATSURL, name, nil)
}

func (r *Realm) startLogin(i int, ingressAddrs []string) *Login {
	r.t.Helper()
	cfg := login.Config{
		ID:           fmt.Sprintf("login-%d", i),
		Listen:       "127.0.0.1:0",
		DataDir:      r.DataDir,
		TokenKey:     r.TokenKey,
		IngressAddrs: ingressAddrs,
		TickRateHz:   uint32(r.tickRate()),
		ArgonTime:    1, ArgonMemoryKiB: 64, ArgonThreads: 1,
		Replicas:  r.opts.Replicas,
		LoginRate: LoginRate, LoginBurst: LoginRate,
	}
	if r.opts.Login != nil {
		r.opts.Login(i, &cfg)
	}
	nc := r.connect(r.url(ServiceLogin, i), cfg.ID, nil)
	s, err := login.New(cfg, nc, r.log.Named(cfg.ID))
	if err != nil {
		r.t.Fatalf("realmtest: %v", err)
	}
	l := &Login{Service: s, Addr: s.Addr().String(), Conn: nc}
	l.start(r.t, cfg.ID, nc, s.Run)
	return l
}

// startIngress starts ingress instance i, on listen if not empty.
func (r *Realm) startIngress(i int, listen string) *Ingress {
	r.t.Helper()
	cfg := ingress.Config{
		ID:       fmt.Sprintf("ingress-%d", i),
		Listen:   "127.0.0.1:0",
		TokenKey: r.TokenKey,
		TickRate: uint32(r.tickRate()),
	}
	if r.opts.Ingress != nil {
		r.opts.Ingress(i, &cfg)
	}
	if listen != "" {
		cfg.Listen = listen
	}
	var svc atomic.Pointer[ingress.Service]
	nc := r.connect(r.url(ServiceIngress, i), cfg.ID, func() {
		if s := svc.Load(); s != nil {
			s.Resync()
		}
	})
	s, err := ingress.New(cfg, nc, r.log.Named(cfg.ID))
	if err != nil {
		r.t.Fatalf("realmtest: %v", err)
	}
	svc.Store(s)
	ing := &Ingress{Service: s, Addr: s.Addr().String(), Conn: nc}
	ing.start(r.t, cfg.ID, nc, s.Run)
	return ing
}

// RestartIngress stops ingress instance i and starts a new one with the same
// id on the same UDP address, as a crash or a deploy would: the new instance
// holds no bindings, so its clients' packets are dropped until they
// handshake again. It replaces Ingresses[i]; call it from the test's
// goroutine, with no other goroutine reading Ingresses.
func (r *Realm) RestartIngress(i int) *Ingress {
	r.t.Helper()
	old := r.Ingresses[i]
	old.Stop()
	ing := r.startIngress(i, old.Addr)
	r.Ingresses[i] = ing
	return ing
}

// World returns the running world service, nil when none runs.
func (r *Realm) World() *World { return r.world.Load() }

// StartWorld starts a world service, on a new NATS connection, and returns
// it; it fails the test if one is running. A world started after another
// was stopped is a restart: it asks the ingress instances for their
// bindings and rebuilds the players.
func (r *Realm) StartWorld() *World {
	r.t.Helper()
	if r.World() != nil {
		r.t.Fatal("realmtest: StartWorld: a world is running")
	}
	n := int(r.nw.Add(1))
	cfg := world.Config{Sim: world.Sim{TickRate: r.tickRate(), WorldSize: DefaultWorldSize}}
	if r.opts.World != nil {
		r.opts.World(&cfg)
	}
	name := fmt.Sprintf("world-%d", n)
	nc := r.connect(r.url(ServiceWorld, n-1), name, nil)
	s, err := world.New(cfg, nc, r.log.Named(name))
	if err != nil {
		r.t.Fatalf("realmtest: %v", err)
	}
	w := &World{Service: s, Conn: nc}
	w.start(r.t, name, nc, s.Run)
	r.world.Store(w)
	return w
}

// StopWorld stops the running world service and closes its connection.
func (r *Realm) StopWorld() {
	r.t.Helper()
	w := r.world.Swap(nil)
	if w == nil {
		r.t.Fatal("realmtest: StopWorld: no world is running")
	}
	w.Stop()
}

// Stop stops every service now, in the order of a real shutdown: the login
// instances, the ingress instances, the world. t.Cleanup does the same at
// the end of the test; call Stop (or defer it) when something registered
// later in t.Cleanup, and therefore run earlier, must find the realm stopped:
// a NATS server restarted by natstest.Restart is shut down before the
// services otherwise, and their shutdown then meets a cluster without
// quorum.
func (r *Realm) Stop() {
	for _, l := range r.Logins {
		l.Stop()
	}
	for _, i := range r.Ingresses {
		i.Stop()
	}
	if w := r.world.Swap(nil); w != nil {
		w.Stop()
	}
}

// ClientConfig returns a client Config for login instance i, sharing TLS
// and logging to the realm's logger.
func (r *Realm) ClientConfig(i int) client.Config {
	return client.Config{LoginAddr: r.Logins[i].Addr, TLS: r.TLS, Logger: r.log.Named("client")}
}

// LoginAddr is the address of the first login instance.
func (r *Realm) LoginAddr() string { return r.Logins[0].Addr }

// runner runs one service until Stop or the end of the test.
type runner struct {
	name   string
	t      testing.TB
	conn   *bus.Conn
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func (r *runner) start(t testing.TB, name string, conn *bus.Conn, run func(context.Context) error) {
	r.t, r.name, r.conn = t, name, conn
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- run(ctx) }()
	t.Cleanup(r.Stop)
}

// Stop stops the service, waits for its Run to return (failing the test if
// it returned an error) and closes its NATS connection. It is idempotent
// and runs in t.Cleanup otherwise.
func (r *runner) Stop() {
	r.once.Do(func() {
		r.cancel()
		if err := <-r.done; err != nil {
			r.t.Errorf("realmtest: %s: Run: %v", r.name, err)
		}
		r.conn.Close()
	})
}

// Name is the instance's name in logs and in its NATS connection name.
func (r *runner) Name() string { return r.name }
