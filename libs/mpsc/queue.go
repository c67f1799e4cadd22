package mpsc

import (
	"sync/atomic"
	"unsafe"
)

// Queue is an unbounded multi-producer, single-consumer FIFO queue. Items from
// one producer come out in the order it pushed them; items from different
// producers in the order their Push calls claimed slots, except that an item
// whose producer is descheduled inside Push comes out once it is published.
//
// Push may be called from any number of goroutines. Pop, PopBatch, Drain,
// Empty, Ready and Wait belong to the consumer: at most one goroutine may be
// calling any of them at a time. Create a Queue with New; the zero value is
// not ready for use, and a Queue must not be copied.
type Queue[T any] struct {
	_ [cacheLine]byte

	// Producer side: read by every Push, written rarely.
	tail        atomic.Pointer[block[T]] // block producers claim slots in; stored only by moveTail
	armed       atomic.Uint32            // 1 while the consumer waits for a signal on ready
	ready       chan struct{}            // capacity 1; set by New
	maxSpares   int32                    // set by New
	yieldBlocks uint64                   // backlog, in blocks, beyond which moveTail yields; 0 never; set by New
	_           [cacheLine]byte

	// Consumer side: only the consumer reads or writes these.
	head        *block[T] // block the consumer reads from
	gen         uint32    // generation of head
	idx         uint32    // next slot of head to read; blockSize when head is used up
	holes       []hole[T] // claimed slots the consumer went past before they were published, oldest first
	nhole       uint64    // holes noted so far, for tests
	pollSkip    int       // waits left before Wait polls again; see Wait
	pollBackoff int       // pollSkip after the last poll that found nothing
	_           [cacheLine]byte

	spares  spareStack[T] // pushed by the consumer, popped by prepare
	headSeq atomic.Uint64 // seq of the consumer's head block; stored by the consumer, loaded by moveTail
	_       [cacheLine]byte
}

// New returns an empty queue.
//
// Like Vyukov's stub node, the first block is in place from the start: head
// and tail always point at a block, so neither Push nor Pop has an empty-queue
// special case.
func New[T any](cfg Config) *Queue[T] {
	stub := newBlock[T]()
	stub.gen = 1
	stub.claim.Store(1 << 32) // open in generation 1, nothing claimed
	q := &Queue[T]{
		ready:       make(chan struct{}, 1),
		maxSpares:   cfg.spareLimit(unsafe.Sizeof(*stub)),
		yieldBlocks: cfg.yieldBlocks(),
		head:        stub,
		gen:         1,
		holes:       make([]hole[T], 0, 8),
	}
	q.tail.Store(stub)
	q.prepare(stub)
	return q
}

// Push adds v to the back of the queue. It is safe for concurrent use, never
// waits for the consumer, and allocates only when no spare block is left.
//
// The common case is one atomic add (claim a slot) and one atomic store
// (publish it). Once every 128 items one producer moves the tail to the next
// block, which is already linked, and links the one after; producers that
// overflow the full block meanwhile wait for the tail to move, a few stores,
// unless that producer is descheduled in between.
func (q *Queue[T]) Push(v T) {
	for {
		b := q.tail.Load()
		w := b.claim.Add(1) - 1
		gen, i := uint32(w>>32), uint32(w)
		if i < blockSize {
			s := &b.slots[i]
			s.val = v
			s.ready.Store(gen)
			break
		}
		if i == blockSize {
			q.moveTail(b, v)
			break
		}
		q.awaitTail(b, gen)
	}
	if q.armed.Load() != 0 {
		q.wake()
	}
}
