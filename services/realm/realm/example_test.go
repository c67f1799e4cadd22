package realm_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/services/realm/realm"
)

// Example starts a whole realm in-process on random loopback ports, as a
// test or a tool would, waits until it is ready and stops it.
func Example() {
	dir, err := os.MkdirTemp("", "realm-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	cfg := realm.Config{DataDir: dir, NATSPort: bus.RandomPort}
	cfg.Login.Listen = "127.0.0.1:0"
	cfg.Ingress.Listen = "127.0.0.1:0"
	r, err := realm.New(cfg, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	// Clients dial r.DialLoginAddr() and trust r.CAFile().
	for r.Ready() != nil {
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("ready; token key file:", r.TokenKeyFile() != "")
	cancel()
	fmt.Println("stopped:", <-done)
	// Output:
	// ready; token key file: true
	// stopped: <nil>
}
