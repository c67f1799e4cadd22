package ingress

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"testing"

	"github.com/ecs-realm/realm/libs/wire"
	"github.com/ecs-realm/realm/services/ingress/internal/udptest"
	"github.com/ecs-realm/realm/services/ingress/udpserver"
)

// benchConfig lifts the rate limit, which a benchmark would hit at once.
var benchConfig = Config{RateLimit: 1e12, RateBurst: 1 << 30}

// sealChunk is how many packets the benchmarks seal at a time, outside the
// timer: the replay window needs a fresh sequence for every packet.
const sealChunk = 4096

// benchRead is how many datagrams the handler benchmarks treat as one read
// (the default socket batch).
const benchRead = udpserver.DefaultBatchSize

// BenchmarkHandlePacket measures the CPU cost of the data path of an
// authenticated input on a bound session, without the socket, on one
// goroutine (Config.Workers -1): ns/op and allocs/op per packet, including
// the registry lookup, the append to the pending batch and, every 256
// inputs, its publication on NATS. "open" is the floor in the same run: copy,
// replay window and ChaCha20-Poly1305 open of the same packets, nothing else.
func BenchmarkHandlePacket(b *testing.B) {
	b.Run("open", func(b *testing.B) {
		e := newEnv(b, benchConfig)
		c := e.newClient(1)
		var w wire.ReplayWindow
		benchPackets(b, c, func(p []byte) {
			h, err := wire.ParseHeader(p)
			if err != nil || w.Check(h.Seq) != nil {
				b.Fatal("bad packet")
			}
			if _, _, err := wire.OpenPacket(p[wire.HeaderSize:wire.HeaderSize], c.c2s, p); err != nil {
				b.Fatal(err)
			}
			_ = w.Accept(h.Seq)
		})
	})
	b.Run("handler", func(b *testing.B) { benchHandler(b, false) })
	// Without publishing the batches: the publisher goroutine and the
	// embedded NATS server otherwise share the machine with the loop.
	b.Run("handler-nopublish", func(b *testing.B) { benchHandler(b, true) })
}

func benchHandler(b *testing.B, noPublish bool) {
	cfg := benchConfig
	cfg.Workers = -1
	e := newEnvPrepared(b, cfg, func(s *Service) {
		if noPublish {
			noPublishing(s)
		}
	})
	c := e.newClient(1)
	c.handshake()
	from := c.addr()
	// A receiver of the benchmark's own, wired to the service like its
	// receive loop's (Workers -1) but not to the socket, driven as that loop
	// would: reads of benchRead datagrams.
	r := &receiver{s: e.svc, inline: newWorker(e.svc, 0, benchRead)}
	i := 0
	benchPackets(b, c, func(p []byte) {
		r.HandlePacket(p, from)
		if i++; i%benchRead == 0 {
			r.EndBatch()
		}
	})
	r.EndBatch()
	e.svc.batch.flush(true)
	if got := counter(b, e.svc.m.inputs); got != float64(b.N) {
		b.Fatalf("%v of %d inputs forwarded", got, b.N)
	}
}

// noPublishing replaces the publication of input batches by counting them.
func noPublishing(s *Service) {
	s.batch.publish = func(_ []byte, n int) { s.m.inputs.Add(float64(n)) }
}

// benchPackets calls handle b.N times with a copy of a fresh input packet of
// c, sealing them sealChunk at a time with the timer stopped.
func benchPackets(b *testing.B, c *client, handle func(p []byte)) {
	chunk := make([][]byte, sealChunk)
	for k := range chunk {
		chunk[k] = make([]byte, 0, 128)
	}
	scratch := make([]byte, wire.MaxPacketSize)
	var seq uint64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i % sealChunk
		if j == 0 {
			b.StopTimer()
			for k := range chunk {
				seq++
				chunk[k] = c.appendInput(chunk[k][:0], seq)
			}
			b.StartTimer()
		}
		n := copy(scratch, chunk[j])
		handle(scratch[:n])
	}
}

// benchSessions is how many client sockets (one bound session each) fill the
// socket in BenchmarkThroughput.
const benchSessions = 16

// bareRate is the last "bare" result of BenchmarkThroughput, for the ratio.
var bareRate float64

