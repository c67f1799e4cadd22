package natstest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/testutil/natstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, natstest.IgnoreServerTicker()) }

// putGet opens (creating if needed) a file-backed bucket replicated on
// replicas nodes, optionally puts alice=1, and returns alice's value. It
// does not retry: the cluster must be ready for it.
func putGet(t *testing.T, url string, replicas int, put bool) string {
	t.Helper()
	v, err := tryPutGet(url, replicas, put)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func tryPutGet(url string, replicas int, put bool) (string, error) {
	c, err := bus.Connect(url, bus.Options{})
	if err != nil {
		return "", err
	}
	defer c.Close()
	js, err := c.JetStream()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "accounts", Storage: jetstream.FileStorage, Replicas: replicas})
	if err != nil {
		return "", fmt.Errorf("create bucket: %w", err)
	}
	if put {
		if _, err := kv.Put(ctx, "alice", []byte("1")); err != nil {
			return "", fmt.Errorf("put: %w", err)
		}
	}
	e, err := kv.Get(ctx, "alice")
	if err != nil {
		return "", fmt.Errorf("get: %w", err)
	}
	return string(e.Value()), nil
}

func TestStartAndRestartKeepsData(t *testing.T) {
	s, url := natstest.Start(t)
	if !s.JetStreamEnabled() {
		t.Fatal("JetStream off")
	}
	if got := putGet(t, url, 1, true); got != "1" {
		t.Fatalf("got %q", got)
	}
	s2 := natstest.Restart(t, s)
	if s2 == s || bus.ClientURL(s2) != url {
		t.Fatalf("restart: same server %v, url %s want %s", s2 == s, bus.ClientURL(s2), url)
	}
	if got := putGet(t, url, 1, false); got != "1" {
		t.Fatalf("after restart got %q, want the stored value", got)
	}
	natstest.Restart(t, s2) // a restarted server restarts again
}

func TestStartClusterOfOne(t *testing.T) {
	servers, urls := natstest.StartCluster(t, 1)
	if len(servers) != 1 || len(urls) != 1 {
		t.Fatalf("%d servers, %d urls", len(servers), len(urls))
	}
	if got := putGet(t, urls[0], 1, true); got != "1" {
		t.Fatalf("got %q", got)
	}
}

func TestStartClusterRestartNode(t *testing.T) {
	servers, urls := natstest.StartCluster(t, 3)
	// Ready means a bucket replicated on every node can be placed at once
	// (the leader knows every peer's capacity), not only that a leader exists.
	if got := putGet(t, urls[0], 3, true); got != "1" {
		t.Fatalf("got %q", got)
	}
	servers[1] = natstest.Restart(t, servers[1])
	natstest.WaitJetStreamReady(t, servers)
	// Ready is a moment, not a promise: on a loaded machine a missed
	// heartbeat can start a new election of the bucket's leader just
	// after, and a request in that window goes unanswered. One retry is
	// allowed; a cluster that is not ready at all fails both.
	got, err := tryPutGet(urls[1], 3, false)
	if err != nil {
		t.Logf("first request after restart: %v; retrying", err)
		got, err = tryPutGet(urls[1], 3, false)
	}
	if err != nil || got != "1" {
		t.Fatalf("after restart got %q, %v", got, err)
	}
}
