//go:build unix

package udpserver

import (
	"fmt"
	"syscall"
)

// SocketBuffers returns the receive and send buffer sizes the kernel granted,
// in bytes, as getsockopt reports them (Linux reports twice the usable size,
// to account for its bookkeeping). Compare with Config.ReadBuffer and
// Config.WriteBuffer to detect a cap such as net.core.rmem_max.
func (s *Server) SocketBuffers() (read, write int, err error) {
	rc, err := s.conn.SyscallConn()
	if err != nil {
		return 0, 0, fmt.Errorf("udpserver: socket buffers: %w", err)
	}
	var rerr, werr error
	cerr := rc.Control(func(fd uintptr) {
		read, rerr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		write, werr = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF)
	})
	for _, e := range []error{cerr, rerr, werr} {
		if e != nil {
			return 0, 0, fmt.Errorf("udpserver: socket buffers: %w", e)
		}
	}
	return read, write, nil
}
