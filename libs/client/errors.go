package client

import (
	"errors"
	"fmt"

	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

var (
	// ErrClosed is returned by calls on a Conn or UDP after Close, and by
	// Conn.Err after Close.
	ErrClosed = errors.New("client: closed")
	// ErrLoggedOut is Conn.Err after a successful Logout; the Conn can no
	// longer be used.
	ErrLoggedOut = errors.New("client: logged out")
	// ErrDisconnected wraps the cause when the control connection ends
	// without a kick, a logout or Close: the server closed it, the network
	// failed, or a keep-alive ping went unanswered.
	ErrDisconnected = errors.New("client: disconnected")
	// ErrKicked is matched (errors.Is) by every *KickError.
	ErrKicked = errors.New("client: kicked")
	// ErrProtocol means the server sent a reply that does not fit the
	// request or the protocol (wrong body, bad key size, session id 0).
	ErrProtocol = errors.New("client: protocol violation")
	// ErrHandshakeTimeout means no ingress acknowledged the UDP handshake
	// within Config.HandshakeTimeout.
	ErrHandshakeTimeout = errors.New("client: udp handshake timed out")
	// ErrNoIngress means the login response listed no ingress address.
	ErrNoIngress = errors.New("client: no ingress address")
	// ErrNoLoginAddr means Config.LoginAddr is empty.
	ErrNoLoginAddr = errors.New("client: login address is required")
)

// ServerError is a request the server refused: the Error frame it answered
// with. Get it with errors.As.
type ServerError struct {
	Code    realmv1.ErrorCode
	Message string
}

func (e *ServerError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("client: server error %s", e.Code)
	}
	return fmt.Sprintf("client: server error %s: %s", e.Code, e.Message)
}

// KickError is Conn.Err after the server pushed a Kick: Reason says why
// (REPLACED when the account logged in elsewhere, SHUTDOWN, SLOW_CONSUMER,
// IDLE_TIMEOUT). errors.Is(err, ErrKicked) is true for every KickError.
type KickError struct {
	Reason  realmv1.CloseReason
	Message string
}

func (e *KickError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("client: kicked: %s", e.Reason)
	}
	return fmt.Sprintf("client: kicked: %s: %s", e.Reason, e.Message)
}

// Unwrap makes errors.Is(err, ErrKicked) true.
func (e *KickError) Unwrap() error { return ErrKicked }

// CodeOf returns the ErrorCode of a *ServerError in err's chain, and
// ERROR_CODE_UNSPECIFIED if there is none.
func CodeOf(err error) realmv1.ErrorCode {
	var se *ServerError
	if errors.As(err, &se) {
		return se.Code
	}
	return realmv1.ErrorCode_ERROR_CODE_UNSPECIFIED
}
