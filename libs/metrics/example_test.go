package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/metrics"
)

func ExampleServer() {
	reg := prometheus.NewRegistry()
	s := metrics.NewServer("127.0.0.1:0", reg, zap.NewNop())

	var connected atomic.Bool
	s.AddReadiness("nats", func() error {
		if !connected.Load() {
			return errors.New("disconnected")
		}
		return nil
	})
	if err := s.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = s.Shutdown(context.Background()) }()

	show := func() {
		resp, err := http.Get("http://" + s.Addr() + "/readyz")
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Printf("%d %s", resp.StatusCode, body)
	}
	show()
	connected.Store(true)
	show()
	// Output:
	// 503 not ready
	// nats: disconnected
	// 200 ok
}
