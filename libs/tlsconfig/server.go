package tlsconfig

import (
	"crypto/tls"
	"errors"
	"fmt"
)

// ErrNoCertificate is returned by Server when CertFile or KeyFile is empty.
var ErrNoCertificate = errors.New("tlsconfig: certificate and key files are required")

// ServerConfig configures Server. CertFile and KeyFile are required; the zero
// value of every other field means the secure default.
type ServerConfig struct {
	// CertFile is a PEM file with the leaf certificate followed by any
	// intermediates.
	CertFile string
	// KeyFile is the PEM private key of the leaf.
	KeyFile string
	// AllowTLS12 accepts TLS 1.2 clients (ECDHE with AEAD suites only).
	// False (the default) means TLS 1.3 only.
	AllowTLS12 bool
}

// tls12Suites are the TLS 1.2 cipher suites allowed with AllowTLS12: forward
// secret key exchange and AEAD only. TLS 1.3 suites are not configurable.
var tls12Suites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// Server loads the key pair and returns a server configuration: TLS 1.3
// minimum (1.2 with AEAD ECDHE suites when AllowTLS12), session tickets on.
func Server(cfg ServerConfig) (*tls.Config, error) {
	if cfg.CertFile == "" || cfg.KeyFile == "" {
		return nil, ErrNoCertificate
	}
	cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tlsconfig: load key pair: %w", err)
	}
	c := &tls.Config{
		Certificates:           []tls.Certificate{cert},
		MinVersion:             tls.VersionTLS13,
		SessionTicketsDisabled: false, // resumption; keys rotated by crypto/tls
	}
	if cfg.AllowTLS12 {
		c.MinVersion = tls.VersionTLS12
		c.CipherSuites = tls12Suites
	}
	return c, nil
}
