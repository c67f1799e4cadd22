package client

import (
	"crypto/tls"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/tlsconfig"
)

// Defaults of Config's zero values.
const (
	DefaultHandshakeTimeout  = 10 * time.Second
	DefaultHandshakeRetry    = 250 * time.Millisecond
	DefaultPingInterval      = 15 * time.Second
	DefaultKeepAliveInterval = time.Second
	DefaultSilenceTimeout    = 3 * time.Second
	DefaultSnapshotBuffer    = 4
)

// Config configures Dial and everything made from the Conn. Only LoginAddr is
// required; every other zero value means the documented default.
type Config struct {
	// LoginAddr is the login server's TCP host:port. Required.
	LoginAddr string
	// TLS is the client TLS configuration. Nil means tlsconfig.Client(CAFile,
	// ""): TLS 1.3, trusting CAFile, verifying the host of LoginAddr. Share
	// one config between many Conns to let them resume TLS sessions.
	TLS *tls.Config
	// CAFile is the PEM CA certificate to trust when TLS is nil. Empty
	// means the system roots.
	CAFile string
	// Logger receives connection lifecycle messages at debug level and
	// failures of background work (token refresh) at warn; never one per
	// packet. Nil means no logging.
	Logger *zap.Logger

	// HandshakeTimeout bounds one UDP handshake (JoinUDP, Rebind), shared
	// equally between the ingress addresses tried. Zero means 10s.
	HandshakeTimeout time.Duration
	// HandshakeRetry is the interval between handshake attempts, each with
	// a new sequence. Zero means 250ms.
	HandshakeRetry time.Duration
	// PingInterval: the Conn pings the server when it sent nothing for about
	// this long, and treats a ping unanswered for as long as a dead
	// connection. Zero means 15s; negative disables the keep-alive pings.
	PingInterval time.Duration
	// RefreshBefore is how long before the connect token expires the Conn
	// refreshes it. Zero means a quarter of the token's lifetime; negative
	// disables the automatic refresh (RefreshToken still works).
	RefreshBefore time.Duration
	// KeepAliveInterval: a UDP sends a KeepAlive packet when no packet left
	// it for this long, so the ingress does not unbind an idle endpoint.
	// Zero means 1s.
	KeepAliveInterval time.Duration
	// SilenceTimeout: when nothing authentic (a snapshot or an ack) has
	// arrived on a UDP for this long, it handshakes again from its socket.
	// An ingress that restarted has forgotten the binding and drops every
	// packet until then; one that did not simply acknowledges again. While
	// the realm sends no snapshots (no world running), this repeats every
	// SilenceTimeout. Zero means 3s; negative disables it.
	SilenceTimeout time.Duration
	// SnapshotBuffer is the capacity of UDP.Snapshots; when it is full the
	// oldest snapshot is dropped for the new one. Zero means 4.
	SnapshotBuffer int
	// OnSnapshot, if set, takes every authenticated snapshot instead of
	// UDP.Snapshots (which then delivers nothing): plain is the packet's
	// plaintext, an encoded realm.v1.Snapshot the callee decodes as much
	// of as it needs, received when it was read. It runs on the socket's
	// reader goroutine, so nothing is allocated or handed to another
	// goroutine per snapshot; plain is valid only during the call, and the
	// next packet waits until it returns. For clients that play many
	// sessions in one process (the load generator).
	OnSnapshot func(plain []byte, received time.Time)
}

// resolve validates c and fills in its defaults.
func (c Config) resolve() (Config, error) {
	if c.LoginAddr == "" {
		return c, ErrNoLoginAddr
	}
	if c.TLS == nil {
		t, err := tlsconfig.Client(c.CAFile, "")
		if err != nil {
			return c, fmt.Errorf("client: tls config: %w", err)
		}
		c.TLS = t
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.HandshakeRetry <= 0 {
		c.HandshakeRetry = DefaultHandshakeRetry
	}
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.KeepAliveInterval <= 0 {
		c.KeepAliveInterval = DefaultKeepAliveInterval
	}
	if c.SilenceTimeout == 0 {
		c.SilenceTimeout = DefaultSilenceTimeout
	}
	if c.SnapshotBuffer <= 0 {
		c.SnapshotBuffer = DefaultSnapshotBuffer
	}
	return c, nil
}
