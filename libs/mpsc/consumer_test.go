package mpsc

import (
	"slices"
	"testing"
)

// claim takes the next slot the way Push does but does not publish it,
// standing in for a producer descheduled between its claim and its publish.
// The returned function finishes that Push.
func claim(t *testing.T, q *Queue[uint64]) (publish func(v uint64)) {
	t.Helper()
	b := q.tail.Load()
	w := b.claim.Add(1) - 1
	gen, i := uint32(w>>32), uint32(w)
	if i >= blockSize {
		t.Fatalf("claim at a block boundary (slot %d)", i)
	}
	return func(v uint64) {
		b.slots[i].val = v
		b.slots[i].ready.Store(gen)
		if q.armed.Load() != 0 {
			q.wake()
		}
	}
}

func drainAll(q *Queue[uint64]) []uint64 {
	var got []uint64
	q.Drain(func(v uint64) { got = append(got, v) })
	return got
}

func span(from, to uint64) []uint64 {
	var s []uint64
	for v := from; v < to; v++ {
		s = append(s, v)
	}
	return s
}

// TestHoleDoesNotStall checks that items published behind an unpublished slot
// are delivered, and the held item when it is published.
func TestHoleDoesNotStall(t *testing.T) {
	tests := []struct {
		name   string
		before uint64 // items pushed before the held one
		after  uint64 // items pushed after it
	}{
		{"front", 0, 10},
		{"middle", 5, 10},
		{"last slot of a block", blockSize - 1, 10},
		{"several blocks behind", 3, 4 * blockSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := New[uint64](Config{})
			for v := range tc.before {
				q.Push(v)
			}
			publish := claim(t, q)
			for v := tc.before + 1; v <= tc.before+tc.after; v++ {
				q.Push(v)
			}
			want := append(span(0, tc.before), span(tc.before+1, tc.before+tc.after+1)...)
			if got := drainAll(q); !slices.Equal(got, want) {
				t.Fatalf("drained %v, want %v", got, want)
			}
			if !q.Empty() {
				t.Fatal("Empty() = false with only an unpublished slot left")
			}
			publish(tc.before)
			if q.Empty() {
				t.Fatal("Empty() = true after the held item was published")
			}
			if got := drainAll(q); !slices.Equal(got, []uint64{tc.before}) {
				t.Fatalf("drained %v after publishing, want [%d]", got, tc.before)
			}
			if len(q.holes) != 0 {
				t.Fatalf("%d holes left", len(q.holes))
			}
		})
	}
}

// TestHoleKeepsProducerOrder plays a producer that is held between claim and
// publish, then finishes and pushes again: its two items must come out in
// order even though the consumer went past the first.
func TestHoleKeepsProducerOrder(t *testing.T) {
	q := New[uint64](Config{})
	publish := claim(t, q) // producer A, item 100
	q.Push(1)              // producer B
	if got := drainAll(q); !slices.Equal(got, []uint64{1}) {
		t.Fatalf("drained %v, want [1]", got)
	}
	publish(100)
	q.Push(101) // producer A's next item
	q.Push(2)   // producer B
	if got := drainAll(q); !slices.Equal(got, []uint64{100, 101, 2}) {
		t.Fatalf("drained %v, want [100 101 2]", got)
	}
}

// TestHolesInOrder checks that holes published together come out in slot
// order, and that a later hole published first does not wait for an earlier.
func TestHolesInOrder(t *testing.T) {
	q := New[uint64](Config{})
	p1 := claim(t, q)
	p2 := claim(t, q)
	p3 := claim(t, q)
	q.Push(9)
	if got := drainAll(q); !slices.Equal(got, []uint64{9}) {
		t.Fatalf("drained %v, want [9]", got)
	}
	if len(q.holes) != 3 {
		t.Fatalf("%d holes, want 3", len(q.holes))
	}
	p3(3)
	if got := drainAll(q); !slices.Equal(got, []uint64{3}) {
		t.Fatalf("drained %v, want [3]", got)
	}
	p2(2)
	p1(1)
	if got := drainAll(q); !slices.Equal(got, []uint64{1, 2}) {
		t.Fatalf("drained %v, want [1 2]", got)
	}
}

// TestHoleDelaysBlockReuse checks that a block with an outstanding hole is not
// handed back for reuse until its last item has been taken.
func TestHoleDelaysBlockReuse(t *testing.T) {
	q := New[uint64](Config{})
	first := q.head
	publish := claim(t, q)
	for v := range uint64(3 * blockSize) {
		q.Push(v + 1)
	}
	drainAll(q)
	for b := q.spares.top.Load(); b != nil; b = b.spare {
		if b == first {
			t.Fatal("block with an outstanding hole was retired")
		}
	}
	publish(0)
	if got := drainAll(q); !slices.Equal(got, []uint64{0}) {
		t.Fatalf("drained %v, want [0]", got)
	}
	if q.spares.top.Load() != first {
		t.Fatal("block not retired after its hole was taken")
	}
}

// TestReadyWithHole checks the wake-up signal around an unpublished slot: items
// behind it make Ready fire at once, and with nothing else queued the publish
// of the held item wakes the consumer.
func TestReadyWithHole(t *testing.T) {
	q := New[uint64](Config{})
	publish := claim(t, q)
	q.Push(1)
	select {
	case <-q.Ready():
	default:
		t.Fatal("Ready() not ready with an item behind an unpublished slot")
	}
	drainAll(q)
	ch := q.Ready()
	select {
	case <-ch:
		t.Fatal("Ready() fired with only an unpublished slot")
	default:
	}
	publish(0)
	select {
	case <-ch:
	default:
		t.Fatal("publishing the held item did not signal Ready()")
	}
	v, ok := q.Pop()
	if !ok || v != 0 {
		t.Fatalf("Pop() = %d, %v; want 0, true", v, ok)
	}
}
