package login

import (
	"bytes"
	"context"
	"errors"
	"time"

	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
	"github.com/ecs-realm/realm/services/login/internal/accounts"
)

// Error texts. INVALID_CREDENTIALS has one text for an unknown name and a
// wrong password: the client must not be able to tell them apart.
const (
	textInvalidCredentials = "invalid name or password"
	textInvalidName        = "name must be 3 to 32 characters of A-Z a-z 0-9 _ -"
	textInvalidPassword    = "password must be 8 to 128 bytes"
	textNameTaken          = "name taken"
	textRateLimited        = "too many attempts, slow down"
	textNotLoggedIn        = "not logged in"
	textAlreadyLoggedIn    = "already logged in"
	textInternal           = "internal error, try again"
	textShuttingDown       = "server shutting down"
	textUnexpected         = "unexpected message"
)

// handle answers one request. It returns a non-zero ending when the
// connection must end.
func (c *conn) handle(base context.Context, m *realmv1.ClientMessage) ending {
	id := m.GetRequestId()
	switch b := m.GetBody().(type) {
	case *realmv1.ClientMessage_Ping:
		return c.reply(&realmv1.ServerMessage{RequestId: id, Body: &realmv1.ServerMessage_Pong{Pong: &realmv1.Pong{
			ClientTimeUnixNs: b.Ping.GetClientTimeUnixNs(),
			ServerTimeUnixNs: time.Now().UnixNano(),
		}}})
	case *realmv1.ClientMessage_Register:
		return c.handleRegister(base, id, b.Register)
	case *realmv1.ClientMessage_Login:
		return c.handleLogin(base, id, b.Login)
	case *realmv1.ClientMessage_RefreshToken:
		return c.handleRefresh(id)
	case *realmv1.ClientMessage_Logout:
		if c.sess == nil {
			return c.reply(errorMsg(id, realmv1.ErrorCode_ERROR_CODE_NOT_LOGGED_IN, textNotLoggedIn))
		}
		if end := c.reply(&realmv1.ServerMessage{RequestId: id, Body: &realmv1.ServerMessage_Logout{
			Logout: &realmv1.LogoutResponse{},
		}}); end.reason != 0 {
			return end
		}
		return ending{reason: realmv1.CloseReason_CLOSE_REASON_LOGOUT}
	default: // no body, or one this server does not know
		c.s.m.frameErrors.WithLabelValues(feUnexpected).Inc()
		return ending{
			reason: realmv1.CloseReason_CLOSE_REASON_PROTOCOL_ERROR,
			final:  errorMsg(id, realmv1.ErrorCode_ERROR_CODE_UNEXPECTED_MESSAGE, textUnexpected),
		}
	}
}

// admit applies what register and login require alike: no login yet on
// this connection, and the per-address attempt limit. When it refuses, it
// returns the metric result, error code and text to answer with.
func (c *conn) admit() (result string, code realmv1.ErrorCode, text string, ok bool) {
	if c.sess != nil {
		return resAlreadyLoggedIn, realmv1.ErrorCode_ERROR_CODE_ALREADY_LOGGED_IN, textAlreadyLoggedIn, false
	}
	if !c.s.limiter.Allow(c.remote.Addr(), time.Now()) {
		return resRateLimited, realmv1.ErrorCode_ERROR_CODE_RATE_LIMITED, textRateLimited, false
	}
	return "", 0, "", true
}

func (c *conn) handleRegister(base context.Context, id uint64, req *realmv1.RegisterRequest) ending {
	s := c.s
	fail := func(result string, code realmv1.ErrorCode, text string) ending {
		s.m.registrations.WithLabelValues(result).Inc()
		return c.reply(errorMsg(id, code, text))
	}
	if res, code, text, ok := c.admit(); !ok {
		return fail(res, code, text)
	}
	ctx, cancel := context.WithTimeout(base, s.cfg.RequestTimeout)
	defer cancel()
	rec, err := s.accounts.Register(ctx, req.GetName(), req.GetPassword())
	switch {
	case errors.Is(err, accounts.ErrInvalidName):
		return fail(resInvalidName, realmv1.ErrorCode_ERROR_CODE_INVALID_NAME, textInvalidName)
	case errors.Is(err, accounts.ErrInvalidPassword):
		return fail(resInvalidPassword, realmv1.ErrorCode_ERROR_CODE_INVALID_PASSWORD, textInvalidPassword)
	case errors.Is(err, accounts.ErrNameTaken):
		return fail(resNameTaken, realmv1.ErrorCode_ERROR_CODE_NAME_TAKEN, textNameTaken)
	case errors.Is(err, context.DeadlineExceeded):
		return fail(resTimeout, realmv1.ErrorCode_ERROR_CODE_INTERNAL, textInternal) // counted, not logged: storms
	case err != nil:
		c.log.Warn("register", zap.Error(err))
		return fail(resError, realmv1.ErrorCode_ERROR_CODE_INTERNAL, textInternal)
	}
	s.m.registrations.WithLabelValues(resOK).Inc()
	c.log.Info("registered", zap.Uint64("account", rec.ID), zap.String("name", rec.Name))
	return c.reply(&realmv1.ServerMessage{RequestId: id, Body: &realmv1.ServerMessage_Register{
		Register: &realmv1.RegisterResponse{AccountId: rec.ID},
	}})
}

