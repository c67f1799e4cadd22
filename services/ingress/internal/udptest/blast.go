package udptest

import (
	"fmt"
	"net"
	"net/netip"
)

// Blaster is a set of client UDP sockets on 127.0.0.1.
type Blaster struct {
	conns []*net.UDPConn
}

// NewBlaster opens n sockets on 127.0.0.1:0.
func NewBlaster(n int) (*Blaster, error) {
	b := &Blaster{}
	for range n {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("udptest: listen: %w", err)
		}
		b.conns = append(b.conns, c)
	}
	return b, nil
}

// Conns returns the sockets, one per sender.
func (b *Blaster) Conns() []*net.UDPConn { return b.conns }

// Addr returns the local address of sender i.
func (b *Blaster) Addr(i int) netip.AddrPort {
	return b.conns[i].LocalAddr().(*net.UDPAddr).AddrPort()
}

// Close closes every socket.
func (b *Blaster) Close() {
	for _, c := range b.conns {
		_ = c.Close()
	}
}
