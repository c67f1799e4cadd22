package e2e

import (
	"errors"
	"slices"
	"testing"

	"github.com/ecs-realm/realm/libs/client"
	"github.com/ecs-realm/realm/libs/testutil/realmtest"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// size is the side of the test map (realmtest's default): every player is
// within the area of interest of every other.
const size = realmtest.DefaultWorldSize

// aoiCap is the world's default cap on the other entities in one snapshot,
// and minFit how many always fit in a snapshot's byte budget (1300 bytes,
// at most 37 per nearby entity: see libs/snapshot).
const (
	aoiCap = 32
	minFit = 32
)

// TestManyPlayers: many players log in and move; each sees its own
// movement follow its input, and its snapshots fill up with the others.
func TestManyPlayers(t *testing.T) {
	n := 50
	if testing.Short() {
		n = 12
	}
	r := realmtest.Start(t, realmtest.Options{})
	ms := driveAll(t, r.Players(t, n, "many"), size)
	waitMoved(t, "every player to see itself move", ms, marks(ms), 3)

	// Everybody is within everybody's area of interest: a snapshot shows
	// the others up to the cap, or as many as fit its 1300 bytes, which is
	// always at least minFit.
	most := min(n-1, aoiCap)
	least := min(most, minFit)
	realmtest.WaitFor(t, "every snapshot to show the others, up to the cap", func() bool {
		ids := entityIDs(ms)
		for _, m := range ms {
			s, _ := m.latest()
			seen := m.sees(ids...)
			if len(s.GetNearby()) < least || len(s.GetNearby()) > most || len(seen) != len(s.GetNearby()) {
				return false
			}
		}
		return true
	})
	ids := entityIDs(ms)
	for _, m := range ms {
		seen := m.sees(ids...)
		slices.Sort(seen)
		if slices.Contains(seen, m.entityID()) || len(slices.Compact(seen)) != len(seen) {
			t.Errorf("%s sees itself or someone twice: %v", m.Name, seen)
		}
	}
}

// TestTwoLoginsTwoIngresses: two login and two ingress instances on one
// NATS are one realm; a second login of an account on the other login
// instance replaces the first session.
func TestTwoLoginsTwoIngresses(t *testing.T) {
	r := realmtest.Start(t, realmtest.Options{Logins: 2, Ingresses: 2})
	ps := r.Players(t, 8, "duo")
	for k, p := range ps {
		// Player k logged in through login k%2, which lists ingress k%2 first.
		if got, want := p.UDP.RemoteAddr().String(), r.Ingresses[k%2].Addr; got != want {
			t.Errorf("%s (login %d) joined ingress %s, want %s", p.Name, k%2, got, want)
		}
	}
	ms := driveAll(t, ps, size)
	waitMoved(t, "every player to see itself move", ms, marks(ms), 3)
	waitSeeEachOther(t, "everybody to see everybody across instances", ms)

	old := ms[0] // on login 0 and ingress 0
	others := without(ms, old)
	mark := marks(others)
	ctx := realmtest.Context(t)
	p, err := r.LoginAs(ctx, 1, old.Name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	realmtest.WaitClosed(t, "the first session to be kicked", old.Conn.Done())
	var kick *client.KickError
	if err := old.Conn.Err(); !errors.As(err, &kick) || kick.Reason != realmv1.CloseReason_CLOSE_REASON_REPLACED {
		t.Fatalf("first session ended with %v, want a REPLACED kick", err)
	}
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := p.UDP.RemoteAddr().String(), r.Ingresses[1].Addr; got != want {
		t.Errorf("replacing session joined ingress %s, want %s", got, want)
	}
	waitGone(t, "the replaced session's entity to disappear", others, mark, old.entityID())
	nm := drive(t, p, size)
	waitMoved(t, "the replacing session to move", []*mover{nm}, marks([]*mover{nm}), 3)
	waitSeeEachOther(t, "everybody to see the replacing session", append(others, nm))
	checkNoBadMoves(t, ms)
}

// TestRebind: a player whose UDP port changes keeps playing after its new
// handshake.
func TestRebind(t *testing.T) {
	r := realmtest.Start(t, realmtest.Options{})
	ms := driveAll(t, r.Players(t, 3, "nat"), size)
	waitMoved(t, "every player to see itself move", ms, marks(ms), 2)

	m := ms[0]
	before := m.UDP.LocalAddr()
	if err := m.UDP.Rebind(realmtest.Context(t)); err != nil {
		t.Fatal(err)
	}
	after := m.UDP.LocalAddr()
	if after == before {
		t.Fatalf("Rebind kept local address %v", before)
	}
	if got := m.UDP.Ack().GetEndpoint(); got != after.String() {
		t.Errorf("ingress saw the rebound player at %s, want %s", got, after)
	}
	mark := marks(ms)
	waitMoved(t, "the rebound player (and the others) to keep moving", ms, mark, 3)
	realmtest.WaitFor(t, "the rebound player's snapshots to continue", func() bool {
		return m.progress().snaps >= mark[0].snaps+10
	})
	waitSeeEachOther(t, "everybody to see the rebound player", ms)
	if st := m.UDP.Stats(); st.AcksReceived < 2 {
		t.Errorf("acks received = %d, want at least 2 (join and rebind)", st.AcksReceived)
	}
}

// TestDisconnect: a player who leaves over TLS disappears from the others'
// snapshots, whether it logs out, closes its connection without logging out,
// or its TCP connection is reset.
func TestDisconnect(t *testing.T) {
	r := realmtest.Start(t, realmtest.Options{})
	px := startProxy(t, r.LoginAddr())
	ctx := realmtest.Context(t)
	stay := driveAll(t, r.Players(t, 3, "stay"), size)
	leave := map[string]*mover{}
	for _, name := range []string{"logout", "close", "reset"} {
		cfg := r.ClientConfig(0)
		if name == "reset" {
			cfg.LoginAddr = px.addr()
		}
		p, err := realmtest.LoginWith(ctx, cfg, "leave-"+name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Close)
		if err := p.Join(ctx); err != nil {
			t.Fatal(err)
		}
		leave[name] = drive(t, p, size)
	}
	all := append(append([]*mover(nil), stay...), leave["logout"], leave["close"], leave["reset"])
	waitSeeEachOther(t, "everybody to see everybody", all)

	tests := []struct {
		name  string
		leave func(m *mover)
		want  error
	}{
		{"logout", func(m *mover) {
			if err := m.Conn.Logout(ctx); err != nil {
				t.Fatal(err)
			}
		}, client.ErrLoggedOut},
		{"close", func(m *mover) { _ = m.Conn.Close() }, client.ErrClosed},
		{"reset", func(*mover) { px.reset() }, client.ErrDisconnected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := leave[tc.name]
			mark := marks(stay)
			tc.leave(m)
			realmtest.WaitClosed(t, "the connection to end", m.Conn.Done())
			if err := m.Conn.Err(); !errors.Is(err, tc.want) {
				t.Errorf("Err = %v, want %v", err, tc.want)
			}
			waitGone(t, "the player to disappear from the others' snapshots", stay, mark, m.entityID())
		})
	}
	checkNoBadMoves(t, stay)
}

// TestWorldRestart: a world restarted mid-run rebuilds every player from the
// ingress bindings, at its spawn point, and movement continues.
func TestWorldRestart(t *testing.T) {
	r := realmtest.Start(t, realmtest.Options{})
	ms := driveAll(t, r.Players(t, 8, "phoenix"), size)
	waitMoved(t, "every player to see itself move", ms, marks(ms), 3)
	waitSeeEachOther(t, "everybody to see everybody", ms)

	r.StopWorld()
	r.StartWorld()
	realmtest.WaitFor(t, "every player to get snapshots of the new world", func() bool {
		for _, m := range ms {
			if m.progress().epoch < 1 {
				return false
			}
		}
		return true
	})
	waitMoved(t, "movement to continue in the new world", ms, marks(ms), 3)
	waitSeeEachOther(t, "everybody to see everybody in the new world", ms)
	for _, m := range ms {
		m.mu.Lock()
		spawns := m.spawns
		m.mu.Unlock()
		// Both worlds spawn a player at the point its session id hashes to.
		// The new one may apply an input sent just before the restart
		// before its first snapshot: allow a few ticks of movement.
		if len(spawns) < 2 || spawns[1].sub(spawns[0]).len() > 2 {
			t.Errorf("%s: first positions per world %v, want the same spawn point", m.Name, spawns)
		}
	}
}
