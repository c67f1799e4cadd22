package udpserver

import "net"

// FromConn is temporary.
func FromConn(c *net.UDPConn, cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return newServer(c, cfg)
}
