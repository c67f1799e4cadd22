//go:build !unix

package udpserver

import (
	"errors"
	"fmt"
)

// SocketBuffers is not implemented on this platform: it returns an error
// wrapping errors.ErrUnsupported.
func (s *Server) SocketBuffers() (read, write int, err error) {
	return 0, 0, fmt.Errorf("udpserver: socket buffers: %w", errors.ErrUnsupported)
}
