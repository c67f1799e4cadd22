package udpserver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

// listenOnly opens a Server that is not serving, for sending; fallback
// makes its WriteBatch use the portable path.
func listenOnly(t testing.TB, addr string, fallback bool) *Server {
	t.Helper()
	s, err := Listen(addr, Config{})
	if err != nil {
		t.Skipf("Listen(%s): %v", addr, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if (s.w != nil) != batchSupported {
		t.Fatalf("batch writer present = %v, want %v", s.w != nil, batchSupported)
	}
	if fallback {
		s.w = nil
	}
	return s
}

// readAll reads want datagrams from c, failing after a deadline.
func readAll(t *testing.T, c *net.UDPConn, want int) []string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	var got []string
	for len(got) < want {
		n, _, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("read %d of %d: %v", len(got), want, err)
		}
		got = append(got, string(buf[:n]))
	}
	return got
}

func TestWriteBatch(t *testing.T) {
	const clients = 4
	tests := []struct {
		name     string
		addr     string // the server's socket
		fallback bool
		n        int // messages, round robin over the clients
	}{
		{"sendmmsg one call", "127.0.0.1:0", false, 10},
		{"sendmmsg several calls", "127.0.0.1:0", false, 3*64 + 5},
		{"sendmmsg dual stack", "[::]:0", false, 3*64 + 5},
		{"fallback", "127.0.0.1:0", true, 3*64 + 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := listenOnly(t, tc.addr, tc.fallback)
			cs := make([]*net.UDPConn, clients)
			for i := range cs {
				cs[i] = dial(t, "udp4", "127.0.0.1:0")
			}
			msgs := make([]Message, tc.n)
			want := make([][]string, clients)
			var bytes uint64
			for i := range msgs {
				c := i % clients
				p := fmt.Sprintf("msg %d to %d", i, c)
				if i == 7 {
					p = "" // an empty datagram is a datagram
				}
				msgs[i] = Message{Buf: []byte(p), Addr: cs[c].LocalAddr().(*net.UDPAddr).AddrPort()}
				want[c] = append(want[c], p)
				bytes += uint64(len(p))
			}
			n, err := s.WriteBatch(msgs)
			if n != tc.n || err != nil {
				t.Fatalf("WriteBatch = %d, %v; want %d, nil", n, err, tc.n)
			}
			for c := range cs {
				got := readAll(t, cs[c], len(want[c]))
				for i := range got {
					if got[i] != want[c][i] {
						t.Errorf("client %d datagram %d = %q, want %q", c, i, got[i], want[c][i])
					}
				}
			}
			st := s.Stats()
			if st.PacketsOut != uint64(tc.n) || st.BytesOut != bytes || st.WriteErrors != 0 {
				t.Errorf("stats = %+v, want %d packets, %d bytes, 0 errors out", st, tc.n, bytes)
			}
		})
	}
}

func TestWriteBatchErrors(t *testing.T) {
	for _, fallback := range []bool{false, true} {
		t.Run(fmt.Sprintf("fallback=%v", fallback), func(t *testing.T) {
			s := listenOnly(t, "127.0.0.1:0", fallback)
			c := dial(t, "udp4", "127.0.0.1:0")
			to := c.LocalAddr().(*net.UDPAddr).AddrPort()
			msgs := []Message{
				{Buf: make([]byte, 70000), Addr: to},                         // too large: the kernel refuses it
				{Buf: []byte("a"), Addr: to},                                 //
				{Buf: []byte("b"), Addr: netip.AddrPort{}},                   // invalid address
				{Buf: []byte("c"), Addr: to},                                 //
				{Buf: []byte("d"), Addr: netip.MustParseAddrPort("[::1]:9")}, // IPv6 on an IPv4 socket
				{Buf: []byte("e"), Addr: to},                                 //
			}
			n, err := s.WriteBatch(msgs)
			if n != 3 || err == nil {
				t.Fatalf("WriteBatch = %d, %v; want 3 and an error", n, err)
			}
			if got := readAll(t, c, 3); fmt.Sprint(got) != "[a c e]" {
				t.Errorf("received %q, want a c e", got)
			}
			if st := s.Stats(); st.PacketsOut != 3 || st.BytesOut != 3 || st.WriteErrors != 3 {
				t.Errorf("stats = %+v, want 3 packets, 3 bytes, 3 errors", st)
			}

			_ = s.Close()
			n, err = s.WriteBatch(msgs[1:4])
			if n != 0 || !errors.Is(err, net.ErrClosed) {
				t.Errorf("WriteBatch after Close = %d, %v; want 0, net.ErrClosed", n, err)
			}
			if st := s.Stats(); st.WriteErrors != 6 {
				t.Errorf("WriteErrors = %d after Close, want 6", st.WriteErrors)
			}
		})
	}
}

func TestWriteBatchAllocs(t *testing.T) {
	s := listenOnly(t, "127.0.0.1:0", false)
	c := dial(t, "udp4", "127.0.0.1:0")
	to := c.LocalAddr().(*net.UDPAddr).AddrPort()
	msgs := make([]Message, 100)
	for i := range msgs {
		msgs[i] = Message{Buf: make([]byte, 100), Addr: to}
	}
	// The receiver is not read: loopback drops what its buffer cannot hold,
	// without failing the send.
	allocs := testing.AllocsPerRun(50, func() {
		if n, err := s.WriteBatch(msgs); n != len(msgs) || err != nil {
			t.Fatalf("WriteBatch = %d, %v", n, err)
		}
	})
	if allocs != 0 {
		t.Errorf("WriteBatch allocates %.1f times per call, want 0", allocs)
	}
}
