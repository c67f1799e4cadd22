package ingress

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ecs-realm/realm/libs/wire"
	"github.com/ecs-realm/realm/services/ingress/udpserver"
)

// loopPark parks one loop on a marker.
type loopPark struct {
	marker  netip.AddrPort
	parked  chan struct{}
	release chan struct{}
	count   *atomic.Uint64
	target  *atomic.Uint64
	done    chan struct{}
	doneAt  *atomic.Int64
	hit     atomic.Bool
	mine    atomic.Uint64
}

func (l *loopPark) HandlePacket(p []byte, from netip.AddrPort) {
	if len(p) == 1 && p[0] == 0xee { // probe
		l.hit.Store(true)
		return
	}
	if from == l.marker {
		l.parked <- struct{}{}
		<-l.release
		return
	}
	l.mine.Add(1)
	c := l.count.Add(1)
	if t := l.target.Load(); t != 0 && c == t {
		l.doneAt.Store(time.Now().UnixNano())
		l.done <- struct{}{}
	}
}

func BenchmarkExpReusePort(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprint("loops", n), func(b *testing.B) {
			lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
				var serr error
				err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, 0xf, 1) })
				if err != nil {
					return err
				}
				return serr
			}}
			var conns []*net.UDPConn
			addr := "127.0.0.1:0"
			for range n {
				pc, err := lc.ListenPacket(context.Background(), "udp", addr)
				if err != nil {
					b.Fatal(err)
				}
				conns = append(conns, pc.(*net.UDPConn))
				addr = pc.LocalAddr().String()
			}
			var srvs []*udpserver.Server
			for _, c := range conns {
				s, err := udpserver.FromConn(c, udpserver.Config{MaxPacketSize: wire.MaxPacketSize})
				if err != nil {
					b.Fatal(err)
				}
				srvs = append(srvs, s)
			}
			to := srvs[0].LocalAddr()
			var count, target atomic.Uint64
			var doneAt atomic.Int64
			done := make(chan struct{}, 4)
			parks := make([]*loopPark, n)
			var wg sync.WaitGroup
			for i, s := range srvs {
				parks[i] = &loopPark{parked: make(chan struct{}), release: make(chan struct{}), count: &count, target: &target, done: done, doneAt: &doneAt}
				wg.Go(func() { _ = s.Serve(parks[i]) })
			}
			defer func() {
				for _, s := range srvs {
					_ = s.Close()
				}
				wg.Wait()
			}()
			// find a marker per loop
			for i := range parks {
				for {
					m := listenMarker(b)
					for _, p := range parks {
						p.hit.Store(false)
					}
					m.WriteToUDPAddrPort([]byte{0xee}, to)
					time.Sleep(2 * time.Millisecond)
					if parks[i].hit.Load() {
						parks[i].marker = addrOf(m)
						defer m.Close()
						mm := m
						parks[i].release = make(chan struct{})
						_ = mm
						// keep socket for marking
						markers = append(markers, mm)
						break
					}
				}
			}
			ms := markers[len(markers)-n:]
			e := &env{t: b}
			e.tokens, _ = wire.NewTokenCodec(mustKey(b))
			clients := make([]*client, benchSessions)
			for i := range clients {
				clients[i] = e.newClient(uint64(i + 1))
			}
			seqs := make([]uint64, len(clients))
			buf := make([]byte, 0, 128)
			next := 0
			b.ReportAllocs()
			b.ResetTimer()
			b.StopTimer()
			var total int
			var wall time.Duration
			for total < b.N {
				k := min(2000, b.N-total)
				for i, m := range ms {
					m.WriteToUDPAddrPort([]byte{1, 2}, to)
					<-parks[i].parked
				}
				for range k {
					c := clients[next]
					seqs[next]++
					buf = c.appendInput(buf[:0], seqs[next])
					c.conn.WriteToUDPAddrPort(buf, to)
					next = (next + 1) % len(clients)
				}
				target.Store(count.Load() + uint64(k))
				b.StartTimer()
				start := time.Now()
				for _, p := range parks {
					p.release <- struct{}{}
				}
				<-done
				b.StopTimer()
				wall += time.Duration(doneAt.Load() - start.UnixNano())
				total += k
			}
			b.ReportMetric(float64(total)/wall.Seconds(), "pkts/s")
			var mx uint64
			for _, p := range parks {
				mx = max(mx, p.mine.Load())
			}
			b.ReportMetric(float64(mx)/float64(count.Load()), "maxshare")
		})
	}
}

var markers []*net.UDPConn