// BenchmarkThroughput compares, on the same machine in the same run, how
// fast authenticated input packets go through (a) a udpserver whose handler
// does nothing, one goroutine reading one socket, and (b) the ingress service
// with bound sessions, both fed the same kind of sealed 40-odd-byte Input
// packets from benchSessions sockets. Each round fills the socket's receive
// buffer while the loop is parked and times the drain (udptest.Drain), so the
// senders' cost is not measured; for ingress a packet counts when its input
// is in a pending batch. ns/op is wall time per packet; cpu-ns/pkt is the
// CPU time of the whole process per packet, on all cores, and cpus how many
// cores were busy on average: the bare loop uses one, ingress its receive
// loop plus its workers, the publisher and the embedded NATS server.
// ingress reports ratio = its pkts/s over bare's.
//
// Variants: "ingress" is the default configuration (GOMAXPROCS-1 workers,
// at most 2); "ingress-inline" does everything on the receive loop (Workers
// -1), which is what one core can do; "ingress-workers-N" one worker more
// than the default; "-nopublish" leaves NATS out (batches are counted, not
// published), to separate the service's own cost from the embedded NATS
// server's, which shares the machine here but not in production.
func BenchmarkThroughput(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
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
		// Sessions only to seal packets; nothing verifies them here.
		e := &env{t: b}
		e.tokens, _ = wire.NewTokenCodec(mustKey(b))
		clients := make([]*client, benchSessions)
		for i := range clients {
			clients[i] = e.newClient(uint64(i + 1))
		}
		bareRate = drain(b, d, marker, srv.LocalAddr(), clients)
	})
	def := defaultWorkers(runtime.GOMAXPROCS(0))
	for _, v := range []struct {
		name      string
		workers   int
		noPublish bool
	}{
		{"ingress", 0, false},
		{"ingress-nopublish", 0, true},
		{"ingress-inline", -1, false},
		{"ingress-inline-nopublish", -1, true},
		{fmt.Sprintf("ingress-workers-%d", max(2, def+1)), max(2, def+1), false},
	} {
		b.Run(v.name, func(b *testing.B) { benchIngress(b, v.workers, v.noPublish) })
	}
}

func benchIngress(b *testing.B, workers int, noPublish bool) {
	marker := listenMarker(b)
	var d *udptest.Drain
	cfg := benchConfig
	cfg.Workers = workers
	e := newEnvPrepared(b, cfg, func(s *Service) {
		d = udptest.NewDrainDone(s.handler, addrOf(marker))
		s.handler = d
		s.afterChunk = d.Done
		if noPublish {
			noPublishing(s)
		}
	})
	clients := make([]*client, benchSessions)
	for i := range clients {
		clients[i] = e.newClient(uint64(i + 1))
		clients[i].handshake()
	}
	before := counter(b, e.svc.m.inputs)
	rate := drain(b, d, marker, e.svc.Addr(), clients)
	e.svc.batch.flush(true)
	if got := counter(b, e.svc.m.inputs) - before; got != float64(b.N) {
		b.Fatalf("%v of %d inputs forwarded", got, b.N)
	}
	if bareRate > 0 {
		b.ReportMetric(rate/bareRate, "ratio")
	}
}

// drain runs udptest.RunDrain with sealed inputs of clients sent from their
// sockets, round robin.
func drain(b *testing.B, d *udptest.Drain, marker *net.UDPConn, to netip.AddrPort, clients []*client) float64 {
	seqs := make([]uint64, len(clients))
	ping := make([]byte, 1)
	buf := make([]byte, 0, 128)
	next := 0
	return udptest.RunDrain(b, d, func() error {
		_, err := marker.WriteToUDPAddrPort(ping, to)
		return err
	}, udptest.DrainRound, func(k int) {
		for range k {
			c := clients[next]
			seqs[next]++
			buf = c.appendInput(buf[:0], seqs[next])
			if _, err := c.conn.WriteToUDPAddrPort(buf, to); err != nil {
				b.Fatal(err)
			}
			next = (next + 1) % len(clients)
		}
	})
}

func listenMarker(b *testing.B) *net.UDPConn {
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return c
}

func addrOf(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

func mustKey(b *testing.B) wire.Key {
	k, err := wire.NewKey()
	if err != nil {
		b.Fatal(err)
	}
	return k
}
