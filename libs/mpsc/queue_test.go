package mpsc

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// consumeMode takes every item the queue offers right now, in order.
type consumeMode struct {
	name string
	take func(q *Queue[uint64], see func(uint64)) int
}

var consumeModes = []consumeMode{
	{"pop", func(q *Queue[uint64], see func(uint64)) int {
		n := 0
		for {
			v, ok := q.Pop()
			if !ok {
				return n
			}
			see(v)
			n++
		}
	}},
	{"drain", func(q *Queue[uint64], see func(uint64)) int { return q.Drain(see) }},
	{"batch1", popBatchMode(1)},
	{"batch7", popBatchMode(7)},
	{"batch300", popBatchMode(300)},
}

func popBatchMode(size int) func(q *Queue[uint64], see func(uint64)) int {
	return func(q *Queue[uint64], see func(uint64)) int {
		buf := make([]uint64, size)
		total := 0
		for {
			n := q.PopBatch(buf)
			for _, v := range buf[:n] {
				see(v)
			}
			total += n
			if n == 0 {
				return total
			}
		}
	}
}

// sequence checks that values arrive as 0, 1, 2, ...
type sequence struct {
	t    *testing.T
	next uint64
}

func (s *sequence) see(v uint64) {
	s.t.Helper()
	if v != s.next {
		s.t.Fatalf("got %d, want %d", v, s.next)
	}
	s.next++
}

func TestFIFO(t *testing.T) {
	counts := []int{0, 1, 2, blockSize - 1, blockSize, blockSize + 1, 2*blockSize - 1, 2 * blockSize, 2*blockSize + 1, 10*blockSize + 3}
	for _, mode := range consumeModes {
		for _, n := range counts {
			t.Run(fmt.Sprintf("%s/n=%d", mode.name, n), func(t *testing.T) {
				q := New[uint64](Config{})
				seq := &sequence{t: t}
				pushed := uint64(0)
				for cycle := range 3 { // later cycles run on reused blocks
					for range n {
						q.Push(pushed)
						pushed++
					}
					if got := mode.take(q, seq.see); got != n {
						t.Fatalf("cycle %d: took %d items, want %d", cycle, got, n)
					}
					if !q.Empty() {
						t.Fatalf("cycle %d: Empty() = false after taking everything", cycle)
					}
					if v, ok := q.Pop(); ok {
						t.Fatalf("cycle %d: Pop() = %d, true on an empty queue", cycle, v)
					}
				}
			})
		}
	}
}

