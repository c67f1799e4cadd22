package udpserver

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// received is what a recording handler saw.
type received struct {
	p    []byte
	from netip.AddrPort
}

// recorder is a Handler that copies every packet into a channel.
type recorder chan received

func (r recorder) HandlePacket(p []byte, from netip.AddrPort) {
	r <- received{p: bytes.Clone(p), from: from}
}

// start listens on addr with cfg, serves h in a goroutine and stops both in
// t.Cleanup, checking that Serve returned nil.
func start(t *testing.T, addr string, cfg Config, h Handler) *Server {
	t.Helper()
	s, err := Listen(addr, cfg)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(h) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after Close")
		}
	})
	return s
}

func dial(t *testing.T, network, addr string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr)))
	if err != nil {
		t.Skipf("no %s socket on %s: %v", network, addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func localAddr(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

func recv(t *testing.T, r recorder) received {
	t.Helper()
	select {
	case m := <-r:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no packet delivered")
		return received{}
	}
}

// readModes runs a test with batched reads (where available) and with one
// read per datagram.
var readModes = []struct {
	name  string
	batch int
}{
	{"batched", 0},
	{"single", 1},
}

func TestDelivery(t *testing.T) {
	for _, mode := range readModes {
		t.Run(mode.name, func(t *testing.T) {
			rec := make(recorder, 100)
			s := start(t, "127.0.0.1:0", Config{BatchSize: mode.batch, MaxPacketSize: 100}, rec)
			if got, want := s.Batched(), mode.batch != 1 && batchSupported; got != want {
				t.Errorf("Batched() = %v, want %v", got, want)
			}
			c := dial(t, "udp4", "127.0.0.1:0")
			packets := [][]byte{[]byte("a"), bytes.Repeat([]byte{7}, 100), bytes.Repeat([]byte{8}, 101), []byte("last")}
			for _, p := range packets {
				if _, err := c.WriteToUDPAddrPort(p, s.LocalAddr()); err != nil {
					t.Fatal(err)
				}
			}
			// The 101-byte datagram exceeds MaxPacketSize and is dropped.
			for _, want := range [][]byte{packets[0], packets[1], packets[3]} {
				m := recv(t, rec)
				if !bytes.Equal(m.p, want) {
					t.Errorf("got %d bytes %q..., want %d bytes", len(m.p), m.p[:min(4, len(m.p))], len(want))
				}
				if m.from != localAddr(c) {
					t.Errorf("from = %v, want %v", m.from, localAddr(c))
				}
			}
			st := s.Stats()
			if st.PacketsIn != 4 || st.Oversize != 1 || st.BytesIn != 1+100+101+4 {
				t.Errorf("stats = %+v, want 4 in, 1 oversize, 206 bytes", st)
			}
		})
	}
}

func TestWriteTo(t *testing.T) {
	// An echo server built on WriteTo.
	var s *Server
	var mu sync.Mutex
	echo := HandlerFunc(func(p []byte, from netip.AddrPort) {
		mu.Lock()
		srv := s
		mu.Unlock()
		if err := srv.WriteTo(p, from); err != nil {
			t.Errorf("WriteTo: %v", err)
		}
	})
	srv, err := Listen("127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	s = srv
	mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(echo) }()
	defer func() {
		_ = srv.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	c := dial(t, "udp4", "127.0.0.1:0")
	if _, err := c.WriteToUDPAddrPort([]byte("ping"), srv.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 16)
	n, from, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if string(buf[:n]) != "ping" || from != srv.LocalAddr() {
		t.Errorf("echo = %q from %v, want ping from %v", buf[:n], from, srv.LocalAddr())
	}
	// WriteTo counts after its write returns, which may be after the echo
	// arrived here: poll.
	deadline := time.Now().Add(5 * time.Second)
	st := srv.Stats()
	for st.PacketsOut == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		st = srv.Stats()
	}
	if st.PacketsOut != 1 || st.BytesOut != 4 {
		t.Errorf("stats = %+v, want 1 packet and 4 bytes out", st)
	}
}

func TestDualStackUnmaps(t *testing.T) {
	for _, mode := range readModes {
		t.Run(mode.name, func(t *testing.T) {
			probe, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv6unspecified})
			if err != nil {
				t.Skipf("no dual-stack socket: %v", err)
			}
			_ = probe.Close()
			rec := make(recorder, 1)
			s := start(t, "[::]:0", Config{BatchSize: mode.batch}, rec)
			c := dial(t, "udp4", "127.0.0.1:0")
			to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), s.LocalAddr().Port())
			if _, err := c.WriteToUDPAddrPort([]byte("x"), to); err != nil {
				t.Fatal(err)
			}
			m := recv(t, rec)
			if m.from != localAddr(c) || !m.from.Addr().Is4() {
				t.Errorf("from = %v, want the plain IPv4 %v", m.from, localAddr(c))
			}
			// A reply to the unmapped address goes out through the
			// dual-stack socket.
			if err := s.WriteTo([]byte("y"), m.from); err != nil {
				t.Errorf("WriteTo(%v): %v", m.from, err)
			}
		})
	}
}

