package realm

import (
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
)

// loadRunRate is the login rate (attempts per second per address) below
// which the summary warns that a load run from one machine will be throttled.
const loadRunRate = 100

// WriteSummary writes, for a human, where the realm listens and how to
// connect to it: the login and ingress addresses, the NATS URL, the CA file,
// the token key file, the metrics address, and a tools/loadgen command line
// for this realm. The services/realm binary prints it at start; the flags it
// suggests are that binary's.
func (r *Realm) WriteSummary(w io.Writer) error {
	var b strings.Builder
	loginAddr := r.DialLoginAddr()
	b.WriteString("Realm is running.\n")
	fmt.Fprintf(&b, "  login (TLS over TCP)  %s\n", loginAddr)
	fmt.Fprintf(&b, "  ingress (UDP)         %s", r.IngressAddr())
	if adv := strings.Join(r.publicAddrs, ","); adv != r.IngressAddr().String() {
		fmt.Fprintf(&b, " (clients are told %s)", adv)
	}
	b.WriteString("\n")
	if r.Embedded() {
		fmt.Fprintf(&b, "  NATS                  %s (embedded, JetStream in %s)\n", r.natsURL, abs(filepath.Join(r.cfg.DataDir, "nats")))
	} else {
		fmt.Fprintf(&b, "  NATS                  %s (external)\n", r.natsURL)
	}
	ca := r.CAFile()
	if ca != "" {
		ca = abs(ca)
		fmt.Fprintf(&b, "  CA certificate        %s (development; clients trust this file)\n", ca)
	}
	if r.keyFile != "" {
		created := ""
		if r.keyCreated {
			created = " (created now)"
		}
		fmt.Fprintf(&b, "  token key             %s%s: give it to separately run login and ingress with --token-key-file\n", abs(r.keyFile), created)
	}
	if m := r.MetricsAddr(); m != "" {
		fmt.Fprintf(&b, "  metrics               http://%s/metrics  /healthz  /readyz\n", m)
	}
	fmt.Fprintf(&b, "  tick rate             %d Hz\n\n", r.cfg.TickRate)

	b.WriteString("Load test it:\n  go run ./tools/loadgen --login-addr " + loginAddr)
	if ca != "" {
		b.WriteString(" --ca-file " + ca)
	}
	b.WriteString(" --players 50 --duration 30s\n")
	if rate, burst := r.loginRate(); rate < loadRunRate {
		fmt.Fprintf(&b, "  (login attempts are limited to %g/s per client address, burst %d: for a load run from one machine,\n"+
			"   start the realm with --login-rate 1000 --login-burst 1000 --dev-fast-hash)\n", rate, burst)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// DialLoginAddr is the login address a client on this machine dials: the
// listener's, with a wildcard host replaced by loopback.
func (r *Realm) DialLoginAddr() string {
	if a, ok := r.login.Addr().(*net.TCPAddr); ok {
		return dialable(a.AddrPort()).String()
	}
	return r.login.Addr().String()
}

// abs returns path made absolute, or path itself if that fails.
func abs(path string) string {
	if a, err := filepath.Abs(path); err == nil {
		return a
	}
	return path
}
