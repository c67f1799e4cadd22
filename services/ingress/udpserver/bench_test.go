package udpserver

import (
	"net"
	"net/netip"
	"testing"

	"golang.org/x/net/ipv4"

	"github.com/ecs-realm/realm/services/ingress/internal/udptest"
)

// benchSenders is how many client sockets fill the server's socket.
const benchSenders = 4

// nop is a Handler that does nothing.
type nop struct{}

func (nop) HandlePacket([]byte, netip.AddrPort) {}

// BenchmarkReceive compares the receive loops on the same machine in the same
// run, by the time each takes to drain a socket buffer filled with 64-byte
// datagrams from benchSenders sockets (udptest.Drain): recvmmsg (this
// package's batched reader), one ReadMsgUDPAddrPort per datagram (the
// portable reader), and golang.org/x/net/ipv4's ReadBatch (the same recvmmsg,
// with a *net.UDPAddr allocated per datagram). ns/op is per datagram.
func BenchmarkReceive(b *testing.B) {
	b.Run("recvmmsg", func(b *testing.B) { benchServer(b, Config{}) })
	b.Run("readmsg", func(b *testing.B) { benchServer(b, Config{BatchSize: 1}) })
	b.Run("xnet-readbatch", benchXNet)
}

func benchServer(b *testing.B, cfg Config) {
	s, err := Listen("127.0.0.1:0", cfg)
	if err != nil {
		b.Fatal(err)
	}
	bench(b, s.LocalAddr(), func(h Handler) (func(), error) {
		done := make(chan error, 1)
		go func() { done <- s.Serve(h) }()
		return func() {
			_ = s.Close()
			if err := <-done; err != nil {
				b.Error(err)
			}
		}, nil
	})
}

func benchXNet(b *testing.B) {
	conn, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		b.Fatal(err)
	}
	_ = conn.SetReadBuffer(DefaultSocketBuffer)
	bench(b, conn.LocalAddr().(*net.UDPAddr).AddrPort(), func(h Handler) (func(), error) {
		pc := ipv4.NewPacketConn(conn)
		ms := make([]ipv4.Message, DefaultBatchSize)
		for i := range ms {
			ms[i].Buffers = [][]byte{make([]byte, DefaultMaxPacketSize+1)}
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				n, err := pc.ReadBatch(ms, 0)
				if err != nil {
					return
				}
				for i := range n {
					h.HandlePacket(ms[i].Buffers[0][:ms[i].N], ms[i].Addr.(*net.UDPAddr).AddrPort())
				}
			}
		}()
		return func() {
			_ = conn.Close()
			<-done
		}, nil
	})
}

// bench serves a Drain-wrapped no-op handler with serve and measures it.
func bench(b *testing.B, to netip.AddrPort, serve func(Handler) (stop func(), err error)) {
	bl, err := udptest.NewBlaster(benchSenders + 1)
	if err != nil {
		b.Fatal(err)
	}
	defer bl.Close()
	marker, senders := bl.Conns()[0], bl.Conns()[1:]
	d := udptest.NewDrain(nop{}, bl.Addr(0))
	stop, err := serve(d)
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	p := make([]byte, 64)
	udptest.RunDrain(b, d, func() error {
		_, err := marker.WriteToUDPAddrPort(p, to)
		return err
	}, udptest.DrainRound, func(k int) {
		for i := range k {
			if _, err := senders[i%len(senders)].WriteToUDPAddrPort(p, to); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWrite compares sending datagrams one WriteTo at a time with
// WriteBatch (sendmmsg, 64 per call, and its portable fallback), from one
// socket to 16 loopback client sockets, in batches of 64 datagrams of 200
// bytes (a small sealed snapshot). The clients do not read: once their
// buffers are full the kernel drops what arrives, the same for every
// variant. ns/op is per datagram.
func BenchmarkWrite(b *testing.B) {
	const clients, batch, size = 16, 64, 200
	setup := func(b *testing.B, fallback bool) (*Server, []Message) {
		s := listenOnly(b, "127.0.0.1:0", fallback)
		bl, err := udptest.NewBlaster(clients)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(bl.Close)
		msgs := make([]Message, batch)
		for i := range msgs {
			msgs[i] = Message{Buf: make([]byte, size), Addr: bl.Addr(i % clients)}
		}
		return s, msgs
	}
	b.Run("writeto", func(b *testing.B) {
		s, msgs := setup(b, false)
		b.ReportAllocs()
		b.SetBytes(size)
		for i := 0; b.Loop(); i++ {
			m := &msgs[i%batch]
			if err := s.WriteTo(m.Buf, m.Addr); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, v := range []struct {
		name     string
		fallback bool
	}{{"writebatch", false}, {"writebatch-fallback", true}} {
		b.Run(v.name, func(b *testing.B) {
			s, msgs := setup(b, v.fallback)
			b.ReportAllocs()
			b.SetBytes(size)
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				k := min(batch, b.N-i)
				if n, err := s.WriteBatch(msgs[:k]); n != k || err != nil {
					b.Fatalf("WriteBatch = %d, %v", n, err)
				}
			}
		})
	}
}
