package client

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"

	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// Register creates an account and returns its id, once the server has
// stored it durably. Refusals are *ServerError: INVALID_NAME,
// INVALID_PASSWORD, NAME_TAKEN, RATE_LIMITED.
func (c *Conn) Register(ctx context.Context, name, password string) (uint64, error) {
	r, err := c.roundTrip(ctx, &realmv1.ClientMessage{Body: &realmv1.ClientMessage_Register{
		Register: &realmv1.RegisterRequest{Name: name, Password: password},
	}})
	if err != nil {
		return 0, fmt.Errorf("client: register: %w", err)
	}
	rr := r.GetRegister()
	if rr == nil {
		return 0, fmt.Errorf("client: register: %w: reply %T", ErrProtocol, r.GetBody())
	}
	return rr.GetAccountId(), nil
}

// Login logs in and returns the session: its ids, connect token and UDP
// keys. Refusals are *ServerError: INVALID_CREDENTIALS (unknown name and
// wrong password alike), RATE_LIMITED, ALREADY_LOGGED_IN. A successful login
// kicks any other live session of the account.
func (c *Conn) Login(ctx context.Context, name, password string) (*Session, error) {
	r, err := c.roundTrip(ctx, &realmv1.ClientMessage{Body: &realmv1.ClientMessage_Login{
		Login: &realmv1.LoginRequest{Name: name, Password: password},
	}})
	if err != nil {
		return nil, fmt.Errorf("client: login: %w", err)
	}
	lr := r.GetLogin()
	if lr == nil {
		return nil, fmt.Errorf("client: login: %w: reply %T", ErrProtocol, r.GetBody())
	}
	s, err := newSession(c, lr, time.Now())
	if err != nil {
		return nil, fmt.Errorf("client: login: %w", err)
	}
	c.mu.Lock()
	c.sess = s
	c.mu.Unlock()
	c.wakeKeeper()
	c.log.Debug("logged in", zap.Uint64("session", s.SessionID), zap.Uint64("account", s.AccountID), zap.Strings("ingress", s.IngressAddrs))
	return s, nil
}

// RefreshToken asks for a new connect token for the session (same session
// and keys, later expiry), so that a later handshake still succeeds. The Conn
// calls it by itself before the token expires (Config.RefreshBefore).
func (c *Conn) RefreshToken(ctx context.Context) error {
	r, err := c.roundTrip(ctx, &realmv1.ClientMessage{Body: &realmv1.ClientMessage_RefreshToken{
		RefreshToken: &realmv1.RefreshTokenRequest{},
	}})
	if err != nil {
		return fmt.Errorf("client: refresh token: %w", err)
	}
	rr := r.GetRefreshToken()
	s := c.Session()
	if rr == nil || s == nil || len(rr.GetConnectToken()) == 0 {
		return fmt.Errorf("client: refresh token: %w: reply %T", ErrProtocol, r.GetBody())
	}
	s.setToken(rr.GetConnectToken(), rr.GetTokenExpiresUnixMs(), time.Now())
	c.wakeKeeper()
	return nil
}

// Ping measures the round-trip time of a ping over the TLS connection.
func (c *Conn) Ping(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	r, err := c.roundTrip(ctx, &realmv1.ClientMessage{Body: &realmv1.ClientMessage_Ping{
		Ping: &realmv1.Ping{ClientTimeUnixNs: start.UnixNano()},
	}})
	if err != nil {
		return 0, fmt.Errorf("client: ping: %w", err)
	}
	if r.GetPong() == nil {
		return 0, fmt.Errorf("client: ping: %w: reply %T", ErrProtocol, r.GetBody())
	}
	return time.Since(start), nil
}

// Logout ends the session gracefully: it waits for the server's Logout
// reply and its close_notify (or for ctx to end), then closes the
// connection as Close does. Afterwards Err is ErrLoggedOut.
func (c *Conn) Logout(ctx context.Context) error {
	r, err := c.roundTrip(ctx, &realmv1.ClientMessage{Body: &realmv1.ClientMessage_Logout{
		Logout: &realmv1.LogoutRequest{},
	}})
	if err != nil {
		return fmt.Errorf("client: logout: %w", err)
	}
	if r.GetLogout() == nil {
		return fmt.Errorf("client: logout: %w: reply %T", ErrProtocol, r.GetBody())
	}
	// The reader closes the socket when the server's close_notify arrives;
	// wait for that, so that our close_notify answers it.
	select {
	case <-c.readDone:
	case <-ctx.Done():
	}
	return c.Close()
}
