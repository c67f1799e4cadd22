package client_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/client"
	"github.com/ecs-realm/realm/libs/testutil/natstest"
	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
	"github.com/ecs-realm/realm/services/ingress/ingress"
	"github.com/ecs-realm/realm/services/login/login"
	"github.com/ecs-realm/realm/services/world/world"
)

// realm is a login and an ingress service (and a world, if asked) running
// in-process on an embedded NATS server, as the all-in-one binary runs them,
// with cheap argon2 and no login rate limit to speak of.
type realm struct {
	t         *testing.T
	loginAddr string
	caFile    string
	ingressID string
	nc        *bus.Conn // the test's own connection
	stopLogin func()    // stops the login service and waits for it
}

// worldSize is the side of the test world's map: its diagonal (42) is within
// the default area-of-interest radius (50).
const worldSize = 30

// realmOptions adjusts startRealm.
type realmOptions struct {
	login func(*login.Config) // changes the login Config
	world bool                // also run a world service, on a map small enough that every player sees every other
}

func startRealm(t *testing.T, opts realmOptions) *realm {
	t.Helper()
	_, url := natstest.Start(t)
	connect := func(name string) *bus.Conn {
		c, err := bus.Connect(url, bus.Options{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	key, err := wire.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	ing, err := ingress.New(ingress.Config{Listen: "127.0.0.1:0", TokenKey: key}, connect("ingress"), log)
	if err != nil {
		t.Fatal(err)
	}
	cfg := login.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), TokenKey: key,
		IngressAddrs: []string{ing.Addr().String()},
		ArgonTime:    1, ArgonMemoryKiB: 64, ArgonThreads: 1,
		LoginRate: 1000, LoginBurst: 1000,
	}
	if opts.login != nil {
		opts.login(&cfg)
	}
	lg, err := login.New(cfg, connect("login"), log)
	if err != nil {
		t.Fatal(err)
	}
	r := &realm{t: t, loginAddr: lg.Addr().String(), caFile: lg.DevCAFile(), ingressID: ing.ID(), nc: connect("test")}
	r.stopLogin = run(t, "login", lg.Run)
	run(t, "ingress", ing.Run)
	if opts.world {
		w, err := world.New(world.Config{WorldSize: worldSize}, connect("world"), log)
		if err != nil {
			t.Fatal(err)
		}
		run(t, "world", w.Run)
	}
	return r
}

// run runs a service until the test ends (or the returned stop is called)
// and checks that it stops cleanly.
func run(t *testing.T, name string, f func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("%s: Run: %v", name, err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// config returns a client Config for the realm.
func (r *realm) config() client.Config {
	return client.Config{LoginAddr: r.loginAddr, CAFile: r.caFile, Logger: zaptest.NewLogger(r.t, zaptest.Level(zap.WarnLevel))}
}

// dial connects a client, closed when the test ends.
func (r *realm) dial(cfg client.Config) *client.Conn {
	r.t.Helper()
	c, err := client.Dial(testCtx(r.t), cfg)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { _ = c.Close() })
	return c
}

// player dials, registers name and logs in.
func (r *realm) player(name string) (*client.Conn, *client.Session) {
	r.t.Helper()
	c := r.dial(r.config())
	ctx := testCtx(r.t)
	if _, err := c.Register(ctx, name, "password-"+name); err != nil && client.CodeOf(err) != realmv1.ErrorCode_ERROR_CODE_NAME_TAKEN {
		r.t.Fatal(err)
	}
	s, err := c.Login(ctx, name, "password-"+name)
	if err != nil {
		r.t.Fatal(err)
	}
	return c, s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// recv waits for a value on ch.
func recv[T any](t *testing.T, what string, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(15 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}
