package ingress

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

func TestHandshakeBinds(t *testing.T) {
	e := newEnv(t, Config{ID: "ingress-a", TickRate: 30})
	bound := events[realmv1.EndpointBound](e, bus.SubjectEndpointBound)
	c := e.newClient(42)

	ack := c.handshake()
	if ack.GetSessionId() != 42 || ack.GetEndpoint() != c.addr().String() || ack.GetTickRateHz() != 30 || ack.GetServerTimeUnixNs() == 0 {
		t.Errorf("ack = %v, want session 42, endpoint %v, tick rate 30", ack, c.addr())
	}
	ev := next(t, bound, "endpoint.bound")
	want := &realmv1.EndpointBound{SessionId: 42, AccountId: 1042, Endpoint: c.addr().String(), IngressId: "ingress-a"}
	if !proto.Equal(ev, want) {
		t.Errorf("endpoint.bound = %v, want %v", ev, want)
	}
	if got := e.svc.bindings.Load(); got != 1 {
		t.Errorf("bindings = %d, want 1", got)
	}
	if got := counter(t, e.svc.m.handshakes[hsBound]); got != 1 {
		t.Errorf("handshakes{bound} = %v, want 1", got)
	}
	if ep, ok := e.svc.reg.Endpoint(42); !ok || ep != c.addr() {
		t.Errorf("registry endpoint = %v, %v; want %v", ep, ok, c.addr())
	}
	if err := e.svc.Ready(); err != nil {
		t.Errorf("Ready: %v", err)
	}

	// The same handshake re-sent (the ack was lost) and a new one from the
	// same endpoint are acked again and announce nothing.
	c.send(c.handshakePacket())
	c.open(wire.TypeHandshakeAck, new(realmv1.HandshakeAck))
	p := c.handshakePacket()
	c.send(p)
	c.open(wire.TypeHandshakeAck, new(realmv1.HandshakeAck))
	c.send(p)
	c.open(wire.TypeHandshakeAck, new(realmv1.HandshakeAck))
	nothingBefore(t, e, bus.SubjectEndpointBound, bound, "repeated handshake")
	if got := counter(t, e.svc.m.handshakes[hsRepeat]); got != 3 {
		t.Errorf("handshakes{repeat} = %v, want 3", got)
	}
}

func TestInputsInOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		workers int
	}{
		{"inline", -1},
		{"one worker", 1},
		{"four workers", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{ID: "ingress-b", MaxBatch: 8, Workers: tc.workers})
			batches := events[realmv1.InputBatch](e, bus.SubjectWorldInput)
			const sessions, n = 6, 50
			clients := make([]*client, sessions)
			for i := range clients {
				clients[i] = e.newClient(uint64(i + 1))
				clients[i].handshake()
			}
			for i := uint64(1); i <= n; i++ {
				for _, c := range clients {
					c.send(c.inputPacket(i))
				}
				if i%10 == 0 {
					clients[0].send(clients[0].dataPacket(wire.TypeKeepAlive, nil))
				}
			}
			expect := make(map[uint64]uint64) // by session: the last input sequence seen
			for got := 0; got < sessions*n; {
				batch := next(t, batches, "input batch")
				if batch.GetIngressId() != "ingress-b" {
					t.Fatalf("batch from %q", batch.GetIngressId())
				}
				if len(batch.GetInputs()) > 8 {
					t.Errorf("batch of %d inputs, MaxBatch is 8", len(batch.GetInputs()))
				}
				for _, in := range batch.GetInputs() {
					id := in.GetSessionId()
					expect[id]++
					want := &realmv1.PlayerInput{InputSequence: expect[id], ClientTick: 2 * expect[id], Move: &realmv1.Vec2{X: 1, Y: -0.5}}
					if !proto.Equal(in.GetInput(), want) {
						t.Fatalf("session %d input = %v, want %v", id, in.GetInput(), want)
					}
					got++
				}
			}
			waitFor(t, "keep-alives counted", func() bool { return counter(t, e.svc.m.keepAlives) == n/10 })
			if got := counter(t, e.svc.m.inputs); got != sessions*n {
				t.Errorf("inputs forwarded = %v, want %d", got, sessions*n)
			}
		})
	}
}

