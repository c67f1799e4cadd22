package udpserver

import (
	"fmt"
	"net/netip"
)

// Message is one datagram for WriteBatch: Buf is sent to Addr.
type Message struct {
	Buf  []byte
	Addr netip.AddrPort
}

// WriteBatch sends every message and returns how many were sent. It tries
// each one: a message the kernel refuses (bad address, too large, no route)
// is skipped and the next ones are still sent. Each message not sent counts
// in Stats.WriteErrors, each one sent in PacketsOut and BytesOut, exactly as
// if WriteTo had been called for each, so n plus the errors counted is
// len(msgs). The error describes the first failure; after Close every
// message fails. The sent messages leave in order.
//
// On Linux (amd64, arm64) it sends up to 64 datagrams per sendmmsg(2) call
// and allocates nothing unless a message fails; a message whose address the
// kernel's sockaddr cannot express for this socket (an invalid address, an
// IPv6 address on an IPv4 socket, a zone that is not an interface index) is
// sent alone with WriteTo, which reports the error. Elsewhere it calls
// WriteTo for each message. It is safe for concurrent use; the buffers may
// be reused once it returns.
func (s *Server) WriteBatch(msgs []Message) (int, error) {
	if s.w == nil {
		return s.writeEach(msgs)
	}
	return s.w.write(s, msgs)
}

// writeEach is the portable WriteBatch: one WriteTo per message.
func (s *Server) writeEach(msgs []Message) (int, error) {
	n := 0
	var first error
	for i := range msgs {
		if err := s.WriteTo(msgs[i].Buf, msgs[i].Addr); err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		n++
	}
	return n, first
}

// writeErr is the error of one message refused by the kernel.
func writeErr(to netip.AddrPort, err error) error {
	return fmt.Errorf("udpserver: write to %v: %w", to, err)
}
