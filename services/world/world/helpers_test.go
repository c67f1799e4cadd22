package world

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/snapshot"
	"github.com/ecs-realm/realm/libs/testutil/natstest"
	"github.com/ecs-realm/realm/libs/testutil/wait"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// waitTimeout bounds every wait for a condition in these tests.
const waitTimeout = 15 * time.Second

// eventually polls cond until it holds, failing t after waitTimeout.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	wait.For(t, waitTimeout, what, cond)
}

// waitFor polls cond until it holds (true) or waitTimeout passes (false);
// for goroutines other than the test's.
func waitFor(cond func() bool) bool {
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// env is an embedded NATS server and connections to it.
type env struct {
	t   testing.TB
	srv *server.Server
	url string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	srv, url := natstest.Start(t)
	return &env{t: t, srv: srv, url: url}
}

// connect opens a connection closed in t.Cleanup; it reconnects quickly.
func (e *env) connect(name string) *bus.Conn {
	e.t.Helper()
	c, err := bus.Connect(e.url, bus.Options{Name: name, ReconnectWait: 20 * time.Millisecond, ReconnectJitter: 10 * time.Millisecond})
	if err != nil {
		e.t.Fatalf("connect: %v", err)
	}
	e.t.Cleanup(c.Close)
	return c
}

func testLogger(t testing.TB) *zap.Logger {
	return zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
}

// running is a Service whose Run goroutine is being waited for.
type running struct {
	*Service
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// start creates a Service on its own connection and runs it until stop (or
// the end of the test, which checks that Run returned nil).
func (e *env) start(cfg Config) *running {
	e.t.Helper()
	s, err := New(cfg, e.connect("world-"+cfg.ID), testLogger(e.t))
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Service: s, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Run(ctx) }()
	e.t.Cleanup(func() {
		if err := r.stop(); err != nil {
			e.t.Errorf("Run returned %v", err)
		}
	})
	return r
}

// stop cancels Run and returns its result; idempotent.
func (r *running) stop() error {
	r.once.Do(func() {
		r.cancel()
		r.err = <-r.done
	})
	return r.err
}

// ingress plays an ingress instance on NATS: it receives the snapshots sent
// to its id and remembers the latest one of each session.
type ingress struct {
	id string
	nc *bus.Conn

	mu      sync.Mutex
	latest  map[uint64]*realmv1.Snapshot // guarded by mu
	batches int                          // guarded by mu
}

func (e *env) ingress(id string) *ingress {
	e.t.Helper()
	in := &ingress{id: id, nc: e.connect("ingress-" + id), latest: map[uint64]*realmv1.Snapshot{}}
	var r snapshot.Reader // as ingress reads them
	_, err := bus.SubscribeDecode(in.nc, bus.IngressOutSubject(id), func(b []byte) error {
		in.mu.Lock()
		defer in.mu.Unlock()
		in.batches++
		return r.Read(b, func(session uint64, snap []byte, err error) {
			s := new(realmv1.Snapshot)
			if err == nil {
				err = proto.Unmarshal(snap, s)
			}
			if err != nil {
				e.t.Errorf("snapshot of session %d: %v", session, err)
				return
			}
			in.latest[session] = s
		})
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := in.nc.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return in
}

// snapshot returns the latest snapshot received for a session, if any.
func (in *ingress) snapshot(sid uint64) *realmv1.Snapshot {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.latest[sid]
}

func (in *ingress) reset() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.latest = map[uint64]*realmv1.Snapshot{}
}

// waitSnapshot waits for a snapshot of sid that satisfies cond.
func (in *ingress) waitSnapshot(t testing.TB, what string, sid uint64, cond func(*realmv1.Snapshot) bool) *realmv1.Snapshot {
	t.Helper()
	var s *realmv1.Snapshot
	eventually(t, what, func() bool {
		s = in.snapshot(sid)
		return s != nil && cond(s)
	})
	return s
}

func (in *ingress) publish(t testing.TB, subject string, m proto.Message) {
	t.Helper()
	if err := in.nc.Publish(subject, m); err != nil {
		t.Fatal(err)
	}
}

func (in *ingress) bind(t testing.TB, sid uint64, resync bool) {
	t.Helper()
	in.publish(t, bus.SubjectEndpointBound, &realmv1.EndpointBound{
		SessionId: sid, AccountId: sid, Endpoint: "127.0.0.1:40000", IngressId: in.id, Resync: resync,
	})
}

func (in *ingress) input(t testing.TB, sid, seq uint64, x, y float32) {
	t.Helper()
	in.publish(t, bus.SubjectWorldInput, &realmv1.InputBatch{IngressId: in.id, Inputs: []*realmv1.SessionInput{
		{SessionId: sid, Input: &realmv1.PlayerInput{InputSequence: seq, Move: &realmv1.Vec2{X: x, Y: y}}},
	}})
}

// value reads a counter or gauge.
func value(m prometheus.Metric) float64 {
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		panic(err)
	}
	if c := d.GetCounter(); c != nil {
		return c.GetValue()
	}
	return d.GetGauge().GetValue()
}
