package natstest_test

import (
	"testing"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/testutil/natstest"
)

// A typical test: a server with JetStream on a random port, and a
// connection to it, both gone when the test ends.
func ExampleStart() {
	test := func(t *testing.T) {
		_, url := natstest.Start(t)
		c, err := bus.Connect(url, bus.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		// ... exercise code that publishes on c ...
	}
	_ = test
}
