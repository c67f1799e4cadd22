package session

import (
	"net/netip"
	"sync"
	"testing"
)

// rwRegistry is the baseline: one RWMutex over the two maps.
type rwRegistry struct {
	mu   sync.RWMutex
	byID map[uint64]*entry[*int]
	byEP map[netip.AddrPort]binding[*int]
}

func (r *rwRegistry) lookup(ep netip.AddrPort) (uint64, *int, bool) {
	ep = normalize(ep)
	r.mu.RLock()
	b, ok := r.byEP[ep]
	r.mu.RUnlock()
	return b.id, b.val, ok
}

const benchSessions = 100_000

// benchEndpoints returns benchSessions distinct endpoints, IPv4 and IPv6
// mixed as on a real server.
func benchEndpoints() []netip.AddrPort {
	eps := make([]netip.AddrPort, benchSessions)
	for i := range eps {
		port := uint16(1024 + i%50000)
		if i%4 == 3 {
			a := netip.MustParseAddr("2001:db8::").As16()
			a[12], a[13], a[14], a[15] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
			eps[i] = netip.AddrPortFrom(netip.AddrFrom16(a), port)
		} else {
			eps[i] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), port)
		}
	}
	return eps
}

// BenchmarkLookup measures the per-packet lookup by endpoint with 100,000
// bound sessions and all goroutines reading, against the single-RWMutex
// baseline. Each goroutine walks the endpoints with a large odd stride, so
// successive lookups hit unrelated shards and map buckets.
func BenchmarkLookup(b *testing.B) {
	eps := benchEndpoints()
	v := 1
	reg := New[*int]()
	base := &rwRegistry{byID: map[uint64]*entry[*int]{}, byEP: map[netip.AddrPort]binding[*int]{}}
	for i, ep := range eps {
		id := uint64(i + 1)
		if err := reg.Add(id, &v); err != nil {
			b.Fatal(err)
		}
		if _, err := reg.Bind(id, ep); err != nil {
			b.Fatal(err)
		}
		e := &entry[*int]{id: id, val: &v, ep: ep}
		base.byID[id], base.byEP[ep] = e, binding[*int]{id, &v}
	}
	run := func(b *testing.B, lookup func(netip.AddrPort) (uint64, *int, bool)) {
		b.ReportAllocs()
		var seed sync.Mutex
		next := 0
		b.RunParallel(func(pb *testing.PB) {
			seed.Lock()
			i := next * 7919
			next++
			seed.Unlock()
			for pb.Next() {
				i = (i + 40_009) % benchSessions
				if _, _, ok := lookup(eps[i]); !ok {
					b.Fatal("miss")
				}
			}
		})
	}
	b.Run("sharded", func(b *testing.B) { run(b, reg.Lookup) })
	b.Run("rwmutex", func(b *testing.B) { run(b, base.lookup) })

}

// BenchmarkBind measures a handshake's rebind (the session moves between two
// endpoints) with 100,000 sessions, alone and with parallel lookups.
func BenchmarkBind(b *testing.B) {
	eps := benchEndpoints()
	v := 1
	reg := New[*int]()
	for i, ep := range eps {
		id := uint64(i + 1)
		_ = reg.Add(id, &v)
		_, _ = reg.Bind(id, ep)
	}
	spare := [2]netip.AddrPort{netip.MustParseAddrPort("192.0.2.1:1"), netip.MustParseAddrPort("192.0.2.1:2")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := reg.Bind(1, spare[i%2]); err != nil {
			b.Fatal(err)
		}
	}
}
