package ingress

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"

	"github.com/ecs-realm/realm/libs/wire"
	"github.com/ecs-realm/realm/services/ingress/internal/udptest"
	"github.com/ecs-realm/realm/services/ingress/udpserver"
)

type pipeNop struct {
	free, in chan *chunk
	cur      *chunk
	d        *udptest.Drain
	spin     int
	every    int
	reads    int
	seen     uint64
}

func (p *pipeNop) HandlePacket(b []byte, from netip.AddrPort) {
	if p.cur == nil {
		p.cur = <-p.free
	}
	p.cur.add(b, from)
	p.seen++
}
func (p *pipeNop) EndBatch() {
	p.reads++
	if p.cur != nil && (p.reads%p.every == 0 || p.seen >= p.d.Target()) {
		p.in <- p.cur
		p.cur = nil
	}
}
func (p *pipeNop) run() {
	for {
		var c *chunk
		var ok bool
		for i := 0; i < p.spin || i < -p.spin; i++ {
			select {
			case c, ok = <-p.in:
				goto got
			default:
				if p.spin < 0 {
					runtime.Gosched()
				}
			}
		}
		c, ok = <-p.in
	got:
		if !ok {
			return
		}
		n := len(c.pkts)
		c.reset()
		p.free <- c
		p.d.Done(n)
	}
}

func BenchmarkExpPipe(b *testing.B) {
	for _, every := range []int{1, 4} {
		spin := 0
		b.Run(fmt.Sprint("every", every), func(b *testing.B) {
			srv, err := udpserver.Listen("127.0.0.1:0", udpserver.Config{MaxPacketSize: wire.MaxPacketSize})
			if err != nil {
				b.Fatal(err)
			}
			marker := listenMarker(b)
			p := &pipeNop{free: make(chan *chunk, 16), in: make(chan *chunk, 16), spin: spin, every: every}
			for range 16 {
				c := newChunk(64 * every)
				c.data = make([]byte, 0, 64*every*100)
				p.free <- c
			}
			d := udptest.NewDrainDone(p, addrOf(marker))
			p.d = d
			go p.run()
			done := make(chan error, 1)
			go func() { done <- srv.Serve(d) }()
			defer func() {
				_ = srv.Close()
				<-done
				close(p.in)
			}()
			e := &env{t: b}
			e.tokens, _ = wire.NewTokenCodec(mustKey(b))
			clients := make([]*client, benchSessions)
			for i := range clients {
				clients[i] = e.newClient(uint64(i + 1))
			}
			drain(b, d, marker, srv.LocalAddr(), clients)
		})
	}
}

func BenchmarkExpSpin(b *testing.B) {
	for _, n := range []int{0, 1000, 10000, 50000} {
		b.Run(fmt.Sprint("spin", n), func(b *testing.B) {
			spinIters = n
			benchIngress(b, 0, true)
		})
	}
	spinIters = 0
}
