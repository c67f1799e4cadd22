package mpsc

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ecs-realm/realm/libs/testutil/wait"
)

// waitFor polls cond until it holds, failing t after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	wait.For(t, 10*time.Second, what, cond)
}

func TestWaitWakesSleepingConsumer(t *testing.T) {
	q := New[int](Config{})
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- q.Wait(ctx)
	}()
	waitFor(t, "the consumer to arm the signal", func() bool { return q.armed.Load() == 1 })
	q.Push(1)
	if err := <-done; err != nil {
		t.Fatalf("Wait() = %v after a push", err)
	}
	if v, ok := q.Pop(); !ok || v != 1 {
		t.Fatalf("Pop() = %d, %v; want 1, true", v, ok)
	}
}

func TestWaitReturnsAtOnceWhenNotEmpty(t *testing.T) {
	q := New[int](Config{})
	q.Push(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Wait must not need the context
	if err := q.Wait(ctx); err != nil {
		t.Fatalf("Wait() = %v on a non-empty queue", err)
	}
}

func TestWaitCanceled(t *testing.T) {
	q := New[int](Config{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Wait(ctx) }()
	waitFor(t, "the consumer to arm the signal", func() bool { return q.armed.Load() == 1 })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait() = %v, want context.Canceled", err)
	}
	if q.armed.Load() != 0 {
		t.Fatal("signal still armed after Wait gave up")
	}
}

// TestReadySignalsOncePerArm checks that a burst of pushes after one Ready
// call sends one wake-up, and that Ready on a non-empty queue is ready at once.
func TestReadySignalsOncePerArm(t *testing.T) {
	q := New[int](Config{})
	ch := q.Ready()
	select {
	case <-ch:
		t.Fatal("Ready() on an empty queue is ready at once")
	default:
	}
	for i := range 3 * blockSize {
		q.Push(i)
	}
	if n := len(q.ready); n != 1 {
		t.Fatalf("%d wake-ups pending after a burst, want 1", n)
	}
	if q.armed.Load() != 0 {
		t.Fatal("signal still armed after a push")
	}
	select {
	case <-ch:
	default:
		t.Fatal("Ready() channel not signalled after a push")
	}
	select {
	case <-q.Ready():
	default:
		t.Fatal("Ready() on a non-empty queue is not ready at once")
	}
}

// TestReadyDropsStaleSignal checks that a wake-up sent for an earlier Ready
// call, which the consumer never received, does not wake a later one.
func TestReadyDropsStaleSignal(t *testing.T) {
	q := New[int](Config{})
	_ = q.Ready() // armed, but the consumer looks elsewhere (a ticker)
	q.Push(1)     // sends the wake-up
	q.Drain(func(int) {})
	select {
	case <-q.Ready():
		t.Fatal("Ready() on an empty queue fired on a stale wake-up")
	default:
	}
}

// TestNoLostWakeup races pushes against a consumer that goes back to sleep
// after every item: each round, producers push at the moment the consumer
// re-arms. A lost wake-up leaves the consumer asleep and fails the test when
// its watchdog context expires.
func TestNoLostWakeup(t *testing.T) {
	rounds := 50000
	if testing.Short() {
		rounds = 2000
	}
	tests := []struct {
		name      string
		producers int
		wait      func(q *Queue[int], ctx context.Context) error
	}{
		{"wait/producers=1", 1, (*Queue[int]).Wait},
		{"wait/producers=3", 3, (*Queue[int]).Wait},
		{"ready/producers=1", 1, readyCtx},
		{"ready/producers=3", 3, readyCtx},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := New[int](Config{})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var wg sync.WaitGroup
			starts := make([]chan struct{}, tc.producers)
			for p := range starts {
				starts[p] = make(chan struct{}, 1)
				wg.Go(func() {
					for range starts[p] {
						q.Push(p)
					}
				})
			}
			defer func() {
				for _, s := range starts {
					close(s)
				}
				wg.Wait()
			}()
			for round := range rounds {
				for _, s := range starts {
					s <- struct{}{}
				}
				for got := 0; got < tc.producers; {
					if n := q.Drain(func(int) {}); n > 0 {
						got += n
						continue
					}
					if err := tc.wait(q, ctx); err != nil {
						t.Fatalf("round %d: consumer not woken with %d of %d items: %v", round, got, tc.producers, err)
					}
				}
			}
		})
	}
}

func readyCtx(q *Queue[int], ctx context.Context) error {
	select {
	case <-q.Ready():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestWaitPollBackoff checks Wait's poll heuristic: a poll that finds no
// batch makes the next calls skip the poll (1, 3, 7, ... of them), and a poll
// that finds a batch resets that.
func TestWaitPollBackoff(t *testing.T) {
	if runtime.GOMAXPROCS(0) == 1 {
		t.Skip("Wait does not poll with GOMAXPROCS=1")
	}
	q := New[int](Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	steps := []struct{ backoff, skip int }{
		{1, 1}, // poll found nothing
		{1, 0}, // skipped
		{3, 3}, // poll found nothing again
		{3, 2}, // skipped
	}
	for i, want := range steps {
		if err := q.Wait(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("call %d: Wait() = %v, want context.Canceled", i, err)
		}
		if q.pollBackoff != want.backoff || q.pollSkip != want.skip {
			t.Fatalf("call %d: backoff %d, skip %d; want %d, %d", i, q.pollBackoff, q.pollSkip, want.backoff, want.skip)
		}
	}
	for i := range pollBatch {
		q.Push(i)
	}
	q.pollSkip = 0
	if err := q.Wait(ctx); err != nil {
		t.Fatalf("Wait() = %v with a batch queued", err)
	}
	if q.pollBackoff != 0 {
		t.Fatalf("backoff %d after a poll found a batch, want 0", q.pollBackoff)
	}
}
