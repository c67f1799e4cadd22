package mpsc

import "slices"

// hole is a slot that had been claimed but not yet published when the
// consumer went past it because a later item was already published.
type hole[T any] struct {
	b   *block[T]
	i   uint32
	gen uint32
}

// Pop removes and returns the item at the front of the queue. It reports false
// when no item is available. Consumer only.
func (q *Queue[T]) Pop() (T, bool) {
	if len(q.holes) == 0 && q.idx < blockSize {
		if s := &q.head.slots[q.idx]; s.ready.Load() == q.gen {
			q.idx++
			return s.val, true
		}
	}
	return q.take()
}

// PopBatch moves up to len(buf) items from the front of the queue into buf, in
// order, and returns how many it moved. It never waits. Consumer only.
func (q *Queue[T]) PopBatch(buf []T) int {
	for n := range buf {
		if len(q.holes) == 0 && q.idx < blockSize {
			if s := &q.head.slots[q.idx]; s.ready.Load() == q.gen {
				q.idx++
				buf[n] = s.val
				continue
			}
		}
		v, ok := q.take()
		if !ok {
			return n
		}
		buf[n] = v
	}
	return len(buf)
}

// Drain removes every available item from the front of the queue and calls fn
// with each, in order, and returns the number of items. Items pushed while
// Drain runs, by fn or by other goroutines, may be included, so a Drain keeps
// going while producers keep up with it; use PopBatch to bound the work of one
// call. An item has left the queue before fn sees it, so if fn panics, the
// rest stay queued. Consumer only.
func (q *Queue[T]) Drain(fn func(T)) int {
	n := 0
	for {
		// Pop's fast path, inlined.
		if len(q.holes) == 0 && q.idx < blockSize {
			if s := &q.head.slots[q.idx]; s.ready.Load() == q.gen {
				q.idx++
				n++
				fn(s.val)
				continue
			}
		}
		v, ok := q.take()
		if !ok {
			return n
		}
		n++
		fn(v)
	}
}

// Empty reports whether Pop would find no item. Consumer only.
func (q *Queue[T]) Empty() bool {
	for _, h := range q.holes {
		if h.b.slots[h.i].ready.Load() == h.gen {
			return false
		}
	}
	if q.idx == blockSize {
		return !q.firstPublished(q.head.next.Load())
	}
	if q.head.slots[q.idx].ready.Load() == q.gen {
		return false
	}
	return !q.publishedBeyond()
}

// take is Pop's slow path: a block boundary, an unpublished slot, or holes.
//
// Items come out in slot order, except that a slot claimed but not yet
// published while a later one is published becomes a hole: take goes past it
// and hands it out as soon as it is published. This keeps a producer that is
// descheduled between its claim and its publish from stalling the whole queue,
// without reordering any producer's own items: a producer publishes each item
// before it claims its next slot, so when take sees slot j published and
// then re-checks an earlier hole h and finds it still unpublished, h belongs
// to a push that had not finished when j's push began, that is, to another
// producer. take re-checks the holes after it sees a slot published and before
// it hands that slot out, and hands out a published hole first.
func (q *Queue[T]) take() (T, bool) {
	if v, ok := q.takeHole(); ok {
		return v, true
	}
	for {
		if q.idx == blockSize && !q.advance() {
			var zero T
			return zero, false
		}
		s := &q.head.slots[q.idx]
		if s.ready.Load() == q.gen {
			if v, ok := q.takeHole(); ok {
				return v, true
			}
			q.idx++
			return s.val, true
		}
		if !q.publishedBeyond() {
			var zero T
			return zero, false
		}
		q.holes = append(q.holes, hole[T]{q.head, q.idx, q.gen})
		q.nhole++
		q.idx++
	}
}

// takeHole hands out the oldest hole that has been published, if any.
func (q *Queue[T]) takeHole() (T, bool) {
	for k, h := range q.holes {
		s := &h.b.slots[h.i]
		if s.ready.Load() != h.gen {
			continue
		}
		v := s.val
		q.holes = slices.Delete(q.holes, k, k+1)
		if h.b != q.head && !q.holesIn(h.b) {
			q.retire(h.b) // its last slot has been taken
		}
		return v, true
	}
	var zero T
	return zero, false
}

// publishedBeyond reports whether one of the few slots after the head slot,
// which is not published, is published. It looks ahead at most lookAhead
// slots, and at the first slot of the next block when those reach the end of
// the head block, and never at the claim counter, so that a consumer waiting
// at the front of the queue does not pull the producers' busiest cache line
// away from them. Slots are claimed in order, so a published slot in that
// window means the head slot is claimed and its producer is still inside
// Push. A held slot further back than the window (more than lookAhead
// producers descheduled at once) is not seen until one of them publishes.
func (q *Queue[T]) publishedBeyond() bool {
	b := q.head
	end := min(q.idx+1+lookAhead, blockSize)
	for i := q.idx + 1; i < end; i++ {
		if b.slots[i].ready.Load() == q.gen {
			return true
		}
	}
	return end == blockSize && q.firstPublished(b.next.Load())
}

// publishedAhead reports whether the slot k places after the head slot is
// published: a cheap sign that a batch of at least k+1 items is waiting.
func (q *Queue[T]) publishedAhead(k uint32) bool {
	i := q.idx + k
	if i < blockSize {
		return q.head.slots[i].ready.Load() == q.gen
	}
	b := q.head.next.Load()
	i -= blockSize
	return b != nil && i < blockSize && b.slots[i].ready.Load() == b.gen
}

// firstPublished reports whether block b, the successor of the head block or
// nil, holds an item. moveTail publishes slot 0 before it opens a block, so
// if slot 0 is not published, no slot is.
func (q *Queue[T]) firstPublished(b *block[T]) bool {
	return b != nil && b.slots[0].ready.Load() == b.gen
}

// advance moves the consumer from its used-up head block to the next one and
// retires the old block unless a hole in it is still outstanding. It reports
// false if there is no next block yet.
func (q *Queue[T]) advance() bool {
	old := q.head
	nx := old.next.Load()
	if nx == nil {
		return false
	}
	q.head, q.gen, q.idx = nx, nx.gen, 0
	q.headSeq.Store(nx.seq)
	if !q.holesIn(old) {
		q.retire(old)
	}
	return true
}

// holesIn reports whether a hole is outstanding in block b.
func (q *Queue[T]) holesIn(b *block[T]) bool {
	for _, h := range q.holes {
		if h.b == b {
			return true
		}
	}
	return false
}