// TestInputsInOrderAcrossRebind moves a session to an endpoint of another
// worker in the middle of a stream of inputs sent back to back (the
// handshake does not wait for its ack), so that the old endpoint's inputs
// are still queued at one worker when the new endpoint's arrive at another:
// every input must reach the world, in order.
func TestInputsInOrderAcrossRebind(t *testing.T) {
	e := newEnv(t, Config{Workers: 4, MaxBatch: 16, RateLimit: 1e6, RateBurst: 1 << 20})
	batches := events[realmv1.InputBatch](e, bus.SubjectWorldInput)
	a := e.newClient(71)
	a.handshake()
	b := a.sibling()
	for e.svc.workerOf(b.addr()) == e.svc.workerOf(a.addr()) {
		b = a.sibling() // another port, until it maps to another worker
	}
	const rounds, n = 5, 40
	seq := uint64(0)
	for r := range rounds {
		from, to := a, b
		if r%2 == 1 {
			from, to = b, a
		}
		for range n {
			seq++
			from.send(from.inputPacket(seq))
		}
		to.send(to.handshakePacket())
	}
	for want := uint64(1); want <= seq; {
		for _, in := range next(t, batches, "input batch").GetInputs() {
			if got := in.GetInput().GetInputSequence(); in.GetSessionId() != 71 || got != want {
				t.Fatalf("input %d of session %d, want input %d of session 71", got, in.GetSessionId(), want)
			}
			want++
		}
	}
	// The last handshake follows the last inputs: it may still be on its way.
	waitFor(t, "every rebind counted", func() bool { return counter(t, e.svc.m.handshakes[hsRebound]) == rounds })
}

func TestDrops(t *testing.T) {
	e := newEnv(t, Config{TokenLifetime: time.Hour})
	bound := e.newClient(7)
	bound.handshake()

	otherKey, _ := wire.NewKey()
	forger, _ := wire.NewTokenCodec(otherKey)
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := func(typ byte, n int) []byte {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		p[0] = typ
		return p
	}

	tests := []struct {
		name   string
		reason string
		send   func() *client // sends the bad packet, returns the socket to watch
	}{
		{"forged token", dropBadAuth, func() *client {
			c := e.newClient(100)
			c.token, _ = forger.Seal(nil, c.tok)
			c.send(c.handshakePacket())
			return c
		}},
		{"expired token", dropExpired, func() *client {
			ck, _ := wire.NewKey()
			c := e.clientWith(wire.ConnectToken{SessionID: 101, Expires: time.Now().Add(-time.Second), ClientKey: ck, ServerKey: ck})
			c.send(c.handshakePacket())
			return c
		}},
		{"token outliving TokenLifetime", dropExpired, func() *client {
			ck, _ := wire.NewKey()
			c := e.clientWith(wire.ConnectToken{SessionID: 102, Expires: time.Now().Add(3 * time.Hour), ClientKey: ck, ServerKey: ck})
			c.send(c.handshakePacket())
			return c
		}},
		{"token of another session", dropBadAuth, func() *client {
			c := e.newClient(103)
			p, err := wire.AppendHandshake(nil, c.c2s, c.seq.Next(), 7, c.token)
			if err != nil {
				t.Fatal(err)
			}
			c.send(p)
			return c
		}},
		{"handshake tag with the wrong key", dropBadAuth, func() *client {
			c := e.newClient(104)
			k, _ := wire.NewKey()
			c.c2s = wire.NewAEAD(k)
			c.send(c.handshakePacket())
			return c
		}},
		{"tampered handshake", dropBadAuth, func() *client {
			c := e.newClient(105)
			p := c.handshakePacket()
			p[1] ^= 1 // the sequence is authenticated
			c.send(p)
			return c
		}},
		{"replayed handshake from another endpoint", dropReplay, func() *client {
			c := e.newClient(106)
			p := c.handshakePacket()
			c.send(p)
			c.open(wire.TypeHandshakeAck, new(realmv1.HandshakeAck))
			attacker := c.sibling()
			attacker.send(p)
			return attacker
		}},
		{"tampered input", dropBadAuth, func() *client {
			p := bound.inputPacket(1)
			p[len(p)-1] ^= 0x80
			bound.send(p)
			return bound
		}},
		{"input with the wrong key", dropBadAuth, func() *client {
			k, _ := wire.NewKey()
			p, _ := wire.SealPacket(nil, wire.NewAEAD(k), wire.TypeInput, bound.seq.Next(), nil)
			bound.send(p)
			return bound
		}},
		{"replayed input", dropReplay, func() *client {
			p := bound.inputPacket(2)
			bound.send(p)
			waitFor(t, "first copy accepted", func() bool { return e.svc.batch.pending() > 0 || counter(t, e.svc.m.inputs) > 0 })
			bound.send(p)
			return bound
		}},
		{"input from an unbound endpoint", dropUnknownEndpoint, func() *client {
			c := bound.sibling()
			c.send(c.inputPacket(3))
			return c
		}},
		{"undecodable input", dropMalformed, func() *client {
			p, _ := wire.SealPacket(nil, bound.c2s, wire.TypeInput, bound.seq.Next(), []byte{0xff, 0xff})
			bound.send(p)
			return bound
		}},
		{"truncated", dropMalformed, func() *client {
			bound.send([]byte{byte(wire.TypeInput), 1, 2, 3})
			return bound
		}},
		{"truncated handshake", dropMalformed, func() *client {
			c := e.newClient(107)
			c.send(c.handshakePacket()[:300])
			return c
		}},
		{"server-to-client type", dropMalformed, func() *client {
			bound.send(garbage(byte(wire.TypeSnapshot), 40))
			return bound
		}},
		{"garbage of unknown type", dropMalformed, func() *client {
			c := e.newClient(108)
			c.send(garbage(0xab, 600))
			return c
		}},
		{"garbage handshake", dropMalformed, func() *client {
			c := e.newClient(109)
			c.send(garbage(byte(wire.TypeHandshake), 600))
			return c
		}},
		{"garbage input from the bound endpoint", dropBadAuth, func() *client {
			bound.send(garbage(byte(wire.TypeInput), 100))
			return bound
		}},
		{"garbage input from an unbound endpoint", dropUnknownEndpoint, func() *client {
			c := e.newClient(110)
			c.send(garbage(byte(wire.TypeInput), 100))
			return c
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := counter(t, e.svc.m.dropped[tc.reason])
			c := tc.send()
			waitFor(t, "drop "+tc.reason, func() bool { return counter(t, e.svc.m.dropped[tc.reason]) == before+1 })
			c.expectSilence(tc.name)
		})
	}
	if ep, ok := e.svc.reg.Endpoint(7); !ok || ep != bound.addr() {
		t.Errorf("the bound session moved to %v, %v", ep, ok)
	}
	// Only the handshakes of sessions 7 and 106 bound anything.
	if got := e.svc.bindings.Load(); got != 2 {
		t.Errorf("bindings = %d, want 2", got)
	}
}

