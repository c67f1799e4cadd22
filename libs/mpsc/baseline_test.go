package mpsc

import (
	"sync"
	"sync/atomic"
)

// This file holds the baselines the benchmarks compare Queue against. They are
// test code only.

// nodeQueue is a direct port of Vyukov's intrusive MPSC node queue, the design
// of the seed: one node per item, a stub node, a producer exchange on tail
// followed by a link store. One allocation per Push.
type nodeQueue[T any] struct {
	_    [cacheLine]byte
	tail atomic.Pointer[node[T]] // producers exchange it
	_    [cacheLine]byte
	head *node[T] // consumer only; its item has been consumed (the stub)
	_    [cacheLine]byte
}

type node[T any] struct {
	next atomic.Pointer[node[T]]
	val  T
}

func newNodeQueue[T any]() *nodeQueue[T] {
	stub := new(node[T])
	q := &nodeQueue[T]{head: stub}
	q.tail.Store(stub)
	return q
}

// Push links a new node after the current tail. Between the exchange and the
// link, the new node (and everything after it) is invisible to Pop.
func (q *nodeQueue[T]) Push(v T) {
	n := &node[T]{val: v}
	prev := q.tail.Swap(n)
	prev.next.Store(n)
}

// Pop is consumer only.
func (q *nodeQueue[T]) Pop() (T, bool) {
	var zero T
	next := q.head.next.Load()
	if next == nil {
		return zero, false
	}
	q.head = next
	v := next.val
	next.val = zero
	return v, true
}

// mutexQueue is a mutex-guarded slice with a wake-up channel, as nats-server's
// ipqueue: the consumer swaps the whole slice out under the lock, and a Push
// that makes the queue non-empty signals the channel.
type mutexQueue[T any] struct {
	mu     sync.Mutex
	items  []T           // guarded by mu
	signal chan struct{} // capacity 1
}

func newMutexQueue[T any]() *mutexQueue[T] {
	return &mutexQueue[T]{signal: make(chan struct{}, 1)}
}

func (q *mutexQueue[T]) Push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	first := len(q.items) == 1
	q.mu.Unlock()
	if first {
		select {
		case q.signal <- struct{}{}:
		default:
		}
	}
}

// swap returns the queued items and keeps spare[:0] as the new backing slice,
// so a consumer that hands back the previous batch allocates nothing.
func (q *mutexQueue[T]) swap(spare []T) []T {
	q.mu.Lock()
	items := q.items
	q.items = spare[:0]
	q.mu.Unlock()
	return items
}
