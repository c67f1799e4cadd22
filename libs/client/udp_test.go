package client

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

func TestJoinUDP(t *testing.T) {
	tests := []struct {
		name       string
		ignore     int  // handshakes the server leaves unanswered
		deadFirst  bool // the first ingress address has no listener
		wantTries  int  // handshakes the server must have seen, at least
		wantIngres int  // index of the ingress that answered
	}{
		{name: "first try", wantTries: 1},
		{name: "retries until answered", ignore: 2, wantTries: 3},
		{name: "skips a dead ingress", deadFirst: true, wantTries: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newUDPServer(t)
			srv.set(func(s *udpServer) { s.ignore = tc.ignore })
			addrs := []string{srv.addr()}
			if tc.deadFirst {
				addrs = []string{deadAddr(t), srv.addr()}
			}
			sess := srv.session(Config{HandshakeRetry: 20 * time.Millisecond, HandshakeTimeout: time.Second}, addrs...)
			u := join(t, sess)

			hs := srv.seenPackets(wire.TypeHandshake)
			if len(hs) < tc.wantTries {
				t.Fatalf("server saw %d handshakes, want at least %d", len(hs), tc.wantTries)
			}
			for i := 1; i < len(hs); i++ {
				if hs[i].seq <= hs[i-1].seq {
					t.Errorf("handshake %d reused or lowered the sequence: %d after %d", i, hs[i].seq, hs[i-1].seq)
				}
			}
			if got := u.RemoteAddr().String(); got != srv.addr() {
				t.Errorf("RemoteAddr = %s, want %s", got, srv.addr())
			}
			if got, want := u.Ack().GetEndpoint(), u.LocalAddr().String(); got != want {
				t.Errorf("ack endpoint = %s, want the local address %s", got, want)
			}
			if st := u.Stats(); st.AcksReceived != 1 || st.HandshakesSent < uint64(tc.wantTries) {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestJoinUDPFails(t *testing.T) {
	tests := []struct {
		name    string
		cancel  bool // cancel the context instead of waiting for the timeout
		wantErr error
	}{
		{name: "timeout", wantErr: ErrHandshakeTimeout},
		{name: "context canceled", cancel: true, wantErr: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newUDPServer(t)
			srv.set(func(s *udpServer) { s.silent = true })
			timeout := 300 * time.Millisecond
			if tc.cancel {
				timeout = time.Minute
			}
			sess := srv.session(Config{HandshakeRetry: 20 * time.Millisecond, HandshakeTimeout: timeout})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				go func() {
					waitFor(t, "a handshake", func() bool { return len(srv.seenPackets(wire.TypeHandshake)) > 0 })
					cancel()
				}()
			}
			u, err := sess.JoinUDP(ctx)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("JoinUDP = %v, %v; want %v", u, err, tc.wantErr)
			}
			if n := len(sess.conn.udps); n != 0 {
				t.Errorf("conn still tracks %d UDPs", n)
			}
		})
	}
}

func TestJoinUDPNoIngress(t *testing.T) {
	srv := newUDPServer(t)
	sess := srv.session(Config{})
	sess.IngressAddrs = nil
	if _, err := sess.JoinUDP(context.Background()); !errors.Is(err, ErrNoIngress) {
		t.Fatalf("JoinUDP = %v, want ErrNoIngress", err)
	}
}

func TestSendInput(t *testing.T) {
	srv := newUDPServer(t)
	u := join(t, srv.session(Config{}))
	for i := uint64(1); i <= 5; i++ {
		in := &realmv1.PlayerInput{InputSequence: i, ClientTick: 100 + i, Move: &realmv1.Vec2{X: 1, Y: -0.5}}
		if err := u.SendInput(in); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "5 inputs", func() bool { return len(srv.seenPackets(wire.TypeInput)) == 5 })
	hs := srv.seenPackets(wire.TypeHandshake)
	last := hs[len(hs)-1].seq
	for i, p := range srv.seenPackets(wire.TypeInput) {
		want := &realmv1.PlayerInput{InputSequence: uint64(i + 1), ClientTick: 101 + uint64(i), Move: &realmv1.Vec2{X: 1, Y: -0.5}}
		if !proto.Equal(p.input, want) {
			t.Errorf("input %d = %v, want %v", i, p.input, want)
		}
		if p.seq <= last {
			t.Errorf("input %d sequence %d not above %d: handshakes and inputs share one counter", i, p.seq, last)
		}
		last = p.seq
	}
	if st := u.Stats(); st.InputsSent != 5 {
		t.Errorf("InputsSent = %d, want 5", st.InputsSent)
	}
}

func TestKeepAlive(t *testing.T) {
	srv := newUDPServer(t)
	u := join(t, srv.session(Config{KeepAliveInterval: 40 * time.Millisecond}))
	waitFor(t, "keep-alives", func() bool { return len(srv.seenPackets(wire.TypeKeepAlive)) >= 2 })
	if u.Stats().KeepAlivesSent < 2 {
		t.Errorf("stats = %+v", u.Stats())
	}
	if n := u.Stats().ConfirmsSent; n != 0 {
		t.Errorf("%d confirmations sent for acks without a challenge", n)
	}
}

// TestConfirmChallenge: the client echoes an ack's challenge from the
// socket the ack came on (return routability), again on keep-alive ticks
// until a snapshot shows the ingress has it, then no more; a Rebind's ack
// is echoed from the new socket.
func TestConfirmChallenge(t *testing.T) {
	srv := newUDPServer(t)
	first := []byte("first-challenge!")
	srv.set(func(s *udpServer) { s.challenge = first })
	// No handshakes after a silence: they would echo again too.
	u := join(t, srv.session(Config{KeepAliveInterval: 40 * time.Millisecond, SilenceTimeout: -1}))
	// No snapshot comes (as when the echo is lost): it is sent again.
	waitFor(t, "the challenge echoed, and again", func() bool { return len(srv.echoes(first)) >= 3 })
	for _, from := range srv.echoes(first) {
		if from != u.LocalAddr() {
			t.Errorf("echo from %v, want %v", from, u.LocalAddr())
		}
	}

	srv.sendRaw(srv.sealSnapshot(&realmv1.Snapshot{ServerTick: 1}))
	<-u.Snapshots()
	echoed := len(srv.echoes(first))
	plain := len(srv.echoes(nil))
	waitFor(t, "keep-alives after the snapshot", func() bool { return len(srv.echoes(nil)) >= plain+3 })
	// At most one echo could have been on its way when the snapshot came.
	if n := len(srv.echoes(first)); n > echoed+1 {
		t.Errorf("%d echoes after the snapshot, want at most 1", n-echoed)
	}

	second := []byte("second-challenge")
	srv.set(func(s *udpServer) { s.challenge = second })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := u.Rebind(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new challenge echoed from the new socket", func() bool {
		from := srv.echoes(second)
		return len(from) > 0 && from[0] == u.LocalAddr()
	})
	if s := u.Stats(); s.ConfirmsSent < uint64(len(srv.echoes(first))+1) {
		t.Errorf("stats: %d confirmations sent, the server saw %d and %d", s.ConfirmsSent, len(srv.echoes(first)), len(srv.echoes(second)))
	}
}