func TestRebind(t *testing.T) {
	e := newEnv(t, Config{})
	bound := events[realmv1.EndpointBound](e, bus.SubjectEndpointBound)
	batches := events[realmv1.InputBatch](e, bus.SubjectWorldInput)
	first := e.newClient(5)
	first.handshake()
	next(t, bound, "first binding")

	// The NAT changed the client's port: same session, new socket.
	second := first.sibling()
	second.handshake()
	ev := next(t, bound, "new binding")
	if ev.GetSessionId() != 5 || ev.GetEndpoint() != second.addr().String() {
		t.Errorf("endpoint.bound = %v, want session 5 at %v", ev, second.addr())
	}
	if got := counter(t, e.svc.m.handshakes[hsRebound]); got != 1 {
		t.Errorf("handshakes{rebound} = %v, want 1", got)
	}
	if got := e.svc.bindings.Load(); got != 1 {
		t.Errorf("bindings = %d, want 1", got)
	}

	before := counter(t, e.svc.m.dropped[dropUnknownEndpoint])
	first.send(first.inputPacket(1))
	waitFor(t, "old endpoint dropped", func() bool { return counter(t, e.svc.m.dropped[dropUnknownEndpoint]) == before+1 })
	second.send(second.inputPacket(2))
	in := next(t, batches, "input").GetInputs()
	if len(in) != 1 || in[0].GetInput().GetInputSequence() != 2 {
		t.Errorf("forwarded %v, want only input 2", in)
	}
}

