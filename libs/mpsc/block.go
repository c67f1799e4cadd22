package mpsc

import (
	"runtime"
	"sync/atomic"
	"time"
)

const (
	// blockSize is the number of slots in a block: the consumer moves to the
	// next block, and one producer moves the tail, once per blockSize items.
	blockSize = 128

	// closedCount is the claim count of a block that has never been opened.
	// Any count of blockSize or more means "no free slot in this generation".
	closedCount = 1 << 31

	// cacheLine is the padding between fields written by different goroutines.
	// 128 bytes rather than 64 because x86 prefetches cache lines in pairs.
	cacheLine = 128

	// spinTries is how often a producer waiting for the next block re-checks
	// before it starts yielding its processor.
	spinTries = 32

	// waitYields is how often Wait yields its processor before it parks.
	waitYields = 3

	// pollInterval is how long Wait keeps its processor, without touching
	// the queue, before it looks for a batch.
	pollInterval = 5 * time.Microsecond

	// pollBatch is the number of items a poll must find for Wait to keep
	// polling.
	pollBatch = 32

	// maxPollBackoff bounds how many calls of Wait in a row skip the poll
	// after polls have found no batch.
	maxPollBackoff = 64

	// lookAhead is how many slots past an unpublished head slot the consumer
	// checks for a published item before it treats the queue as empty.
	lookAhead = 4
)

// slot holds one item.
type slot[T any] struct {
	val T // written by the producer that claimed the slot, read by the consumer, cleared by retire

	// ready is the generation of the block in which val was published. The
	// producer stores it after val; the consumer reads val only after loading
	// the current generation here. Because every slot of a block is written in
	// every generation, the value from the previous generation never equals
	// the current one, so ready never needs resetting.
	ready atomic.Uint32
}

// block is the node of the queue's linked list: Vyukov's node, carrying
// blockSize items instead of one.
//
// A block lives through generations: prepare links it, moveTail opens it,
// producers fill it, the consumer empties it and returns it to the spare
// stack, and a later prepare links it again. See doc.go for the protocol and
// the argument that reuse is safe.
type block[T any] struct {
	// claim is gen<<32 | count: the generation the block is open in and the
	// number of Add calls made on it in that generation. A producer owns slot
	// count-1 if that is below blockSize; the one that gets exactly blockSize
	// moves the tail to the next block. Atomic; contended by producers.
	claim atomic.Uint64
	_     [cacheLine - 8]byte

	// next is the block after this one in this generation, linked unopened
	// by prepare. Stored once per generation; loaded by moveTail and the
	// consumer.
	next atomic.Pointer[block[T]]

	// gen is the generation the block is (or will be) open in. Written by
	// prepare before the block is linked; read after loading the link.
	gen uint32

	// seq numbers the blocks in list order. Written by prepare before the
	// block is linked; read after loading the link.
	seq uint64

	// spare links the block in the spare stack. Written by the consumer before
	// it pushes the block; read by the prepare that pops it.
	spare *block[T]

	slots [blockSize]slot[T]
}

// newBlock returns a block that is linked nowhere and open in no generation.
func newBlock[T any]() *block[T] {
	b := new(block[T])
	b.claim.Store(closedCount)
	return b
}

// spareStack is a Treiber stack of emptied blocks. Only the consumer pushes
// and only prepare pops; prepares never overlap (see prepare), so there is one
// popper at a time and the stack has no ABA problem: between a
// pop's load of top and its compare-and-swap, top can change only by pushes,
// which the compare-and-swap detects, and a block in the stack is never
// pushed again before it is popped.
type spareStack[T any] struct {
	top atomic.Pointer[block[T]]
	n   atomic.Int32 // blocks in the stack; approximate while a push or pop is in flight
}

func (s *spareStack[T]) push(b *block[T]) {
	for {
		t := s.top.Load()
		b.spare = t
		if s.top.CompareAndSwap(t, b) {
			s.n.Add(1)
			return
		}
	}
}

func (s *spareStack[T]) pop() *block[T] {
	for {
		t := s.top.Load()
		if t == nil {
			return nil
		}
		if s.top.CompareAndSwap(t, t.spare) {
			s.n.Add(-1)
			t.spare = nil
			return t
		}
	}
}

// prepare links a spare block (or a new one) after b, unopened, so that the
// producer that fills b can move on to it at once. New prepares the first
// block's successor, and the producer that moves the tail to a block prepares
// that block's successor, so one prepare follows another and only one
// goroutine at a time pops the spare stack.
func (q *Queue[T]) prepare(b *block[T]) {
	nb := q.spares.pop()
	if nb == nil {
		nb = newBlock[T]()
	}
	gen := nb.gen + 1
	if gen == 0 { // after 2^32 generations; 0 is the ready value of a new block
		gen = 1
	}
	nb.gen = gen
	nb.seq = b.seq + 1
	nb.next.Store(nil)
	b.next.Store(nb) // the consumer may load nb from here on; it stays unopened
}

// moveTail moves the tail from b, which is full, to the block prepared after
// it, and publishes v in that block's first slot. Only the producer whose
// claim on b returned exactly blockSize calls it, once per block; it is the
// Vyukov "exchange and link" of this queue, with the link made in advance.
//
// The order matters: slot 0 is published before the tail moves, so an open
// block always has its first item; the tail moves before the block opens, so
// no producer can claim a slot in a block that is not yet the tail. The
// consumer cannot go past nb before nb's successor is linked, so nb is not
// reused before prepare returns.
func (q *Queue[T]) moveTail(b *block[T], v T) {
	nb := b.next.Load()
	for i := 0; nb == nil; i++ { // the producer that opened b is still preparing
		if i >= spinTries {
			runtime.Gosched()
		}
		nb = b.next.Load()
	}
	gen, seq := nb.gen, nb.seq
	nb.slots[0].val = v
	nb.slots[0].ready.Store(gen)
	q.tail.Store(nb)
	nb.claim.Store(uint64(gen)<<32 | 1) // open: slot 0 is taken
	q.prepare(nb)
	// nb may now fill, drain and be reused: use only locals.
	if y := q.yieldBlocks; y > 0 && seq-q.headSeq.Load() > y {
		runtime.Gosched() // see Config.YieldBacklog
	}
}

// awaitTail waits until a producer that found block b full in generation gen
// can retry: the tail has moved on, or b has been reopened in a new
// generation. It waits only for moveTail, a handful of stores.
func (q *Queue[T]) awaitTail(b *block[T], gen uint32) {
	for i := 0; q.tail.Load() == b && uint32(b.claim.Load()>>32) == gen; i++ {
		if i >= spinTries {
			runtime.Gosched()
		}
	}
}

// retire hands an emptied block back for reuse, or to the garbage collector
// when enough blocks are spare. The consumer calls it once it has taken every
// item of the block's current generation. Consumer only.
func (q *Queue[T]) retire(b *block[T]) {
	if q.spares.n.Load() >= q.maxSpares {
		return
	}
	// Drop the references to consumed items now that no producer can be
	// writing to the block; clearing slots one by one as they are consumed
	// would write to cache lines that producers are still filling.
	var zero T
	for i := range b.slots {
		b.slots[i].val = zero
	}
	q.spares.push(b)
}
