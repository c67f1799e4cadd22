package ingress_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/wire"
	"github.com/ecs-realm/realm/services/ingress/ingress"
)

// An ingress instance next to an embedded NATS server, as the all-in-one
// binary runs it. The token key is the one login seals connect tokens with.
func Example() {
	ns, err := bus.StartServer(bus.ServerConfig{Port: bus.RandomPort})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ns.WaitForShutdown()
	defer ns.Shutdown()

	// Re-announce the bindings after a NATS reconnect: the service is
	// created after the connection, so the callback reaches it through a
	// variable.
	var svc atomic.Pointer[ingress.Service]
	nc, err := bus.Connect(bus.ClientURL(ns), bus.Options{OnReconnect: func() {
		if s := svc.Load(); s != nil {
			s.Resync()
		}
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()

	key, _ := wire.NewKey() // in production: shared with login (--token-key-file)
	s, err := ingress.New(ingress.Config{ID: "ingress-1", Listen: "127.0.0.1:0", TokenKey: key}, nc, zap.NewNop())
	if err != nil {
		fmt.Println(err)
		return
	}
	svc.Store(s)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	fmt.Println(s.ID(), s.Addr().Addr())
	fmt.Println(s.Run(ctx)) // until ctx ends: SIGTERM in a real binary
	// Output:
	// ingress-1 127.0.0.1
	// <nil>
}
