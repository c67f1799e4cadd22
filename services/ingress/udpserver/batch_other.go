//go:build !(linux && (amd64 || arm64))

package udpserver

import "net"

// newBatchReader returns nil: batched reads are implemented for Linux on
// amd64 and arm64 only, elsewhere the loop reads one datagram per call.
func newBatchReader(*net.UDPConn, int) reader { return nil }

// batchWriter is never created here: WriteBatch calls WriteTo per message.
type batchWriter struct{}

func (*batchWriter) write(s *Server, msgs []Message) (int, error) { return s.writeEach(msgs) }

// newBatchWriter returns nil: sendmmsg is used on Linux amd64 and arm64 only.
func newBatchWriter(*net.UDPConn) *batchWriter { return nil }
