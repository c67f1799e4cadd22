package wire

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// Connect token layout; see the package documentation.
const (
	// TokenSize is the size of a sealed connect token, in bytes.
	TokenSize = tokenCipherOff + tokenPlainSize + TagSize
	// TokenVersion is the only token version this package seals and opens.
	TokenVersion = 1

	tokenExpiresOff = 1
	tokenNonceOff   = 9 // also the length of the associated data
	tokenCipherOff  = tokenNonceOff + chacha20poly1305.NonceSizeX
	tokenPlainSize  = 8 + 8 + KeySize + KeySize
)

// ConnectToken is what login tells ingress about a session, through the
// client, in a sealed token.
type ConnectToken struct {
	SessionID uint64 // never 0
	AccountID uint64
	// Expires is when ingress stops accepting the token; it travels with
	// millisecond precision (Unix milliseconds), so Open returns it truncated.
	Expires time.Time
	// ClientKey seals client-to-server packets; ServerKey seals
	// server-to-client packets.
	ClientKey, ServerKey Key
}

// TokenCodec seals and opens connect tokens with one token key. It is safe for
// concurrent use.
type TokenCodec struct {
	aead cipher.AEAD // XChaCha20-Poly1305 with the token key
}

// tokenBufs holds plaintext buffers for Open: the AEAD is behind an interface,
// so a buffer on the stack would escape to the heap on every call.
var tokenBufs = sync.Pool{New: func() any { return new([tokenPlainSize]byte) }}

// NewTokenCodec returns a codec for the token key shared by login and
// ingress. The all-zero key is rejected (ErrInvalidKey).
func NewTokenCodec(key Key) (*TokenCodec, error) {
	if key == (Key{}) {
		return nil, fmt.Errorf("token codec: all-zero key: %w", ErrInvalidKey)
	}
	aead, err := chacha20poly1305.NewX(key[:])
	if err != nil {
		return nil, fmt.Errorf("token codec: %w", err)
	}
	return &TokenCodec{aead: aead}, nil
}

// Seal appends the sealed token (TokenSize bytes) to dst and returns the
// extended slice. It fails with ErrZeroSession for session id 0, with
// ErrTokenExpired for an expiry before the Unix epoch, and when crypto/rand
// fails. It does not check that the expiry is in the future.
func (c *TokenCodec) Seal(dst []byte, t ConnectToken) ([]byte, error) {
	var nonce [chacha20poly1305.NonceSizeX]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return dst, fmt.Errorf("seal token: nonce: %w", err)
	}
	return c.sealWithNonce(dst, t, &nonce)
}

// sealWithNonce is Seal with the nonce given, for tests that re-encode.
func (c *TokenCodec) sealWithNonce(dst []byte, t ConnectToken, nonce *[chacha20poly1305.NonceSizeX]byte) ([]byte, error) {
	if t.SessionID == 0 {
		return dst, fmt.Errorf("seal token: %w", ErrZeroSession)
	}
	ms := t.Expires.UnixMilli()
	if ms < 0 {
		return dst, fmt.Errorf("seal token: expiry %v before 1970: %w", t.Expires, ErrTokenExpired)
	}
	start := len(dst)
	out := slices.Grow(dst, TokenSize)
	out = append(out, TokenVersion)
	out = binary.BigEndian.AppendUint64(out, uint64(ms))
	out = append(out, nonce[:]...)
	out = binary.BigEndian.AppendUint64(out, t.SessionID)
	out = binary.BigEndian.AppendUint64(out, t.AccountID)
	out = append(out, t.ClientKey[:]...)
	out = append(out, t.ServerKey[:]...)
	tok := out[start:]
	// Seal in place: the plaintext is the tail of tok and the output
	// overwrites it exactly, so no copy of the keys is left behind.
	plain := tok[tokenCipherOff:]
	c.aead.Seal(plain[:0], tok[tokenNonceOff:tokenCipherOff], plain, tok[:tokenNonceOff])
	return out[:start+TokenSize], nil
}

// Open verifies a sealed token and returns its contents. It checks, in order:
// the size (ErrTokenSize), the version (ErrTokenVersion), the expiry against
// now (ErrTokenExpired), then the tag (ErrTokenInvalid). It does not modify
// sealed and does not allocate.
func (c *TokenCodec) Open(sealed []byte, now time.Time) (ConnectToken, error) {
	if len(sealed) != TokenSize {
		return ConnectToken{}, ErrTokenSize
	}
	if sealed[0] != TokenVersion {
		return ConnectToken{}, ErrTokenVersion
	}
	expires := binary.BigEndian.Uint64(sealed[tokenExpiresOff:tokenNonceOff])
	if n := now.UnixMilli(); n < 0 || uint64(n) >= expires {
		return ConnectToken{}, ErrTokenExpired
	}
	buf := tokenBufs.Get().(*[tokenPlainSize]byte)
	defer func() {
		clear(buf[:]) // do not leave session keys in the pool
		tokenBufs.Put(buf)
	}()
	plain, err := c.aead.Open(buf[:0], sealed[tokenNonceOff:tokenCipherOff], sealed[tokenCipherOff:], sealed[:tokenNonceOff])
	if err != nil {
		return ConnectToken{}, ErrTokenInvalid
	}
	t := ConnectToken{
		SessionID: binary.BigEndian.Uint64(plain[0:8]),
		AccountID: binary.BigEndian.Uint64(plain[8:16]),
		Expires:   time.UnixMilli(int64(expires)),
	}
	copy(t.ClientKey[:], plain[16:16+KeySize])
	copy(t.ServerKey[:], plain[16+KeySize:])
	return t, nil
}
