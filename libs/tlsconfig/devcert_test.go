package tlsconfig

import (
	"bytes"
	"crypto/tls"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// readAll returns the contents of the three files; a missing file reads as nil.
func readAll(t *testing.T, dc DevCert) [3][]byte {
	t.Helper()
	var out [3][]byte
	for i, p := range []string{dc.CAFile, dc.CertFile, dc.KeyFile} {
		b, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out
}

func TestEnsureDevCertFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs") // created by EnsureDevCert
	dc, err := EnsureDevCert(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := DevCert{filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")}
	if dc != want {
		t.Fatalf("DevCert = %+v, want %+v", dc, want)
	}
	st, err := os.Stat(dc.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if mode := st.Mode().Perm(); mode != 0o600 {
		t.Fatalf("key mode %o, want 600", mode)
	}
	pair, err := tls.LoadX509KeyPair(dc.CertFile, dc.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf := pair.Leaf
	if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "localhost" || len(leaf.IPAddresses) != 2 {
		t.Fatalf("leaf names %v %v, want localhost, 127.0.0.1, ::1", leaf.DNSNames, leaf.IPAddresses)
	}
}

func TestEnsureDevCertReuse(t *testing.T) {
	tests := []struct {
		name      string
		first     []string
		second    []string
		prepare   func(t *testing.T, dir string) // between the two calls
		wantReuse bool
	}{
		{name: "same default hosts", wantReuse: true},
		{name: "same hosts in another order and case", first: []string{"a.example", "10.0.0.1"}, second: []string{"10.0.0.1", "A.example"}, wantReuse: true},
		{name: "explicit defaults equal nil", first: nil, second: []string{"::1", "localhost", "127.0.0.1"}, wantReuse: true},
		{name: "hosts differ", first: nil, second: []string{"localhost"}},
		{name: "host added", first: []string{"localhost"}, second: []string{"localhost", "realm.test"}},
		{name: "expired", prepare: writeExpired},
		{name: "key removed", prepare: func(t *testing.T, dir string) { mustRemove(t, filepath.Join(dir, "key.pem")) }},
		{name: "ca replaced", prepare: func(t *testing.T, dir string) {
			other, err := EnsureDevCert(t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(other.CAFile)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "ca.pem"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			dc, err := EnsureDevCert(dir, tc.first)
			if err != nil {
				t.Fatal(err)
			}
			if tc.prepare != nil {
				tc.prepare(t, dir)
			}
			before := readAll(t, dc)
			dc2, err := EnsureDevCert(dir, tc.second)
			if err != nil {
				t.Fatal(err)
			}
			after := readAll(t, dc2)
			reused := bytes.Equal(before[0], after[0]) && bytes.Equal(before[1], after[1]) && bytes.Equal(before[2], after[2])
			if reused != tc.wantReuse {
				t.Fatalf("reused = %v, want %v", reused, tc.wantReuse)
			}
			if err := checkDevCert(dc2, orDefault(tc.second), time.Now()); err != nil {
				t.Fatalf("files after second call are not valid: %v", err)
			}
		})
	}
}

func orDefault(h []string) []string {
	if len(h) == 0 {
		return DefaultDevHosts
	}
	return h
}

func mustRemove(t *testing.T, p string) {
	t.Helper()
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
}

// writeExpired replaces the files in dir with a set that expired an hour ago.
func writeExpired(t *testing.T, dir string) {
	t.Helper()
	now := time.Now()
	ca, cert, key, err := generateDevCert(DefaultDevHosts, now.Add(-48*time.Hour), now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{"ca.pem": ca, "cert.pem": cert, "key.pem": key} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEnsureDevCertConcurrent(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := EnsureDevCert(dir, nil)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	dc := DevCert{filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")}
	if err := checkDevCert(dc, DefaultDevHosts, time.Now()); err != nil {
		t.Fatalf("concurrent callers left an invalid set: %v", err)
	}
}
