package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/testutil/natstest"
	"github.com/ecs-realm/realm/libs/testutil/realmtest"
)

// loginAttemptTimeout bounds one login attempt while JetStream recovers
// from a lost node.
const loginAttemptTimeout = 5 * time.Second

// TestClusterNodeLoss: the services run on a three-node NATS cluster, each
// given all three URLs (nats.go picks one at random), with login's KV
// buckets replicated three times. When the node under the ingress goes away,
// the ingress (and whatever else was attached to it) reconnects to another
// node, snapshots keep flowing, movement continues, and new players can still
// log in. Then, with that node back, the node under the world goes away, with
// the same result.
func TestClusterNodeLoss(t *testing.T) {
	servers, urls := natstest.StartCluster(t, 3)
	r := realmtest.Start(t, realmtest.Options{NATSURLs: urls, Replicas: 3})
	ms := driveAll(t, r.Players(t, 6, "quorum"), size)
	waitMoved(t, "every player to see itself move", ms, marks(ms), 3)
	waitSeeEachOther(t, "everybody to see everybody", ms)

	node := func(c *bus.Conn) string { return c.NATS().ConnectedServerName() }
	ing := r.Ingresses[0].Conn
	lost := node(ing)
	t.Logf("nodes: login %s, ingress %s, world %s; shutting down %s",
		node(r.Logins[0].Conn), lost, node(r.World().Conn), lost)
	for _, s := range servers {
		if s.Name() == lost {
			s.Shutdown()
			s.WaitForShutdown()
		}
	}
	realmtest.WaitFor(t, "the ingress to reconnect to another node", func() bool {
		return ing.Connected() && node(ing) != lost
	})
	waitMoved(t, "snapshots and movement to continue", ms, marks(ms), 3)

	late := loginEventually(t, r, "quorum-late")
	if err := late.Join(realmtest.Context(t)); err != nil {
		t.Fatal(err)
	}
	all := append(ms, drive(t, late, size))
	waitSeeEachOther(t, "everybody to see the new player", all)

	// Bring the lost node back, then take away the one under the world:
	// the world reconnects, asks the ingress for its bindings again, and
	// the game goes on.
	for i, s := range servers {
		if s.Name() == lost {
			servers[i] = natstest.Restart(t, s)
		}
	}
	// The restarted server is shut down first in t.Cleanup: stop the
	// services before, while the cluster still has its quorum.
	defer r.Stop()
	// Ready includes each KV stream's replica on the restarted node having
	// caught up: otherwise losing a second node leaves the streams without
	// quorum.
	natstest.WaitJetStreamReady(t, servers)
	wc := r.World().Conn
	lost = node(wc)
	t.Logf("nodes: login %s, ingress %s, world %s; shutting down %s",
		node(r.Logins[0].Conn), node(ing), lost, lost)
	for _, s := range servers {
		if s.Name() == lost {
			s.Shutdown()
			s.WaitForShutdown()
		}
	}
	realmtest.WaitFor(t, "the world to reconnect to another node", func() bool {
		return wc.Connected() && node(wc) != lost
	})
	waitMoved(t, "snapshots and movement to continue after the world's node left", all, marks(all), 3)
	waitSeeEachOther(t, "everybody to still see everybody", all)
	loginEventually(t, r, "quorum-later")
}

// loginEventually logs name in, retrying while JetStream recovers from a
// lost node (a stream whose leader was there elects a new one first). The
// player is closed in t.Cleanup.
func loginEventually(t *testing.T, r *realmtest.Realm, name string) *realmtest.Player {
	t.Helper()
	var p *realmtest.Player
	realmtest.WaitFor(t, name+" to log in with a node down", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), loginAttemptTimeout)
		defer cancel()
		var err error
		if p, err = r.LoginAs(ctx, 0, name); err != nil {
			t.Logf("login attempt: %v", err)
			return false
		}
		return true
	})
	t.Cleanup(p.Close)
	return p
}
