package realmtest_test

import (
	"fmt"
	"testing"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/testutil/realmtest"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
	"github.com/ecs-realm/realm/services/login/login"
)

// moveAndSee sends an input (again after each snapshot, in case it was
// lost or came before the world knew the player) until a snapshot shows it
// applied.
func moveAndSee(t *testing.T, p *realmtest.Player, seq uint64) *realmv1.Snapshot {
	t.Helper()
	for {
		if err := p.UDP.SendInput(&realmv1.PlayerInput{InputSequence: seq, Move: &realmv1.Vec2{X: 1}}); err != nil {
			t.Fatal(err)
		}
		s := realmtest.Recv(t, "a snapshot", p.UDP.Snapshots())
		if s.Msg.GetLastInputSequence() >= seq {
			return s.Msg
		}
	}
}

func TestStart(t *testing.T) {
	r := realmtest.Start(t, realmtest.Options{})
	if r.Server == nil || r.CAFile == "" || r.TLS == nil || len(r.Logins) != 1 || len(r.Ingresses) != 1 || r.World() == nil {
		t.Fatalf("realm = %+v", r)
	}
	a, b := r.Player(t, 0, "alice"), r.Player(t, 0, "bob")
	if a.Session.TickRateHz != realmtest.DefaultTickRate {
		t.Errorf("tick rate %d", a.Session.TickRateHz)
	}
	s := moveAndSee(t, a, 1)
	if s.GetSelf().GetSessionId() != a.Session.SessionID {
		t.Errorf("self = %v", s.GetSelf())
	}
	// Others are known by entity id: bob's own snapshot tells his.
	bobEntity := moveAndSee(t, b, 1).GetSelf().GetEntityId()
	realmtest.WaitFor(t, "alice to see bob", func() bool {
		for _, e := range moveAndSee(t, a, 2).GetNearby() {
			if e.GetEntityId() == bobEntity {
				return true
			}
		}
		return false
	})
}

func TestInstances(t *testing.T) {
	var logins []int
	r := realmtest.Start(t, realmtest.Options{
		Logins: 3, Ingresses: 2, NoWorld: true, TickRate: 10,
		Login: func(i int, cfg *login.Config) { logins = append(logins, i) },
	})
	if len(r.Logins) != 3 || len(r.Ingresses) != 2 || r.World() != nil || len(logins) != 3 {
		t.Fatalf("%d logins, %d ingresses, world %v, login hook calls %v", len(r.Logins), len(r.Ingresses), r.World(), logins)
	}
	for i := range r.Logins {
		p, err := r.LoginAs(realmtest.Context(t), i, "multi")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		want := []string{r.Ingresses[i%2].Addr, r.Ingresses[(i+1)%2].Addr}
		if got := p.Session.IngressAddrs; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("login %d gives ingress addresses %v, want %v", i, got, want)
		}
		if p.Session.TickRateHz != 10 {
			t.Errorf("login %d: tick rate %d", i, p.Session.TickRateHz)
		}
	}
	r.Logins[2].Stop()
	r.Logins[2].Stop() // idempotent
	if _, err := r.LoginAs(realmtest.Context(t), 2, "gone"); err == nil {
		t.Error("login on a stopped instance succeeded")
	}
}

func TestRestartWorld(t *testing.T) {
	r := realmtest.Start(t, realmtest.Options{})
	p := r.Player(t, 0, "carol")
	moveAndSee(t, p, 1)
	first := r.World()
	r.StopWorld()
	if r.World() != nil {
		t.Fatal("World after StopWorld")
	}
	second := r.StartWorld()
	if second == first || second.Name() == first.Name() {
		t.Errorf("restarted world %q, first %q", second.Name(), first.Name())
	}
	// The new world rebuilds carol from the ingress resync and applies
	// her input (the old one is gone: this snapshot is the new world's).
	if s := moveAndSee(t, p, 2); s.GetSelf().GetSessionId() != p.Session.SessionID {
		t.Errorf("self = %v", s.GetSelf())
	}
}

func TestPlayers(t *testing.T) {
	r := realmtest.Start(t, realmtest.Options{Logins: 2})
	ps := r.Players(t, 5, "crowd")
	for k, p := range ps {
		if p.UDP == nil || p.Name != fmt.Sprintf("crowd%d", k) {
			t.Errorf("player %d = %+v", k, p)
		}
	}
}

func TestLoggedInAndDial(t *testing.T) {
	r := realmtest.Start(t, realmtest.Options{NoWorld: true})
	p := r.LoggedIn(t, 0, "dora")
	if p.UDP != nil || p.Session == nil || p.Conn.Session() != p.Session {
		t.Fatalf("player = %+v", p)
	}
	cfg := r.ClientConfig(0)
	cfg.PingInterval = -1
	c := realmtest.Dial(t, cfg)
	if _, err := c.Ping(realmtest.Context(t)); err != nil {
		t.Fatal(err)
	}
	// A connection of the test's own sees the services' events.
	opened := make(chan *realmv1.SessionOpened, 1)
	nc := r.Connect("test")
	sub, err := bus.Subscribe(nc, bus.SubjectSessionOpened, func(m *realmv1.SessionOpened) {
		select {
		case opened <- m:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.Flush(realmtest.Context(t)); err != nil {
		t.Fatal(err)
	}
	q := r.LoggedIn(t, 0, "eve")
	if m := realmtest.Recv(t, "session.opened", opened); m.GetSessionId() != q.Session.SessionID {
		t.Errorf("session.opened for %d, want %d", m.GetSessionId(), q.Session.SessionID)
	}
}
