package realmtest

import (
	"context"
	"testing"
	"time"
)

// Timeout is how long WaitFor, Recv and Context wait. It is generous:
// under the race detector on a loaded two-core machine, a realm's first
// snapshots can take seconds.
const Timeout = 30 * time.Second

// pollInterval is the pause between two checks of WaitFor.
const pollInterval = 10 * time.Millisecond

// WaitFor polls cond until it returns true, failing t (as "timed out
// waiting for <what>") after Timeout.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	WaitForWithin(t, Timeout, what, cond)
}

// WaitForWithin is WaitFor with its own deadline.
func WaitForWithin(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(pollInterval)
	}
}

// Recv returns the next value on ch, failing t after Timeout or when ch is
// closed.
func Recv[T any](t testing.TB, what string, ch <-chan T) T {
	t.Helper()
	timer := time.NewTimer(Timeout)
	defer timer.Stop()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatalf("%s: channel closed", what)
		}
		return v
	case <-timer.C:
		t.Fatalf("timed out after %s waiting for %s", Timeout, what)
		panic("unreachable")
	}
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
