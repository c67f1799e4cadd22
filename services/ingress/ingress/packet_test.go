package ingress

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecs-realm/realm/libs/wire"
)

func TestRateLimit(t *testing.T) {
	// A bucket of 5 that practically never refills.
	e := newEnv(t, Config{RateLimit: 0.001, RateBurst: 5, FlushInterval: time.Millisecond})
	c := e.newClient(51)
	c.handshake() // its confirmation (a KeepAlive) takes one of the 5
	for i := uint64(1); i <= 20; i++ {
		c.send(c.inputPacket(i))
	}
	waitFor(t, "16 rate drops", func() bool { return counter(t, e.svc.m.dropped[dropRate]) == 16 })
	waitFor(t, "4 inputs forwarded", func() bool { return counter(t, e.svc.m.inputs) == 4 })
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
// on its way from the socket to the pending batch, with the receive loop
// doing the work and with workers. Each datagram goes through the real
// socket, and the test waits until it is handled, so every goroutine's
// allocations are counted (AllocsPerRun counts the whole process; the
// background loops allocate far less than once per run).
func TestDataPathAllocs(t *testing.T) {
	for _, tc := range pipelines {
		t.Run(tc.name, func(t *testing.T) {
			var handled atomic.Int64
			signal := make(chan struct{}, 1)
			cfg := Config{FlushInterval: time.Hour, MaxBatch: MaxMaxBatch, RateLimit: 1e9, RateBurst: 1 << 30, Workers: tc.workers}
			e := newEnvPrepared(t, cfg, func(s *Service) {
				s.afterChunk = func(n int) {
					handled.Add(int64(n))
					select {
					case signal <- struct{}{}:
					default:
					}
				}
			})
			c := e.newClient(53)
			c.handshake()
			to := e.svc.Addr()
			// send passes one datagram through the service and waits until
			// it is handled, without allocating.
			timeout := time.NewTimer(waitTimeout)
			defer timeout.Stop()
			send := func(p []byte) {
				want := handled.Load() + 1
				if _, err := c.conn.WriteToUDPAddrPort(p, to); err != nil {
					t.Fatal(err)
				}
				timeout.Reset(waitTimeout)
				for handled.Load() < want {
					select {
					case <-signal:
					case <-timeout.C:
						t.Fatal("datagram not handled")
					}
				}
			}

			const runs = 200
			// AllocsPerRun runs the function once before it counts. The
			// keep-alives come after the inputs in sequence order too, or the
			// replay window would refuse them.
			inputs := make([][]byte, runs+1)
			keepAlives := make([][]byte, runs+1)
			for i := range inputs {
				inputs[i] = c.inputPacket(uint64(i + 1))
			}
			for i := range keepAlives {
				keepAlives[i] = c.dataPacket(wire.TypeKeepAlive, nil)
			}
			i := 0
			if allocs := testing.AllocsPerRun(runs, func() { send(inputs[i]); i++ }); allocs != 0 {
				t.Errorf("input path allocates %.2f times per packet, want 0", allocs)
			}
			if got := e.svc.batch.pending(); got != runs+1 {
				t.Errorf("pending inputs = %d, want %d (all authenticated)", got, runs+1)
			}
			i = 0
			if allocs := testing.AllocsPerRun(runs, func() { send(keepAlives[i]); i++ }); allocs != 0 {
				t.Errorf("keep-alive path allocates %.2f times per packet, want 0", allocs)
			}
			if got := counter(t, e.svc.m.keepAlives); got != runs+1 {
				t.Errorf("keep-alives counted = %v, want %d", got, runs+1)
			}
		})
	}
}
