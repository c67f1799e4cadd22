package mpsc

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// closedChan is always ready to receive; Ready returns it when the queue
// already holds an item.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Ready arms the wake-up signal and returns a channel that becomes ready to
// receive once the queue holds an item. If the queue already holds one, the
// returned channel is ready at once. Consumer only.
//
// Each call arms the signal for one wake-up: the first Push to find it armed
// disarms it and sends one value, so producers pay a channel send once per
// Ready call rather than once per item; every other Push pays one atomic load.
// A consumer that sleeps between ticks selects on the returned channel and its
// ticker:
//
//	select {
//	case <-q.Ready():
//	case <-tick.C:
//	}
//	q.Drain(handle)
//
// No wake-up is lost: Ready arms the signal before it checks the queue, and
// Push publishes its item before it checks the signal, and sync/atomic
// operations are sequentially consistent, so either Ready sees the item or the
// Push sees the armed signal. A wake-up can be spurious (the queue may be
// empty again, or a signal armed by an earlier call may arrive late), so drain
// and check again after waking. A value left over from an earlier call is
// discarded before arming, so it does not cause an early wake-up.
func (q *Queue[T]) Ready() <-chan struct{} {
	if !q.Empty() {
		return closedChan
	}
	select {
	case <-q.ready: // left over from an earlier arm; the check below replaces it
	default:
	}
	q.armed.Store(1)
	if !q.Empty() && q.armed.CompareAndSwap(1, 0) {
		return closedChan
	}
	// Either the queue looked empty, or a producer disarmed the signal first
	// and sends (or has sent) the value.
	return q.ready
}

// Wait blocks until the queue holds an item or ctx is done, in which case it
// returns an error wrapping ctx.Err(). Consumer only.
//
// Wait is meant to be called when Drain (or Pop) has just found the queue
// empty, and it is tuned for throughput:
//
//   - With more than one processor (GOMAXPROCS > 1), it first keeps its
//     processor for 5 µs without touching the queue, then looks. If
//     producers on other cores have filled a batch (32 items) meanwhile, it
//     returns and the consumer takes the batch in one go. Holding the
//     processor keeps the producers on their cores instead of spreading to
//     this one, where they would fight over the claim counter's cache line,
//     and waiting for a batch keeps the consumer from chasing them one item
//     at a time, which moves the cache line being filled between cores for
//     every item. If no batch came, producers are not running elsewhere, and
//     Wait skips this step for its next 1, 3, 7, ... (at most 64) calls.
//   - It then yields its processor a few times (runtime.Gosched), so that
//     producers waiting for this processor can push, and parks if the queue
//     is still empty.
//
// So a consumer spins for at most 5 µs per call, and only while producers
// keep it fed; an idle consumer parks.
func (q *Queue[T]) Wait(ctx context.Context) error {
	if q.pollSkip > 0 {
		q.pollSkip--
	} else if runtime.GOMAXPROCS(0) > 1 {
		for start := time.Now(); time.Since(start) < pollInterval; { // busy wait, see above
		}
		if q.publishedAhead(pollBatch - 1) {
			q.pollBackoff = 0
			return nil
		}
		// Producers did not fill a batch meanwhile: they are not running on
		// other cores, or not for long. Do not poll for the next few waits.
		q.pollBackoff = min(2*q.pollBackoff+1, maxPollBackoff)
		q.pollSkip = q.pollBackoff
		if !q.Empty() {
			return nil
		}
	}
	for range waitYields {
		runtime.Gosched()
	}
	for q.Empty() {
		select {
		case <-q.Ready():
		case <-ctx.Done():
			q.armed.Store(0)
			return fmt.Errorf("mpsc wait: %w", ctx.Err())
		}
	}
	return nil
}

// wake disarms the signal and sends the wake-up, unless another producer
// won the race to do so. It is the slow path of Push.
func (q *Queue[T]) wake() {
	if q.armed.CompareAndSwap(1, 0) {
		select {
		case q.ready <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}
