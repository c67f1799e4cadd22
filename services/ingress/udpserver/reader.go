package udpserver

import (
	"net"
	"net/netip"
)

// reader fills receive buffers from the socket. Implementations are used by
// the Serve goroutine only.
type reader interface {
	// prepare is called once with the buffers that read will fill.
	prepare(msgs []message)
	// read blocks until at least one datagram arrived, fills msgs[:n] (n,
	// from) and returns n >= 1, or returns an error.
	read(msgs []message) (int, error)
}

// loopReader reads one datagram per system call with ReadMsgUDPAddrPort: the
// portable path, allocation-free since Go 1.18.
type loopReader struct {
	conn *net.UDPConn
}

func (r *loopReader) prepare([]message) {}

func (r *loopReader) read(msgs []message) (int, error) {
	m := &msgs[0]
	n, _, _, from, err := r.conn.ReadMsgUDPAddrPort(m.buf, nil)
	if err != nil {
		return 0, err
	}
	m.n = n
	m.from = canonical(from)
	return 1, nil
}

// canonical unmaps an IPv4-mapped IPv6 address, so that a client has one key
// whether the socket is IPv4 or dual-stack.
func canonical(ap netip.AddrPort) netip.AddrPort {
	if a := ap.Addr(); a.Is4In6() {
		return netip.AddrPortFrom(a.Unmap(), ap.Port())
	}
	return ap
}
