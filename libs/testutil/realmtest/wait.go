package realmtest

import (
	"context"
	"testing"
	"time"

	"github.com/ecs-realm/realm/libs/testutil/wait"
)

// Timeout is how long WaitFor, Recv and Context wait. It is generous:
// under the race detector on a loaded two-core machine, a realm's first
// snapshots can take seconds.
const Timeout = 30 * time.Second

// WaitFor polls cond until it returns true, failing t (as "timed out
// waiting for <what>") after Timeout.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	wait.For(t, Timeout, what, cond)
}

// Recv returns the next value on ch, failing t after Timeout or when ch is
// closed.
func Recv[T any](t testing.TB, what string, ch <-chan T) T {
	t.Helper()
	return wait.Recv(t, Timeout, what, ch)
}

// Context returns a context that ends after Timeout or at the end of the
// test, for the calls of a test.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// WaitClosed waits until ch is closed (a Done channel), failing t after
// Timeout.
func WaitClosed(t testing.TB, what string, ch <-chan struct{}) {
	t.Helper()
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	select {
	case <-ch:
	case <-timer.C:
		t.Fatalf("timed out after %s waiting for %s", Timeout, what)
	}
}