func TestSnapshots(t *testing.T) {
	srv := newUDPServer(t)
	u := join(t, srv.session(Config{}))

	want := &realmv1.Snapshot{ServerTick: 9, LastInputSequence: 3,
		Self:   &realmv1.EntityState{EntityId: 1, SessionId: 42, Position: &realmv1.Vec2{X: 2, Y: 3}},
		Nearby: []*realmv1.EntityState{{EntityId: 2, Position: &realmv1.Vec2{X: 4}}}}
	pkt := srv.sealSnapshot(want)
	srv.sendRaw(pkt)
	srv.sendRaw(pkt) // a replay

	forged := srv.sealSnapshot(want)
	forged[len(forged)-1] ^= 1
	srv.sendRaw(forged)
	srv.sendRaw([]byte{byte(wire.TypeSnapshot), 1, 2}) // truncated
	ack := srv.sealSnapshot(want)
	ack[0] = byte(wire.TypeInput) // a type clients never receive
	srv.sendRaw(ack)

	select {
	case got := <-u.Snapshots():
		if !proto.Equal(got.Msg, want) || got.Received.IsZero() {
			t.Fatalf("snapshot = %v at %v, want %v", got.Msg, got.Received, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no snapshot")
	}
	waitFor(t, "drops counted", func() bool {
		st := u.Stats()
		return st.Replayed == 1 && st.Rejected == 3
	})
	if st := u.Stats(); st.SnapshotsReceived != 1 || len(u.Snapshots()) != 0 {
		t.Errorf("stats = %+v, queued %d; want exactly one snapshot", st, len(u.Snapshots()))
	}
}

func TestOnSnapshot(t *testing.T) {
	srv := newUDPServer(t)
	type got struct {
		plain    []byte
		received time.Time
	}
	ch := make(chan got, 8)
	u := join(t, srv.session(Config{OnSnapshot: func(plain []byte, received time.Time) {
		ch <- got{bytes.Clone(plain), received} // plain is only lent
	}}))
	want := &realmv1.Snapshot{ServerTick: 9, LastInputSequence: 3,
		Self: &realmv1.EntityState{EntityId: 1, Position: &realmv1.Vec2{X: 2, Y: 3}}}
	pkt := srv.sealSnapshot(want)
	srv.sendRaw(pkt)
	srv.sendRaw(pkt) // a replay: not passed on
	forged := srv.sealSnapshot(want)
	forged[len(forged)-1] ^= 1
	srv.sendRaw(forged) // not authentic: not passed on
	select {
	case g := <-ch:
		var s realmv1.Snapshot
		if err := proto.Unmarshal(g.plain, &s); err != nil || !proto.Equal(&s, want) || g.received.IsZero() {
			t.Fatalf("OnSnapshot got %v (%v) at %v, want %v", &s, err, g.received, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnSnapshot not called")
	}
	waitFor(t, "drops counted", func() bool {
		st := u.Stats()
		return st.Replayed == 1 && st.Rejected == 1
	})
	if st := u.Stats(); st.SnapshotsReceived != 1 || len(u.Snapshots()) != 0 || len(ch) != 0 {
		t.Errorf("stats = %+v, queued %d, calls left %d; want exactly one snapshot, to OnSnapshot only", st, len(u.Snapshots()), len(ch))
	}
}

func TestSnapshotsNewestWins(t *testing.T) {
	srv := newUDPServer(t)
	u := join(t, srv.session(Config{SnapshotBuffer: 2}))
	for tick := uint64(1); tick <= 5; tick++ {
		srv.sendRaw(srv.sealSnapshot(&realmv1.Snapshot{ServerTick: tick}))
	}
	waitFor(t, "5 snapshots", func() bool { return u.Stats().SnapshotsReceived == 5 })
	for _, want := range []uint64{4, 5} {
		if got := (<-u.Snapshots()).Msg.GetServerTick(); got != want {
			t.Errorf("tick %d, want %d", got, want)
		}
	}
	if got := u.Stats().SnapshotsDropped; got != 3 {
		t.Errorf("SnapshotsDropped = %d, want 3", got)
	}
}

func TestRebind(t *testing.T) {
	srv := newUDPServer(t)
	u := join(t, srv.session(Config{}))
	before := u.LocalAddr()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := u.Rebind(ctx); err != nil {
		t.Fatal(err)
	}
	after := u.LocalAddr()
	if after == before {
		t.Fatalf("LocalAddr unchanged: %s", after)
	}
	hs := srv.seenPackets(wire.TypeHandshake)
	if got := hs[len(hs)-1].from; got != after {
		t.Errorf("rebind handshake came from %s, want %s", got, after)
	}
	if got := u.Ack().GetEndpoint(); got != after.String() {
		t.Errorf("ack endpoint = %s, want %s", got, after)
	}

	if err := u.SendInput(&realmv1.PlayerInput{InputSequence: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the input from the new socket", func() bool {
		in := srv.seenPackets(wire.TypeInput)
		return len(in) == 1 && in[0].from == after
	})
	srv.sendRaw(srv.sealSnapshot(&realmv1.Snapshot{ServerTick: 77}))
	select {
	case s := <-u.Snapshots():
		if s.Msg.GetServerTick() != 77 {
			t.Errorf("tick %d, want 77", s.Msg.GetServerTick())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no snapshot on the new socket")
	}
}

func TestRebindFailsKeepsOldSocket(t *testing.T) {
	srv := newUDPServer(t)
	u := join(t, srv.session(Config{HandshakeRetry: 20 * time.Millisecond, HandshakeTimeout: 200 * time.Millisecond}))
	before := u.LocalAddr()
	srv.set(func(s *udpServer) { s.silent = true })
	if err := u.Rebind(context.Background()); !errors.Is(err, ErrHandshakeTimeout) {
		t.Fatalf("Rebind = %v, want ErrHandshakeTimeout", err)
	}
	if u.LocalAddr() != before {
		t.Errorf("LocalAddr moved to %s after a failed rebind", u.LocalAddr())
	}
	if err := u.SendInput(&realmv1.PlayerInput{InputSequence: 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the input from the old socket", func() bool { return len(srv.seenPackets(wire.TypeInput)) == 1 })
}

func TestUDPClose(t *testing.T) {
	srv := newUDPServer(t)
	sess := srv.session(Config{})
	u := join(t, sess)
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-u.Snapshots(); ok {
		t.Error("Snapshots not closed")
	}
	if err := u.SendInput(&realmv1.PlayerInput{}); !errors.Is(err, ErrClosed) {
		t.Errorf("SendInput after Close = %v, want ErrClosed", err)
	}
	if err := u.Rebind(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Rebind after Close = %v, want ErrClosed", err)
	}
	if err := u.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if n := len(sess.conn.udps); n != 0 {
		t.Errorf("conn still tracks %d UDPs", n)
	}
}

func TestSendInputAllocs(t *testing.T) {
	srv := newUDPServer(t)
	u := join(t, srv.session(Config{}))
	in := &realmv1.PlayerInput{InputSequence: 1, Move: &realmv1.Vec2{X: 1}}
	allocs := testing.AllocsPerRun(100, func() {
		in.InputSequence++
		if err := u.SendInput(in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("SendInput allocates %v times", allocs)
	}
}

// BenchmarkSendInput compares SendInput (marshal, seal, write) with writing
// the same number of bytes to a connected UDP socket.
func BenchmarkSendInput(b *testing.B) {
	srv := newUDPServer(b)
	u := join(b, srv.session(Config{}))
	srv.set(func(s *udpServer) { s.sink = true }) // measure the sender only
	in := &realmv1.PlayerInput{InputSequence: 1, ClientTick: 1, Move: &realmv1.Vec2{X: 0.7, Y: 0.7}}
	b.Run("baseline-write", func(b *testing.B) {
		raw := make([]byte, wire.HeaderSize+proto.Size(in)+wire.TagSize)
		b.ReportAllocs()
		for b.Loop() {
			_, _ = u.cur.conn.Write(raw)
		}
	})
	b.Run("SendInput", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			in.InputSequence++
			_ = u.SendInput(in)
		}
	})
}

// BenchmarkReceiveSnapshot compares the client's receive path for one
// snapshot (replay check, open, decode, queue) with decoding it alone.
func BenchmarkReceiveSnapshot(b *testing.B) {
	srv := newUDPServer(b)
	u := join(b, srv.session(Config{}))
	snap := &realmv1.Snapshot{ServerTick: 1, LastInputSequence: 1, Self: &realmv1.EntityState{EntityId: 1, Position: &realmv1.Vec2{X: 1}}}
	for i := range 16 {
		snap.Nearby = append(snap.Nearby, &realmv1.EntityState{EntityId: uint64(i + 2), Position: &realmv1.Vec2{X: float32(i)}, Velocity: &realmv1.Vec2{Y: 1}})
	}
	pkt := srv.sealSnapshot(snap)
	plain, _ := proto.Marshal(snap)
	b.Run("baseline-unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := proto.Unmarshal(plain, new(realmv1.Snapshot)); err != nil {
				b.Fatal(err)
			}
		}
	})
	receive := func(b *testing.B, u *UDP, pkt []byte) {
		l := &link{acks: make(chan *realmv1.HandshakeAck, 1)}
		buf := make([]byte, 0, wire.MaxPacketSize)
		now := time.Now()
		b.ReportAllocs()
		for b.Loop() {
			u.recvMu.Lock()
			u.window = wire.ReplayWindow{} // the same packet, accepted each time
			u.recvMu.Unlock()
			buf = u.handle(l, pkt, buf, now)
		}
		if u.Stats().Rejected != 0 {
			b.Fatalf("stats %+v", u.Stats())
		}
	}
	b.Run("receive", func(b *testing.B) { receive(b, u, pkt) })
	// The same snapshot handed raw to Config.OnSnapshot: no decode, no queue.
	raw := join(b, srv.session(Config{OnSnapshot: func([]byte, time.Time) {}}))
	pkt = srv.sealSnapshot(snap) // with the keys of the new binding
	b.Run("receive-raw", func(b *testing.B) { receive(b, raw, pkt) })
}
