package world

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/testutil/natstest"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
	"github.com/ecs-realm/realm/services/world/internal/sim"
)

func TestNewRejectsBadConfig(t *testing.T) {
	e := newEnv(t)
	nc := e.connect("world")
	tests := []struct {
		name string
		cfg  Config
	}{
		{"bad id", Config{ID: "world.1"}},
		{"long id", Config{ID: string(make([]byte, 65))}},
		{"negative tick rate", Config{Sim: Sim{TickRate: -20}}},
		{"negative radius", Config{Sim: Sim{AOIRadius: -1}}},
		{"batches above NATS payload", Config{Sim: Sim{MaxBatchBytes: 4 << 20}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg, nc, nil); !errors.Is(err, ErrBadConfig) {
				t.Fatalf("New = %v, want ErrBadConfig", err)
			}
		})
	}
	if _, err := New(Config{}, nil, nil); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("New with nil conn = %v, want ErrBadConfig", err)
	}
	// The same registry twice: the second New cannot register its metrics.
	reg := prometheus.NewRegistry()
	if _, err := New(Config{Registerer: reg}, nc, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Registerer: reg}, nc, nil); err == nil {
		t.Fatal("second New on one registry succeeded")
	}
}

// TestBoundInputSnapshot follows one player through the service: bound →
// spawned → snapshots on its ingress's subject → input → moved → closed.
func TestBoundInputSnapshot(t *testing.T) {
	e := newEnv(t)
	in := e.ingress("in-1")
	other := e.ingress("in-2")
	w := e.start(Config{ID: "w1", Sim: Sim{TickRate: 50}})
	eventually(t, "ready", func() bool { return w.Ready() == nil })
	if err := w.Run(context.Background()); !errors.Is(err, ErrRunning) {
		t.Fatalf("second Run = %v, want ErrRunning", err)
	}

	const sid = 11
	in.bind(t, sid, false)
	x0, y0 := sim.SpawnPoint(sid, 1000)
	s := in.waitSnapshot(t, "first snapshot", sid, func(*realmv1.Snapshot) bool { return true })
	if p := s.GetSelf().GetPosition(); p.GetX() != x0 || p.GetY() != y0 || s.GetSelf().GetSessionId() != sid {
		t.Fatalf("first snapshot self %v, want session %d at the spawn point (%v, %v)", s.GetSelf(), sid, x0, y0)
	}

	in.input(t, sid, 1, 1, 0)
	s = in.waitSnapshot(t, "snapshot after input", sid, func(s *realmv1.Snapshot) bool { return s.GetLastInputSequence() == 1 })
	if p := s.GetSelf().GetPosition(); !(p.GetX() > x0) || p.GetY() != y0 {
		t.Fatalf("after a +x input the player is at (%v, %v), spawned at (%v, %v)", p.GetX(), p.GetY(), x0, y0)
	}
	if v := s.GetSelf().GetVelocity(); v.GetX() != 5 || v.GetY() != 0 {
		t.Fatalf("velocity %v, want (5, 0)", v)
	}
	// The speed limit holds over many ticks: at most 5 units/s × ticks.
	s = in.waitSnapshot(t, "a later snapshot", sid, func(s *realmv1.Snapshot) bool { return s.GetServerTick() > 20 })
	if d := float64(s.GetSelf().GetPosition().GetX() - x0); d > 5*float64(s.GetServerTick())/50+1e-3 {
		t.Fatalf("moved %v units in %d ticks at 50 Hz: faster than 5 units/s", d, s.GetServerTick())
	}
	// An input for an unknown session is dropped and counted.
	in.input(t, 999, 1, 1, 0)
	eventually(t, "unknown-session drop counted", func() bool {
		return value(w.m.dropped.WithLabelValues("input_unknown_session")) == 1
	})
	if other.snapshot(sid) != nil {
		t.Fatal("the snapshot went to another ingress instance too")
	}
	if value(w.m.snapshots) == 0 || value(w.m.publishedBytes) == 0 || value(w.m.resyncs) != 1 {
		t.Fatalf("metrics: snapshots %v bytes %v resyncs %v", value(w.m.snapshots),
			value(w.m.publishedBytes), value(w.m.resyncs))
	}

	in.publish(t, bus.SubjectSessionClosed, &realmv1.SessionClosed{SessionId: sid, Reason: realmv1.CloseReason_CLOSE_REASON_LOGOUT})
	eventually(t, "despawn", func() bool { return value(w.m.players) == 0 })

	if err := w.stop(); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if err := w.Ready(); !errors.Is(err, ErrNotTicking) {
		t.Fatalf("Ready after stop = %v, want ErrNotTicking", err)
	}
}

