package client_test

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/client"
	"github.com/ecs-realm/realm/libs/testutil/realmtest"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
	"github.com/ecs-realm/realm/services/login/login"
)

func TestRegisterLogin(t *testing.T) {
	r := realmtest.Start(t, realmtest.Options{NoWorld: true})
	c := realmtest.Dial(t, fileConfig(r))
	ctx := realmtest.Context(t)

	id, err := c.Register(ctx, "alice", "password-alice")
	if err != nil || id == 0 {
		t.Fatalf("Register = %d, %v", id, err)
	}
	refusals := []struct {
		name string
		call func() error
		want realmv1.ErrorCode
	}{
		{"name taken, ignoring case", func() error { _, err := c.Register(ctx, "ALICE", "password-x"); return err }, realmv1.ErrorCode_ERROR_CODE_NAME_TAKEN},
		{"invalid name", func() error { _, err := c.Register(ctx, "a.b", "password-x"); return err }, realmv1.ErrorCode_ERROR_CODE_INVALID_NAME},
		{"short password", func() error { _, err := c.Register(ctx, "bob", "short"); return err }, realmv1.ErrorCode_ERROR_CODE_INVALID_PASSWORD},
		{"wrong password", func() error { _, err := c.Login(ctx, "alice", "password-wrong"); return err }, realmv1.ErrorCode_ERROR_CODE_INVALID_CREDENTIALS},
		{"unknown name", func() error { _, err := c.Login(ctx, "nobody", "password-x"); return err }, realmv1.ErrorCode_ERROR_CODE_INVALID_CREDENTIALS},
		{"refresh before login", func() error { return c.RefreshToken(ctx) }, realmv1.ErrorCode_ERROR_CODE_NOT_LOGGED_IN},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var se *client.ServerError
			if !errors.As(err, &se) || se.Code != tc.want {
				t.Fatalf("err = %v, want a ServerError %v", err, tc.want)
			}
		})
	}

	s, err := c.Login(ctx, "alice", "password-alice")
	if err != nil {
		t.Fatal(err)
	}
	if s.AccountID != id || s.SessionID == 0 || len(s.IngressAddrs) != 1 || s.TickRateHz == 0 || c.Session() != s {
		t.Errorf("session = %+v", s)
	}
	if _, err := c.Login(ctx, "alice", "password-alice"); client.CodeOf(err) != realmv1.ErrorCode_ERROR_CODE_ALREADY_LOGGED_IN {
		t.Errorf("second Login = %v, want ALREADY_LOGGED_IN", err)
	}
	if rtt, err := c.Ping(ctx); err != nil || rtt <= 0 {
		t.Errorf("Ping = %v, %v", rtt, err)
	}
	tok, _ := s.Token()
	if err := c.RefreshToken(ctx); err != nil {
		t.Fatal(err)
	}
	if tok2, _ := s.Token(); bytes.Equal(tok, tok2) {
		t.Error("RefreshToken kept the old token")
	}
	if c.Err() != nil {
		t.Errorf("Err = %v on an open connection", c.Err())
	}
}

func TestAutomaticTokenRefresh(t *testing.T) {
	r := realmtest.Start(t, realmtest.Options{NoWorld: true, Login: func(_ int, c *login.Config) { c.TokenTTL = time.Minute }})
	cfg := fileConfig(r)
	cfg.RefreshBefore = time.Minute - 300*time.Millisecond // refresh 300ms after each login/refresh
	c := realmtest.Dial(t, cfg)
	ctx := realmtest.Context(t)
	if _, err := c.Register(ctx, "carol", "password-carol"); err != nil {
		t.Fatal(err)
	}
	s, err := c.Login(ctx, "carol", "password-carol")
	if err != nil {
		t.Fatal(err)
	}
	_, first := s.Token()
	realmtest.WaitFor(t, "an automatic refresh", func() bool {
		_, exp := s.Token()
		return exp.After(first)
	})
}