func TestSessionClosed(t *testing.T) {
	e := newEnv(t, Config{})
	unbound := events[realmv1.EndpointUnbound](e, bus.SubjectEndpointUnbound)
	c := e.newClient(9)
	c.handshake()
	other := e.newClient(10)
	other.handshake()

	if err := e.obs.Publish(bus.SubjectSessionClosed, &realmv1.SessionClosed{SessionId: 9, AccountId: 1009}); err != nil {
		t.Fatal(err)
	}
	ev := next(t, unbound, "endpoint.unbound")
	want := &realmv1.EndpointUnbound{SessionId: 9, Endpoint: c.addr().String(), IngressId: e.svc.ID(),
		Reason: realmv1.UnbindReason_UNBIND_REASON_SESSION_CLOSED}
	if !proto.Equal(ev, want) {
		t.Errorf("endpoint.unbound = %v, want %v", ev, want)
	}
	if _, ok := e.svc.reg.Get(9); ok {
		t.Error("closed session still registered")
	}
	if got := e.svc.bindings.Load(); got != 1 {
		t.Errorf("bindings = %d, want 1", got)
	}

	before := counter(t, e.svc.m.dropped[dropUnknownEndpoint])
	c.send(c.inputPacket(1))
	waitFor(t, "input dropped", func() bool { return counter(t, e.svc.m.dropped[dropUnknownEndpoint]) == before+1 })
	// Its token is revoked, from any endpoint.
	for _, cl := range []*client{c, c.sibling()} {
		before := counter(t, e.svc.m.dropped[dropRevoked])
		cl.send(cl.handshakePacket())
		waitFor(t, "handshake revoked", func() bool { return counter(t, e.svc.m.dropped[dropRevoked]) == before+1 })
		cl.expectSilence("revoked handshake")
	}
	// The other session is untouched.
	other.handshake()
}

func TestIdleTimeout(t *testing.T) {
	e := newEnv(t, Config{IdleTimeout: 150 * time.Millisecond})
	unbound := events[realmv1.EndpointUnbound](e, bus.SubjectEndpointUnbound)
	bound := events[realmv1.EndpointBound](e, bus.SubjectEndpointBound)
	c := e.newClient(11)
	p := c.handshakePacket()
	c.send(p)
	c.open(wire.TypeHandshakeAck, new(realmv1.HandshakeAck))
	next(t, bound, "binding")

	ev := next(t, unbound, "idle unbind")
	if ev.GetSessionId() != 11 || ev.GetReason() != realmv1.UnbindReason_UNBIND_REASON_IDLE_TIMEOUT || ev.GetEndpoint() != c.addr().String() {
		t.Errorf("endpoint.unbound = %v, want session 11 IDLE_TIMEOUT", ev)
	}
	if _, ok := e.svc.reg.Endpoint(11); ok {
		t.Error("idle session still bound")
	}
	if got := e.svc.bindings.Load(); got != 0 {
		t.Errorf("bindings = %d, want 0", got)
	}
	// The state is kept: the old handshake stays refused...
	before := counter(t, e.svc.m.dropped[dropReplay])
	c.send(p)
	waitFor(t, "replay refused", func() bool { return counter(t, e.svc.m.dropped[dropReplay]) == before+1 })
	c.expectSilence("replayed handshake after idle")
	// ...and a new one binds again.
	c.handshake()
	if ev := next(t, bound, "binding again"); ev.GetEndpoint() != c.addr().String() {
		t.Errorf("endpoint.bound = %v", ev)
	}
}

func TestSnapshots(t *testing.T) {
	e := newEnv(t, Config{ID: "ingress-snap"})
	c := e.newClient(12)
	c.handshake()

	snap := &realmv1.Snapshot{
		ServerTick: 77, LastInputSequence: 5,
		Self:   &realmv1.EntityState{EntityId: 1, SessionId: 12, Position: &realmv1.Vec2{X: 3, Y: 4}},
		Nearby: []*realmv1.EntityState{{EntityId: 2, Position: &realmv1.Vec2{X: 5}}},
	}
	enc, err := proto.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	batch := &realmv1.SnapshotBatch{ServerTick: 77, Snapshots: []*realmv1.SessionSnapshot{
		{SessionId: 999, Snapshot: enc}, // not here
		{SessionId: 12, Snapshot: enc},
		{SessionId: 12, Snapshot: bytes.Repeat([]byte{0}, wire.MaxPlaintextSize+1)},
	}}
	if err := e.obs.Publish(bus.IngressOutSubject("ingress-snap"), batch); err != nil {
		t.Fatal(err)
	}
	got := new(realmv1.Snapshot)
	c.open(wire.TypeSnapshot, got)
	if !proto.Equal(got, snap) {
		t.Errorf("snapshot = %v, want %v", got, snap)
	}
	// The counters move after the batch's send returns, which may be after
	// the client read the snapshot: poll for all three.
	waitFor(t, "skips and the send counted", func() bool {
		return counter(t, e.svc.m.skipped[skipUnknown]) == 1 && counter(t, e.svc.m.skipped[skipTooLarge]) == 1 &&
			counter(t, e.svc.m.snapshots) >= 1
	})
	if got := counter(t, e.svc.m.snapshots); got != 1 {
		t.Errorf("snapshots sent = %v, want 1", got)
	}
}

