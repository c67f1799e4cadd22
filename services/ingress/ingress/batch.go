package ingress

import (
	"sync"
)

// maxQueuedBatches bounds the full batches waiting for the publisher; past
// it new inputs are dropped (reason "overload") instead of stalling the
// receive loop or growing without bound. 64 batches of 256 inputs are about
// 1.3 seconds of 200 players at 60 inputs per second.
const maxQueuedBatches = 64

// batcher accumulates authenticated inputs as encoded realmv1.InputBatch
// messages. The workers append (addAll, once per chunk of packets); the
// publisher goroutine publishes (flush), so the workers never wait for NATS:
// nats.go holds its connection lock while it writes to the socket, and a
// Publish can block that long.
//
// Inputs are appended to reused buffers in their final encoding, so add
// allocates nothing once the buffers exist; the order of inputs is the order
// of add calls, across batches too.
type batcher struct {
	max     int
	header  []byte                // encoded InputBatch.ingress_id, the start of every batch
	publish func(b []byte, n int) // called by flush; b is reused after it returns
	kick    chan struct{}         // capacity 1: a full batch is queued

	flushMu sync.Mutex // serialises flushes; taken before mu

	mu     sync.Mutex // guards the fields below
	cur    []byte     // the batch being filled
	n      int        // inputs in cur
	queue  []queued   // full batches, oldest first
	free   [][]byte   // buffers to reuse
	queued int        // inputs in queue
	spareQ []queued   // the other queue slice, swapped in by flush
}

// queued is a full batch waiting for the publisher.
type queued struct {
	b []byte
	n int
}

// newBatcher returns a batcher of batches of at most max inputs, published
// with publish.
func newBatcher(ingressID string, max int, publish func([]byte, int)) *batcher {
	b := &batcher{
		max:     max,
		header:  appendBatchHeader(nil, ingressID),
		publish: publish,
		kick:    make(chan struct{}, 1),
		queue:   make([]queued, 0, maxQueuedBatches),
		spareQ:  make([]queued, 0, maxQueuedBatches),
	}
	b.cur = b.newBuf()
	return b
}

// newBuf returns an empty batch buffer holding the header. Called with mu
// held (or before the batcher is shared).
func (b *batcher) newBuf() []byte {
	if n := len(b.free); n > 0 {
		buf := b.free[n-1]
		b.free = b.free[:n-1]
		return append(buf[:0], b.header...)
	}
	// About 40 bytes per encoded input.
	return append(make([]byte, 0, len(b.header)+48*b.max), b.header...)
}

// add appends one input of session id. When the batch is full it is queued
// for the publisher; when the queue is full too, the input is dropped and
// add returns false.
func (b *batcher) add(id uint64, in *input) bool {
	b.mu.Lock()
	ok := b.addLocked(id, in)
	b.mu.Unlock()
	return ok
}

// addAll adds the inputs in order under one lock acquisition, as add would
// one by one, and returns how many were added: a prefix of ins, the rest
// refused because the queue is full.
func (b *batcher) addAll(ins []sessInput) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range ins {
		if !b.addLocked(ins[i].id, &ins[i].in) {
			return i
		}
	}
	return len(ins)
}

func (b *batcher) addLocked(id uint64, in *input) bool {
	if b.n >= b.max { // full, and the queue had no room when it filled
		if len(b.queue) >= maxQueuedBatches {
			return false
		}
		b.rotateLocked()
	}
	b.cur = appendSessionInput(b.cur, id, in)
	b.n++
	if b.n >= b.max && len(b.queue) < maxQueuedBatches {
		b.rotateLocked()
	}
	return true
}

// rotateLocked queues the current batch and starts a new one.
func (b *batcher) rotateLocked() {
	b.queue = append(b.queue, queued{b.cur, b.n})
	b.queued += b.n
	b.cur, b.n = b.newBuf(), 0
	select {
	case b.kick <- struct{}{}:
	default: // the publisher is already notified
	}
}

// flush publishes the queued full batches and, if partial, the batch being
// filled, in order.
func (b *batcher) flush(partial bool) {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	if (partial && b.n > 0) || b.n >= b.max {
		b.queue = append(b.queue, queued{b.cur, b.n})
		b.queued += b.n
		b.cur, b.n = b.newBuf(), 0
	}
	todo := b.queue
	b.queue, b.spareQ = b.spareQ[:0], nil
	b.queued = 0
	b.mu.Unlock()

	for _, q := range todo {
		b.publish(q.b, q.n)
	}

	b.mu.Lock()
	for i := range todo {
		b.free = append(b.free, todo[i].b)
		todo[i] = queued{}
	}
	b.spareQ = todo[:0]
	b.mu.Unlock()
}

// pending returns the number of inputs not yet published.
func (b *batcher) pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n + b.queued
}
