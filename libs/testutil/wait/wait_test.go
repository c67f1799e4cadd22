package wait_test

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecs-realm/realm/libs/testutil/wait"
)

// recorder is a testing.TB that records a failure instead of stopping the
// test, so that the failing paths can be checked. Fatalf ends the calling
// goroutine, as testing's does.
type recorder struct {
	testing.TB
	failed atomic.Bool
	msg    atomic.Value
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed.Store(true)
	r.msg.Store(format)
	runtime.Goexit()
}

// run calls f on its own goroutine with a recorder, as testing runs a test.
func run(t *testing.T, f func(tb testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestForReturnsOnceTheConditionHolds(t *testing.T) {
	var n atomic.Int32
	go func() {
		time.Sleep(20 * time.Millisecond)
		n.Store(1)
	}()
	r := run(t, func(tb testing.TB) { wait.For(tb, 10*time.Second, "n to be set", func() bool { return n.Load() == 1 }) })
	if r.failed.Load() {
		t.Fatal("For failed although the condition came true")
	}
}

func TestForChecksUntilTrue(t *testing.T) {
	calls := 0
	wait.For(t, 10*time.Second, "the third call", func() bool { calls++; return calls == 3 })
	if calls != 3 {
		t.Errorf("cond called %d times, want 3", calls)
	}
}

func TestForFailsAfterTheDeadline(t *testing.T) {
	checks := 0
	r := run(t, func(tb testing.TB) {
		wait.For(tb, 30*time.Millisecond, "never", func() bool { checks++; return false })
	})
	if !r.failed.Load() || checks < 2 {
		t.Fatalf("failed %v after %d checks, want a failure after several", r.failed.Load(), checks)
	}
}

func TestRecv(t *testing.T) {
	ch := make(chan int, 1)
	ch <- 7
	var got int
	r := run(t, func(tb testing.TB) { got = wait.Recv(tb, 10*time.Second, "a value", ch) })
	if r.failed.Load() || got != 7 {
		t.Fatalf("Recv = %d (failed %v), want 7", got, r.failed.Load())
	}
	if r := run(t, func(tb testing.TB) { wait.Recv(tb, 20*time.Millisecond, "nothing", ch) }); !r.failed.Load() {
		t.Error("Recv on an empty channel did not fail after its deadline")
	}
	close(ch)
	if r := run(t, func(tb testing.TB) { wait.Recv(tb, 10*time.Second, "closed", ch) }); !r.failed.Load() {
		t.Error("Recv on a closed channel did not fail")
	}
}