func TestResync(t *testing.T) {
	e := newEnv(t, Config{ID: "ingress-r"})
	bound := events[realmv1.EndpointBound](e, bus.SubjectEndpointBound)
	clients := map[uint64]*client{21: e.newClient(21), 22: e.newClient(22)}
	for _, c := range clients {
		c.handshake()
		next(t, bound, "binding")
	}
	// An unbound session is not announced.
	if err := e.obs.Publish(bus.SubjectSessionClosed, &realmv1.SessionClosed{SessionId: 22}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "session 22 closed", func() bool { _, ok := e.svc.reg.Get(22); return !ok })

	for _, trigger := range []struct {
		name string
		fire func()
	}{
		{"world request", func() {
			if err := e.obs.Publish(bus.SubjectIngressResync, &realmv1.ResyncRequest{WorldId: "w"}); err != nil {
				t.Fatal(err)
			}
		}},
		{"reconnect", e.svc.Resync},
	} {
		t.Run(trigger.name, func(t *testing.T) {
			trigger.fire()
			ev := next(t, bound, "resync")
			want := &realmv1.EndpointBound{SessionId: 21, AccountId: 1021, Endpoint: clients[21].addr().String(), IngressId: "ingress-r", Resync: true}
			if !proto.Equal(ev, want) {
				t.Errorf("resync = %v, want %v", ev, want)
			}
			nothingBefore(t, e, bus.SubjectEndpointBound, bound, "resync")
		})
	}
}

