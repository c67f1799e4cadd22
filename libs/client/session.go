package client

import (
	"crypto/cipher"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// Session is a logged-in session: what LoginResponse said, the UDP keys, and
// the connect token, which the Conn keeps fresh. Its exported fields are set
// at login and never change. It is safe for concurrent use.
type Session struct {
	AccountID uint64
	SessionID uint64 // never 0
	// IngressAddrs are the UDP host:port addresses JoinUDP tries, in order.
	IngressAddrs []string
	// TickRateHz is the world's simulation rate.
	TickRateHz uint32

	conn     *Conn
	c2s, s2c cipher.AEAD
	// seq numbers every packet the client sends in this session, handshakes
	// and data alike, on every socket: the ingress keeps one replay window
	// per session.
	seq *wire.Sequence

	mu        sync.Mutex // guards the fields below
	token     []byte     // never mutated in place: replaced whole
	expires   time.Time
	nextFresh time.Time // when the keeper refreshes the token; zero: never
}

// newSession checks a LoginResponse and builds the Session from it.
func newSession(c *Conn, lr *realmv1.LoginResponse, now time.Time) (*Session, error) {
	if lr.GetSessionId() == 0 {
		return nil, fmt.Errorf("%w: session id 0", ErrProtocol)
	}
	if len(lr.GetClientToServerKey()) != wire.KeySize || len(lr.GetServerToClientKey()) != wire.KeySize {
		return nil, fmt.Errorf("%w: session keys are not %d bytes", ErrProtocol, wire.KeySize)
	}
	if len(lr.GetConnectToken()) == 0 {
		return nil, fmt.Errorf("%w: empty connect token", ErrProtocol)
	}
	var c2s, s2c wire.Key
	copy(c2s[:], lr.GetClientToServerKey())
	copy(s2c[:], lr.GetServerToClientKey())
	s := &Session{
		AccountID:    lr.GetAccountId(),
		SessionID:    lr.GetSessionId(),
		IngressAddrs: slices.Clone(lr.GetIngressAddrs()),
		TickRateHz:   lr.GetTickRateHz(),
		conn:         c,
		c2s:          wire.NewAEAD(c2s),
		s2c:          wire.NewAEAD(s2c),
		seq:          wire.NewSequence(now),
	}
	s.setToken(lr.GetConnectToken(), lr.GetTokenExpiresUnixMs(), now)
	return s, nil
}

// Token returns the current connect token and its expiry. The slice must
// not be modified.
func (s *Session) Token() ([]byte, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token, s.expires
}

// setToken installs a token received at now and schedules its refresh.
func (s *Session) setToken(token []byte, expiresUnixMs int64, now time.Time) {
	expires := time.UnixMilli(expiresUnixMs)
	var at time.Time
	if before := s.refreshBefore(expires.Sub(now)); before >= 0 {
		at = expires.Add(-before)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = slices.Clone(token)
	s.expires = expires
	s.nextFresh = at
}

// refreshBefore is how long before expiry a token with this lifetime is
// refreshed, and -1 when automatic refresh is off.
func (s *Session) refreshBefore(lifetime time.Duration) time.Duration {
	if s.conn == nil {
		return -1
	}
	switch b := s.conn.cfg.RefreshBefore; {
	case b < 0:
		return -1
	case b > 0:
		return b
	default:
		return max(lifetime/4, 0)
	}
}

// refreshAt is when the keeper should next refresh the token (zero: never).
func (s *Session) refreshAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nextFresh
}

// retryRefreshAt moves the next automatic refresh to at.
func (s *Session) retryRefreshAt(at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.nextFresh.IsZero() {
		s.nextFresh = at
	}
}
