package bus_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/testutil/natstest"
	"github.com/ecs-realm/realm/libs/testutil/wait"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

const waitFor = 10 * time.Second

func connect(t *testing.T, url string, opts bus.Options) *bus.Conn {
	t.Helper()
	c, err := bus.Connect(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// recv waits for a value on ch, failing after waitFor.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	return wait.Recv(t, waitFor, what, ch)
}

func TestPublishSubscribe(t *testing.T) {
	_, url := natstest.Start(t)
	pub := connect(t, url, bus.Options{Name: "pub"})
	sub := connect(t, url, bus.Options{Name: "sub"})

	got := make(chan *realmv1.SessionClosed, 10)
	if _, err := bus.Subscribe(sub, bus.SubjectSessionClosed, func(m *realmv1.SessionClosed) { got <- m }); err != nil {
		t.Fatal(err)
	}
	queued := make(chan *realmv1.EndpointBound, 10)
	for range 2 { // two members of one queue group: each message once
		if _, err := bus.QueueSubscribe(sub, bus.SubjectEndpointBound, "world", func(m *realmv1.EndpointBound) { queued <- m }); err != nil {
			t.Fatal(err)
		}
	}
	if err := sub.FlushTimeout(waitFor); err != nil {
		t.Fatal(err)
	}

	sent := []*realmv1.SessionClosed{
		{SessionId: 1, AccountId: 10, Reason: realmv1.CloseReason(1), LoginId: "login-1", ClosedUnixMs: 1234},
		{SessionId: 2},
		{}, // empty payload decodes to the zero message
	}
	for _, m := range sent {
		if err := pub.Publish(bus.SubjectSessionClosed, m); err != nil {
			t.Fatal(err)
		}
	}
	bound := &realmv1.EndpointBound{SessionId: 3, Endpoint: "127.0.0.1:5000", IngressId: "ingress-1"}
	if err := pub.Publish(bus.SubjectEndpointBound, bound); err != nil {
		t.Fatal(err)
	}
	if err := pub.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, want := range sent {
		if m := recv(t, got, "session closed"); !proto.Equal(m, want) {
			t.Fatalf("message %d: got %v, want %v", i, m, want)
		}
	}
	if m := recv(t, queued, "endpoint bound"); !proto.Equal(m, bound) {
		t.Fatalf("got %v, want %v", m, bound)
	}
	if err := sub.FlushTimeout(waitFor); err != nil { // any duplicate has arrived by now
		t.Fatal(err)
	}
	if len(queued) != 0 {
		t.Fatalf("queue group delivered a message %d extra times", len(queued))
	}
	if sub.DecodeErrors() != 0 {
		t.Fatalf("DecodeErrors = %d", sub.DecodeErrors())
	}
}

func TestMalformedDropped(t *testing.T) {
	_, url := natstest.Start(t)
	core, logs := observer.New(zap.DebugLevel)
	counter := prometheus.NewCounter(prometheus.CounterOpts{Name: "decode_errors_total", Help: "test"})
	c := connect(t, url, bus.Options{Logger: zap.New(core), DecodeErrors: counter, DecodeLogInterval: time.Hour})

	got := make(chan *realmv1.SessionOpened, 10)
	if _, err := bus.Subscribe(c, bus.SubjectSessionOpened, func(m *realmv1.SessionOpened) { got <- m }); err != nil {
		t.Fatal(err)
	}
	if err := c.FlushTimeout(waitFor); err != nil {
		t.Fatal(err)
	}
	const bad = 50
	for range bad {
		// 0xff: a tag with an unterminated varint.
		if err := c.NATS().Publish(bus.SubjectSessionOpened, []byte{0xff, 0xff}); err != nil {
			t.Fatal(err)
		}
	}
	good := &realmv1.SessionOpened{SessionId: 9, AccountName: "alice"}
	if err := c.Publish(bus.SubjectSessionOpened, good); err != nil {
		t.Fatal(err)
	}
	// Delivery is in order: once the good message arrives, every bad one was handled.
	if m := recv(t, got, "good message"); !proto.Equal(m, good) {
		t.Fatalf("got %v, want %v", m, good)
	}
	if n := c.DecodeErrors(); n != bad {
		t.Fatalf("DecodeErrors = %d, want %d", n, bad)
	}
	if v := counterValue(t, counter); v != bad {
		t.Fatalf("counter = %v, want %d", v, bad)
	}
	if n := logs.FilterMessage("dropped undecodable message").Len(); n != 1 {
		t.Fatalf("%d decode error log lines for %d drops, want 1", n, bad)
	}
}

func TestSubscribeDecode(t *testing.T) {
	_, url := natstest.Start(t)
	c := connect(t, url, bus.Options{DecodeLogInterval: time.Hour})
	got := make(chan string, 10)
	_, err := bus.SubscribeDecode(c, bus.SubjectWorldInput, func(b []byte) error {
		if len(b) == 0 {
			return errors.New("empty")
		}
		got <- string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.FlushTimeout(waitFor); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"", "a", "", "b"} {
		if err := c.NATS().Publish(bus.SubjectWorldInput, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := recv(t, got, "a"), recv(t, got, "b"); a != "a" || b != "b" {
		t.Fatalf("got %q, %q", a, b)
	}
	if n := c.DecodeErrors(); n != 2 {
		t.Fatalf("DecodeErrors = %d, want 2 (the empty payloads)", n)
	}
}

func TestReconnectAfterServerRestart(t *testing.T) {
	s, url := natstest.Start(t)
	reconnected := make(chan struct{}, 1)
	disconnected := make(chan error, 1)
	c := connect(t, url, bus.Options{
		ReconnectWait:   20 * time.Millisecond,
		ReconnectJitter: 10 * time.Millisecond,
		OnReconnect: func() {
			select {
			case reconnected <- struct{}{}:
			default:
			}
		},
		OnDisconnect: func(err error) {
			select {
			case disconnected <- err:
			default:
			}
		},
	})
	got := make(chan *realmv1.ResyncRequest, 1)
	if _, err := bus.Subscribe(c, bus.SubjectIngressResync, func(m *realmv1.ResyncRequest) { got <- m }); err != nil {
		t.Fatal(err)
	}
	if err := c.ReadyCheck(); err != nil {
		t.Fatal(err)
	}
	// Listeners registered on the Conn are called too, until removed.
	var listened, removed atomic.Int32
	c.OnReconnect(func() { listened.Add(1) })
	remove := c.OnReconnect(func() { removed.Add(1) })
	remove()

	s2 := natstest.Restart(t, s)
	if bus.ClientURL(s2) != url {
		t.Fatalf("restarted on %s, want %s", bus.ClientURL(s2), url)
	}
	recv(t, disconnected, "disconnect callback")
	recv(t, reconnected, "reconnect callback")
	if err := c.ReadyCheck(); err != nil {
		t.Fatalf("after reconnect: %v", err)
	}
	// Options.OnReconnect ran first, the listeners after it on the same
	// goroutine: by now they have run or are running.
	wait.For(t, waitFor, "the registered listener", func() bool { return listened.Load() == 1 })
	if n := removed.Load(); n != 0 {
		t.Errorf("a removed listener was called %d times", n)
	}

	// The subscription was re-established on the new server.
	if err := c.FlushTimeout(waitFor); err != nil {
		t.Fatal(err)
	}
	want := &realmv1.ResyncRequest{WorldId: "world-1"}
	if err := c.Publish(bus.SubjectIngressResync, want); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, got, "message after reconnect"); !proto.Equal(m, want) {
		t.Fatalf("got %v, want %v", m, want)
	}
}

func TestClusterCrossNode(t *testing.T) {
	servers, urls := natstest.StartCluster(t, 3)
	if len(servers) != 3 {
		t.Fatalf("%d servers", len(servers))
	}
	a := connect(t, urls[0], bus.Options{Name: "a"})
	c := connect(t, urls[2], bus.Options{Name: "c"})

	// Core NATS: interest crosses routes asynchronously, so publish until
	// the subscriber on node 1 sees a message published on node 3.
	got := make(chan *realmv1.InputBatch, 100)
	if _, err := bus.Subscribe(a, bus.SubjectWorldInput, func(m *realmv1.InputBatch) { got <- m }); err != nil {
		t.Fatal(err)
	}
	if err := a.FlushTimeout(waitFor); err != nil {
		t.Fatal(err)
	}
	want := &realmv1.InputBatch{IngressId: "ingress-3", Inputs: []*realmv1.SessionInput{{SessionId: 1}}}
	deadline := time.Now().Add(waitFor)
	for received := false; !received; {
		if time.Now().After(deadline) {
			t.Fatal("message never crossed from node 3 to node 1")
		}
		if err := c.Publish(bus.SubjectWorldInput, want); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-got:
			if !proto.Equal(m, want) {
				t.Fatalf("got %v, want %v", m, want)
			}
			received = true
		case <-time.After(50 * time.Millisecond):
		}
	}

	// JetStream: a replicated KV written through node 3, read through node 1.
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	jsC, err := c.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	kvC, err := jsC.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "presence", Replicas: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kvC.Put(ctx, "alice", []byte("login-3")); err != nil {
		t.Fatal(err)
	}
	jsA, err := a.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	kvA, err := jsA.KeyValue(ctx, "presence")
	if err != nil {
		t.Fatal(err)
	}
	e, err := kvA.Get(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if string(e.Value()) != "login-3" {
		t.Fatalf("value %q", e.Value())
	}
}

func TestCloseDrainsPublishes(t *testing.T) {
	_, url := natstest.Start(t)
	sub := connect(t, url, bus.Options{})
	const n = 2000
	got := make(chan struct{}, n)
	if _, err := bus.Subscribe(sub, bus.SubjectSessionOpened, func(*realmv1.SessionOpened) { got <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	if err := sub.FlushTimeout(waitFor); err != nil {
		t.Fatal(err)
	}
	pub, err := bus.Connect(url, bus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := pub.Publish(bus.SubjectSessionOpened, &realmv1.SessionOpened{SessionId: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	pub.Close() // no Flush: Close must not lose what was published
	for i := range n {
		recv(t, got, fmt.Sprintf("message %d of %d", i+1, n))
	}
}

func TestConnectErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "nats://" + ln.Addr().String()
	ln.Close() // nothing listens there now

	if _, err := bus.Connect(deadURL, bus.Options{ConnectTimeout: time.Second}); err == nil {
		t.Fatal("Connect to a closed port succeeded")
	}
	c, err := bus.Connect(deadURL, bus.Options{RetryOnFailedConnect: true})
	if err != nil {
		t.Fatalf("RetryOnFailedConnect: %v", err)
	}
	if c.ReadyCheck() == nil {
		t.Fatal("ReadyCheck passed while not connected")
	}
	c.Close()
	c.Close() // twice is fine
	if err := c.Publish(bus.SubjectSessionClosed, &realmv1.SessionClosed{}); err == nil {
		t.Fatal("Publish on a closed connection succeeded")
	}
}

func TestStartServerErrors(t *testing.T) {
	s, _ := natstest.Start(t)
	port := s.Addr().(*net.TCPAddr).Port
	tests := []struct {
		name string
		cfg  bus.ServerConfig
		is   error
	}{
		{"port in use", bus.ServerConfig{Port: port, ReadyTimeout: 500 * time.Millisecond}, bus.ErrServerNotReady},
		{"routes without cluster", bus.ServerConfig{Port: bus.RandomPort, Routes: []string{"nats-route://127.0.0.1:1"}}, nil},
		{"bad route", bus.ServerConfig{Port: bus.RandomPort, ClusterPort: bus.RandomPort, Routes: []string{"::nope"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := bus.StartServer(tc.cfg)
			if err == nil {
				s.Shutdown()
				s.WaitForShutdown()
				t.Fatal("StartServer succeeded")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
		})
	}
}

func TestStartServerStandalone(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	s, err := bus.StartServer(bus.ServerConfig{Port: bus.RandomPort, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // runs after the connection's Close
		s.Shutdown()
		s.WaitForShutdown()
	})
	if s.JetStreamEnabled() {
		t.Fatal("JetStream on without StoreDir")
	}
	if bus.RouteURL(s) != "" {
		t.Fatal("RouteURL set without clustering")
	}
	if logs.Len() == 0 {
		t.Fatal("server logs were not routed to the logger")
	}
	c := connect(t, bus.ClientURL(s), bus.Options{})
	if _, err := c.JetStream(); err != nil {
		t.Fatal(err) // the context is created lazily; API calls would fail
	}
}

// counterValue reads a counter's value through a registry.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil || len(mfs) != 1 || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gather: %v %v", mfs, err)
	}
	return mfs[0].GetMetric()[0].GetCounter().GetValue()
}
