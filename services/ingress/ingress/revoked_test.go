package ingress

import "testing"

func TestRevokedSet(t *testing.T) {
	r := newRevokedSet(3)
	r.add(1, 100)
	r.add(2, 200)
	if !r.has(1, 50) || r.has(1, 100) || r.has(9, 0) {
		t.Error("has: wrong answer before expiry")
	}
	// A second close of the same session extends it.
	r.add(1, 300)
	r.prune(150)
	if !r.has(1, 150) || !r.has(2, 150) || r.len() != 2 {
		t.Errorf("prune removed a live entry (len %d)", r.len())
	}
	r.prune(250)
	if r.has(2, 250) || !r.has(1, 250) || r.len() != 1 {
		t.Errorf("after prune(250): len %d", r.len())
	}
	// Bounded: the oldest live entry goes first.
	r.add(3, 400)
	r.add(4, 500)
	if n := r.add(5, 600); n != 1 || r.len() != 3 || r.has(1, 260) {
		t.Errorf("add past max evicted %d, len %d, has(1) %v", n, r.len(), r.has(1, 260))
	}
	r.prune(1000)
	if r.len() != 0 || len(r.queue)-r.head != 0 {
		t.Errorf("after pruning all: len %d, queue %d", r.len(), len(r.queue)-r.head)
	}
}

func TestBucket(t *testing.T) {
	var b bucket
	b.init(10, 3, 0) // 10 per second, burst 3
	for i := range 3 {
		if !b.allow(0) {
			t.Fatalf("burst packet %d refused", i)
		}
	}
	if b.allow(0) {
		t.Error("packet over the burst allowed")
	}
	if !b.allow(100e6) { // 100 ms later: one token
		t.Error("refilled token refused")
	}
	if b.allow(100e6) {
		t.Error("second packet after one refill allowed")
	}
	if !b.allow(10e9) || !b.allow(10e9) || !b.allow(10e9) || b.allow(10e9) {
		t.Error("refill is not capped at the burst")
	}
}
