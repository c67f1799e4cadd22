package ingress

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecs-realm/realm/libs/wire"
)

func TestRateLimit(t *testing.T) {
	// A bucket of 5 that practically never refills.
	e := newEnv(t, Config{RateLimit: 0.001, RateBurst: 5, FlushInterval: time.Millisecond})
	c := e.newClient(51)
	c.handshake()
	for i := uint64(1); i <= 20; i++ {
		c.send(c.inputPacket(i))
	}
	waitFor(t, "15 rate drops", func() bool { return counter(t, e.svc.m.dropped[dropRate]) == 15 })
	waitFor(t, "5 inputs forwarded", func() bool { return counter(t, e.svc.m.inputs) == 5 })
}

func TestKeepAliveRefreshesLastSeen(t *testing.T) {
	e := newEnv(t, Config{})
	c := e.newClient(52)
	c.handshake()
	st, _ := e.svc.reg.Get(52)
	before := st.lastSeen.Load()
	time.Sleep(2 * time.Millisecond) // let the clock move; not a synchronisation
	c.send(c.dataPacket(wire.TypeKeepAlive, nil))
	waitFor(t, "keep-alive counted", func() bool { return counter(t, e.svc.m.keepAlives) == 1 })
	if after := st.lastSeen.Load(); after <= before {
		t.Errorf("last seen %d not after %d", after, before)
	}
	// A forged keep-alive does not refresh it.
	seen := st.lastSeen.Load()
	k, _ := wire.NewKey()
	p, _ := wire.SealPacket(nil, wire.NewAEAD(k), wire.TypeKeepAlive, c.seq.Next(), nil)
	c.send(p)
	waitFor(t, "forgery dropped", func() bool { return counter(t, e.svc.m.dropped[dropBadAuth]) == 1 })
	if st.lastSeen.Load() != seen {
		t.Error("a forged keep-alive refreshed last seen")
	}
}

// TestDataPathAllocs checks that an authenticated input allocates nothing
// between the socket and the pending batch: on the receive loop alone, and
// through the hand-off to a worker. The test drives the receiver as the
// receive loop would (HandlePacket, then EndBatch per read), serialised with
// the real loop, and waits for the workers before the next packet, so that
// their allocations are counted too.
func TestDataPathAllocs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		workers int
	}{
		{"inline", -1},
		{"workers", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lk *lockedHandler
			var processed atomic.Int64
			cfg := Config{FlushInterval: time.Hour, MaxBatch: MaxMaxBatch, RateLimit: 1e9, RateBurst: 1 << 30, Workers: tc.workers}
			e := newEnvPrepared(t, cfg, func(s *Service) {
				lk = &lockedHandler{next: s.rx}
				s.handler = lk
				s.afterChunk = func(n int) { processed.Add(int64(n)) }
			})
			c := e.newClient(53)
			c.handshake()
			// handle passes one datagram through the receiver and waits until
			// a worker (if any) has handled it.
			scratch := make([]byte, wire.MaxPacketSize)
			from := c.addr()
			handle := func(p []byte) {
				n := copy(scratch, p)
				want := processed.Load() + 1
				lk.HandlePacket(scratch[:n], from)
				lk.EndBatch()
				for tc.workers > 0 && processed.Load() < want {
					runtime.Gosched()
				}
			}

			const runs = 200
			packets := make([][]byte, runs+1)
			for i := range packets {
				packets[i] = c.inputPacket(uint64(i + 1))
			}
			i := 0
			allocs := testing.AllocsPerRun(runs, func() {
				handle(packets[i])
				i++
			})
			if allocs != 0 {
				t.Errorf("input path allocates %.2f times per packet, want 0", allocs)
			}
			if got := e.svc.batch.pending(); got != runs+1 {
				t.Errorf("pending inputs = %d, want %d (all authenticated)", got, runs+1)
			}
			// AllocsPerRun runs the function once before it counts.
			keepAlives := [][]byte{c.dataPacket(wire.TypeKeepAlive, nil), c.dataPacket(wire.TypeKeepAlive, nil)}
			j := 0
			allocs = testing.AllocsPerRun(1, func() {
				handle(keepAlives[j])
				j++
			})
			if allocs != 0 || counter(t, e.svc.m.keepAlives) != 2 {
				t.Errorf("keep-alive: %.2f allocations, %v counted, want 0 and 2", allocs, counter(t, e.svc.m.keepAlives))
			}
		})
	}
}
