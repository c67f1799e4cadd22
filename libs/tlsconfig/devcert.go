package tlsconfig

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Dev certificate file names inside the directory given to EnsureDevCert.
const (
	DevCAFile   = "ca.pem"
	DevCertFile = "cert.pem"
	DevKeyFile  = "key.pem"
)

// DefaultDevHosts are the names EnsureDevCert certifies when hosts is empty.
var DefaultDevHosts = []string{"localhost", "127.0.0.1", "::1"}

const (
	devValidity = 365 * 24 * time.Hour
	// devRenewBefore: files this close to expiry are replaced.
	devRenewBefore = 24 * time.Hour
	// devBackdate tolerates clock skew between the generating and the
	// verifying process.
	devBackdate = time.Hour
)

// DevCert names the files written by EnsureDevCert.
type DevCert struct {
	// CAFile is the self-signed CA certificate that clients trust.
	CAFile string
	// CertFile is the leaf certificate the server presents.
	CertFile string
	// KeyFile is the leaf's private key (mode 0600).
	KeyFile string
}

// errStale is returned internally when existing dev files cannot be reused.
var errStale = errors.New("stale dev certificate")

// EnsureDevCert makes sure dir holds a development CA and a leaf certificate
// for hosts (DNS names or IP addresses; empty means DefaultDevHosts), creating
// dir (0700) if needed. Valid files are reused; see the package doc.
func EnsureDevCert(dir string, hosts []string) (DevCert, error) {
	if len(hosts) == 0 {
		hosts = DefaultDevHosts
	}
	dc := DevCert{
		CAFile:   filepath.Join(dir, DevCAFile),
		CertFile: filepath.Join(dir, DevCertFile),
		KeyFile:  filepath.Join(dir, DevKeyFile),
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return DevCert{}, fmt.Errorf("tlsconfig: dev cert dir: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return DevCert{}, fmt.Errorf("tlsconfig: lock dev cert dir: %w", err)
	}
	defer unlock()

	now := time.Now()
	if err := checkDevCert(dc, hosts, now); err == nil {
		return dc, nil
	}
	caPEM, certPEM, keyPEM, err := generateDevCert(hosts, now.Add(-devBackdate), now.Add(devValidity))
	if err != nil {
		return DevCert{}, err
	}
	// Each file is replaced atomically. A reader that does not take the lock
	// may briefly see a mixed set; it then fails to load (key and certificate
	// differ, or the chain does not verify) rather than trusting a wrong pair.
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{dc.KeyFile, keyPEM, 0o600},
		{dc.CertFile, certPEM, 0o644},
		{dc.CAFile, caPEM, 0o644},
	} {
		if err := writeFileAtomic(f.path, f.data, f.mode); err != nil {
			return DevCert{}, fmt.Errorf("tlsconfig: write dev cert: %w", err)
		}
	}
	return dc, nil
}

// checkDevCert returns nil when the files in dc exist, the leaf matches its
// key, chains to the CA, covers exactly hosts and is valid for longer than
// devRenewBefore after now.
func checkDevCert(dc DevCert, hosts []string, now time.Time) error {
	pair, err := tls.LoadX509KeyPair(dc.CertFile, dc.KeyFile)
	if err != nil {
		return err
	}
	caPEM, err := os.ReadFile(dc.CAFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return errStale
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return err
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now.Add(devRenewBefore),
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}); err != nil {
		return err
	}
	dns, ips := splitHosts(hosts)
	gotIPs := make([]netip.Addr, 0, len(leaf.IPAddresses))
	for _, ip := range leaf.IPAddresses {
		a, _ := netip.AddrFromSlice(ip)
		gotIPs = append(gotIPs, a.Unmap())
	}
	gotDNS := make([]string, 0, len(leaf.DNSNames))
	for _, n := range leaf.DNSNames {
		gotDNS = append(gotDNS, strings.ToLower(n))
	}
	slices.Sort(gotDNS)
	slices.SortFunc(gotIPs, netip.Addr.Compare)
	if !slices.Equal(dns, gotDNS) || !slices.Equal(ips, gotIPs) {
		return errStale
	}
	return nil
}

// splitHosts returns hosts as sorted, deduplicated DNS names (lower case) and
// IP addresses.
func splitHosts(hosts []string) ([]string, []netip.Addr) {
	var dns []string
	var ips []netip.Addr
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		if a, err := netip.ParseAddr(h); err == nil {
			ips = append(ips, a.Unmap().WithZone(""))
			continue
		}
		dns = append(dns, strings.ToLower(h))
	}
	slices.Sort(dns)
	slices.SortFunc(ips, netip.Addr.Compare)
	return slices.Compact(dns), slices.Compact(ips)
}

// generateDevCert returns PEM encodings of a new CA, a leaf for hosts signed
// by it, and the leaf's PKCS#8 key, all valid from notBefore to notAfter.
func generateDevCert(hosts []string, notBefore, notAfter time.Time) (caPEM, certPEM, keyPEM []byte, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tlsconfig: generate CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          randSerial(),
		Subject:               pkix.Name{Organization: []string{"Realm development"}, CommonName: "Realm development CA"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tlsconfig: create CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tlsconfig: parse CA: %w", err)
	}

	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tlsconfig: generate key: %w", err)
	}
	dns, ips := splitHosts(hosts)
	leafTmpl := &x509.Certificate{
		SerialNumber: randSerial(),
		Subject:      pkix.Name{Organization: []string{"Realm development"}, CommonName: firstOr(dns, "realm-dev")},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     dns,
	}
	for _, a := range ips {
		leafTmpl.IPAddresses = append(leafTmpl.IPAddresses, net.IP(a.AsSlice()))
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tlsconfig: create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("tlsconfig: marshal key: %w", err)
	}
	return pemBlock("CERTIFICATE", caDER), pemBlock("CERTIFICATE", leafDER), pemBlock("PRIVATE KEY", keyDER), nil
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

func randSerial() *big.Int {
	// 128 random bits; rand.Int never fails with crypto/rand.Reader.
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	return n.Add(n, big.NewInt(1))
}

func pemBlock(typ string, der []byte) []byte {
	var b bytes.Buffer
	_ = pem.Encode(&b, &pem.Block{Type: typ, Bytes: der})
	return b.Bytes()
}

// writeFileAtomic writes data to a temporary file in path's directory with
// mode, syncs it and renames it over path.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
