package load

import (
	"context"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/testutil/natstest"
	"github.com/ecs-realm/realm/libs/wire"
	"github.com/ecs-realm/realm/services/ingress/ingress"
	"github.com/ecs-realm/realm/services/login/login"
	"github.com/ecs-realm/realm/services/world/world"
)

// realm is the three services running in-process on an embedded NATS
// server, as the all-in-one binary runs them, with cheap argon2 and a login
// rate limit that a load test from one address does not hit.
type realm struct {
	loginAddr string
	caFile    string
}

func startRealm(t *testing.T) *realm {
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
	lg, err := login.New(login.Config{
		Listen: "127.0.0.1:0", DataDir: t.TempDir(), TokenKey: key,
		IngressAddrs: []string{ing.Addr().String()},
		ArgonTime:    1, ArgonMemoryKiB: 64, ArgonThreads: 1,
		LoginRate: 1000, LoginBurst: 1000,
	}, connect("login"), log)
	if err != nil {
		t.Fatal(err)
	}
	run(t, "login", lg.Run)
	run(t, "ingress", ing.Run)
	w, err := world.New(world.Config{}, connect("world"), log)
	if err != nil {
		t.Fatal(err)
	}
	run(t, "world", w.Run)
	return &realm{loginAddr: lg.Addr().String(), caFile: lg.DevCAFile()}
}

// run runs a service until the test ends and checks that it stops cleanly.
func run(t *testing.T, name string, f func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: Run: %v", name, err)
		}
	})
}
