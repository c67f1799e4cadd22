package udpserver

import "net/netip"

// Handler processes the datagrams a Server receives: the protocol side of the
// socket.
type Handler interface {
	// HandlePacket is called once per received datagram, by the goroutine
	// running Serve, one call at a time. p is the datagram; it is valid only
	// during the call and may be modified in place. from is the sender's
	// address in canonical form (IPv4-mapped IPv6 addresses are unmapped).
	// HandlePacket must not block: the next datagrams wait behind it.
	HandlePacket(p []byte, from netip.AddrPort)
}

// BatchHandler is a Handler that also wants to know where each read ends. A
// handler that defers work per datagram (collects it, hands it to other
// goroutines) uses EndBatch to do that work once per read system call
// instead of once per datagram.
type BatchHandler interface {
	Handler
	// EndBatch is called by the Serve goroutine after the HandlePacket calls
	// for the datagrams of one read (up to Config.BatchSize of them), before
	// the loop reads again, so possibly before it blocks waiting for more.
	// It is not called for a read that delivered no datagram to the handler
	// (all oversize).
	EndBatch()
}

// HandlerFunc adapts a function to the Handler interface.
type HandlerFunc func(p []byte, from netip.AddrPort)

// HandlePacket calls f(p, from).
func (f HandlerFunc) HandlePacket(p []byte, from netip.AddrPort) { f(p, from) }
