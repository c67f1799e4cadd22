package wire

import "errors"

// Errors returned by this package. They are returned bare (not wrapped) on the
// packet paths so that rejecting a packet allocates nothing; test them with
// errors.Is.
var (
	// ErrInvalidKey means a key is not 64 hexadecimal characters or is all
	// zeros (an unset key must not pass for a configured one).
	ErrInvalidKey = errors.New("wire: invalid key")

	// ErrTruncated means a packet is shorter than its header plus tag.
	ErrTruncated = errors.New("wire: packet truncated")
	// ErrUnknownType means the packet type byte is not one of the PacketType
	// constants.
	ErrUnknownType = errors.New("wire: unknown packet type")
	// ErrWrongType means a known packet type was given to the wrong function:
	// a handshake to OpenPacket or SealPacket, a data packet to OpenHandshake.
	ErrWrongType = errors.New("wire: wrong packet type")
	// ErrTooLarge means a packet would be, or is, larger than MaxPacketSize.
	ErrTooLarge = errors.New("wire: packet too large")
	// ErrAuth means a packet or a handshake request failed authentication:
	// wrong key, or modified in transit.
	ErrAuth = errors.New("wire: packet authentication failed")

	// ErrTokenSize means a connect token is not exactly TokenSize bytes.
	ErrTokenSize = errors.New("wire: bad connect token size")
	// ErrTokenVersion means a connect token has a version other than
	// TokenVersion.
	ErrTokenVersion = errors.New("wire: unsupported connect token version")
	// ErrTokenExpired means a connect token's expiry is not after now (or,
	// when sealing, is before the Unix epoch).
	ErrTokenExpired = errors.New("wire: connect token expired")
	// ErrTokenInvalid means a connect token failed authentication: forged,
	// modified, or sealed with another token key.
	ErrTokenInvalid = errors.New("wire: connect token invalid")
	// ErrZeroSession means a connect token was asked to carry session id 0,
	// which is reserved for "no session".
	ErrZeroSession = errors.New("wire: session id 0 is reserved")

	// ErrHandshakeTooSmall means a handshake request is shorter than
	// MinHandshakeSize.
	ErrHandshakeTooSmall = errors.New("wire: handshake request too small")
	// ErrMalformed means a handshake request has a bad length field, nonzero
	// padding, or a UdpHandshake that is not valid protobuf.
	ErrMalformed = errors.New("wire: malformed handshake request")
	// ErrSessionMismatch means the session id in a handshake request differs
	// from the one sealed in its connect token: a token of another session.
	ErrSessionMismatch = errors.New("wire: handshake session does not match token")

	// ErrReplayed means a sequence was already accepted.
	ErrReplayed = errors.New("wire: replayed packet")
	// ErrTooOld means a sequence is ReplayWindowSize or more behind the
	// highest accepted one, so the window can no longer tell.
	ErrTooOld = errors.New("wire: packet too old")
)
