package mpsc

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// Benchmarks are named BenchmarkMPSC/impl=<impl>/producers=<n> and
// BenchmarkPushPop/impl=<impl>, for tools/mpscbench to group. One op is one
// item pushed and popped, so ns/op is nanoseconds per item. Besides the
// standard allocs/op (an integer), each reports allocs/item as a fraction.
//
// Implementations:
//   - queue: this package; the consumer drains and calls Wait when empty.
//   - chan: a buffered channel (capacity chanCap), the consumer receives.
//   - mutex: a mutex-guarded slice that the consumer swaps out whole, sleeping
//     on a signal channel when empty (nats-server's ipqueue).
//   - node: a plain port of Vyukov's node queue (one allocation per item);
//     it has no wake-up, so its consumer yields when the queue is empty.

const chanCap = 1024

var benchProducers = []int{1, 2, 4, 8}

type benchImpl struct {
	name string
	// mpsc pushes 0..n-1 split across producers goroutines and consumes
	// them all on the calling goroutine.
	mpsc func(producers, n int) int
	// pushPop pushes and pops one item n times on the calling goroutine.
	pushPop func(n int) int
}

var benchImpls = []benchImpl{
	{"queue", mpscQueue, pushPopQueue},
	{"chan", mpscChan, pushPopChan},
	{"mutex", mpscMutex, pushPopMutex},
	{"node", mpscNode, pushPopNode},
}

func BenchmarkMPSC(b *testing.B) {
	// Producer counts outermost, so that the implementations compared in one
	// row of the table run close together in time on a shared machine.
	for _, p := range benchProducers {
		for _, impl := range benchImpls {
			b.Run(fmt.Sprintf("impl=%s/producers=%d", impl.name, p), func(b *testing.B) {
				measure(b, func() int { return impl.mpsc(p, b.N) })
			})
		}
	}
}

func BenchmarkPushPop(b *testing.B) {
	for _, impl := range benchImpls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			measure(b, func() int { return impl.pushPop(b.N) })
		})
	}
}

var benchSink int

// measure runs f as the timed body of b and reports allocations per item.
func measure(b *testing.B, f func() int) {
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	benchSink += f()
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N), "allocs/item")
}

// startProducers runs push(i) for i in [0, n), split across producers
// goroutines, and returns a function that waits for them.
func startProducers(producers, n int, push func(int)) (wait func()) {
	var wg sync.WaitGroup
	for p := range producers {
		lo, hi := n*p/producers, n*(p+1)/producers
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				push(i)
			}
		})
	}
	return wg.Wait
}

func mpscQueue(producers, n int) int {
	q := New[int](Config{})
	wait := startProducers(producers, n, q.Push)
	ctx := context.Background()
	sum := 0
	add := func(v int) { sum += v }
	for got := 0; got < n; {
		k := q.Drain(add)
		if k == 0 {
			_ = q.Wait(ctx) // cannot fail: ctx is never done
		}
		got += k
	}
	wait()
	return sum
}

func mpscChan(producers, n int) int {
	ch := make(chan int, chanCap)
	wait := startProducers(producers, n, func(v int) { ch <- v })
	sum := 0
	for range n {
		sum += <-ch
	}
	wait()
	return sum
}

func mpscMutex(producers, n int) int {
	q := newMutexQueue[int]()
	wait := startProducers(producers, n, q.Push)
	sum := 0
	var spare []int
	for got := 0; got < n; {
		items := q.swap(spare)
		for _, v := range items {
			sum += v
		}
		if len(items) == 0 {
			<-q.signal
		}
		got += len(items)
		spare = items
	}
	wait()
	return sum
}

func mpscNode(producers, n int) int {
	q := newNodeQueue[int]()
	wait := startProducers(producers, n, q.Push)
	sum := 0
	for got := 0; got < n; {
		v, ok := q.Pop()
		if !ok {
			runtime.Gosched()
			continue
		}
		sum += v
		got++
	}
	wait()
	return sum
}

func pushPopQueue(n int) int {
	q := New[int](Config{})
	sum := 0
	for i := range n {
		q.Push(i)
		v, _ := q.Pop()
		sum += v
	}
	return sum
}

func pushPopChan(n int) int {
	ch := make(chan int, chanCap)
	sum := 0
	for i := range n {
		ch <- i
		sum += <-ch
	}
	return sum
}

func pushPopMutex(n int) int {
	q := newMutexQueue[int]()
	sum := 0
	var spare []int
	for i := range n {
		q.Push(i)
		items := q.swap(spare)
		sum += items[0]
		spare = items
	}
	return sum
}

func pushPopNode(n int) int {
	q := newNodeQueue[int]()
	sum := 0
	for i := range n {
		q.Push(i)
		v, _ := q.Pop()
		sum += v
	}
	return sum
}
