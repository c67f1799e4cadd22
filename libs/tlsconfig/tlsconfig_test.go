package tlsconfig

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// echoServer accepts TLS connections on 127.0.0.1, writes one byte after the
// handshake (so that TLS 1.3 clients receive their session tickets) and closes.
// It returns the address; the listener is closed in t.Cleanup.
func echoServer(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.Write([]byte{1}); err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, c) // until the client closes
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// dial connects, completes the handshake, reads the server's byte and returns
// the connection state.
func dial(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	d := &net.Dialer{Timeout: 10 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return tls.ConnectionState{}, err
	}
	return c.ConnectionState(), nil
}

func devServer(t *testing.T, allow12 bool) (DevCert, string) {
	t.Helper()
	dc, err := EnsureDevCert(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	scfg, err := Server(ServerConfig{CertFile: dc.CertFile, KeyFile: dc.KeyFile, AllowTLS12: allow12})
	if err != nil {
		t.Fatal(err)
	}
	return dc, echoServer(t, scfg)
}

func TestHandshakeAndResumption(t *testing.T) {
	dc, addr := devServer(t, false)
	for _, host := range []string{"localhost", "127.0.0.1"} {
		t.Run(host, func(t *testing.T) {
			ccfg, err := Client(dc.CAFile, host)
			if err != nil {
				t.Fatal(err)
			}
			st, err := dial(addr, ccfg)
			if err != nil {
				t.Fatal(err)
			}
			if st.Version != tls.VersionTLS13 {
				t.Fatalf("version %x, want TLS 1.3", st.Version)
			}
			if st.DidResume {
				t.Fatal("first connection resumed")
			}
			st, err = dial(addr, ccfg)
			if err != nil {
				t.Fatal(err)
			}
			if !st.DidResume {
				t.Fatal("second connection with the same client config did not resume")
			}
		})
	}
}

func TestClientRejectsWrongNameAndCA(t *testing.T) {
	dc, addr := devServer(t, false)
	other, err := EnsureDevCert(t.TempDir(), nil) // a different CA
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ca, server string
	}{
		{"wrong CA", other.CAFile, "localhost"},
		{"wrong name", dc.CAFile, "example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ccfg, err := Client(tc.ca, tc.server)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dial(addr, ccfg); err == nil {
				t.Fatal("handshake succeeded, want a verification error")
			}
		})
	}
}

func TestTLS12(t *testing.T) {
	tests := []struct {
		name    string
		allow12 bool
		suites  []uint16
		wantOK  bool
	}{
		{"refused by default", false, nil, false},
		{"accepted with AllowTLS12", true, nil, true},
		{"CBC refused with AllowTLS12", true, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dc, addr := devServer(t, tc.allow12)
			ccfg, err := Client(dc.CAFile, "localhost")
			if err != nil {
				t.Fatal(err)
			}
			ccfg.MinVersion = tls.VersionTLS12
			ccfg.MaxVersion = tls.VersionTLS12
			ccfg.CipherSuites = tc.suites
			st, err := dial(addr, ccfg)
			if tc.wantOK {
				if err != nil {
					t.Fatal(err)
				}
				if st.Version != tls.VersionTLS12 {
					t.Fatalf("version %x, want TLS 1.2", st.Version)
				}
			} else if err == nil {
				t.Fatalf("TLS 1.2 handshake succeeded with suite %s", tls.CipherSuiteName(st.CipherSuite))
			}
		})
	}
}

func TestServerErrors(t *testing.T) {
	dc, err := EnsureDevCert(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  ServerConfig
		is   error
	}{
		{"zero", ServerConfig{}, ErrNoCertificate},
		{"no key", ServerConfig{CertFile: dc.CertFile}, ErrNoCertificate},
		{"missing file", ServerConfig{CertFile: dc.CertFile, KeyFile: filepath.Join(t.TempDir(), "nope.pem")}, os.ErrNotExist},
		{"key is a cert", ServerConfig{CertFile: dc.CertFile, KeyFile: dc.CAFile}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Server(tc.cfg)
			if err == nil || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
		})
	}
}

func TestClientErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Client(garbage, "localhost"); !errors.Is(err, ErrNoCACertificates) {
		t.Fatalf("garbage CA: err = %v, want ErrNoCACertificates", err)
	}
	if _, err := Client(filepath.Join(dir, "missing.pem"), "localhost"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing CA: err = %v, want os.ErrNotExist", err)
	}
	c, err := Client("", "example.com")
	if err != nil || c.RootCAs != nil || c.MinVersion != tls.VersionTLS13 {
		t.Fatalf("system roots config: %+v, %v", c, err)
	}
}