func TestInterleaved(t *testing.T) {
	tests := []struct {
		name      string
		push, pop int
	}{
		{"push3pop2", 3, 2},
		{"push1pop1", 1, 1},
		{"push127pop126", blockSize - 1, blockSize - 2},
		{"push129pop128", blockSize + 1, blockSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := New[uint64](Config{})
			seq := &sequence{t: t}
			var pushed uint64
			for pushed < 6*blockSize {
				for range tc.push {
					q.Push(pushed)
					pushed++
				}
				for range tc.pop {
					v, ok := q.Pop()
					if !ok {
						t.Fatalf("Pop() found no item with %d pushed and %d popped", pushed, seq.next)
					}
					seq.see(v)
				}
			}
			q.Drain(seq.see)
			if seq.next != pushed {
				t.Fatalf("took %d items, pushed %d", seq.next, pushed)
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	q := New[int](Config{})
	if !q.Empty() {
		t.Fatal("new queue is not empty")
	}
	for i := range blockSize { // fill the first block exactly
		q.Push(i)
		if q.Empty() {
			t.Fatalf("Empty() after %d pushes", i+1)
		}
	}
	for range blockSize {
		if _, ok := q.Pop(); !ok {
			t.Fatal("Pop() failed on a full block")
		}
	}
	// The consumer is at the end of its block; the next one is linked but
	// holds nothing yet.
	if !q.Empty() {
		t.Fatal("Empty() = false at the end of a drained block")
	}
	q.Push(7) // moves the tail to the next block
	if q.Empty() {
		t.Fatal("Empty() = true with an item in the next block")
	}
	if v, ok := q.Pop(); !ok || v != 7 {
		t.Fatalf("Pop() = %d, %v; want 7, true", v, ok)
	}
	if !q.Empty() {
		t.Fatal("Empty() = false after popping the only item")
	}
}

func TestPopBatchEmptyBuffer(t *testing.T) {
	q := New[int](Config{})
	q.Push(1)
	if n := q.PopBatch(nil); n != 0 {
		t.Fatalf("PopBatch(nil) = %d, want 0", n)
	}
	if v, ok := q.Pop(); !ok || v != 1 {
		t.Fatalf("Pop() = %d, %v; want 1, true", v, ok)
	}
}

func TestDrainPanic(t *testing.T) {
	q := New[uint64](Config{})
	for i := range uint64(2 * blockSize) {
		q.Push(i)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("Drain did not propagate the panic")
			}
		}()
		q.Drain(func(v uint64) {
			if v == blockSize+2 {
				panic("boom")
			}
		})
	}()
	// The item handed to the panicking call is gone; the rest follow in order.
	seq := &sequence{t: t, next: blockSize + 3}
	if n := q.Drain(seq.see); n != blockSize-3 {
		t.Fatalf("Drain after panic took %d items, want %d", n, blockSize-3)
	}
}

func TestSpareLimit(t *testing.T) {
	tests := []struct {
		name       string
		spare      int
		blockBytes uintptr
		want       int32
	}{
		{"none", -1, 2048, 0},
		{"default small items", 0, 2048, 512},
		{"default huge items", 0, 1 << 20, minSpareBlocks},
		{"set", 5, 2048, 5},
		{"capped", math.MaxInt, 2048, 1 << 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Config{SpareBlocks: tc.spare}).spareLimit(tc.blockBytes); got != tc.want {
				t.Fatalf("spareLimit() = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestYieldBlocks(t *testing.T) {
	tests := []struct {
		backlog int
		want    uint64
	}{
		{-1, 0},
		{0, defaultYieldBacklog / blockSize},
		{1, 1},
		{blockSize, 1},
		{blockSize + 1, 2},
		{math.MaxInt, (math.MaxInt-1)/blockSize + 1},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.backlog), func(t *testing.T) {
			if got := (Config{YieldBacklog: tc.backlog}).yieldBlocks(); got != tc.want {
				t.Fatalf("yieldBlocks() = %d, want %d", got, tc.want)
			}
		})
	}
}

// cycle pushes n items and drains them.
func cycle(q *Queue[*int], v *int, n int) {
	for range n {
		q.Push(v)
	}
	q.Drain(func(*int) {})
}

func TestBlockReuse(t *testing.T) {
	t.Run("steady state allocates nothing", func(t *testing.T) {
		q := New[*int](Config{})
		v := new(int)
		cycle(q, v, 5*blockSize) // leaves spare blocks behind
		if allocs := testing.AllocsPerRun(100, func() { cycle(q, v, 5*blockSize) }); allocs != 0 {
			t.Fatalf("push/drain cycle allocates %v times, want 0", allocs)
		}
	})
	t.Run("no spares allocates every block", func(t *testing.T) {
		q := New[*int](Config{SpareBlocks: -1})
		v := new(int)
		cycle(q, v, 5*blockSize)
		if allocs := testing.AllocsPerRun(20, func() { cycle(q, v, 5*blockSize) }); allocs < 5 {
			t.Fatalf("push/drain cycle allocates %v times, want at least 5", allocs)
		}
		if n := q.spares.n.Load(); n != 0 {
			t.Fatalf("%d spare blocks kept, want 0", n)
		}
	})
	t.Run("spares are bounded and cleared", func(t *testing.T) {
		q := New[*int](Config{SpareBlocks: 3})
		cycle(q, new(int), 20*blockSize)
		if n := q.spares.n.Load(); n != 3 {
			t.Fatalf("%d spare blocks kept, want 3", n)
		}
		for b := q.spares.top.Load(); b != nil; b = b.spare {
			for i := range b.slots {
				if b.slots[i].val != nil {
					t.Fatalf("spare block keeps a reference in slot %d", i)
				}
			}
		}
	})
}

// TestGenerationWrap runs blocks through the wrap-around of their generation
// counter.
func TestGenerationWrap(t *testing.T) {
	q := New[uint64](Config{})
	for range 4 {
		b := newBlock[uint64]()
		b.gen = math.MaxUint32 - 1
		b.claim.Store(uint64(b.gen)<<32 | closedCount)
		for i := range b.slots { // as if published in the last generation
			b.slots[i].ready.Store(b.gen)
		}
		q.spares.push(b)
	}
	seq := &sequence{t: t}
	var pushed uint64
	for range 20 {
		for range 3*blockSize + 5 {
			q.Push(pushed)
			pushed++
		}
		q.Drain(seq.see)
		if !q.Empty() || seq.next != pushed {
			t.Fatalf("took %d of %d items", seq.next, pushed)
		}
	}
}

// producerOrder checks that each producer's items arrive exactly once and in
// the order it pushed them. Values are producer<<32 | sequence.
type producerOrder struct {
	t    *testing.T
	next []uint64
}

func newProducerOrder(t *testing.T, producers int) *producerOrder {
	return &producerOrder{t: t, next: make([]uint64, producers)}
}

func (o *producerOrder) see(v uint64) {
	p, seq := v>>32, v&math.MaxUint32
	if p >= uint64(len(o.next)) {
		o.t.Fatalf("item %#x from unknown producer %d", v, p)
	}
	if seq != o.next[p] {
		o.t.Fatalf("producer %d: got item %d, want %d", p, seq, o.next[p])
	}
	o.next[p]++
}

func (o *producerOrder) total() uint64 {
	var n uint64
	for _, c := range o.next {
		n += c
	}
	return n
}

func TestProducers(t *testing.T) {
	tests := []struct {
		producers, items int
	}{
		{1, 20000},
		{2, 10000},
		{4, 5000},
		{8, 3000},
		{16, 1000},
	}
	deadline := time.Now().Add(20 * time.Second) // for all cases: fail fast, not once per case
	for _, mode := range consumeModes {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/producers=%d", mode.name, tc.producers), func(t *testing.T) {
				q := New[uint64](Config{SpareBlocks: 2})
				var wg sync.WaitGroup
				for p := range tc.producers {
					wg.Go(func() {
						for i := range tc.items {
							q.Push(uint64(p)<<32 | uint64(i))
						}
					})
				}
				order := newProducerOrder(t, tc.producers)
				want := uint64(tc.producers * tc.items)
				for order.total() < want {
					if mode.take(q, order.see) == 0 {
						if time.Now().After(deadline) {
							t.Fatalf("only %d of %d items arrived", order.total(), want)
						}
						runtime.Gosched()
					}
				}
				wg.Wait()
				if mode.take(q, order.see) != 0 || !q.Empty() {
					t.Fatal("items left after every pushed item arrived")
				}
				for p, n := range order.next {
					if n != uint64(tc.items) {
						t.Errorf("producer %d: %d items arrived, want %d", p, n, tc.items)
					}
				}
			})
		}
	}
}