func TestDataPlane(t *testing.T) {
	r := realmtest.Start(t, realmtest.Options{NoWorld: true})
	s := r.LoggedIn(t, 0, "dave").Session
	nc := r.Connect("test")

	var mu sync.Mutex
	var inputs []*realmv1.PlayerInput
	sub, err := bus.Subscribe(nc, bus.SubjectWorldInput, func(b *realmv1.InputBatch) {
		mu.Lock()
		defer mu.Unlock()
		for _, in := range b.GetInputs() {
			if in.GetSessionId() == s.SessionID {
				inputs = append(inputs, in.GetInput())
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(realmtest.Context(t)); err != nil {
		t.Fatal(err)
	}
	received := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(inputs)
	}

	u, err := s.JoinUDP(realmtest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.Ack().GetEndpoint(), u.LocalAddr().String(); got != want {
		t.Errorf("ack endpoint %s, want %s", got, want)
	}

	seq := uint64(0)
	sendInput := func() {
		t.Helper()
		seq++
		if err := u.SendInput(&realmv1.PlayerInput{InputSequence: seq, ClientTick: seq, Move: &realmv1.Vec2{X: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	sendSnapshot := func(tick uint64) {
		t.Helper()
		b, _ := proto.Marshal(&realmv1.Snapshot{ServerTick: tick, LastInputSequence: seq, Self: &realmv1.EntityState{SessionId: s.SessionID}})
		if err := nc.Publish(bus.IngressOutSubject(r.Ingresses[0].Service.ID()), &realmv1.SnapshotBatch{
			ServerTick: tick, Snapshots: []*realmv1.SessionSnapshot{{SessionId: s.SessionID, Snapshot: b}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		sendInput()
	}
	realmtest.WaitFor(t, "3 inputs on "+bus.SubjectWorldInput, func() bool { return received() == 3 })
	mu.Lock()
	for i, in := range inputs {
		if in.GetInputSequence() != uint64(i+1) || in.GetMove().GetX() != 1 {
			t.Errorf("input %d = %v", i, in)
		}
	}
	mu.Unlock()
	sendSnapshot(1)
	if snap := realmtest.Recv(t, "a snapshot", u.Snapshots()); snap.Msg.GetServerTick() != 1 || snap.Msg.GetLastInputSequence() != 3 {
		t.Errorf("snapshot = %v", snap.Msg)
	}

	// A new local port: the binding moves, inputs and snapshots follow.
	before := u.LocalAddr()
	if err := u.Rebind(realmtest.Context(t)); err != nil {
		t.Fatal(err)
	}
	if u.LocalAddr() == before || u.Ack().GetEndpoint() != u.LocalAddr().String() {
		t.Errorf("after Rebind: local %s (was %s), ack endpoint %s", u.LocalAddr(), before, u.Ack().GetEndpoint())
	}
	sendInput()
	realmtest.WaitFor(t, "the input sent after Rebind", func() bool { return received() == 4 })
	sendSnapshot(2)
	if snap := realmtest.Recv(t, "a snapshot after Rebind", u.Snapshots()); snap.Msg.GetServerTick() != 2 {
		t.Errorf("snapshot = %v", snap.Msg)
	}
	if st := u.Stats(); st.Rejected != 0 || st.Replayed != 0 || st.SnapshotsReceived != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestKickReplaced(t *testing.T) {
	r := realmtest.Start(t, realmtest.Options{NoWorld: true})
	first := r.LoggedIn(t, 0, "erin").Conn
	second := r.LoggedIn(t, 0, "erin").Conn
	realmtest.WaitClosed(t, "the kick", first.Done())
	var ke *client.KickError
	if err := first.Err(); !errors.As(err, &ke) || ke.Reason != realmv1.CloseReason_CLOSE_REASON_REPLACED || !errors.Is(err, client.ErrKicked) {
		t.Fatalf("first Err = %v, want a REPLACED kick", err)
	}
	if _, err := first.Ping(realmtest.Context(t)); !errors.Is(err, client.ErrKicked) {
		t.Errorf("Ping on a kicked conn = %v", err)
	}
	if _, err := second.Ping(realmtest.Context(t)); err != nil {
		t.Errorf("the new session: %v", err)
	}
}

func TestKickShutdown(t *testing.T) {
	r := realmtest.Start(t, realmtest.Options{NoWorld: true})
	c := r.LoggedIn(t, 0, "frank").Conn
	r.Logins[0].Stop()
	realmtest.WaitClosed(t, "the kick", c.Done())
	var ke *client.KickError
	if err := c.Err(); !errors.As(err, &ke) || ke.Reason != realmv1.CloseReason_CLOSE_REASON_SHUTDOWN {
		t.Fatalf("Err = %v, want a SHUTDOWN kick", err)
	}
}

func TestLogout(t *testing.T) {
	r := realmtest.Start(t, realmtest.Options{NoWorld: true})
	nc := r.Connect("test")
	closed := make(chan *realmv1.SessionClosed, 1)
	sub, err := bus.Subscribe(nc, bus.SubjectSessionClosed, func(e *realmv1.SessionClosed) { closed <- e })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(realmtest.Context(t)); err != nil {
		t.Fatal(err)
	}

	p := r.LoggedIn(t, 0, "grace")
	c, s := p.Conn, p.Session
	u, err := s.JoinUDP(realmtest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Logout(realmtest.Context(t)); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(c.Err(), client.ErrLoggedOut) {
		t.Errorf("Err = %v, want ErrLoggedOut", c.Err())
	}
	if e := realmtest.Recv(t, "session.closed", closed); e.GetSessionId() != s.SessionID || e.GetReason() != realmv1.CloseReason_CLOSE_REASON_LOGOUT {
		t.Errorf("session.closed = %v, want session %d LOGOUT", e, s.SessionID)
	}
	if err := u.SendInput(&realmv1.PlayerInput{InputSequence: 1}); !errors.Is(err, client.ErrClosed) {
		t.Errorf("SendInput after Logout = %v, want ErrClosed (Logout closes the UDP)", err)
	}
	if _, err := c.Login(realmtest.Context(t), "grace", realmtest.Password("grace")); !errors.Is(err, client.ErrLoggedOut) {
		t.Errorf("Login after Logout = %v, want ErrLoggedOut", err)
	}
}

// TestWorld plays two players against a real world: their inputs move them,
// snapshots acknowledge the inputs, and each sees the other nearby.
func TestWorld(t *testing.T) {
	r := realmtest.Start(t, realmtest.Options{})
	s1 := r.LoggedIn(t, 0, "heidi").Session
	s2 := r.LoggedIn(t, 0, "ivan").Session
	u1, err := s1.JoinUDP(realmtest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	u2, err := s2.JoinUDP(realmtest.Context(t))
	if err != nil {
		t.Fatal(err)
	}

	first := realmtest.Recv(t, "a first snapshot", u1.Snapshots()).Msg
	if first.GetSelf().GetSessionId() != s1.SessionID {
		t.Fatalf("snapshot of %d, want session %d", first.GetSelf().GetSessionId(), s1.SessionID)
	}
	startX := first.GetSelf().GetPosition().GetX()
	dir := float32(1) // towards the middle, away from the edge that would stop it
	if startX > realmtest.DefaultWorldSize/2 {
		dir = -1
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(15 * time.Second)
	var seq, other uint64
	var last *realmv1.Snapshot
	sawOther := false
	for last == nil || last.GetLastInputSequence() < 10 || (last.GetSelf().GetPosition().GetX()-startX)*dir <= 0 || !sawOther {
		select {
		case <-tick.C:
			seq++
			if err := u1.SendInput(&realmv1.PlayerInput{InputSequence: seq, Move: &realmv1.Vec2{X: dir}}); err != nil {
				t.Fatal(err)
			}
			if err := u2.SendInput(&realmv1.PlayerInput{InputSequence: seq}); err != nil { // stands still
				t.Fatal(err)
			}
		case s := <-u1.Snapshots():
			last = s.Msg
			if last.GetLastInputSequence() > seq {
				t.Fatalf("snapshot acknowledges input %d, only %d sent", last.GetLastInputSequence(), seq)
			}
			for _, e := range last.GetNearby() {
				sawOther = sawOther || (other != 0 && e.GetEntityId() == other)
			}
		case s := <-u2.Snapshots():
			other = s.Msg.GetSelf().GetEntityId() // others know ivan by it
		case <-deadline:
			t.Fatalf("after %d inputs: last snapshot %v (start x %v), saw the other player: %v", seq, last, startX, sawOther)
		}
	}
}

// TestHandshakeAgainAfterSilence: a restarted ingress has forgotten every
// binding and drops the client's packets; the client, hearing nothing for
// Config.SilenceTimeout, handshakes again from its socket, and its
// snapshots resume.
func TestHandshakeAgainAfterSilence(t *testing.T) {
	r := realmtest.Start(t, realmtest.Options{})
	cfg := r.ClientConfig(0)
	cfg.SilenceTimeout = 300 * time.Millisecond
	p, err := realmtest.LoginWith(realmtest.Context(t), cfg, "judy")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if err := p.Join(realmtest.Context(t)); err != nil {
		t.Fatal(err)
	}
	realmtest.Recv(t, "a first snapshot", p.UDP.Snapshots())
	if st := p.UDP.Stats(); st.SilenceHandshakes != 0 {
		t.Fatalf("%d handshakes after silence while snapshots flow", st.SilenceHandshakes)
	}

	r.RestartIngress(0)
	mark := p.UDP.Stats()
	realmtest.WaitFor(t, "snapshots to resume after the ingress restart", func() bool {
		return p.UDP.Stats().SnapshotsReceived >= mark.SnapshotsReceived+5
	})
	st := p.UDP.Stats()
	if st.SilenceHandshakes == 0 || st.AcksReceived <= mark.AcksReceived {
		t.Fatalf("snapshots resumed with %d silence handshakes and %d new acks", st.SilenceHandshakes, st.AcksReceived-mark.AcksReceived)
	}
	if got, want := p.UDP.Ack().GetEndpoint(), p.UDP.LocalAddr().String(); got != want {
		t.Errorf("ack names endpoint %s, want the same socket %s", got, want)
	}
}
