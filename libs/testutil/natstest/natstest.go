package natstest

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/ecs-realm/realm/libs/bus"
)

// ClusterReadyTimeout bounds the wait for a JetStream cluster to be ready
// (a meta leader, every node current, streams placeable on every node).
const ClusterReadyTimeout = 30 * time.Second

// configs remembers each started server's configuration, with its ports
// resolved, for Restart.
var configs sync.Map // *server.Server → bus.ServerConfig

// Start starts a standalone server with JetStream on 127.0.0.1 and a random
// port and returns it with its client URL. It is shut down in t.Cleanup.
func Start(t testing.TB) (*server.Server, string) {
	t.Helper()
	s := start(t, bus.ServerConfig{
		Port:       bus.RandomPort,
		StoreDir:   t.TempDir(),
		ServerName: "natstest",
		Logger:     logger(t),
	})
	return s, bus.ClientURL(s)
}

// StartCluster starts an n-node JetStream cluster on loopback and returns
// the servers and their client URLs once the cluster is ready (see
// WaitJetStreamReady). All are shut down in t.Cleanup. A "cluster" of one
// node is a standalone server, as from Start (JetStream cannot elect a
// leader in a clustered group of one).
func StartCluster(t testing.TB, n int) ([]*server.Server, []string) {
	t.Helper()
	if n < 1 {
		t.Fatalf("natstest: cluster of %d nodes", n)
	}
	if n == 1 {
		s, url := Start(t)
		return []*server.Server{s}, []string{url}
	}
	// JetStream needs every route configured up front, so the route ports
	// are reserved before any node starts.
	ports := freePorts(t, n)
	routes := make([]string, n)
	for i, p := range ports {
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", p)
	}
	servers := make([]*server.Server, n)
	urls := make([]string, n)
	for i := range n {
		servers[i] = start(t, bus.ServerConfig{
			Port:        bus.RandomPort,
			StoreDir:    t.TempDir(),
			ServerName:  fmt.Sprintf("n%d", i+1),
			ClusterName: "natstest",
			ClusterPort: ports[i],
			Routes:      routes,
			Logger:      logger(t),
		})
		urls[i] = bus.ClientURL(servers[i])
	}
	WaitJetStreamReady(t, servers)
	return servers, urls
}

// WaitJetStreamReady waits until the JetStream cluster formed by servers
// is ready for work, failing t after ClusterReadyTimeout: a meta leader,
// every node clustered and healthy by its own health check (current with
// the meta leader, and every stream and consumer replica it holds current
// with its group's leader), and a stream replicated on every node can be
// placed. For a single server: until JetStream is up. Call it after Restart
// of a cluster node: until the restarted node's replicas have caught up, a
// request on a stream it holds may go unanswered.
func WaitJetStreamReady(t testing.TB, servers []*server.Server) {
	t.Helper()
	deadline := time.Now().Add(ClusterReadyTimeout)
	clustered := len(servers) > 1
	for {
		leader, healthy, why := !clustered, true, ""
		for _, s := range servers {
			leader = leader || s.JetStreamIsLeader()
			// A restarted node reports itself current before its
			// clustering is set up (it then looks standalone).
			switch {
			case !s.JetStreamEnabled():
				healthy, why = false, s.Name()+": JetStream off"
			case clustered && !s.JetStreamIsClustered():
				healthy, why = false, s.Name()+": not clustered yet"
			default:
				if h := s.Healthz(nil); h.Error != "" {
					healthy, why = false, s.Name()+": "+h.Error
				}
			}
		}
		if leader && healthy && (!clustered || canPlace(servers)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("natstest: JetStream cluster not ready after %s (meta leader %v; %s)", ClusterReadyTimeout, leader, why)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// canPlace reports whether the meta leader can place a stream on every node:
// a leader and current nodes are not enough, because the leader learns each
// peer's JetStream capacity from the peer's own periodic report and refuses
// placement ("no suitable peers") until all have reported. The probe stream
// lives in memory and is deleted at once.
func canPlace(servers []*server.Server) bool {
	nc, err := nats.Connect(bus.ClientURL(servers[0]), nats.Name("natstest-ready"))
	if err != nil {
		return false
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	const probe = "natstest_ready"
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:     probe,
		Subjects: []string{"natstest.ready"},
		Storage:  jetstream.MemoryStorage,
		Replicas: len(servers),
	})
	if err != nil {
		return false
	}
	return js.DeleteStream(ctx, probe) == nil
}

// Restart shuts s down and starts a server with the same configuration,
// ports and store directory, returning it. The new server is shut down in
// t.Cleanup. s must come from this package.
func Restart(t testing.TB, s *server.Server) *server.Server {
	t.Helper()
	v, ok := configs.LoadAndDelete(s)
	if !ok {
		t.Fatal("natstest: Restart of a server not started by natstest")
	}
	cfg := v.(bus.ServerConfig)
	s.Shutdown()
	s.WaitForShutdown()
	// The old listeners are closed; poll in case the OS is slow to release
	// the ports.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ns, err := bus.StartServer(cfg)
		if err == nil {
			register(t, ns, cfg)
			return ns
		}
		if time.Now().After(deadline) {
			t.Fatalf("natstest: restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func start(t testing.TB, cfg bus.ServerConfig) *server.Server {
	t.Helper()
	s, err := bus.StartServer(cfg)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	// Pin the random ports so that Restart reuses them.
	cfg.Port = s.Addr().(*net.TCPAddr).Port
	if a := s.ClusterAddr(); a != nil {
		cfg.ClusterPort = a.Port
	}
	register(t, s, cfg)
	return s
}

func register(t testing.TB, s *server.Server, cfg bus.ServerConfig) {
	configs.Store(s, cfg)
	t.Cleanup(func() {
		configs.Delete(s)
		s.Shutdown()
		s.WaitForShutdown()
	})
}

// logger passes the server's warnings and errors to the test log.
func logger(t testing.TB) *zap.Logger {
	return zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
}

// freePorts returns n distinct TCP ports that were free on 127.0.0.1.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	lns := make([]net.Listener, 0, n)
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("natstest: reserve port: %v", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

// IgnoreServerTicker is the goleak option for the tests of packages that run
// embedded servers with file storage. nats-server keeps one process-wide
// goroutine (package server/ats, a 100 ms clock for its file stores) while
// any file store is registered with it, by reference count; a store that
// is being created while its server shuts down can leave the count above
// zero, and the goroutine running, after every server is gone. It is
// nats-server's singleton, holds nothing of ours, and is not a leak of the
// code under test.
func IgnoreServerTicker() goleak.Option {
	return goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server/ats.Register.func1")
}
