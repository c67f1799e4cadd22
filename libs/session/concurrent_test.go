package session

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
)

// TestConcurrent runs writers and readers on a small shared space of ids and
// endpoints, so that binds, moves, displacements and removals race with each
// other and with lookups. Run it with -race. Readers check what must hold at
// every instant; the end state must satisfy the registry's invariants.
func TestConcurrent(t *testing.T) {
	const (
		ids       = 32
		endpoints = 24
		writers   = 4
		readers   = 4
		opsEach   = 20_000
	)
	r := New[uint64]()
	eps := make([]netip.AddrPort, endpoints)
	for i := range eps {
		eps[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), uint16(1000+i%3))
	}
	val := func(id uint64) uint64 { return id * 1000 }
	var displaced atomic.Int64

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range opsEach {
				id := rng.Uint64N(ids) + 1
				switch rng.IntN(6) {
				case 0:
					_ = r.Add(id, val(id))
				case 1:
					if s, _, ok := r.Remove(id); ok && s != val(id) {
						t.Errorf("Remove(%d) value %d", id, s)
					}
				case 2, 3, 4:
					res, err := r.Bind(id, eps[rng.IntN(endpoints)])
					if err == nil && res.Displaced == id {
						t.Errorf("session %d displaced itself", id)
					}
					if res.Displaced != 0 {
						displaced.Add(1)
					}
				case 5:
					r.Unbind(id)
				}
			}
		})
	}
	var stop atomic.Bool
	var rg sync.WaitGroup
	for i := range readers {
		rg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 9))
			for n := 0; !stop.Load() || n < 1000; n++ {
				if n%500 == 0 {
					// A snapshot never has an endpoint twice.
					seen := map[netip.AddrPort]uint64{}
					r.Range(func(id uint64, ep netip.AddrPort, s uint64) bool {
						if other, dup := seen[ep]; dup && ep.IsValid() {
							t.Errorf("snapshot: %v bound to %d and %d", ep, other, id)
						}
						seen[ep] = id
						return true
					})
					continue
				}
				e := eps[rng.IntN(endpoints)]
				if id, s, ok := r.Lookup(e); ok && (s != val(id) || id == 0 || id > ids) {
					t.Errorf("Lookup(%v) = %d, %d", e, id, s)
				}
				id := rng.Uint64N(ids) + 1
				if s, ok := r.Get(id); ok && s != val(id) {
					t.Errorf("Get(%d) = %d", id, s)
				}
				r.Endpoint(id)
			}
		})
	}
	wg.Wait()
	stop.Store(true)
	rg.Wait()
	checkInvariants(t, r)
	if displaced.Load() == 0 {
		t.Fatal("no bind displaced another session: the test did not exercise contention")
	}
}