func TestMovedToAnotherIngress(t *testing.T) {
	e := newEnv(t, Config{ID: "ingress-m"})
	unbound := events[realmv1.EndpointUnbound](e, bus.SubjectEndpointUnbound)
	c := e.newClient(31)
	c.handshake()
	stay := e.newClient(32)
	stay.handshake()

	// Resync announcements by others do not move anything.
	if err := e.obs.Publish(bus.SubjectEndpointBound, &realmv1.EndpointBound{SessionId: 32, IngressId: "ingress-n", Endpoint: "192.0.2.1:1", Resync: true}); err != nil {
		t.Fatal(err)
	}
	if err := e.obs.Publish(bus.SubjectEndpointBound, &realmv1.EndpointBound{SessionId: 31, IngressId: "ingress-n", Endpoint: "192.0.2.1:1"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "binding dropped", func() bool { _, ok := e.svc.reg.Endpoint(31); return !ok })
	if got := counter(t, e.svc.m.unbinds[unbindMoved]); got != 1 {
		t.Errorf("unbinds{moved} = %v, want 1", got)
	}
	if _, ok := e.svc.reg.Endpoint(32); !ok {
		t.Error("a resync announcement from another ingress dropped a binding")
	}
	before := counter(t, e.svc.m.dropped[dropUnknownEndpoint])
	c.send(c.inputPacket(1))
	waitFor(t, "input dropped", func() bool { return counter(t, e.svc.m.dropped[dropUnknownEndpoint]) == before+1 })

	// Nothing was published for the move.
	if err := e.nc.Publish(bus.SubjectEndpointUnbound, &realmv1.EndpointUnbound{IngressId: "marker"}); err != nil {
		t.Fatal(err)
	}
	if m := next(t, unbound, "marker"); m.GetIngressId() != "marker" {
		t.Errorf("unexpected endpoint.unbound %v", m)
	}
}

func TestShutdown(t *testing.T) {
	for _, tc := range pipelines {
		t.Run(tc.name, func(t *testing.T) { testShutdown(t, tc.workers) })
	}
}

func testShutdown(t *testing.T, workers int) {
	e := newEnv(t, Config{FlushInterval: time.Hour, Workers: workers})
	unbound := events[realmv1.EndpointUnbound](e, bus.SubjectEndpointUnbound)
	batches := events[realmv1.InputBatch](e, bus.SubjectWorldInput)
	c := e.newClient(41)
	c.handshake()
	c.send(c.inputPacket(1))
	waitFor(t, "input pending", func() bool { return e.svc.batch.pending() == 1 })

	if err := e.svc.Run(context.Background()); !errors.Is(err, ErrRunning) {
		t.Errorf("second Run = %v, want ErrRunning", err)
	}
	if err := e.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Run has returned: the pending input and the unbound event are out.
	if in := next(t, batches, "last batch").GetInputs(); len(in) != 1 || in[0].GetSessionId() != 41 {
		t.Errorf("last batch = %v, want the input of session 41", in)
	}
	ev := next(t, unbound, "shutdown unbind")
	if ev.GetSessionId() != 41 || ev.GetReason() != realmv1.UnbindReason_UNBIND_REASON_SHUTDOWN {
		t.Errorf("endpoint.unbound = %v, want session 41 SHUTDOWN", ev)
	}
	if err := e.svc.Ready(); !errors.Is(err, ErrNotReady) {
		t.Errorf("Ready after Run = %v, want ErrNotReady", err)
	}
	if e.svc.reg.Len() != 0 || e.svc.bindings.Load() != 0 {
		t.Errorf("%d sessions and %d bindings left", e.svc.reg.Len(), e.svc.bindings.Load())
	}
	// The socket is closed: nothing answers.
	c.send(c.handshakePacket())
	c.expectSilence("after shutdown")
}

// TestShutdownHandlesWhatWasRead stops the service while inputs are still
// arriving: every datagram the socket delivered before it closed must be
// handled and its input published (those still in the kernel's buffer are
// lost with the socket, as on any close).
func TestShutdownHandlesWhatWasRead(t *testing.T) {
	for _, tc := range pipelines {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{FlushInterval: time.Hour, Workers: tc.workers, RateLimit: 1e6, RateBurst: 1 << 20}
			e := newEnvPrepared(t, cfg, func(s *Service) {
				// Slow handling down, so that work is still queued when
				// the socket closes. Not a synchronisation.
				s.afterChunk = func(int) { time.Sleep(time.Millisecond) }
			})
			batches := events[realmv1.InputBatch](e, bus.SubjectWorldInput)
			c := e.newClient(42)
			c.handshake()
			const n = 500
			for i := uint64(1); i <= n; i++ {
				c.send(c.inputPacket(i))
			}
			if err := e.stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			read := int(e.svc.srv.Stats().PacketsIn) - 2 // the handshake and its confirmation
			if got := counter(t, e.svc.m.inputs); got != float64(read) {
				t.Fatalf("%v inputs published, %d read", got, read)
			}
			want := uint64(1)
			for want <= uint64(read) {
				for _, in := range next(t, batches, "input batch").GetInputs() {
					if got := in.GetInput().GetInputSequence(); got != want {
						t.Fatalf("input %d published, want %d", got, want)
					}
					want++
				}
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	key, _ := wire.NewKey()
	cfg, err := Config{TokenKey: key}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cfg.ID, DefaultIDPrefix) || bus.ValidID(cfg.ID) != nil {
		t.Errorf("default id %q", cfg.ID)
	}
	if cfg.Listen != DefaultListen || cfg.IdleTimeout != DefaultIdleTimeout || cfg.FlushInterval != DefaultFlushInterval ||
		cfg.MaxBatch != DefaultMaxBatch || cfg.TickRate != DefaultTickRate || cfg.RateLimit != DefaultRateLimit ||
		cfg.RateBurst != DefaultRateBurst || cfg.TokenLifetime != DefaultTokenLifetime || cfg.MaxRevoked != DefaultMaxRevoked ||
		cfg.Socket.MaxPacketSize != wire.MaxPacketSize {
		t.Errorf("defaults = %+v", cfg)
	}

	tests := []struct {
		name string
		cfg  Config
	}{
		{"no token key", Config{}},
		{"bad id", Config{TokenKey: key, ID: "a.b"}},
		{"negative idle", Config{TokenKey: key, IdleTimeout: -1}},
		{"negative batch", Config{TokenKey: key, MaxBatch: -1}},
		{"batch too large", Config{TokenKey: key, MaxBatch: MaxMaxBatch + 1}},
		{"workers below -1", Config{TokenKey: key, Workers: -2}},
		{"too many workers", Config{TokenKey: key, Workers: MaxWorkers + 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.cfg.withDefaults(); !errors.Is(err, ErrConfig) {
				t.Errorf("err = %v, want ErrConfig", err)
			}
			if _, err := New(tc.cfg, nil, nil); !errors.Is(err, ErrConfig) {
				t.Errorf("New err = %v, want ErrConfig", err)
			}
		})
	}
}
