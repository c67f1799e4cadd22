package bus_test

import (
	"fmt"
	"time"

	"github.com/ecs-realm/realm/libs/bus"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

func Example() {
	srv, err := bus.StartServer(bus.ServerConfig{Port: bus.RandomPort})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	}()

	c, err := bus.Connect(bus.ClientURL(srv), bus.Options{Name: "example"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	done := make(chan struct{})
	_, err = bus.Subscribe(c, bus.SubjectSessionClosed, func(m *realmv1.SessionClosed) {
		fmt.Println("session closed:", m.GetSessionId())
		close(done)
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := c.Publish(bus.SubjectSessionClosed, &realmv1.SessionClosed{SessionId: 42}); err != nil {
		fmt.Println(err)
		return
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		fmt.Println("timeout")
	}
	// Output: session closed: 42
}

func ExampleIngressOutSubject() {
	id := "ingress-1"
	if err := bus.ValidID(id); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(bus.IngressOutSubject(id))
	fmt.Println(bus.ValidID("a.b"))
	// Output:
	// realm.ingress.ingress-1.out
	// bus: invalid instance id: "a.b": only [A-Za-z0-9_-] allowed
}