func TestIPv6(t *testing.T) {
	for _, mode := range readModes {
		t.Run(mode.name, func(t *testing.T) {
			c := dial(t, "udp6", "[::1]:0")
			rec := make(recorder, 1)
			s := start(t, "[::1]:0", Config{BatchSize: mode.batch}, rec)
			if _, err := c.WriteToUDPAddrPort([]byte("v6"), s.LocalAddr()); err != nil {
				t.Fatal(err)
			}
			if m := recv(t, rec); m.from != localAddr(c) {
				t.Errorf("from = %v, want %v", m.from, localAddr(c))
			}
		})
	}
}

func TestServeErrors(t *testing.T) {
	s, err := Listen("127.0.0.1:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(nil); !errors.Is(err, ErrNilHandler) {
		t.Errorf("Serve(nil) = %v, want ErrNilHandler", err)
	}
	done := make(chan error, 1)
	nop := HandlerFunc(func([]byte, netip.AddrPort) {})
	go func() { done <- s.Serve(nop) }()
	// Wait until the first Serve owns the loop.
	deadline := time.Now().Add(5 * time.Second)
	for !s.serving.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if err := s.Serve(nop); !errors.Is(err, ErrServing) {
		t.Errorf("second Serve = %v, want ErrServing", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve after Close = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if !s.Closed() {
		t.Error("Closed() = false after Close")
	}
	if err := s.WriteTo([]byte("x"), s.LocalAddr()); err == nil {
		t.Error("WriteTo after Close succeeded")
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want Config
		err  bool
	}{
		{"zero", Config{}, Config{ReadBuffer: 4 << 20, WriteBuffer: 4 << 20, BatchSize: 64, MaxPacketSize: 1500}, false},
		{"set", Config{ReadBuffer: 1, WriteBuffer: 2, BatchSize: 3, MaxPacketSize: 4}, Config{ReadBuffer: 1, WriteBuffer: 2, BatchSize: 3, MaxPacketSize: 4}, false},
		{"negative", Config{ReadBuffer: -1}, Config{}, true},
		{"batch too large", Config{BatchSize: 1025}, Config{}, true},
		{"packet too large", Config{MaxPacketSize: 65536}, Config{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cfg.withDefaults()
			if tc.err {
				if !errors.Is(err, ErrConfig) {
					t.Errorf("err = %v, want ErrConfig", err)
				}
				if _, err := Listen("127.0.0.1:0", tc.cfg); !errors.Is(err, ErrConfig) {
					t.Errorf("Listen err = %v, want ErrConfig", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("withDefaults = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	if _, err := Listen("not an address", Config{}); err == nil {
		t.Error("Listen on a bad address succeeded")
	}
}

func TestSocketBuffers(t *testing.T) {
	s, err := Listen("127.0.0.1:0", Config{ReadBuffer: 256 << 10, WriteBuffer: 128 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, w, err := s.SocketBuffers()
	if err != nil {
		t.Skipf("SocketBuffers: %v", err)
	}
	// The kernel may cap or double the request, but it reports something.
	if r <= 0 || w <= 0 {
		t.Errorf("SocketBuffers = %d, %d; want positive sizes", r, w)
	}
}

// TestReadAllocs checks that the steady-state read path does not allocate.
func TestReadAllocs(t *testing.T) {
	for _, mode := range readModes {
		t.Run(mode.name, func(t *testing.T) {
			s, err := Listen("127.0.0.1:0", Config{BatchSize: mode.batch})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			c := dial(t, "udp4", "127.0.0.1:0")
			p := []byte("0123456789")
			allocs := testing.AllocsPerRun(200, func() {
				if _, err := c.WriteToUDPAddrPort(p, s.LocalAddr()); err != nil {
					t.Fatal(err)
				}
				n, err := s.r.read(s.msgs)
				if err != nil || n < 1 || s.msgs[0].from != localAddr(c) {
					t.Fatalf("read = %d, %v, from %v", n, err, s.msgs[0].from)
				}
			})
			if allocs != 0 {
				t.Errorf("read allocates %.1f times per datagram, want 0", allocs)
			}
		})
	}
}

// batchRecorder records each datagram's length, and -1 for each EndBatch.
type batchRecorder chan int

func (r batchRecorder) HandlePacket(p []byte, _ netip.AddrPort) { r <- len(p) }
func (r batchRecorder) EndBatch()                               { r <- -1 }

func TestEndBatch(t *testing.T) {
	const packets = 100
	for _, mode := range readModes {
		t.Run(mode.name, func(t *testing.T) {
			s, err := Listen("127.0.0.1:0", Config{BatchSize: mode.batch})
			if err != nil {
				t.Fatal(err)
			}
			// Queue every datagram before the loop starts, so that batched
			// reads find several at once.
			c := dial(t, "udp4", "127.0.0.1:0")
			for i := range packets {
				if _, err := c.WriteToUDPAddrPort(make([]byte, 1+i%7), s.LocalAddr()); err != nil {
					t.Fatal(err)
				}
			}
			rec := make(batchRecorder, 2*packets+1)
			done := make(chan error, 1)
			go func() { done <- s.Serve(rec) }()
			defer func() {
				_ = s.Close()
				if err := <-done; err != nil {
					t.Errorf("Serve: %v", err)
				}
			}()

			limit := s.cfg.BatchSize
			if !s.Batched() {
				limit = 1
			}
			got, ends, inBatch := 0, 0, 0
			for got < packets || inBatch > 0 {
				var ev int
				select {
				case ev = <-rec:
				case <-time.After(5 * time.Second):
					t.Fatalf("%d datagrams and %d batch ends after 5s", got, ends)
				}
				switch {
				case ev == -1:
					if inBatch == 0 {
						t.Fatal("EndBatch after no datagram")
					}
					ends++
					inBatch = 0
				case ev != 1+got%7:
					t.Fatalf("datagram %d has %d bytes, want %d", got, ev, 1+got%7)
				default:
					got++
					inBatch++
					if inBatch > limit {
						t.Fatalf("%d datagrams in one batch, batch size %d", inBatch, limit)
					}
				}
			}
			if s.Batched() && ends >= packets {
				t.Errorf("%d batch ends for %d queued datagrams: reads are not batched", ends, packets)
			}
			if !s.Batched() && ends != packets {
				t.Errorf("%d batch ends, want one per datagram (%d)", ends, packets)
			}
			if r := s.Stats().Reads; r != uint64(ends) {
				t.Errorf("Stats.Reads = %d, want %d (one EndBatch per read)", r, ends)
			}
		})
	}
}