// TestStress runs producers against a consumer that mixes every consumer
// call, for a bounded time. Producers yield at random points so that pushes
// interleave with tail moves and block reuse in many ways.
func TestStress(t *testing.T) {
	d := time.Second
	if testing.Short() {
		d = 100 * time.Millisecond
	}
	tests := []struct {
		name      string
		producers int
		cfg       Config
	}{
		{"producers=3/spares=1", 3, Config{SpareBlocks: 1}},
		{"producers=8/default", 8, Config{}},
		{"producers=16/no-spares", 16, Config{SpareBlocks: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stress(t, tc.producers, tc.cfg, d/time.Duration(len(tests)))
		})
	}
}

func stress(t *testing.T, producers int, cfg Config, d time.Duration) {
	q := New[uint64](cfg)
	var stop atomic.Bool
	pushed := make([]uint64, producers)
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(p), 1))
			var i uint64
			for ; !stop.Load(); i++ {
				q.Push(uint64(p)<<32 | i)
				if rng.IntN(64) == 0 {
					runtime.Gosched()
				}
			}
			pushed[p] = i
		})
	}
	order := newProducerOrder(t, producers)
	rng := rand.New(rand.NewPCG(42, 42))
	buf := make([]uint64, 300)
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		switch rng.IntN(5) {
		case 0:
			if v, ok := q.Pop(); ok {
				order.see(v)
			}
		case 1:
			q.Drain(order.see)
		case 2:
			n := q.PopBatch(buf[:1+rng.IntN(len(buf))])
			for _, v := range buf[:n] {
				order.see(v)
			}
		case 3:
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			_ = q.Wait(ctx) // a timeout is fine; producers may be descheduled
			cancel()
		case 4:
			if !q.Empty() {
				v, ok := q.Pop()
				if !ok {
					t.Fatal("Pop() failed after Empty() = false")
				}
				order.see(v)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	q.Drain(order.see)
	if !q.Empty() {
		t.Fatal("queue not empty after the final drain")
	}
	var total uint64
	for p, n := range order.next {
		if n != pushed[p] {
			t.Errorf("producer %d: %d items arrived, %d pushed", p, n, pushed[p])
		}
		total += n
	}
	t.Logf("%d items through %d producers; %d holes", total, producers, q.nhole)
}
