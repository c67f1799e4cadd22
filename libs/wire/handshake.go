package wire

import (
	"crypto/cipher"
	"encoding/binary"
	"slices"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// Handshake request layout; see the package documentation.
const (
	// MinHandshakeSize is the smallest handshake request, in bytes: padding
	// makes it larger than any answer, so it cannot amplify a flood.
	MinHandshakeSize = 512

	handshakeLenOff  = HeaderSize
	handshakeBodyOff = handshakeLenOff + 2
	// maxHandshakeBody is the largest UdpHandshake that fits a request.
	maxHandshakeBody = MaxPacketSize - handshakeBodyOff - TagSize
)

// UdpHandshake field numbers (proto/realm/v1/udp.proto).
const (
	fieldSessionID    protowire.Number = 1
	fieldConnectToken protowire.Number = 2
)

// Handshake is a verified handshake request.
type Handshake struct {
	Seq       uint64 // the request's sequence: Accept it in the session's replay window
	SessionID uint64
	Token     ConnectToken
}

// AppendHandshake appends a handshake request to dst and returns the
// extended slice: the UdpHandshake{session_id, connect_token} message, zero
// padding up to MinHandshakeSize and a tag computed with c2s, the
// client-to-server AEAD from the token's ClientKey. seq comes from the
// client's Sequence, shared with its data packets. It fails with ErrTooLarge
// if the token does not fit in MaxPacketSize. token is copied as given; a
// real one is TokenSize bytes.
func AppendHandshake(dst []byte, c2s cipher.AEAD, seq uint64, sessionID uint64, token []byte) ([]byte, error) {
	bodyLen := udpHandshakeSize(sessionID, token)
	if bodyLen > maxHandshakeBody {
		return dst, ErrTooLarge
	}
	size := max(MinHandshakeSize, handshakeBodyOff+bodyLen+TagSize)
	start := len(dst)
	out := slices.Grow(dst, size)
	out = append(out, byte(TypeHandshake))
	out = binary.BigEndian.AppendUint64(out, seq)
	out = binary.BigEndian.AppendUint16(out, uint16(bodyLen))
	out = appendUDPHandshake(out, sessionID, token)
	padEnd := start + size - TagSize
	pad := out[len(out):padEnd]
	clear(pad) // spare capacity may hold old bytes
	out = out[:padEnd]
	nonce := getNonce(seq)
	out = c2s.Seal(out, nonce[:], nil, out[start:padEnd])
	nonces.Put(nonce)
	return out, nil
}

// OpenHandshake verifies a handshake request and returns it with the
// client-to-server AEAD (from the token's ClientKey), ready to open the
// session's data packets. The checks run cheapest first:
//
//   - ErrTruncated, ErrUnknownType, ErrWrongType: the header;
//   - ErrHandshakeTooSmall, ErrTooLarge: the size;
//   - ErrMalformed: the length field, nonzero padding, a UdpHandshake that is
//     not valid protobuf;
//   - the token's errors from TokenCodec.Open (ErrTokenSize, ErrTokenVersion,
//     ErrTokenExpired, ErrTokenInvalid), with now as the time;
//   - ErrSessionMismatch: the UdpHandshake names another session than the
//     token;
//   - ErrAuth: the tag does not verify with the token's client-to-server key.
//
// Only a request with a genuine token allocates (the 32-byte AEAD), so a
// flood of forged requests costs no garbage. It does not check the replay
// window; see the package documentation.
func OpenHandshake(tokens *TokenCodec, packet []byte, now time.Time) (Handshake, cipher.AEAD, error) {
	h, err := ParseHeader(packet)
	if err != nil {
		return Handshake{}, nil, err
	}
	if h.Type != TypeHandshake {
		return Handshake{}, nil, ErrWrongType
	}
	if len(packet) < MinHandshakeSize {
		return Handshake{}, nil, ErrHandshakeTooSmall
	}
	if len(packet) > MaxPacketSize {
		return Handshake{}, nil, ErrTooLarge
	}
	tagOff := len(packet) - TagSize
	bodyEnd := handshakeBodyOff + int(binary.BigEndian.Uint16(packet[handshakeLenOff:handshakeBodyOff]))
	if bodyEnd > tagOff {
		return Handshake{}, nil, ErrMalformed
	}
	for _, b := range packet[bodyEnd:tagOff] {
		if b != 0 {
			return Handshake{}, nil, ErrMalformed
		}
	}
	sessionID, token, ok := parseUDPHandshake(packet[handshakeBodyOff:bodyEnd])
	if !ok {
		return Handshake{}, nil, ErrMalformed
	}
	tok, err := tokens.Open(token, now)
	if err != nil {
		return Handshake{}, nil, err
	}
	if tok.SessionID != sessionID {
		return Handshake{}, nil, ErrSessionMismatch
	}
	c2s := NewAEAD(tok.ClientKey)
	nonce := getNonce(h.Seq)
	_, err = c2s.Open(nil, nonce[:], packet[tagOff:], packet[:tagOff])
	nonces.Put(nonce)
	if err != nil {
		return Handshake{}, nil, ErrAuth
	}
	return Handshake{Seq: h.Seq, SessionID: sessionID, Token: tok}, c2s, nil
}

// udpHandshakeSize is the size of the UdpHandshake encoding that
// appendUDPHandshake writes.
func udpHandshakeSize(sessionID uint64, token []byte) int {
	n := 0
	if sessionID != 0 {
		n += protowire.SizeTag(fieldSessionID) + protowire.SizeVarint(sessionID)
	}
	if len(token) > 0 {
		n += protowire.SizeTag(fieldConnectToken) + protowire.SizeBytes(len(token))
	}
	return n
}

// appendUDPHandshake encodes realmv1.UdpHandshake{session_id, connect_token}
// exactly as proto.Marshal does: fields in number order, zero values omitted.
func appendUDPHandshake(b []byte, sessionID uint64, token []byte) []byte {
	if sessionID != 0 {
		b = protowire.AppendTag(b, fieldSessionID, protowire.VarintType)
		b = protowire.AppendVarint(b, sessionID)
	}
	if len(token) > 0 {
		b = protowire.AppendTag(b, fieldConnectToken, protowire.BytesType)
		b = protowire.AppendBytes(b, token)
	}
	return b
}

// parseUDPHandshake decodes realmv1.UdpHandshake without allocating; the
// token aliases b. It accepts what proto.Unmarshal accepts: unknown fields
// and known fields of another wire type are skipped, and the last occurrence
// of a field wins.
func parseUDPHandshake(b []byte) (sessionID uint64, token []byte, ok bool) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 || num > protowire.MaxValidNumber { // ConsumeTag allows up to MaxInt32
			return 0, nil, false
		}
		b = b[n:]
		switch {
		case num == fieldSessionID && typ == protowire.VarintType:
			sessionID, n = protowire.ConsumeVarint(b)
		case num == fieldConnectToken && typ == protowire.BytesType:
			token, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return 0, nil, false
		}
		b = b[n:]
	}
	return sessionID, token, true
}
