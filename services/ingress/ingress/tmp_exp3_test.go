package ingress

import (
	"crypto/sha256"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ecs-realm/realm/libs/wire"
	"github.com/ecs-realm/realm/services/ingress/internal/udptest"
	"github.com/ecs-realm/realm/services/ingress/udpserver"
)

func BenchmarkExpBg(b *testing.B) {
	for _, bg := range []string{"none", "sha", "chacha", "pingpong"} {
		b.Run(bg, func(b *testing.B) {
			var stop atomic.Bool
			var wg sync.WaitGroup
			switch bg {
			case "sha":
				wg.Go(func() {
					buf := make([]byte, 1024)
					for !stop.Load() {
						s := sha256.Sum256(buf)
						buf[0] = s[0]
					}
				})
			case "chacha":
				wg.Go(func() {
					k, _ := wire.NewKey()
					a := wire.NewAEAD(k)
					buf := make([]byte, 64)
					nonce := make([]byte, 12)
					for !stop.Load() {
						buf = a.Seal(buf[:0], nonce, buf[:48], nil)
					}
				})
			case "pingpong":
				a, c := make(chan int), make(chan int)
				wg.Go(func() {
					for !stop.Load() {
						a <- 1
						<-c
					}
					close(a)
				})
				wg.Go(func() {
					for range a {
						buf := make([]byte, 1024)
						for range 20 {
							s := sha256.Sum256(buf)
							buf[0] = s[0]
						}
						c <- 1
					}
				})
			}
			defer func() { stop.Store(true); wg.Wait() }()
			srv, err := udpserver.Listen("127.0.0.1:0", udpserver.Config{MaxPacketSize: wire.MaxPacketSize})
			if err != nil {
				b.Fatal(err)
			}
			marker := listenMarker(b)
			d := udptest.NewDrain(udpserver.HandlerFunc(func([]byte, netip.AddrPort) {}), addrOf(marker))
			done := make(chan error, 1)
			go func() { done <- srv.Serve(d) }()
			defer func() {
				_ = srv.Close()
				<-done
			}()
			e := &env{t: b}
			e.tokens, _ = wire.NewTokenCodec(mustKey(b))
			clients := make([]*client, benchSessions)
			for i := range clients {
				clients[i] = e.newClient(uint64(i + 1))
			}
			udpserver.ReadNanos.Store(0)
			udpserver.ReadPkts.Store(0)
			drain(b, d, marker, srv.LocalAddr(), clients)
			b.ReportMetric(float64(udpserver.ReadNanos.Load())/float64(udpserver.ReadPkts.Load()), "read-ns/pkt")
		})
	}
}
