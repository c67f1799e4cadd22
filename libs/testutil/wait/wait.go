package wait

import (
	"testing"
	"time"
)

// Poll intervals of For: the first check is repeated quickly (most
// conditions are met within microseconds), then the pause doubles up to
// maxPoll so that a slow condition is not checked in a busy loop.
const (
	minPoll = 100 * time.Microsecond
	maxPoll = 10 * time.Millisecond
)

// For polls cond until it returns true, failing t ("timed out after <d>
// waiting for <what>") when d has passed.
func For(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	pause := minPoll
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(pause)
		pause = min(2*pause, maxPoll)
	}
}

// Recv returns the next value on ch, failing t when d passes first or when
// ch is closed.
func Recv[T any](t testing.TB, d time.Duration, what string, ch <-chan T) T {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatalf("%s: channel closed", what)
		}
		return v
	case <-timer.C:
		t.Fatalf("timed out after %s waiting for %s", d, what)
		panic("unreachable")
	}
}
