package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ErrNoCACertificates is returned by Client when the CA file holds no PEM
// certificate.
var ErrNoCACertificates = errors.New("tlsconfig: no certificates in CA file")

// clientSessionCacheSize is the number of sessions a Client config remembers.
const clientSessionCacheSize = 64

// Client returns a client configuration: TLS 1.3 minimum, trusting only the
// certificates in caFile (the system roots when caFile is empty), verifying
// serverName (when empty, crypto/tls takes the host of the dialled address),
// with an LRU session cache for resumption. Share one config between
// connections to let them resume.
func Client(caFile, serverName string) (*tls.Config, error) {
	c := &tls.Config{
		MinVersion:         tls.VersionTLS13,
		ServerName:         serverName,
		ClientSessionCache: tls.NewLRUClientSessionCache(clientSessionCacheSize),
	}
	if caFile == "" {
		return c, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("tlsconfig: read CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: %s", ErrNoCACertificates, caFile)
	}
	c.RootCAs = pool
	return c, nil
}