// TestRestartRebuildsPlayers stops a world and starts another: the new one
// asks for a resync, the ingress (played by the test) re-announces its
// bindings, and the players get snapshots again.
func TestRestartRebuildsPlayers(t *testing.T) {
	e := newEnv(t)
	in := e.ingress("in-1")
	sessions := []uint64{21, 22, 23}

	// The ingress role: answer every resync request with our bindings.
	var requests sync.Map // world id → count
	_, err := bus.Subscribe(in.nc, bus.SubjectIngressResync, func(r *realmv1.ResyncRequest) {
		n, _ := requests.LoadOrStore(r.GetWorldId(), new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		for _, sid := range sessions {
			if err := in.nc.Publish(bus.SubjectEndpointBound, &realmv1.EndpointBound{
				SessionId: sid, AccountId: sid, Endpoint: "127.0.0.1:40000", IngressId: in.id, Resync: true,
			}); err != nil {
				t.Errorf("publish: %v", err)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.nc.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	first := e.start(Config{ID: "first", Sim: Sim{TickRate: 50}})
	for _, sid := range sessions {
		in.waitSnapshot(t, fmt.Sprint("snapshot of ", sid, " from the first world"), sid, func(*realmv1.Snapshot) bool { return true })
	}
	in.input(t, 21, 1, 0, 1)
	in.waitSnapshot(t, "input applied", 21, func(s *realmv1.Snapshot) bool { return s.GetLastInputSequence() == 1 })
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	in.reset()
	second := e.start(Config{ID: "second", Sim: Sim{TickRate: 50}})
	for _, sid := range sessions {
		s := in.waitSnapshot(t, fmt.Sprint("snapshot of ", sid, " from the second world"), sid, func(*realmv1.Snapshot) bool { return true })
		x, y := sim.SpawnPoint(sid, 1000)
		if sid != 21 && (s.GetSelf().GetPosition().GetX() != x || s.GetSelf().GetPosition().GetY() != y) {
			t.Fatalf("session %d rebuilt at %v, want its spawn point (%v, %v)", sid, s.GetSelf().GetPosition(), x, y)
		}
	}
	for _, id := range []string{"first", "second"} {
		n, ok := requests.Load(id)
		if !ok || n.(*atomic.Int32).Load() != 1 {
			t.Fatalf("resync requests from %s: %v", id, n)
		}
	}
	if got := value(second.m.events.WithLabelValues("spawn")); got != float64(len(sessions)) {
		t.Fatalf("second world spawned %v players, want %d", got, len(sessions))
	}
}

// TestReconnectResyncs restarts the NATS server: the world reconnects and
// asks for a resync again.
func TestReconnectResyncs(t *testing.T) {
	e := newEnv(t)
	w := e.start(Config{Sim: Sim{TickRate: 50}})
	eventually(t, "first resync", func() bool { return value(w.m.resyncs) == 1 })
	eventually(t, "ready", func() bool { return w.Ready() == nil })

	e.srv = natstest.Restart(t, e.srv)
	eventually(t, "resync after reconnect", func() bool { return value(w.m.resyncs) == 2 })
	eventually(t, "ready after reconnect", func() bool { return w.Ready() == nil })
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentProducers has many goroutines feed the world while it ticks,
// through NATS (several connections) and by pushing into the inbox directly,
// as any number of producers may: run under -race. Each session's inputs come
// from one goroutine in increasing sequence; at the end every snapshot must
// show its session's last sequence.
func TestConcurrentProducers(t *testing.T) {
	e := newEnv(t)
	in := e.ingress("in-1")
	w := e.start(Config{Sim: Sim{TickRate: 100}})

	const producers, perProducer, inputs = 8, 4, 60
	var wg sync.WaitGroup
	for p := range producers {
		nc := e.connect(fmt.Sprint("producer-", p))
		wg.Go(func() {
			for i := range perProducer {
				sid := uint64(100 + p*perProducer + i)
				bound := &realmv1.EndpointBound{SessionId: sid, Endpoint: "127.0.0.1:1", IngressId: in.id}
				if p%2 == 0 {
					w.inbox.Push(bound)
				} else if err := nc.Publish(bus.SubjectEndpointBound, bound); err != nil {
					t.Errorf("publish: %v", err)
					return
				}
			}
			// Bound and input travel on different subjects, which NATS does
			// not order: wait for the players before sending inputs.
			for i := range perProducer {
				sid := uint64(100 + p*perProducer + i)
				if !waitFor(func() bool { return in.snapshot(sid) != nil }) {
					t.Errorf("session %d never got a snapshot", sid)
					return
				}
			}
			for seq := uint64(1); seq <= inputs; seq++ {
				batch := &realmv1.InputBatch{IngressId: in.id}
				for i := range perProducer {
					sid := uint64(100 + p*perProducer + i)
					batch.Inputs = append(batch.Inputs, &realmv1.SessionInput{SessionId: sid,
						Input: &realmv1.PlayerInput{InputSequence: seq, Move: &realmv1.Vec2{X: float32(math.Cos(float64(seq))), Y: 0.5}}})
				}
				if p%2 == 0 {
					w.inbox.Push(batch)
				} else if err := nc.Publish(bus.SubjectWorldInput, batch); err != nil {
					t.Errorf("publish: %v", err)
					return
				}
			}
			if err := nc.Flush(context.Background()); err != nil {
				t.Errorf("flush: %v", err)
			}
		})
	}
	wg.Wait()
	for p := range producers {
		for i := range perProducer {
			sid := uint64(100 + p*perProducer + i)
			in.waitSnapshot(t, fmt.Sprint("last input of ", sid), sid, func(s *realmv1.Snapshot) bool {
				return s.GetLastInputSequence() == inputs
			})
		}
	}
	if err := w.stop(); err != nil {
		t.Fatal(err)
	}
	// Run has returned: its state can be read here.
	st := w.world.Stats()
	if st.Players != producers*perProducer || st.InputsUnknown+st.InputsApplied+st.InputsStale != producers*perProducer*inputs {
		t.Fatalf("stats %+v", st)
	}
}