func (c *conn) handleLogin(base context.Context, id uint64, req *realmv1.LoginRequest) ending {
	s := c.s
	fail := func(result string, code realmv1.ErrorCode, text string) ending {
		s.m.logins.WithLabelValues(result).Inc()
		return c.reply(errorMsg(id, code, text))
	}
	if res, code, text, ok := c.admit(); !ok {
		return fail(res, code, text)
	}
	ctx, cancel := context.WithTimeout(base, s.cfg.RequestTimeout)
	defer cancel()
	rec, err := s.accounts.Verify(ctx, req.GetName(), req.GetPassword())
	if errors.Is(err, accounts.ErrInvalidCredentials) {
		return fail(resInvalidCredentials, realmv1.ErrorCode_ERROR_CODE_INVALID_CREDENTIALS, textInvalidCredentials)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fail(resTimeout, realmv1.ErrorCode_ERROR_CODE_INTERNAL, textInternal) // counted, not logged: storms
	}
	if err != nil {
		c.log.Warn("login", zap.Error(err))
		return fail(resError, realmv1.ErrorCode_ERROR_CODE_INTERNAL, textInternal)
	}
	sess := &session{accountID: rec.ID}
	if sess.c2s, err = wire.NewKey(); err == nil {
		sess.s2c, err = wire.NewKey()
	}
	if err != nil {
		c.log.Error("session keys", zap.Error(err))
		return fail(resError, realmv1.ErrorCode_ERROR_CODE_INTERNAL, textInternal)
	}
	token, expires, err := c.seal(sess)
	if err != nil {
		c.log.Error("seal token", zap.Error(err))
		return fail(resError, realmv1.ErrorCode_ERROR_CODE_INTERNAL, textInternal)
	}

	// One live session per account: claim presence. Changes of the account
	// seen while the claim is in flight are remembered (link) and compared
	// with its revision (claimed).
	if !s.link(c, rec.ID) {
		return fail(resShuttingDown, realmv1.ErrorCode_ERROR_CODE_SHUTTING_DOWN, textShuttingDown)
	}
	claim, prev, hadPrev, err := s.presence.Claim(ctx, rec.ID, c.sessionID)
	if err != nil {
		s.unlinkAccount(c)
		c.log.Warn("claim presence", zap.Error(err))
		return fail(resError, realmv1.ErrorCode_ERROR_CODE_INTERNAL, textInternal)
	}
	replaced := s.claimed(c, claim.Revision)
	sess.claim = claim
	c.sess = sess
	c.log = c.log.With(zap.Uint64("account", rec.ID))
	s.m.logins.WithLabelValues(resOK).Inc()
	s.m.sessionsOpen.Inc()

	if err := s.nc.Publish(bus.SubjectSessionOpened, &realmv1.SessionOpened{
		SessionId:    c.sessionID,
		AccountId:    rec.ID,
		AccountName:  rec.Name,
		LoginId:      s.cfg.ID,
		OpenedUnixMs: time.Now().UnixMilli(),
	}); err != nil {
		s.m.publishErrors.WithLabelValues(evOpened).Inc()
		c.log.Warn("publish session opened", zap.Error(err))
	}
	fields := []zap.Field{zap.String("name", rec.Name)}
	if hadPrev {
		fields = append(fields, zap.Uint64("replaces", prev.SessionID), zap.String("replaces_on", prev.LoginID))
	}
	c.log.Info("logged in", fields...)
	if replaced {
		// A newer login of this account won while our claim was in flight.
		c.kickConn(realmv1.CloseReason_CLOSE_REASON_REPLACED)
	}
	return c.reply(&realmv1.ServerMessage{RequestId: id, Body: &realmv1.ServerMessage_Login{Login: &realmv1.LoginResponse{
		AccountId:          rec.ID,
		SessionId:          c.sessionID,
		ConnectToken:       token,
		TokenExpiresUnixMs: expires.UnixMilli(),
		ClientToServerKey:  bytes.Clone(sess.c2s[:]),
		ServerToClientKey:  bytes.Clone(sess.s2c[:]),
		IngressAddrs:       s.cfg.IngressAddrs,
		TickRateHz:         s.cfg.TickRateHz,
	}}})
}

func (c *conn) handleRefresh(id uint64) ending {
	if c.sess == nil {
		return c.reply(errorMsg(id, realmv1.ErrorCode_ERROR_CODE_NOT_LOGGED_IN, textNotLoggedIn))
	}
	token, expires, err := c.seal(c.sess)
	if err != nil {
		c.log.Error("seal token", zap.Error(err))
		return c.reply(errorMsg(id, realmv1.ErrorCode_ERROR_CODE_INTERNAL, textInternal))
	}
	c.s.m.refreshes.Inc()
	return c.reply(&realmv1.ServerMessage{RequestId: id, Body: &realmv1.ServerMessage_RefreshToken{
		RefreshToken: &realmv1.RefreshTokenResponse{ConnectToken: token, TokenExpiresUnixMs: expires.UnixMilli()},
	}})
}

// seal makes a connect token for the session, valid for TokenTTL from now.
func (c *conn) seal(sess *session) ([]byte, time.Time, error) {
	expires := time.Now().Add(c.s.cfg.TokenTTL).Truncate(time.Millisecond)
	token, err := c.s.tokens.Seal(make([]byte, 0, wire.TokenSize), wire.ConnectToken{
		SessionID: c.sessionID,
		AccountID: sess.accountID,
		Expires:   expires,
		ClientKey: sess.c2s,
		ServerKey: sess.s2c,
	})
	return token, expires, err
}
